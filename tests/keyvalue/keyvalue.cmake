# The keyvalue capability (src/host/keyvalue/): its guests and its suite,
# which runs against memory, sqlite and a redis-server it starts itself.
set(kv_core_wasm ${WASMPLUG_PLUGIN_DIR}/kv-core.wasm)
add_custom_command(OUTPUT ${kv_core_wasm}
  COMMAND ${CLANG_WASM} ${CLANG_WASM_FLAGS} -o ${kv_core_wasm}
          ${CMAKE_CURRENT_SOURCE_DIR}/keyvalue/kv_core.c
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/keyvalue/kv_core.c ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_kv.h
          ${CMAKE_SOURCE_DIR}/pdk/c/wasmplug_pdk.h
  COMMENT "clang-19 -> plugins/kv-core.wasm" VERBATIM)
add_custom_target(plugin-kv-core ALL DEPENDS ${kv_core_wasm})

# The Go guest: the same language through pdk/go/kv.go.
wasmplug_go_plugin(kv-go keyvalue/go)

wasmplug_test(test_keyvalue keyvalue/test_keyvalue.c)
add_dependencies(test_keyvalue plugin-kv-core plugin-kv-go)
set_tests_properties(test_keyvalue PROPERTIES TIMEOUT 300 LABELS keyvalue)

# The component guests: the same source on wasi:keyvalue@0.2.0-draft2
# (kv-component.wasm) and @0.2.0-draft (kv-component-draft.wasm, -DKV_DRAFT),
# as wasmplug_c_component (examples/CMakeLists.txt) builds, with a define.
if(NOT WASMPLUG_COMPONENTS)
  return()
endif()
include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
function(kv_component name witdir)
  set(out ${WASMPLUG_PLUGIN_DIR}/${name}.wasm)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/components/${name})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/keyvalue/kv_component.c)
  file(GLOB_RECURSE wits FOLLOW_SYMLINKS ${witdir}/*.wit)
  set(bindings ${gen}/kvtest.c ${gen}/kvtest.h ${gen}/kvtest_component_type.o)
  add_custom_command(OUTPUT ${bindings}
    COMMAND ${WASMPLUG_WIT_BINDGEN} c ${witdir} --world kvtest --out-dir ${gen}
    DEPENDS ${wits} ${WASMPLUG_WIT_BINDGEN}
    COMMENT "wit-bindgen c -> ${name} bindings" VERBATIM)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CLANG_WASM} ${CLANG_WASM_FLAGS} ${ARGN} -I${gen} -o ${gen}/${name}.core.wasm
            ${src} ${gen}/kvtest.c ${gen}/kvtest_component_type.o
    COMMAND ${WASMPLUG_WASM_TOOLS} component new ${gen}/${name}.core.wasm
            --adapt wasi_snapshot_preview1=${WASMPLUG_WASI_ADAPTER_REACTOR} -o ${out}
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${out}
    DEPENDS ${src} ${bindings} ${WASMPLUG_WASM_TOOLS} ${WASMPLUG_WASI_ADAPTER_REACTOR}
    COMMENT "clang-19 + wasm-tools component new -> plugins/${name}.wasm" VERBATIM)
  add_custom_target(plugin-${name} ALL DEPENDS ${out})
  add_dependencies(test_keyvalue plugin-${name})
endfunction()
kv_component(kv-component ${CMAKE_CURRENT_SOURCE_DIR}/keyvalue/wit)
kv_component(kv-component-draft ${CMAKE_CURRENT_SOURCE_DIR}/keyvalue/wit-draft -DKV_DRAFT)
