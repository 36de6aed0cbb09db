# examples/http/components.cmake: see examples/CMakeLists.txt (filled in by the issue 9 work)
