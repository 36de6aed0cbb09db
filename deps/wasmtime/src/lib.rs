//! The shared and static library wasmplug links: it re-exports every
//! `wasm_*`, `wasi_*` and `wasmtime_*` symbol of Wasmtime's C API, plus a few
//! `wasmplug_*` extensions declared in `include/wasmplug_ext.h` for what the
//! C API cannot do (see "Known sharp edges" in DESIGN.md).
//!
//! Referencing the crate keeps the linker from dropping it; its
//! `#[no_mangle]` functions then become this library's exports.
pub use wasmtime_c_api::*;

mod bytes;
mod compose;
mod http;
mod leaves;
mod link;
mod pool;
mod pre;
mod sandbox;
mod wit;
pub use compose::{wasmplug_component_fit, wasmplug_compose};
pub use http::{
    wasmplug_component_linker_add_wasi_http, wasmplug_http_handle, wasmplug_http_own_handle,
    wasmplug_http_response_free, wasmplug_http_set_outgoing,
};
pub use pool::{wasmplug_memory_view, wasmplug_pooling_config_pagemap_scan};
pub use sandbox::{
    wasmplug_component_linker_bound_wasip2, wasmplug_linker_bound_wasi, wasmplug_store_set_limits,
};
pub use wit::{wasmplug_component_wit, wasmplug_ext_string_free};
