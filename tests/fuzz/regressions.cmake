# tests/fuzz/regressions.cmake - compile fuzz entry points into a Check suite
#
# sn_fuzz_regressions(<suite executable> <target>…) adds tests/fuzz/
# fuzz_<target>.c (and what they share) to a suite of the normal build, so
# it can replay tests/fuzz/corpus/ and tests/fuzz/regressions/ through the
# very code libFuzzer runs. Used by tests/common and tests/collectors.
function(sn_fuzz_regressions exe)
    set(dir ${CMAKE_SOURCE_DIR}/tests/fuzz)
    set(srcs ${dir}/fuzz_util.c ${dir}/fuzz_replay.c)
    foreach(t ${ARGN})
        list(APPEND srcs ${dir}/fuzz_${t}.c)
        if(t MATCHES "^(feed_json|feed_csv|hl7)$")
            set(feed ON)
        endif()
    endforeach()
    if(feed)
        list(APPEND srcs ${dir}/fuzz_feed.c)
    endif()
    target_sources(${exe} PRIVATE ${srcs})
    target_include_directories(${exe} PRIVATE ${dir})
endfunction()
