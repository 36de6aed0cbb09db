# tests/issue10/callkinds.cmake: see tests/CMakeLists.txt
