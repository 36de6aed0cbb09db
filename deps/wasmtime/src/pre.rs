//! A component's imports resolved once per plugin (`InstancePre`), so that
//! each instantiation skips the linker's name lookups and type checks
//! (wasmplug_pre.h). The C API has no `instantiate_pre` for components.
//!
//! Takes the C API's `wasmtime_component_linker_t` (a
//! `component::Linker<WasmtimeStoreData>`, size-checked in sandbox.rs),
//! `wasmtime_component_t` (one `Component`, `#[repr(transparent)]`) and
//! `wasmtime_context_t` (a `StoreContextMut`), as link.rs does.

use std::panic::{catch_unwind, AssertUnwindSafe};

use wasmtime::component::{Component, Instance, InstancePre, Linker};
use wasmtime::StoreContextMut;
use wasmtime_c_api::{wasmtime_component_t, wasmtime_error_t, WasmtimeStoreData};

/// What wasmplug_component_pre_new makes (opaque to C).
pub struct WasmplugComponentPre {
    pre: InstancePre<WasmtimeStoreData>,
}

fn to_c(e: wasmtime::Error, error: *mut *mut wasmtime_error_t) {
    if !error.is_null() {
        unsafe { *error = Box::into_raw(Box::new(wasmtime_error_t::from(e))) };
    }
}

/// Resolves `component`'s imports in `linker` (wasmplug_pre.h).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_pre_new(
    linker: *const wasmtime_c_api::wasmtime_component_linker_t,
    component: *const wasmtime_component_t,
    error: *mut *mut wasmtime_error_t,
) -> *mut WasmplugComponentPre {
    if !error.is_null() {
        *error = std::ptr::null_mut();
    }
    if linker.is_null() || component.is_null() {
        return std::ptr::null_mut();
    }
    let linker = &*(linker as *const Linker<WasmtimeStoreData>);
    let component = &*(component as *const Component);
    let r = catch_unwind(AssertUnwindSafe(|| linker.instantiate_pre(component)));
    match r {
        Ok(Ok(pre)) => Box::into_raw(Box::new(WasmplugComponentPre { pre })),
        Ok(Err(e)) => {
            to_c(e, error);
            std::ptr::null_mut()
        }
        Err(_) => {
            to_c(wasmtime::format_err!("wasmplug: panic resolving imports"), error);
            std::ptr::null_mut()
        }
    }
}

/// One instance in `store` (wasmplug_pre.h); NULL or the error.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_pre_instantiate(
    pre: *const WasmplugComponentPre,
    store: StoreContextMut<'_, WasmtimeStoreData>,
    instance_out: *mut Instance,
) -> *mut wasmtime_error_t {
    if pre.is_null() || instance_out.is_null() {
        return Box::into_raw(Box::new(wasmtime_error_t::from(wasmtime::format_err!(
            "wasmplug_component_pre_instantiate: pre and instance_out are required"
        ))));
    }
    let pre = &*pre;
    let r = catch_unwind(AssertUnwindSafe(|| pre.pre.instantiate(store)));
    let r = r.unwrap_or_else(|_| Err(wasmtime::format_err!("wasmplug: panic during instantiation")));
    match r {
        Ok(i) => {
            *instance_out = i;
            std::ptr::null_mut()
        }
        Err(e) => Box::into_raw(Box::new(wasmtime_error_t::from(e))),
    }
}

/// Frees what wasmplug_component_pre_new made (NULL: nothing).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_pre_delete(pre: *mut WasmplugComponentPre) {
    if !pre.is_null() {
        drop(Box::from_raw(pre));
    }
}

