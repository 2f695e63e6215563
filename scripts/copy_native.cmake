# Copies the native libraries from the CMake build folder into the jar's resource folder (run by
# java/lib/pom.xml): libbandlimit.so always, the CUDA backend's libbandlimit_cuda.so when this
# build made it (a stale copy from an earlier build is removed otherwise).
# Usage: cmake -DFROM=<build dir> -DTO=<resource dir> -P scripts/copy_native.cmake
file(MAKE_DIRECTORY ${TO})
file(COPY_FILE ${FROM}/libbandlimit.so ${TO}/libbandlimit.so)
if(EXISTS ${FROM}/libbandlimit_cuda.so)
  file(COPY_FILE ${FROM}/libbandlimit_cuda.so ${TO}/libbandlimit_cuda.so)
  message(STATUS "jar: libbandlimit.so and libbandlimit_cuda.so")
else()
  file(REMOVE ${TO}/libbandlimit_cuda.so)
  message(STATUS "jar: libbandlimit.so (no CUDA backend in this build)")
endif()
