# tests/crypto/crypto.cmake: the crypto capability (src/host/crypto,
# docs/capabilities.md) through real plugins: core modules in C
# (pdk/c/wasmplug_crypto.h) and Go (pdk/go/crypto.go), and a C component
# importing wasmplug:crypto/crypto (pdk/wit/crypto.wit). Included by tests/CMakeLists.txt inside
# if(WASMPLUG_GUESTS); sources are relative to tests/.
wasmplug_c_plugin(test-crypto-core crypto/guest_core.c)
add_custom_command(OUTPUT ${WASMPLUG_PLUGIN_DIR}/test-crypto-core.wasm APPEND
  DEPENDS ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_crypto.h)
# The Go twin of the core guest, through pdk/go/crypto.go.
wasmplug_go_plugin(test-crypto-go crypto/go)
wasmplug_test(test_crypto crypto/test_crypto.c)
add_dependencies(test_crypto plugin-test-crypto-core plugin-test-crypto-go)
set_tests_properties(test_crypto PROPERTIES TIMEOUT 300)
if(WASMPLUG_COMPONENTS)
  include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
  wasmplug_http_c_component(test-crypto-component WIT ${CMAKE_CURRENT_SOURCE_DIR}/crypto/wit
    WORLD guest BINDINGS guest SOURCES crypto/guest_component.c)
  add_dependencies(test_crypto plugin-test-crypto-component)
  target_compile_definitions(test_crypto PRIVATE WP_CRYPTO_COMPONENT=1)
endif()
