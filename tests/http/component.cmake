# tests/http/component.cmake: HTTP handler tests of the component kind
# (wp_instance_handle_http on wasi:http and wasmplug:http components),
# included by tests/CMakeLists.txt inside if(WASMPLUG_GUESTS). The fixtures
# misbehave on request (tests/http/fixture_*.c); they are built with
# wasmplug_http_c_component (examples/http/components.cmake) into
# build/plugins/test-http-*.wasm.
if(NOT WASMPLUG_COMPONENTS OR NOT WASMPLUG_HTTP_WASI_WORLD)
  return()
endif()
# The guest tools' paths (examples/ set them in its own scope).
include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
wasmplug_http_c_component(test-http-wasmplug WIT ${WASMPLUG_HTTP_OWN_WIT}
  WORLD ${WASMPLUG_HTTP_OWN_WORLD} BINDINGS handler_world SOURCES http/fixture_wasmplug.c)
wasmplug_http_c_component(test-http-wasi WIT ${WASMPLUG_WASI_HTTP_WIT}
  WORLD ${WASMPLUG_HTTP_WASI_WORLD} BINDINGS proxy SOURCES http/fixture_wasi.c)

wasmplug_test(test_http_component http/test_http_component.c)
add_dependencies(test_http_component plugin-test-http-wasmplug plugin-test-http-wasi
  plugin-http-hello-c-wasmplug plugin-http-hello-c-wasi plugin-hello-c-component)
set_tests_properties(test_http_component PROPERTIES TIMEOUT 300)
