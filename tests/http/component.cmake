# tests/http/component.cmake: HTTP handler tests of the component kind (issue 9)
