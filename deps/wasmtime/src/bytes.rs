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

const OK: i32 = 0;
const CALL_FAILED: i32 = 1;
const BAD_TYPE: i32 = 2;
const BAD_INPUT: i32 = 3;
const NO_MEMORY: i32 = 4;

/// The parameter is a `string` (else `list<u8>`).
const PARAM_STRING: u32 = 1;
/// The result is a `string` (else `list<u8>`).
const RESULT_STRING: u32 = 2;
/// The caller has checked the export's type against the other flags, so the
/// per-call type check is skipped.
const TYPE_CHECKED: u32 = 4;

/// Where the output goes: `alloc(data, len)` returns room for `len` bytes.
#[allow(non_camel_case_types)]
pub type wasmplug_bytes_alloc_fn = unsafe extern "C" fn(*mut c_void, usize) -> *mut u8;

enum Outcome {
    Done,
    Code(i32),
}

fn typed_call<P, R>(
    store: &mut StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    arg: P,
    checked: bool,
) -> Result<Result<R, i32>, wasmtime::Error>
where
    (P,): ComponentNamedList + Lower,
    (R,): ComponentNamedList + Lift,
{
    let typed = if checked {
        // SAFETY: the caller vouches (TYPE_CHECKED) that it matched the
        // export's own type, as Wasmtime reported it, against `flags` once.
        unsafe { TypedFunc::<(P,), (R,)>::new_unchecked(*func) }
    } else {
        match func.typed::<(P,), (R,)>(&*store) {
            Ok(t) => t,
            Err(_) => return Ok(Err(BAD_TYPE)),
        }
    };
    let (r,) = typed.call(&mut *store, (arg,))?;
    Ok(Ok(r))
}

fn call(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    flags: u32,
    input: &[u8],
    alloc: wasmplug_bytes_alloc_fn,
    alloc_data: *mut c_void,
) -> Result<Outcome, wasmtime::Error> {
    let text = if flags & PARAM_STRING != 0 {
        match std::str::from_utf8(input) {
            Ok(s) => Some(s),
            Err(_) => return Ok(Outcome::Code(BAD_INPUT)),
        }
    } else {
        None
    };
    let s = &mut store;
    let c = flags & TYPE_CHECKED != 0;
    let out: Result<Vec<u8>, i32> = match (text, flags & RESULT_STRING != 0) {
        (Some(t), true) => typed_call::<&str, String>(s, func, t, c)?.map(String::into_bytes),
        (Some(t), false) => typed_call::<&str, Vec<u8>>(s, func, t, c)?,
        (None, true) => typed_call::<&[u8], String>(s, func, input, c)?.map(String::into_bytes),
        (None, false) => typed_call::<&[u8], Vec<u8>>(s, func, input, c)?,
    };
    let out = match out {
        Ok(o) => o,
        Err(code) => return Ok(Outcome::Code(code)),
    };
    let dst = unsafe { alloc(alloc_data, out.len()) };
    if dst.is_null() {
        return Ok(Outcome::Code(NO_MEMORY));
    }
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), dst, out.len()) };
    Ok(Outcome::Done)
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
    let r = catch_unwind(AssertUnwindSafe(|| {
        call(store, func, flags, input, alloc, alloc_data)
    }));
    let r = r.unwrap_or_else(|_| Err(wasmtime::format_err!("wasmplug: panic during a bytes call")));
    match r {
        Ok(Outcome::Done) => OK,
        Ok(Outcome::Code(c)) => c,
        Err(e) => {
            *error = Box::into_raw(Box::new(wasmtime_error_t::from(e)));
            CALL_FAILED
        }
    }
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
