# libFuzzer targets (clang only): configure a separate build with
#   CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DREFERRALD_FUZZ=ON
# (make build-fuzz). Included after referrald_lib is defined: the whole
# library is instrumented for coverage and the sanitizers, so the parser
# targets and request_fuzz (every route in process, on SQLite) link the
# same objects.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "REFERRALD_FUZZ needs clang (CXX=clang++)")
endif()

# vptr off as in the sanitizer build (REFERRALD_SANITIZE).
set(FUZZ_SANITIZERS address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
target_compile_options(referrald_lib PRIVATE -fsanitize=fuzzer-no-link,${FUZZ_SANITIZERS})

file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/*_fuzz.cpp)
foreach(source IN LISTS FUZZ_SOURCES)
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,${FUZZ_SANITIZERS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,${FUZZ_SANITIZERS})
  target_link_libraries(${name} PRIVATE referrald_lib)
endforeach()
