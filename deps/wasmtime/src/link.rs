//! Load-time linking: one component's import of an interface served by
//! another component's export of it, both instantiated in the same store,
//! without composing a new file.
//!
//! The C API can define host functions but cannot forward one instance's
//! export to another's import, nor map resources between them. Here every
//! function the main component imports from the interface becomes a
//! `func_new` that calls the plug's function with the same `Val`s, and every
//! resource of the interface becomes a host resource type of the main's
//! linker: a handle the main holds has a `rep` that indexes the store's table
//! of the plug's `ResourceAny`s. Values are converted both ways (own handles
//! move, borrows are lent), and when the main drops a handle the plug's
//! resource is dropped.
//!
//! The per-store state (the plug instances, the handle table) lives in a slot
//! the embedder keeps per store (`wasmplug_link_state_fn`), like the WASI
//! scratch words of sandbox.rs; `wasmplug_link_state_free` releases it.

use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use wasmtime::component::{
    types::ComponentItem, ComponentExportIndex, Instance, ResourceAny, ResourceDynamic,
    ResourceType, Val,
};
use wasmtime::{AsContext, AsContextMut, StoreContextMut};
use wasmtime_c_api::{
    wasmtime_component_linker_t, wasmtime_component_t, wasmtime_context_get_data, wasmtime_error_t,
    WasmtimeStoreData,
};

/// Returns the address of the embedder's per-store slot for the link state
/// (NULL until the first plug is instantiated in that store).
#[allow(non_camel_case_types)]
pub type wasmplug_link_state_fn = extern "C" fn(store_data: *mut c_void) -> *mut *mut c_void;

/// Host resource type ids for linked resources; the C side numbers its own
/// from 1 up, so these stay apart.
static NEXT_TYPE: AtomicU32 = AtomicU32::new(0xC000_0000);

#[derive(Default)]
struct LinkState {
    plugs: Vec<Option<Instance>>,
    /// The plug's resources the main holds handles to, by rep - 1.
    handles: Vec<Option<ResourceAny>>,
    free: Vec<u32>,
}

impl LinkState {
    fn insert(&mut self, r: ResourceAny) -> u32 {
        if let Some(i) = self.free.pop() {
            self.handles[i as usize] = Some(r);
            return i + 1;
        }
        self.handles.push(Some(r));
        self.handles.len() as u32
    }

    fn get(&self, rep: u32) -> wasmtime::Result<ResourceAny> {
        rep.checked_sub(1)
            .and_then(|i| self.handles.get(i as usize).copied().flatten())
            .ok_or_else(|| wasmtime::format_err!("wasmplug link: unknown resource handle {rep}"))
    }

    fn take(&mut self, rep: u32) -> wasmtime::Result<ResourceAny> {
        let r = self.get(rep)?;
        self.handles[rep as usize - 1] = None;
        self.free.push(rep - 1);
        Ok(r)
    }
}

/// The store's link state, made on first use. The pointer stays valid until
/// `wasmplug_link_state_free`; no reference to it is held across a call into
/// the plug.
fn state(
    store: &impl AsContext<Data = WasmtimeStoreData>,
    f: wasmplug_link_state_fn,
) -> *mut LinkState {
    let slot = f(wasmtime_context_get_data(store.as_context()));
    if slot.is_null() {
        return std::ptr::null_mut();
    }
    unsafe {
        if (*slot).is_null() {
            *slot = Box::into_raw(Box::<LinkState>::default()) as *mut c_void;
        }
        *slot as *mut LinkState
    }
}

/// One link: which plug slot serves the interface, and its resources.
struct Link {
    slot: usize,
    iface: String,
    state: wasmplug_link_state_fn,
    /// (host type id, the plug's export index of the resource)
    resources: Vec<(u32, ComponentExportIndex)>,
}

impl Link {
    fn st(
        &self,
        store: &impl AsContext<Data = WasmtimeStoreData>,
    ) -> wasmtime::Result<*mut LinkState> {
        let s = state(store, self.state);
        if s.is_null() {
            wasmtime::bail!("wasmplug link: the store has no link state");
        }
        Ok(s)
    }

    fn plug(&self, store: &impl AsContext<Data = WasmtimeStoreData>) -> wasmtime::Result<Instance> {
        let s = self.st(store)?;
        unsafe { (&*s).plugs.get(self.slot).copied().flatten() }.ok_or_else(|| {
            wasmtime::format_err!(
                "wasmplug link: the plug serving '{}' is not instantiated",
                self.iface
            )
        })
    }

    /// A value from the main, for the plug.
    fn to_plug(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        v: &Val,
    ) -> wasmtime::Result<Val> {
        Ok(match v {
            Val::Resource(any) => {
                let d = ResourceDynamic::try_from_resource_any(*any, &mut *store)?;
                if !self.resources.iter().any(|(id, _)| *id == d.ty()) {
                    wasmtime::bail!(
                        "wasmplug link: a resource of another interface crosses '{}'",
                        self.iface
                    );
                }
                let s = self.st(store)?;
                let r = unsafe {
                    if d.owned() {
                        (*s).take(d.rep())?
                    } else {
                        (*s).get(d.rep())?
                    }
                };
                Val::Resource(r)
            }
            Val::List(l) => Val::List(self.all_to_plug(store, l)?),
            Val::FixedLengthList(l) => Val::FixedLengthList(self.all_to_plug(store, l)?),
            Val::Tuple(l) => Val::Tuple(self.all_to_plug(store, l)?),
            Val::Record(f) => Val::Record(
                f.iter()
                    .map(|(n, v)| Ok((n.clone(), self.to_plug(store, v)?)))
                    .collect::<wasmtime::Result<_>>()?,
            ),
            Val::Variant(n, p) => Val::Variant(n.clone(), self.box_to_plug(store, p)?),
            Val::Option(p) => Val::Option(self.box_to_plug(store, p)?),
            Val::Result(Ok(p)) => Val::Result(Ok(self.box_to_plug(store, p)?)),
            Val::Result(Err(p)) => Val::Result(Err(self.box_to_plug(store, p)?)),
            Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
                wasmtime::bail!(
                    "wasmplug link: futures, streams and error contexts cannot cross '{}'",
                    self.iface
                )
            }
            other => other.clone(),
        })
    }

    fn all_to_plug(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        l: &[Val],
    ) -> wasmtime::Result<Vec<Val>> {
        l.iter().map(|v| self.to_plug(store, v)).collect()
    }

    fn box_to_plug(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        p: &Option<Box<Val>>,
    ) -> wasmtime::Result<Option<Box<Val>>> {
        p.as_ref()
            .map(|v| Ok(Box::new(self.to_plug(store, v)?)))
            .transpose()
    }

    /// A value from the plug, for the main: the plug's own resources get a
    /// handle of the matching host type.
    fn to_main(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        v: Val,
    ) -> wasmtime::Result<Val> {
        Ok(match v {
            Val::Resource(any) => {
                if !any.owned() {
                    wasmtime::bail!(
                        "wasmplug link: the plug returned a borrowed handle through '{}'",
                        self.iface
                    );
                }
                let plug = self.plug(store)?;
                let mut ty = None;
                for (id, idx) in &self.resources {
                    if plug.get_resource(&mut *store, idx) == Some(any.ty()) {
                        ty = Some(*id);
                        break;
                    }
                }
                let Some(ty) = ty else {
                    any.resource_drop(&mut *store)?;
                    wasmtime::bail!(
                        "wasmplug link: a resource of another interface crosses '{}'",
                        self.iface
                    );
                };
                let s = self.st(store)?;
                let rep = unsafe { (*s).insert(any) };
                Val::Resource(ResourceDynamic::new_own(rep, ty).try_into_resource_any(&mut *store)?)
            }
            Val::List(l) => Val::List(self.all_to_main(store, l)?),
            Val::FixedLengthList(l) => Val::FixedLengthList(self.all_to_main(store, l)?),
            Val::Tuple(l) => Val::Tuple(self.all_to_main(store, l)?),
            Val::Record(f) => Val::Record(
                f.into_iter()
                    .map(|(n, v)| Ok((n, self.to_main(store, v)?)))
                    .collect::<wasmtime::Result<_>>()?,
            ),
            Val::Variant(n, p) => Val::Variant(n, self.box_to_main(store, p)?),
            Val::Option(p) => Val::Option(self.box_to_main(store, p)?),
            Val::Result(Ok(p)) => Val::Result(Ok(self.box_to_main(store, p)?)),
            Val::Result(Err(p)) => Val::Result(Err(self.box_to_main(store, p)?)),
            Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
                wasmtime::bail!(
                    "wasmplug link: futures, streams and error contexts cannot cross '{}'",
                    self.iface
                )
            }
            other => other,
        })
    }

    fn all_to_main(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        l: Vec<Val>,
    ) -> wasmtime::Result<Vec<Val>> {
        l.into_iter().map(|v| self.to_main(store, v)).collect()
    }

    fn box_to_main(
        &self,
        store: &mut StoreContextMut<'_, WasmtimeStoreData>,
        p: Option<Box<Val>>,
    ) -> wasmtime::Result<Option<Box<Val>>> {
        p.map(|v| Ok(Box::new(self.to_main(store, *v)?)))
            .transpose()
    }
}

fn link_plug(
    linker: &mut wasmtime::component::Linker<WasmtimeStoreData>,
    main: &wasmtime::component::Component,
    plug: &wasmtime::component::Component,
    iface: &str,
    slot: usize,
    state: wasmplug_link_state_fn,
) -> wasmtime::Result<()> {
    let engine = linker.engine().clone();
    let ct = main.component_type();
    let Some(ComponentItem::ComponentInstance(wanted)) =
        ct.get_import(&engine, iface).map(|e| e.ty)
    else {
        wasmtime::bail!("the main component does not import the interface '{iface}'");
    };
    let Some(parent) = plug.get_export_index(None, iface) else {
        wasmtime::bail!("the plug does not export the interface '{iface}'");
    };
    let mut link = Link {
        slot,
        iface: iface.to_string(),
        state,
        resources: Vec::new(),
    };
    let mut funcs = Vec::new();
    let mut resources = Vec::new();
    for (name, item) in wanted.exports(&engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => {
                let idx = plug.get_export_index(Some(&parent), name).ok_or_else(|| {
                    wasmtime::format_err!("import '{iface}': function '{name}' is missing from the plug's export")
                })?;
                funcs.push((name.to_string(), idx));
            }
            ComponentItem::Resource(_) => {
                let idx = plug.get_export_index(Some(&parent), name).ok_or_else(|| {
                    wasmtime::format_err!("import '{iface}': resource '{name}' is missing from the plug's export")
                })?;
                let id = NEXT_TYPE.fetch_add(1, Ordering::Relaxed);
                link.resources.push((id, idx));
                resources.push((name.to_string(), id));
            }
            ComponentItem::Type(_) => {}
            _ => wasmtime::bail!("import '{iface}': '{name}' is neither a function nor a resource, which a link cannot carry"),
        }
    }
    let link = Arc::new(link);
    let mut li = linker.instance(iface)?;
    for (name, id) in resources {
        let l = link.clone();
        li.resource(
            &name,
            ResourceType::host_dynamic(id),
            move |mut store, rep| {
                let s = l.st(&store)?;
                let r = unsafe { (*s).take(rep)? };
                r.resource_drop(&mut store)
            },
        )?;
    }
    for (name, idx) in funcs {
        let l = link.clone();
        let fname = name.clone();
        li.func_new(&name, move |mut store, _ty, params, results| {
            let plug = l.plug(&store)?;
            let func = plug.get_func(&mut store, &idx).ok_or_else(|| {
                wasmtime::format_err!(
                    "wasmplug link: the plug has no function '{fname}' in '{}'",
                    l.iface
                )
            })?;
            let args = l.all_to_plug(&mut store, params)?;
            let mut out = vec![Val::Bool(false); results.len()];
            func.call(&mut store, &args, &mut out)?;
            for (slot, v) in results.iter_mut().zip(out) {
                *slot = l.to_main(&mut store, v)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn werr(e: wasmtime::Error) -> Option<Box<wasmtime_error_t>> {
    Some(Box::new(wasmtime_error_t::from(e)))
}

fn caught(r: std::thread::Result<wasmtime::Result<()>>) -> Option<Box<wasmtime_error_t>> {
    match r {
        Ok(Ok(())) => None,
        Ok(Err(e)) => werr(e),
        Err(_) => werr(wasmtime::format_err!(
            "wasmplug link: internal error (panic)"
        )),
    }
}

/// See `include/wasmplug_link.h`.
///
/// # Safety
/// Pointers as documented there.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_link_plug(
    linker: *mut wasmtime_component_linker_t,
    main: *const wasmtime_component_t,
    plug: *const wasmtime_component_t,
    iface: *const c_char,
    slot: usize,
    state: wasmplug_link_state_fn,
) -> Option<Box<wasmtime_error_t>> {
    if linker.is_null() || main.is_null() || plug.is_null() || iface.is_null() {
        return werr(wasmtime::format_err!(
            "wasmplug_component_link_plug: NULL argument"
        ));
    }
    // #[repr(transparent)] handles around Linker and Component (see sandbox.rs).
    let linker = &mut *(linker as *mut wasmtime::component::Linker<WasmtimeStoreData>);
    let main = &*(main as *const wasmtime::component::Component);
    let plug = &*(plug as *const wasmtime::component::Component);
    let iface = std::ffi::CStr::from_ptr(iface)
        .to_string_lossy()
        .into_owned();
    caught(catch_unwind(AssertUnwindSafe(|| {
        link_plug(linker, main, plug, &iface, slot, state)
    })))
}

/// See `include/wasmplug_link.h`.
///
/// # Safety
/// Pointers as documented there; `ctx` is the store's context.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_link_instantiate(
    ctx: StoreContextMut<'_, WasmtimeStoreData>,
    state_fn: wasmplug_link_state_fn,
    slot: usize,
    linker: *const wasmtime_component_linker_t,
    plug: *const wasmtime_component_t,
) -> Option<Box<wasmtime_error_t>> {
    let mut ctx = ctx;
    if linker.is_null() || plug.is_null() {
        return werr(wasmtime::format_err!(
            "wasmplug_link_instantiate: NULL argument"
        ));
    }
    let linker = &*(linker as *const wasmtime::component::Linker<WasmtimeStoreData>);
    let plug = &*(plug as *const wasmtime::component::Component);
    caught(catch_unwind(AssertUnwindSafe(|| {
        let s = state(&ctx, state_fn);
        if s.is_null() {
            wasmtime::bail!("wasmplug_link_instantiate: the store has no link state slot");
        }
        let inst = linker.instantiate(&mut ctx.as_context_mut(), plug)?;
        let st = &mut *s;
        if st.plugs.len() <= slot {
            st.plugs.resize(slot + 1, None);
        }
        st.plugs[slot] = Some(inst);
        Ok(())
    })))
}

/// See `include/wasmplug_link.h`.
///
/// # Safety
/// `state` is NULL or what a link state slot holds, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_link_state_free(state: *mut c_void) {
    if !state.is_null() {
        drop(Box::from_raw(state as *mut LinkState));
    }
}

const _: () = assert!(
    std::mem::size_of::<wasmtime_component_t>()
        == std::mem::size_of::<wasmtime::component::Component>()
);
