# examples/http/core.cmake: HTTP handlers that are core modules (bytes ABI,
# docs/http-abi.md), built into build/plugins/ with the C and Go PDKs.
wasmplug_c_plugin(http-hello-c http-hello/c/hello.c)
# wasmplug_c_plugin depends on wasmplug_pdk.h only; this one includes the HTTP helpers too.
add_custom_command(OUTPUT ${WASMPLUG_PLUGIN_DIR}/http-hello-c.wasm APPEND
  DEPENDS ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_http.h)
wasmplug_go_plugin(http-hello-go http-hello/go)
wasmplug_go_plugin(http-api-go http-api/go)
