# Proxy-Wasm filters (Go SDK and Rust SDK) built into build/plugins/pw-<name>-<lang>.wasm.
# See examples/proxywasm/README.md.
#
# These are core modules (no `wasm-tools component new`); each output is
# checked with `wasm-tools validate`. Targets: plugin-pw-<name>-<lang> for
# one filter, plugin-pw-go / plugin-pw-rust for all of a language.

set(pw_dir ${CMAKE_CURRENT_SOURCE_DIR}/proxywasm)

# ---- Go: one module (go.mod, go.sum), one `package main` per filter ----------
# The SDK is github.com/proxy-wasm/proxy-wasm-go-sdk (pinned in go.mod), for
# upstream Go >= 1.24 (wasip1, -buildmode=c-shared: a WASI reactor exporting
# _initialize).
set(pw_go_filters headers counter tick-calls auth validate metadata config panic body metrics)
add_custom_target(plugin-pw-go ALL)
foreach(pw_name IN LISTS pw_go_filters)
  set(pw_out ${WASMPLUG_PLUGIN_DIR}/pw-${pw_name}-go.wasm)
  file(GLOB pw_srcs ${pw_dir}/${pw_name}/go/*.go)
  add_custom_command(OUTPUT ${pw_out}
    COMMAND ${CMAKE_COMMAND} -E env GOOS=wasip1 GOARCH=wasm GOFLAGS=-trimpath
            ${GO} build -buildmode=c-shared -o ${pw_out} .
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${pw_out}
    WORKING_DIRECTORY ${pw_dir}/${pw_name}/go
    DEPENDS ${pw_srcs} ${pw_dir}/go.mod ${pw_dir}/go.sum
    COMMENT "go (proxy-wasm-go-sdk) -> plugins/pw-${pw_name}-go.wasm" VERBATIM)
  add_custom_target(plugin-pw-${pw_name}-go ALL DEPENDS ${pw_out})
  add_dependencies(plugin-pw-go plugin-pw-${pw_name}-go)
endforeach()

# ---- Rust: one workspace (Cargo.toml, Cargo.lock), one cdylib per filter -----
# One cargo invocation builds every member for wasm32-unknown-unknown with
# std built from source (-Zbuild-std, as wasmplug_rust_component in
# CMakeLists.txt), so std is compiled once per build tree. The per-filter
# targets all wait on that one command (plugin-pw-rust).
if(NOT WASMPLUG_RUST_COMPONENTS)
  message(STATUS "the Rust Proxy-Wasm filters are not built (no rustc able to build std for wasm32)")
  return()
endif()
set(pw_rust_filters headers body canary counter validate metrics postpone queue config tcp foreign panic)
set(pw_target_dir ${CMAKE_CURRENT_BINARY_DIR}/pw-rust-target)
set(pw_release ${pw_target_dir}/wasm32-unknown-unknown/release)
set(pw_outs)
set(pw_deps ${pw_dir}/Cargo.toml ${pw_dir}/Cargo.lock ${WASMPLUG_RUSTC_WASM})
set(pw_copies)
foreach(pw_name IN LISTS pw_rust_filters)
  set(pw_out ${WASMPLUG_PLUGIN_DIR}/pw-${pw_name}-rust.wasm)
  string(REPLACE "-" "_" pw_lib pw-${pw_name})
  file(GLOB_RECURSE pw_srcs ${pw_dir}/${pw_name}/rust/src/*.rs)
  list(APPEND pw_outs ${pw_out})
  list(APPEND pw_deps ${pw_srcs} ${pw_dir}/${pw_name}/rust/Cargo.toml)
  list(APPEND pw_copies
    COMMAND ${CMAKE_COMMAND} -E copy ${pw_release}/${pw_lib}.wasm ${pw_out}
    COMMAND ${WASMPLUG_WASM_TOOLS} validate ${pw_out})
endforeach()
add_custom_command(OUTPUT ${pw_outs}
  COMMAND ${CMAKE_COMMAND} -E env RUSTC=${WASMPLUG_RUSTC_WASM} RUSTC_BOOTSTRAP=1
          CARGO_TARGET_DIR=${pw_target_dir} CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=${WASM_LD}
          ${CARGO} build --quiet --release --locked --workspace --manifest-path ${pw_dir}/Cargo.toml
          --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
  ${pw_copies}
  DEPENDS ${pw_deps}
  COMMENT "cargo (proxy-wasm crate, wasm32, -Zbuild-std) -> plugins/pw-*-rust.wasm" VERBATIM)
add_custom_target(plugin-pw-rust ALL DEPENDS ${pw_outs})
foreach(pw_name IN LISTS pw_rust_filters)
  add_custom_target(plugin-pw-${pw_name}-rust ALL)
  add_dependencies(plugin-pw-${pw_name}-rust plugin-pw-rust)
endforeach()
