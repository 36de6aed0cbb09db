# tests/http/core.cmake: HTTP handler tests of the core kind (issue 9)
