# libFuzzer targets (clang only): configure a separate build with
#   CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DREFERRALD_FUZZ=ON
# Each target links just the pure code it exercises, so no database or
# network is involved and a run explores millions of inputs.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "REFERRALD_FUZZ needs clang (CXX=clang++)")
endif()

set(FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_library(fuzz_support STATIC
  ${CMAKE_SOURCE_DIR}/src/core/env_file.cpp
  ${CMAKE_SOURCE_DIR}/src/core/config.cpp
  ${CMAKE_SOURCE_DIR}/src/core/json_body.cpp
  ${CMAKE_SOURCE_DIR}/src/core/random.cpp
  ${CMAKE_SOURCE_DIR}/src/core/clock.cpp
  ${CMAKE_SOURCE_DIR}/src/core/cursor.cpp
  ${CMAKE_SOURCE_DIR}/src/auth/jwt.cpp
  ${CMAKE_SOURCE_DIR}/src/auth/email_address.cpp
  ${CMAKE_SOURCE_DIR}/src/importer/mongo_export.cpp)
target_include_directories(fuzz_support PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_compile_options(fuzz_support PRIVATE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
target_link_libraries(fuzz_support PUBLIC Boost::json Boost::url PkgConfig::SODIUM)

file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/*_fuzz.cpp)
foreach(source IN LISTS FUZZ_SOURCES)
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE ${FUZZ_FLAGS})
  target_link_options(${name} PRIVATE ${FUZZ_FLAGS})
  target_link_libraries(${name} PRIVATE fuzz_support)
endforeach()
