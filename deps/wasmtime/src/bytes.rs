//! Bytes and string calls on component exports typed `func(list<u8>) ->
//! list<u8>`, `func(string) -> string` or a mix of the two, through
//! Wasmtime's typed API: the input is lowered and the output lifted as one
//! copy each (the C API's values would take one 32-byte value per byte).
//!
//! Takes the C API's `wasmtime_context_t*` (a
//! `StoreContextMut<WasmtimeStoreData>`) and a resolved
//! `wasmtime_component_func_t` (a `component::Func`), as http.rs does (its
//! size checks cover both).

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use wasmtime::component::{ComponentNamedList, Func, Lift, Lower, TypedFunc};
use wasmtime::StoreContextMut;
use wasmtime_c_api::{wasmtime_error_t, WasmtimeStoreData};

use crate::leaves::{wasmplug_leaf, Room, Sink};

// The WASMPLUG_BYTES_* codes (also what leaves.rs returns).
pub(crate) const OK: i32 = 0;
pub(crate) const CALL_FAILED: i32 = 1;
pub(crate) const BAD_TYPE: i32 = 2;
pub(crate) const BAD_INPUT: i32 = 3;
pub(crate) const NO_MEMORY: i32 = 4;

/// The parameter is a `string` (else `list<u8>`).
const PARAM_STRING: u32 = 1;
/// The result is a `string` (else `list<u8>`).
const RESULT_STRING: u32 = 2;
/// The caller has checked the export's type against the other flags, so the
/// per-call type check is skipped.
const TYPE_CHECKED: u32 = 4;
/// The caller has checked that the input is UTF-8 (for a string parameter),
/// so it is not checked again.
const INPUT_UTF8: u32 = 8;

/// Where the output goes: `alloc(data, len)` returns room for `len` bytes.
#[allow(non_camel_case_types)]
pub type wasmplug_bytes_alloc_fn = unsafe extern "C" fn(*mut c_void, usize) -> *mut u8;

/// Calls `func` with `arg`, its result copied into the sink (leaves.rs's
/// Room: straight from the guest's memory into the caller's room).
fn typed_call<P, R>(
    store: &mut StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    arg: P,
    checked: bool,
) -> Result<i32, wasmtime::Error>
where
    (P,): ComponentNamedList + Lower,
    (R,): ComponentNamedList + Lift,
{
    // The type check (when the caller has not made it) is against the
    // result type the flags name; the call then lifts through Room, which
    // takes either.
    if !checked && func.typed::<(P,), (R,)>(&*store).is_err() {
        return Ok(BAD_TYPE);
    }
    // SAFETY: the parameter is the export's own (checked by the caller, or
    // just above), and Room lifts the `string` or `list<u8>` result by the
    // export's own type.
    let typed = unsafe { TypedFunc::<(P,), (Room,)>::new_unchecked(*func) };
    typed.call(&mut *store, (arg,))?;
    Ok(OK)
}

fn call(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    flags: u32,
    input: &[u8],
) -> Result<i32, wasmtime::Error> {
    let text = if flags & PARAM_STRING == 0 {
        None
    } else if flags & INPUT_UTF8 != 0 {
        // SAFETY: the caller vouches (INPUT_UTF8) that it checked the bytes.
        Some(unsafe { std::str::from_utf8_unchecked(input) })
    } else {
        match std::str::from_utf8(input) {
            Ok(s) => Some(s),
            Err(_) => return Ok(BAD_INPUT),
        }
    };
    let s = &mut store;
    let c = flags & TYPE_CHECKED != 0;
    match (text, flags & RESULT_STRING != 0) {
        (Some(t), true) => typed_call::<&str, String>(s, func, t, c),
        (Some(t), false) => typed_call::<&str, Vec<u8>>(s, func, t, c),
        (None, true) => typed_call::<&[u8], String>(s, func, input, c),
        (None, false) => typed_call::<&[u8], Vec<u8>>(s, func, input, c),
    }
}

/// One call (wasmplug_bytes.h).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_call_bytes(
    store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    flags: u32,
    input: *const u8,
    input_len: usize,
    alloc: wasmplug_bytes_alloc_fn,
    alloc_data: *mut c_void,
    error: *mut *mut wasmtime_error_t,
) -> i32 {
    if error.is_null() || (input.is_null() && input_len != 0) {
        return BAD_INPUT;
    }
    *error = std::ptr::null_mut();
    let input: &[u8] = if input_len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(input, input_len)
    };
    let mut out = wasmplug_leaf::default();
    let sink = Sink::new(alloc, alloc_data, &mut out, 1);
    let r = catch_unwind(AssertUnwindSafe(|| sink.during(|| call(store, func, flags, input))));
    let r = r.unwrap_or_else(|_| Err(wasmtime::format_err!("wasmplug: panic during a bytes call")));
    sink.code(r, BAD_TYPE, error)
}

/// A call of an export typed `func()` (wasmplug_bytes.h): no values to
/// convert, so the C API's value vectors are skipped altogether.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_call_unit(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    checked: bool,
    error: *mut *mut wasmtime_error_t,
) -> i32 {
    if error.is_null() {
        return BAD_INPUT;
    }
    *error = std::ptr::null_mut();
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<i32, wasmtime::Error> {
        let typed = if checked {
            // SAFETY: the caller checked that the export's type is `func()`.
            TypedFunc::<(), ()>::new_unchecked(*func)
        } else {
            match func.typed::<(), ()>(&store) {
                Ok(t) => t,
                Err(_) => return Ok(BAD_TYPE),
            }
        };
        typed.call(&mut store, ())?;
        Ok(OK)
    }));
    let r = r.unwrap_or_else(|_| Err(wasmtime::format_err!("wasmplug: panic during a call")));
    match r {
        Ok(c) => c,
        Err(e) => {
            *error = Box::into_raw(Box::new(wasmtime_error_t::from(e)));
            CALL_FAILED
        }
    }
}
