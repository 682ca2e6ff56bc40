# cmake/CheckBasenames.cmake - no two .c files may share a basename
#
# The house style names a module by its basename, so a second `config.c` in
# another folder would be ambiguous in logs, greps and stack traces.
file(GLOB_RECURSE SN_ALL_SOURCES RELATIVE ${CMAKE_SOURCE_DIR}
     ${CMAKE_SOURCE_DIR}/common/*.c ${CMAKE_SOURCE_DIR}/collectors/*.c
     ${CMAKE_SOURCE_DIR}/analyzer/*.c ${CMAKE_SOURCE_DIR}/alerting/*.c
     ${CMAKE_SOURCE_DIR}/cli/*.c)
set(SN_SEEN "")
foreach(src ${SN_ALL_SOURCES})
    get_filename_component(base ${src} NAME)
    list(FIND SN_SEEN ${base} idx)
    if(NOT idx EQUAL -1)
        message(FATAL_ERROR "two source files are named ${base}: rename one")
    endif()
    list(APPEND SN_SEEN ${base})
endforeach()
