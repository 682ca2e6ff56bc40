# cmake/SentinelComponent.cmake - one static library per component folder
#
# sn_add_component(NAME analyzer DIRS . detect LIBS …) builds every .c file of
# the listed folders into sentinel_<NAME>. The folder itself is a PRIVATE
# include directory, so another component cannot include its headers.
function(sn_add_component)
    cmake_parse_arguments(A "" "NAME" "DIRS;LIBS" ${ARGN})
    set(srcs "")
    set(dirs "")
    foreach(d ${A_DIRS})
        file(GLOB found CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${d}/*.c)
        list(APPEND srcs ${found})
        list(APPEND dirs ${CMAKE_CURRENT_SOURCE_DIR}/${d})
    endforeach()
    set(lib sentinel_${A_NAME})
    if(srcs)
        add_library(${lib} STATIC ${srcs})
        target_include_directories(${lib} PRIVATE ${dirs})
        target_link_libraries(${lib} PUBLIC ${A_LIBS})
    else()
        add_library(${lib} INTERFACE)
        target_link_libraries(${lib} INTERFACE ${A_LIBS})
    endif()
endfunction()
