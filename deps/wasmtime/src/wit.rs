//! `wasmplug_component_wit`: print a component's world as WIT text.
//!
//! Wasmtime's C API can load a component but cannot describe it: there is no
//! way to list its imports and exports with their types from C. The tooling
//! that can (`wasm-tools component wit`) is `wit-component`, a Rust crate of
//! the same `wasm-tools` release Wasmtime already depends on (it shares
//! Wasmtime's `wasmparser`/`wasm-encoder`), so we expose just that one call.
//!
//! Everything crossing the FFI boundary is plain C: bytes in, a malloc'd
//! NUL-terminated string out. No Rust panic may unwind into C, so the work runs
//! under `catch_unwind` and a panic becomes an error message.

use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// Decodes `bytes` as a component and renders its WIT the way
/// `wasm-tools component wit` does: the component's own package (`root:component`
/// with world `root`) first, then every package it references as a nested
/// `package ns:name { ... }` block.
fn component_wit(bytes: &[u8]) -> anyhow::Result<String> {
    // `decode` also accepts a core module carrying a `component-type` custom
    // section (a not-yet-componentized module). Callers want the world of a
    // real component, so refuse anything else up front with a clear message
    // instead of printing a possibly partial world. The preamble is `\0asm`,
    // a 2-byte version and a 2-byte layer: layer 1 is a component, 0 a module.
    match bytes {
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => {}
        [0, b'a', b's', b'm', _, _, 0, 0, ..] => {
            anyhow::bail!("not a component (a core WebAssembly module)")
        }
        _ => anyhow::bail!("not a WebAssembly component binary (bad magic/preamble)"),
    }

    let decoded = wit_component::decode(bytes)?;
    let resolve = decoded.resolve();
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, main, &nested)?;
    Ok(printer.output.to_string())
}

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
}

/// Copies `s` into a `malloc`ed NUL-terminated buffer, so the C side may
/// release it with `free` as well as with `wasmplug_ext_string_free` (no
/// dependence on Rust's allocator being libc's). WIT text and error messages
/// never contain NUL in practice; if one did, it is replaced so the C string
/// is still the whole text. Returns NULL only if malloc fails.
pub(crate) fn into_c(s: String) -> *mut c_char {
    let s = s.replace('\0', "\u{FFFD}");
    unsafe {
        let p = malloc(s.len() + 1) as *mut u8;
        if !p.is_null() {
            ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            *p.add(s.len()) = 0;
        }
        p as *mut c_char
    }
}

/// Copies `b` into a `malloc`ed buffer (at least one byte), released with
/// `free`. NULL only if malloc fails.
pub(crate) fn malloc_bytes(b: &[u8]) -> *mut u8 {
    unsafe {
        let p = malloc(b.len().max(1)) as *mut u8;
        if !p.is_null() {
            ptr::copy_nonoverlapping(b.as_ptr(), p, b.len());
        }
        p
    }
}

/// See `include/wasmplug_ext.h`.
///
/// # Safety
/// `bytes` must point to `len` readable bytes (or be NULL), `out` must be
/// NULL or point to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_wit(
    bytes: *const u8,
    len: usize,
    out: *mut *mut c_char,
) -> c_int {
    if out.is_null() {
        return -1;
    }
    *out = ptr::null_mut();
    let result = if bytes.is_null() {
        Err("wasmplug_component_wit: bytes is NULL".to_string())
    } else {
        let input = std::slice::from_raw_parts(bytes, len);
        match catch_unwind(AssertUnwindSafe(|| component_wit(input))) {
            Ok(Ok(wit)) => Ok(wit),
            // `{:#}` prints the whole anyhow context chain on one line.
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(_) => Err("wasmplug_component_wit: internal error (panic while decoding)".to_string()),
        }
    };
    let (rc, text) = match result {
        Ok(wit) => (0, wit),
        Err(msg) => (-1, msg),
    };
    // NULL here means malloc failed: report failure with *out left NULL.
    *out = catch_unwind(AssertUnwindSafe(|| into_c(text))).unwrap_or(ptr::null_mut());
    if (*out).is_null() {
        return -1;
    }
    rc
}

/// See `include/wasmplug_ext.h`. The strings are `malloc`ed (see `into_c`).
///
/// # Safety
/// `s` must be NULL or a string returned by this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_ext_string_free(s: *mut c_char) {
    if !s.is_null() {
        free(s as *mut c_void);
    }
}
