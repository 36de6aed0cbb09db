//! The shared and static library wasmplug links: it re-exports every
//! `wasm_*`, `wasi_*` and `wasmtime_*` symbol of Wasmtime's C API.
//!
//! Referencing the crate keeps the linker from dropping it; its
//! `#[no_mangle]` functions then become this library's exports.
pub use wasmtime_c_api::*;
