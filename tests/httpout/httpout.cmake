# tests/httpout/httpout.cmake: the outbound HTTP capability (src/host/http),
# included by tests/CMakeLists.txt inside if(WASMPLUG_GUESTS). The core
# guest (httpout/guest.c, pdk/c/wasmplug_http_out.h) and the component
# guest (httpout/fixture_out.c, wasi:http/proxy) and the Go guest
# (httpout/go, pdk/go/httpout.go) call a local upstream,
# httpout/server.py, which the test programs start.
set(wp_httpout_guest ${WASMPLUG_PLUGIN_DIR}/httpout-guest.wasm)
add_custom_command(OUTPUT ${wp_httpout_guest}
  COMMAND ${CLANG_WASM} ${CLANG_WASM_FLAGS} -o ${wp_httpout_guest}
          ${CMAKE_CURRENT_SOURCE_DIR}/httpout/guest.c
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/httpout/guest.c ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_pdk.h
          ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_http_out.h
  COMMENT "clang-19 -> plugins/httpout-guest.wasm" VERBATIM)
add_custom_target(plugin-httpout-guest ALL DEPENDS ${wp_httpout_guest})

# The Go twin (httpout/go, pdk/go/httpout.go).
wasmplug_go_plugin(httpout-go httpout/go)

wasmplug_test(test_httpout httpout/test_httpout.c)
target_compile_definitions(test_httpout PRIVATE WP_PYTHON="${Python3_EXECUTABLE}"
  WP_HTTPOUT_SERVER="${CMAKE_CURRENT_SOURCE_DIR}/httpout/server.py")
add_dependencies(test_httpout plugin-httpout-guest plugin-httpout-go)
set_tests_properties(test_httpout PROPERTIES TIMEOUT 120 LABELS httpout)

# Components: wasi:http/outgoing-handler through the Rust extension's
# wasi:http, answered by the same capability.
if(WASMPLUG_COMPONENTS AND WASMPLUG_HTTP_WASI_WORLD)
  wasmplug_http_c_component(httpout-component WIT ${WASMPLUG_WASI_HTTP_WIT}
    WORLD ${WASMPLUG_HTTP_WASI_WORLD} BINDINGS proxy SOURCES httpout/fixture_out.c)
  add_dependencies(test_httpout plugin-httpout-component)
  target_compile_definitions(test_httpout PRIVATE WP_HTTPOUT_COMPONENT=1)
endif()
