# examples/http/langs.cmake: the wasi:http hello handlers in Python, JavaScript
# and Rust (examples/http-hello/), included by examples/CMakeLists.txt after
# the Component Model functions and tools.
#
#   build/plugins/http-hello-python.wasm   componentize-py   (tens of MB: CPython)
#   build/plugins/http-hello-js.wasm       componentize-js   (StarlingMonkey)
#   build/plugins/http-hello-rust.wasm     cargo + wasm-tools (tens of KB)
#
# Each exports wasi:http/incoming-handler@0.2.x (the world wasi:http/proxy
# that `wasmtime serve` runs) and answers the same way: 200, `content-type:
# text/plain; charset=utf-8`, `x-wasmplug-example: <python|js|rust>`, the
# request body echoed for POST and PUT, else "Hello from <Lang> (wasi:http)!
# You asked for <METHOD> <path?query>\n".
#
# Python and JavaScript are built against the WASI WIT that
# deps/tools/install.sh pins (WASMPLUG_WASI_HTTP_WIT, from the crate `wasi`);
# Rust gets the same WIT through its dependency on that crate.

# The world wasi:http/proxy@<version> of the pinned WIT directory, or "".
function(wasmplug_wasi_http_world out witdir)
  set(world "")
  file(GLOB_RECURSE wits FOLLOW_SYMLINKS ${witdir}/*.wit)
  foreach(wit IN LISTS wits)
    # (file(STRINGS) escapes the line's `;`: the regex stops before it.)
    file(STRINGS ${wit} pkg REGEX "^package wasi:http@[0-9.]+;" LIMIT_COUNT 1)
    if(pkg)
      string(REGEX REPLACE "^package wasi:http@([0-9.]+).*" "wasi:http/proxy@\\1" world "${pkg}")
      break()
    endif()
  endforeach()
  set(${out} ${world} PARENT_SCOPE)
endfunction()

# wasmplug_http_py_component(<output name> APP <dir> [MODULE <module>]):
# wasmplug_py_component for the wasi:http/proxy world of the pinned WIT (an
# absolute directory, outside the tree). Real WASI imports (no --stub-wasi):
# CPython's libc needs them, and `wasmtime serve -S cli=y` provides them.
function(wasmplug_http_py_component name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "APP;MODULE" "")
  if(NOT arg_MODULE)
    set(arg_MODULE app)
  endif()
  set(out ${WASMPLUG_PLUGIN_DIR}/${name}.wasm)
  set(appdir ${CMAKE_CURRENT_SOURCE_DIR}/${arg_APP})
  file(GLOB_RECURSE srcs ${appdir}/*.py)
  # From a copy of the app: componentize-py's CPython writes __pycache__
  # next to the sources it imports.
  set(copy ${CMAKE_CURRENT_BINARY_DIR}/components/${name}/app)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${copy}
    COMMAND ${CMAKE_COMMAND} -E copy_directory ${appdir} ${copy}
    COMMAND ${WASMPLUG_COMPONENTIZE_PY} --quiet -d ${WASMPLUG_WASI_HTTP_WIT} -w ${WASMPLUG_WASI_HTTP_WORLD}
            componentize -p ${copy} -o ${out} ${arg_MODULE}
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${out}
    DEPENDS ${srcs} ${WASMPLUG_WASI_HTTP_WITS} ${WASMPLUG_COMPONENTIZE_PY}
    COMMENT "componentize-py (${WASMPLUG_WASI_HTTP_WORLD}) -> plugins/${name}.wasm" VERBATIM)
  add_custom_target(plugin-${name} ALL DEPENDS ${out})
endfunction()

# wasmplug_http_js_component(<output name> SOURCE <module.js>):
# componentize-js for the wasi:http/proxy world of the pinned WIT. The module
# exports `incomingHandler` itself, so StarlingMonkey's `fetch` event is left
# out (--disable fetch-event; that event handler would export
# incoming-handler@0.2.10 whatever the WIT says). componentize-js resolves
# only versioned import specifiers ("wasi:http/types@0.2.4"): the module is
# built from a copy whose `wasi:*@0.2.N` specifiers carry the pinned version,
# so the source does not have to change with the pin.
function(wasmplug_http_js_component name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE" "")
  set(out ${WASMPLUG_PLUGIN_DIR}/${name}.wasm)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${arg_SOURCE})
  get_filename_component(base ${src} NAME)
  set(copy ${CMAKE_CURRENT_BINARY_DIR}/components/${name}/${base})
  string(REGEX REPLACE "^.*@" "" version "${WASMPLUG_WASI_HTTP_WORLD}")
  file(READ ${src} text)
  string(REGEX REPLACE "\"(wasi:[a-z-]+/[a-z-]+)@0\\.2\\.[0-9]+\"" "\"\\1@${version}\"" text "${text}")
  file(GENERATE OUTPUT ${copy} CONTENT "${text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  add_custom_command(OUTPUT ${out}
    COMMAND ${WASMPLUG_COMPONENTIZE_JS} ${copy} --wit ${WASMPLUG_WASI_HTTP_WIT}
            --world-name ${WASMPLUG_WASI_HTTP_WORLD} --disable fetch-event -o ${out}
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${out}
    DEPENDS ${copy} ${WASMPLUG_WASI_HTTP_WITS} ${WASMPLUG_COMPONENTIZE_JS}
    COMMENT "componentize-js (${WASMPLUG_WASI_HTTP_WORLD}) -> plugins/${name}.wasm" VERBATIM)
  add_custom_target(plugin-${name} ALL DEPENDS ${out})
endfunction()

set(http_hello_checks "export wasi:http/incoming-handler@0\\.2\\.")

if(WASMPLUG_WASI_HTTP_WIT AND IS_DIRECTORY "${WASMPLUG_WASI_HTTP_WIT}")
  wasmplug_wasi_http_world(WASMPLUG_WASI_HTTP_WORLD ${WASMPLUG_WASI_HTTP_WIT})
  wasmplug_wit_files(WASMPLUG_WASI_HTTP_WITS ${WASMPLUG_WASI_HTTP_WIT})
endif()
if(WASMPLUG_WASI_HTTP_WORLD)
  wasmplug_http_py_component(http-hello-python APP http-hello/python)
  wasmplug_http_js_component(http-hello-js SOURCE http-hello/js/hello.js)
  wasmplug_component_check(http-hello-python MATCH ${http_hello_checks})
  wasmplug_component_check(http-hello-js MATCH ${http_hello_checks})
else()
  message(WARNING "the Python and JavaScript wasi:http hellos are not built: no wasi:http WIT"
                  " (WASMPLUG_WASI_HTTP_WIT='${WASMPLUG_WASI_HTTP_WIT}', from deps/tools/install.sh)")
endif()

# Rust: the crate `wasi` carries its bindings (no WIT here). Built like
# hello-rust-component: wasm32-unknown-unknown, so no WASI preview 1 and no
# adapter; the component imports only wasi:http/types and wasi:io.
if(WASMPLUG_RUST_COMPONENTS)
  wasmplug_rust_component(http-hello-rust WIT http-hello/rust CRATE http-hello/rust)
  wasmplug_component_check(http-hello-rust MATCH ${http_hello_checks}
    NO_MATCH "import wasi:(cli|filesystem|sockets)/")
endif()
