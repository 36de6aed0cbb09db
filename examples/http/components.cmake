# examples/http/components.cmake: the C HTTP handler components, one per
# world, included by examples/CMakeLists.txt after the Component Model
# functions and tools.
#
#   build/plugins/http-hello-c-wasi.wasm       wasi:http/proxy (WIT pinned by deps/tools/install.sh)
#   build/plugins/http-hello-c-wasmplug.wasm   wasmplug:http/handler-world (pdk/wit/http.wit)

# wasmplug_http_c_component(<output name> WIT <dir> WORLD <world> BINDINGS <base>
#                           SOURCES <src>...):
# wasmplug_c_component for a WIT directory given by an absolute path (the
# pinned WASI WIT lives outside the tree) and a world named in full
# ("wasi:http/proxy@0.2.4"), whose bindings wit-bindgen names BINDINGS
# ("proxy"). Sources are relative to the calling directory (tests/ uses it
# too).
function(wasmplug_http_c_component name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "WIT;WORLD;BINDINGS" "SOURCES")
  set(out ${WASMPLUG_PLUGIN_DIR}/${name}.wasm)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/components/${name})
  wasmplug_wit_files(wits ${arg_WIT})
  list(TRANSFORM arg_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE srcs)
  set(base ${arg_BINDINGS})
  set(bindings ${gen}/${base}.c ${gen}/${base}.h ${gen}/${base}_component_type.o)
  add_custom_command(OUTPUT ${bindings}
    COMMAND ${WASMPLUG_WIT_BINDGEN} c ${arg_WIT} --world ${arg_WORLD} --out-dir ${gen}
    DEPENDS ${wits} ${WASMPLUG_WIT_BINDGEN}
    COMMENT "wit-bindgen c (${arg_WORLD}) -> ${name} bindings" VERBATIM)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CLANG_WASM} ${CLANG_WASM_FLAGS} -I${gen} -o ${gen}/${name}.core.wasm
            ${srcs} ${gen}/${base}.c ${gen}/${base}_component_type.o
    COMMAND ${WASMPLUG_WASM_TOOLS} component new ${gen}/${name}.core.wasm
            --adapt wasi_snapshot_preview1=${WASMPLUG_WASI_ADAPTER_REACTOR} -o ${out}
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${out}
    DEPENDS ${srcs} ${bindings} ${WASMPLUG_WASM_TOOLS} ${WASMPLUG_WASI_ADAPTER_REACTOR}
    COMMENT "clang-19 + wasm-tools component new -> plugins/${name}.wasm" VERBATIM)
  add_custom_target(plugin-${name} ALL DEPENDS ${out})
endfunction()

# The own world: pdk/wit holds wasmplug:plugin and (nested) wasmplug:http.
set(WASMPLUG_HTTP_OWN_WIT ${CMAKE_SOURCE_DIR}/pdk/wit CACHE INTERNAL "")
set(WASMPLUG_HTTP_OWN_WORLD "wasmplug:http/handler-world@0.1.0" CACHE INTERNAL "")
wasmplug_http_c_component(http-hello-c-wasmplug WIT ${WASMPLUG_HTTP_OWN_WIT}
  WORLD ${WASMPLUG_HTTP_OWN_WORLD} BINDINGS handler_world SOURCES http-hello/c-wasmplug/hello.c)
wasmplug_component_check(http-hello-c-wasmplug MATCH "export wasmplug:http/handler@0\\.1\\.0;"
  NO_MATCH "import wasi:")

# wasi:http: the proxy world of the pinned WASI WIT (its version read from
# the WIT itself, so a new pin needs no change here).
set(WASMPLUG_HTTP_WASI_WORLD "" CACHE INTERNAL "")
if(WASMPLUG_WASI_HTTP_WIT AND IS_DIRECTORY "${WASMPLUG_WASI_HTTP_WIT}")
  file(GLOB_RECURSE wasi_http_wits ${WASMPLUG_WASI_HTTP_WIT}/deps/http/*.wit)
  foreach(wit IN LISTS wasi_http_wits)
    file(STRINGS ${wit} pkg REGEX "^package wasi:http@[0-9.]+;" LIMIT_COUNT 1)
    if(pkg)
      string(REGEX REPLACE "^package wasi:http@([0-9.]+).*" "wasi:http/proxy@\\1" world "${pkg}")
      set(WASMPLUG_HTTP_WASI_WORLD ${world} CACHE INTERNAL "")
    endif()
  endforeach()
endif()
if(WASMPLUG_HTTP_WASI_WORLD)
  wasmplug_http_c_component(http-hello-c-wasi WIT ${WASMPLUG_WASI_HTTP_WIT}
    WORLD ${WASMPLUG_HTTP_WASI_WORLD} BINDINGS proxy SOURCES http-hello/c-wasi/hello.c)
  wasmplug_component_check(http-hello-c-wasi MATCH "export wasi:http/incoming-handler@0\\.2\\."
    NO_MATCH "import wasi:(cli|filesystem|sockets)/")
else()
  message(WARNING "the C wasi:http hello is not built: no wasi:http WIT"
                  " (WASMPLUG_WASI_HTTP_WIT='${WASMPLUG_WASI_HTTP_WIT}', from deps/tools/install.sh)")
endif()
