# tests/issue10/errors.cmake: see tests/CMakeLists.txt
# Errors that point at the fix (issue 10), library side: a Go command called
# as a plugin, short missing-import lists, trap mode with resources `use`d
# from other interfaces, where a timeout was set, memory refused below the
# limit. Hand-written fixtures are in issue10/fixtures_errors/.

# examples/hello/go built as a WASI command: `go build` without
# -buildmode=c-shared, as a Go author might at first.
set(wp_go_command ${WASMPLUG_PLUGIN_DIR}/hello-go-command.wasm)
file(GLOB wp_go_command_srcs ${CMAKE_SOURCE_DIR}/examples/hello/go/*.go
     ${CMAKE_SOURCE_DIR}/pdk/go/*.go)
add_custom_command(OUTPUT ${wp_go_command}
  COMMAND ${CMAKE_COMMAND} -E env GOOS=wasip1 GOARCH=wasm GOFLAGS=-trimpath
          ${GO} build -o ${wp_go_command} .
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/examples/hello/go
  DEPENDS ${wp_go_command_srcs} ${CMAKE_SOURCE_DIR}/examples/hello/go/go.mod
  COMMENT "go (a command: no -buildmode=c-shared) -> plugins/hello-go-command.wasm" VERBATIM)
add_custom_target(plugin-hello-go-command ALL DEPENDS ${wp_go_command})

wasmplug_test(test_errors issue10/test_errors.c)
target_compile_definitions(test_errors PRIVATE
  WP_ERRORS_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/issue10/fixtures_errors")
add_dependencies(test_errors plugin-hello-go-command)

# examples/hello/js built with componentize-js's default features (fetch,
# fetch-event: it imports wasi:http), which the host now links.
if(WASMPLUG_COMPONENTS)
  # The guest tools' paths (examples/ set them in its own scope).
  include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
endif()
if(WASMPLUG_COMPONENTS AND WASMPLUG_COMPONENTIZE_JS)
  set(wp_js_default ${WASMPLUG_PLUGIN_DIR}/hello-js-default.wasm)
  wasmplug_wit_files(wp_js_wits ${CMAKE_SOURCE_DIR}/examples/hello/wit)
  add_custom_command(OUTPUT ${wp_js_default}
    COMMAND ${WASMPLUG_COMPONENTIZE_JS} ${CMAKE_SOURCE_DIR}/examples/hello/js/hello.js
            --wit ${CMAKE_SOURCE_DIR}/examples/hello/wit --world-name hello -o ${wp_js_default}
    DEPENDS ${CMAKE_SOURCE_DIR}/examples/hello/js/hello.js ${wp_js_wits} ${WASMPLUG_COMPONENTIZE_JS}
    COMMENT "componentize-js (default features) -> plugins/hello-js-default.wasm" VERBATIM)
  add_custom_target(plugin-hello-js-default ALL DEPENDS ${wp_js_default})
  add_dependencies(test_errors plugin-hello-js-default)
endif()
