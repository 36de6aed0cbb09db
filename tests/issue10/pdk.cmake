# tests/issue10/pdk.cmake: see tests/CMakeLists.txt
