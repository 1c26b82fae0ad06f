# check_compile.cmake - compiles SOURCE and checks the outcome (a ctest test).
#   cmake -DCXX=g++ -DFLAGS="-std=c++20;-fsyntax-only;-Isrc" -DSOURCE=file.cpp
#         -DEXPECT=success|failure [-DEXPECT_MESSAGE=text] -P check_compile.cmake
# With EXPECT=failure the compilation must fail *and* print EXPECT_MESSAGE, so
# a file that fails for another reason (a missing header) does not pass.
foreach(var CXX SOURCE EXPECT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check_compile.cmake: ${var} is not set")
    endif()
endforeach()

execute_process(COMMAND ${CXX} ${FLAGS} ${SOURCE}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")
string(REPLACE ";" " " flags_text "${FLAGS}")
message("${CXX} ${flags_text} ${SOURCE}\nexit status: ${result}\n${output}")

if(EXPECT STREQUAL "success")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "expected ${SOURCE} to compile, but it failed")
    endif()
elseif(EXPECT STREQUAL "failure")
    if(result EQUAL 0)
        message(FATAL_ERROR "expected ${SOURCE} NOT to compile, but it compiled")
    endif()
    if(DEFINED EXPECT_MESSAGE)
        string(FIND "${output}" "${EXPECT_MESSAGE}" at)
        if(at EQUAL -1)
            message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected message '${EXPECT_MESSAGE}'")
        endif()
    endif()
    message("OK: failed to compile as expected")
else()
    message(FATAL_ERROR "check_compile.cmake: EXPECT must be success or failure, not '${EXPECT}'")
endif()
