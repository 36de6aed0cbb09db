# tests/http/core.cmake: HTTP handler tests of the core kind (docs/http-abi.md):
# the C and Go examples, the JSON API example, the fixtures tests/fixtures/http_*.wat,
# and the decoder on hand-made blocks.
wasmplug_test(test_http_core http/test_http_core.c)
set_tests_properties(test_http_core PROPERTIES TIMEOUT 300)
# Again with each handler instance in a worker process (wasmplug/isolation.h).
wasmplug_test_process(test_http_core)
set_tests_properties(test_http_core_process PROPERTIES TIMEOUT 300)
# The Go PDK's request parser and response encoder, as plain Go on the build machine.
if(GO)
  add_test(NAME test_http_core_go_pdk COMMAND ${GO} test -count=1 .
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/pdk/go)
endif()
