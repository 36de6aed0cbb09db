# tests/issue10/templates.cmake: see tests/CMakeLists.txt
