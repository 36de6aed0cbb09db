//! Hot paths of wasmplug's calls and instances that the C API makes slower
//! than they need be: the pooling allocator's slot reset, and the view of a
//! linear memory (base and size) that every bytes call takes after each call
//! into the guest.

use wasmtime::{Enabled, Memory, PoolingAllocationConfig};
use wasmtime_c_api::{wasmtime_pooling_allocation_config_t, WasmtimeStoreContextMut};

/// Lets the pooling allocator find the pages an instance dirtied with Linux's
/// `PAGEMAP_SCAN` ioctl (6.7 and later) when it resets a slot, so that only
/// those are restored instead of memsetting the whole kept-resident prefix of
/// every memory. Where the kernel lacks it, Wasmtime keeps the memset.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_pooling_config_pagemap_scan(
    config: *mut wasmtime_pooling_allocation_config_t,
) {
    // The C API's handle is #[repr(C)] with the Rust config as its one field
    // (checked below).
    let config = unsafe { &mut *config.cast::<PoolingAllocationConfig>() };
    config.pagemap_scan(Enabled::Auto);
}

/// A memory's base and size in bytes with one lookup of the memory in its
/// store (`wasmtime_memory_data` and `wasmtime_memory_data_size` each do it).
#[no_mangle]
pub extern "C" fn wasmplug_memory_view(
    store: WasmtimeStoreContextMut<'_>,
    mem: &Memory,
    size: &mut usize,
) -> *mut u8 {
    let data = mem.data_mut(store);
    *size = data.len();
    data.as_mut_ptr()
}

const _: () = assert!(
    std::mem::size_of::<wasmtime_pooling_allocation_config_t>()
        == std::mem::size_of::<PoolingAllocationConfig>()
);
