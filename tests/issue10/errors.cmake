# tests/issue10/errors.cmake: see tests/CMakeLists.txt
