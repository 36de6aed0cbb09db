//! A component's imports resolved once per plugin (`InstancePre`), so that
//! each instantiation skips the linker's name lookups and type checks
//! (wasmplug_pre.h). The C API has no `instantiate_pre` for components.
//! Also a core module's exports resolved once per plugin (`ModuleExport`), so
//! that a fresh instance's first calls skip hashing and looking up names.
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

/// A core module's export resolved once per plugin: Wasmtime's
/// `ModuleExport` (the module's id and the export's entity index), opaque
/// to C (wasmplug_module_export_t, size-checked below).
#[repr(C, align(8))]
pub struct WasmplugModuleExport {
    bytes: [u8; 16],
}

const _: () = assert!(std::mem::size_of::<wasmtime::ModuleExport>() <= 16);
const _: () = assert!(std::mem::align_of::<wasmtime::ModuleExport>() <= 8);

/// The C API's core `InstancePre` (`wasmtime_instance_pre_t` is
/// `#[repr(transparent)]` over it); None for NULL.
unsafe fn core_pre<'a>(
    pre: *const wasmtime_c_api::wasmtime_instance_pre_t,
) -> Option<&'a wasmtime::InstancePre<WasmtimeStoreData>> {
    (pre as *const wasmtime::InstancePre<WasmtimeStoreData>).as_ref()
}

/// Fills `out[i]` for each of the first `n` exports of `pre`'s module, in
/// export order (wasmplug_pre.h). Found through each export's own name, so
/// names that C would see cut at a NUL byte still resolve exactly.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_instance_pre_export_indices(
    pre: *const wasmtime_c_api::wasmtime_instance_pre_t,
    out: *mut WasmplugModuleExport,
    n: usize,
) -> bool {
    let Some(pre) = core_pre(pre) else {
        return false;
    };
    if out.is_null() && n > 0 {
        return false;
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        let module = pre.module();
        if module.exports().len() < n {
            return false;
        }
        for (i, e) in module.exports().take(n).enumerate() {
            let Some(index) = module.get_export_index(e.name()) else {
                return false;
            };
            // SAFETY: the size and alignment fit (asserted above); C keeps
            // the bytes only to hand them back to wasmplug_instance_module_export.
            std::ptr::write(out.add(i).cast::<wasmtime::ModuleExport>(), index);
        }
        true
    }));
    r.unwrap_or(false)
}

/// The export `export` (from wasmplug_instance_pre_export_indices) of
/// `instance`, without looking its name up (wasmplug_pre.h).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_instance_module_export(
    store: StoreContextMut<'_, WasmtimeStoreData>,
    instance: &wasmtime::Instance,
    export: *const WasmplugModuleExport,
    item: &mut std::mem::MaybeUninit<wasmtime_c_api::wasmtime_extern_t>,
) -> bool {
    if export.is_null() {
        return false;
    }
    let export = &*export.cast::<wasmtime::ModuleExport>();
    let r = catch_unwind(AssertUnwindSafe(|| instance.get_module_export(store, export)));
    match r {
        Ok(Some(e)) => {
            item.write(e.into());
            true
        }
        _ => false,
    }
}

/// How many memories and tables `pre`'s module defines (not imports), for
/// the pool's choice to build fresh instances in a reused store
/// (wasmplug_pre.h). False if `pre` is NULL.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_instance_pre_defined(
    pre: *const wasmtime_c_api::wasmtime_instance_pre_t,
    memories: &mut u32,
    tables: &mut u32,
) -> bool {
    let Some(pre) = core_pre(pre) else {
        return false;
    };
    let r = pre.module().resources_required();
    *memories = r.num_memories;
    *tables = r.num_tables;
    true
}

/// How many memories and tables instantiating `pre`'s component defines in
/// all its core instances (wasmplug_pre.h). False if `pre` is NULL, or if the
/// component instantiates imported modules (Wasmtime cannot tell then).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_pre_defined(
    pre: *const WasmplugComponentPre,
    memories: &mut u32,
    tables: &mut u32,
) -> bool {
    let Some(pre) = pre.as_ref() else {
        return false;
    };
    match pre.pre.component().resources_required() {
        Some(r) => {
            *memories = r.num_memories;
            *tables = r.num_tables;
            true
        }
        None => false,
    }
}
