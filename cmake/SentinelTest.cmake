# cmake/SentinelTest.cmake - register one Check suite per module
#
# sn_add_suite(COMPONENT analyzer PREFIX ana MODULE window
#              [SOURCES extra.c…] [LIBS lib…] [TIMEOUT seconds])
# builds tests/<COMPONENT>/test_<MODULE>.c (plus tests/support) into the
# executable test_<PREFIX>_<MODULE>, registers it as <COMPONENT>/<MODULE> and
# labels it with the component, so `ctest -L analyzer` runs one part.
# Check's per-test default (4 s) is a limit on a busy CI machine, not on the
# code: tests that are slow by design set their own tcase_set_timeout, and
# the sanitizer build multiplies every limit.
if(SENTINEL_SANITIZE)
    set(SN_CK_TIMEOUT_MULTIPLIER 4)
else()
    set(SN_CK_TIMEOUT_MULTIPLIER 1)
endif()

function(sn_add_suite)
    cmake_parse_arguments(A "" "COMPONENT;PREFIX;MODULE;TIMEOUT"
                          "SOURCES;LIBS" ${ARGN})
    set(exe test_${A_PREFIX}_${A_MODULE})
    add_executable(${exe} ${CMAKE_CURRENT_SOURCE_DIR}/test_${A_MODULE}.c
                   ${A_SOURCES})
    target_link_libraries(${exe} PRIVATE sentinel_testsupport ${A_LIBS}
                          PkgConfig::CHECK)
    set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                          ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME ${A_COMPONENT}/${A_MODULE} COMMAND ${exe})
    if(NOT A_TIMEOUT)
        set(A_TIMEOUT 120)
    endif()
    math(EXPR A_TIMEOUT "${A_TIMEOUT} * ${SN_CK_TIMEOUT_MULTIPLIER}")
    set_tests_properties(${A_COMPONENT}/${A_MODULE} PROPERTIES
        LABELS ${A_COMPONENT} TIMEOUT ${A_TIMEOUT}
        ENVIRONMENT "CK_DEFAULT_TIMEOUT=60;CK_TIMEOUT_MULTIPLIER=${SN_CK_TIMEOUT_MULTIPLIER};SENTINEL_BIN=${CMAKE_BINARY_DIR}/bin/sentinel;SENTINEL_REFERENCE_DIR=${SENTINEL_REFERENCE_DIR};SENTINEL_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
