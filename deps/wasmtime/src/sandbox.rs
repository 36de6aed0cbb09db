//! Sandbox pieces the C API cannot express: one memory budget for a whole
//! store, and WASI waits that end when the call's time is up.
//!
//! 1. `wasmplug_store_set_limits`: Wasmtime's C API only offers
//!    `StoreLimits`, which caps each linear memory and each table on its own,
//!    so a plugin with many memories or big tables multiplies its limit. Here
//!    a `ResourceLimiter` charges every memory and every table element of the
//!    store against one budget, counts refusals (so a trap that follows one
//!    can be reported as a memory-limit failure), and caps how many
//!    instances, memories and tables a store may hold.
//!
//! 2. `wasmplug_linker_bound_wasi` / `wasmplug_component_linker_bound_wasip2`:
//!    a plugin that sleeps inside WASI (preview 1 `poll_oneoff`, preview 2
//!    `poll` / `pollable.block`) is in host code, where neither epoch
//!    interruption nor fuel reach it. These shadow exactly those functions
//!    with versions that wait in slices and ask the embedder, between slices,
//!    how much time the call has left (`budget`); when it says none, the
//!    wait ends with a trap and the embedder reports why (timeout or
//!    interrupt). Opening a FIFO or a device can block in the kernel until
//!    another process opens its other end, so preview 1 `path_open` and
//!    preview 2 `descriptor.open-at` are shadowed to refuse them. Every
//!    other WASI function returns without waiting for long in wasmplug's
//!    configuration (stdin is a byte buffer, stdout/stderr are sinks or
//!    callbacks, files are regular files, no sockets are granted).
//!
//! The C API's handles are `#[repr(C)]`/`#[repr(transparent)]` wrappers whose
//! only field is the Rust object (`Store`, `Linker`), so a pointer to the
//! handle is a pointer to that object; that is how this crate reaches them.

use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{
    AsContext, AsContextMut, Caller, Extern, Instance, Linker, Module, ResourceLimiter, Store,
};
use wasmtime_c_api::{
    wasmtime_component_linker_t, wasmtime_context_get_data, wasmtime_error_t, wasmtime_linker_t,
    wasmtime_store_t, WasmtimeStoreData,
};
use wasmtime_wasi::clocks::WasiClocksView;
use wasmtime_wasi::WasiView;
use wasmtime_wasi_io::poll::DynPollable;

// ---- one memory budget per store -------------------------------------------

/// Mirrors `wasmplug_limits_t` in wasmplug_sandbox.h. The embedder owns it and
/// keeps it alive (and in place) as long as the store.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_limits_t {
    /// Budget in bytes for all linear memories plus all table elements.
    pub max_bytes: u64,
    /// Bytes charged per table element.
    pub table_elem_bytes: u64,
    pub max_instances: u32,
    pub max_memories: u32,
    pub max_tables: u32,
    /// Written by the limiter: bytes in use now (memories, tables).
    pub memory_bytes: u64,
    pub table_bytes: u64,
    /// Written by the limiter: growths it refused, and the bytes the last
    /// refused one would have brought the total to.
    pub refused: u64,
    pub refused_total: u64,
}

struct Limiter(*mut wasmplug_limits_t);

// The pointer is only used on the thread running the store, like the store.
unsafe impl Send for Limiter {}
unsafe impl Sync for Limiter {}

impl Limiter {
    fn limits(&mut self) -> &mut wasmplug_limits_t {
        unsafe { &mut *self.0 }
    }

    /// Charges `delta` more bytes to `slot` (memory or table bytes) if the
    /// total stays within the budget.
    fn charge(&mut self, table: bool, current: u64, desired: u64) -> bool {
        let l = self.limits();
        let delta = desired.saturating_sub(current);
        let total = l.memory_bytes.saturating_add(l.table_bytes).saturating_add(delta);
        if total > l.max_bytes {
            l.refused += 1;
            l.refused_total = total;
            return false;
        }
        if table {
            l.table_bytes += delta;
        } else {
            l.memory_bytes += delta;
        }
        true
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.charge(false, current as u64, desired as u64))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let per = self.limits().table_elem_bytes;
        Ok(self.charge(
            true,
            (current as u64).saturating_mul(per),
            (desired as u64).saturating_mul(per),
        ))
    }

    fn instances(&self) -> usize {
        unsafe { (*self.0).max_instances as usize }
    }

    fn memories(&self) -> usize {
        unsafe { (*self.0).max_memories as usize }
    }

    fn tables(&self) -> usize {
        unsafe { (*self.0).max_tables as usize }
    }
}

/// Installs the store-wide limiter. `limits` must outlive the store.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_store_set_limits(
    store: *mut wasmtime_store_t,
    limits: *mut wasmplug_limits_t,
) {
    if store.is_null() || limits.is_null() {
        return;
    }
    // wasmtime_store_t is #[repr(C)] around its Store: same address.
    let store = &mut *(store as *mut Store<WasmtimeStoreData>);
    let mut limiter = Limiter(limits);
    store.limiter(move |_| {
        // The closure owns the limiter and lives as long as the store.
        let l: *mut Limiter = &mut limiter;
        unsafe { &mut *l }
    });
}

// ---- WASI waits bounded by the call's budget ---------------------------------

/// Time the current call has left, in nanoseconds: 0 means stop now (the
/// embedder has recorded why), u64::MAX means no limit.
#[allow(non_camel_case_types)]
pub type wasmplug_budget_fn = extern "C" fn(store_data: *mut c_void) -> u64;

/// Four zeroed u64s the embedder keeps per store (zeroed when the store is
/// made) where the bounded poll_oneoff caches its trampoline.
#[allow(non_camel_case_types)]
pub type wasmplug_scratch_fn = extern "C" fn(store_data: *mut c_void) -> *mut u64;

#[derive(Clone, Copy)]
struct Budget {
    fn_: wasmplug_budget_fn,
    slice: Duration,
}

const STOPPED: &str = "wasmplug: call stopped while waiting in WASI";

impl Budget {
    fn left(&self, data: *mut c_void) -> u64 {
        (self.fn_)(data)
    }

    /// Sleeps until `end` (None: never), in slices, asking the budget between
    /// them. Err when the budget runs out first.
    fn sleep_until(&self, data: *mut c_void, end: Option<Instant>) -> wasmtime::Result<()> {
        loop {
            let left = self.left(data);
            if left == 0 {
                wasmtime::bail!(STOPPED);
            }
            let mut step = self.slice.min(Duration::from_nanos(left));
            if let Some(end) = end {
                let now = Instant::now();
                if now >= end {
                    return Ok(());
                }
                step = step.min(end - now);
            }
            std::thread::sleep(step);
        }
    }

    /// Runs a WASI future on Wasmtime's Tokio runtime, but gives up when the
    /// budget runs out.
    fn run<F: Future<Output = wasmtime::Result<T>>, T>(
        &self,
        data: *mut c_void,
        fut: F,
    ) -> wasmtime::Result<T> {
        let budget = *self;
        wasmtime_wasi::runtime::in_tokio(async move {
            let mut fut = pin!(fut);
            let mut watch = pin!(async move {
                loop {
                    let left = budget.left(data);
                    if left == 0 {
                        return;
                    }
                    tokio::time::sleep(budget.slice.min(Duration::from_nanos(left))).await;
                }
            });
            std::future::poll_fn(|cx| {
                if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                    return Poll::Ready(r);
                }
                if watch.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(wasmtime::format_err!(STOPPED)));
                }
                Poll::Pending
            })
            .await
        })
    }
}

fn store_data<T: AsContext<Data = WasmtimeStoreData>>(store: &T) -> *mut c_void {
    wasmtime_context_get_data(store.as_context())
}

// WASI preview 1 layouts (wasi_snapshot_preview1 witx): a subscription is 48
// bytes, an event 32.
const SUB_SIZE: usize = 48;
const EVENT_SIZE: usize = 32;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const SUBCLOCK_ABSTIME: u16 = 1;

fn rd_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// What a clock-only poll asks for: how long until each subscription is due.
enum Plan {
    /// Wait this long per subscription (in order), userdata alongside.
    Clocks(Vec<(u64, u64)>),
    /// Fail with this errno without waiting.
    Errno(i32),
    /// Has fd subscriptions: the original implementation, which does not
    /// wait for fds in wasmplug's configuration, handles it.
    Delegate,
}

fn plan_poll(
    caller: &mut Caller<'_, WasmtimeStoreData>,
    memory: &wasmtime::Memory,
    subs: u32,
    events: u32,
    n: u32,
    nevents: u32,
) -> wasmtime::Result<Plan> {
    let (subs, events, n, nevents) = (subs as usize, events as usize, n as usize, nevents as usize);
    if n == 0 {
        return Ok(Plan::Errno(ERRNO_INVAL));
    }
    let mem_len = memory.data_size(&*caller);
    let in_end = n.checked_mul(SUB_SIZE).and_then(|l| l.checked_add(subs));
    if subs % 8 != 0 || in_end.map_or(true, |e| e > mem_len) {
        return Ok(Plan::Errno(ERRNO_FAULT));
    }
    // A copy of just the subscriptions (the clocks below need the store).
    let mut sub_bytes = vec![0u8; n * SUB_SIZE];
    memory.read(&*caller, subs, &mut sub_bytes)?;
    let mut waits = Vec::with_capacity(n);
    for i in 0..n {
        let s = &sub_bytes[i * SUB_SIZE..(i + 1) * SUB_SIZE];
        if s[8] != 0 {
            return Ok(Plan::Delegate);
        }
        let id = u32::from_le_bytes(s[16..20].try_into().unwrap());
        let timeout = rd_u64(s, 24);
        let abstime = u16::from_le_bytes(s[40..42].try_into().unwrap()) & SUBCLOCK_ABSTIME != 0;
        let wait = match (id, abstime) {
            (CLOCK_MONOTONIC | CLOCK_REALTIME, false) => timeout,
            (CLOCK_MONOTONIC, true) => {
                let now = wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host::now(
                    &mut caller.data_mut().clocks(),
                )?;
                timeout.saturating_sub(now)
            }
            (CLOCK_REALTIME, true) => {
                let now = wasmtime_wasi::p2::bindings::clocks::wall_clock::Host::now(
                    &mut caller.data_mut().clocks(),
                )?;
                let now = now.seconds.saturating_mul(1_000_000_000).saturating_add(now.nanoseconds.into());
                timeout.saturating_sub(now)
            }
            _ => return Ok(Plan::Errno(ERRNO_INVAL)),
        };
        waits.push((wait, rd_u64(s, 0)));
    }
    // The events and their count must be writable before waiting: a plugin
    // must not be able to sleep first and fault afterwards.
    let out_end = n.checked_mul(EVENT_SIZE).and_then(|l| l.checked_add(events));
    if events % 8 != 0
        || out_end.map_or(true, |e| e > mem_len)
        || nevents % 4 != 0
        || nevents.checked_add(4).map_or(true, |e| e > mem_len)
    {
        return Ok(Plan::Errno(ERRNO_FAULT));
    }
    Ok(Plan::Clocks(waits))
}

/// Waits for the earliest clock, then reports every subscription due by then.
fn poll_clocks(
    caller: &mut Caller<'_, WasmtimeStoreData>,
    budget: &Budget,
    mem: Extern,
    waits: Vec<(u64, u64)>,
    events: u32,
    nevents: u32,
) -> wasmtime::Result<i32> {
    let first = waits.iter().map(|w| w.0).min().unwrap_or(0);
    let end = Instant::now().checked_add(Duration::from_nanos(first));
    budget.sleep_until(store_data(caller), end)?;
    let mem = mem.into_memory().unwrap();
    let data = mem.data_mut(caller.as_context_mut());
    let mut count = 0usize;
    for (_, userdata) in waits.into_iter().filter(|w| w.0 <= first) {
        let at = events as usize + count * EVENT_SIZE;
        let ev = &mut data[at..at + EVENT_SIZE];
        ev.fill(0);
        ev[0..8].copy_from_slice(&userdata.to_le_bytes());
        // error 0 (success), type 0 (clock), fd_readwrite zeroed.
        count += 1;
    }
    let at = nevents as usize;
    data[at..at + 4].copy_from_slice(&(count as u32).to_le_bytes());
    Ok(0)
}

/// Wasmtime's own poll_oneoff reads the caller's exported "memory", so it can
/// only be called from wasm. This module re-exports the plugin's memory and
/// calls it: an instance of it per store (made on first use, cached in the
/// embedder's scratch words) forwards polls the bounded version does not
/// handle itself.
const TRAMPOLINE_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $s (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $o (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "env" "memory" (memory 0))
  (export "memory" (memory 0))
  (func (export "poll") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $p)
  (func (export "stat") (param i32 i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $s)
  (func (export "open") (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4
    local.get 5 local.get 6 local.get 7 local.get 8 call $o))"#;

const TRAMPOLINE_IMPORTS: [&str; 3] = ["poll_oneoff", "path_filestat_get", "path_open"];

struct Original {
    linker: Linker<WasmtimeStoreData>,
    /// Compiled on first use: most plugins never poll an fd, and compiling
    /// when the engine is made would cost every engine a compilation.
    trampoline: std::sync::OnceLock<Module>,
    scratch: wasmplug_scratch_fn,
}

impl Original {
    fn trampoline(&self) -> wasmtime::Result<&Module> {
        if let Some(m) = self.trampoline.get() {
            return Ok(m);
        }
        let m = Module::new(self.linker.engine(), wat::parse_str(TRAMPOLINE_WAT)?)?;
        Ok(self.trampoline.get_or_init(|| m))
    }
}

const SCRATCH_TAG: u64 = 0x7761_7370_6c75_6701; // "wasplug" + version

/// The store's trampoline instance, made on first use and cached in the
/// embedder's scratch words.
fn trampoline(
    caller: &mut Caller<'_, WasmtimeStoreData>,
    original: &Original,
) -> wasmtime::Result<Instance> {
    let scratch = (original.scratch)(store_data(caller));
    if scratch.is_null() {
        wasmtime::bail!("wasmplug: no scratch space for WASI");
    }
    let words = unsafe { std::slice::from_raw_parts_mut(scratch, 4) };
    if words[0] == SCRATCH_TAG {
        // Instance is a Copy handle (#[repr(C)], at most 16 bytes) into this store.
        return Ok(unsafe { std::ptr::read(words[1..3].as_ptr() as *const Instance) });
    }
    let memory = caller
        .get_export("memory")
        .ok_or_else(|| wasmtime::format_err!("missing required memory export"))?;
    let mut imports = Vec::with_capacity(4);
    for name in TRAMPOLINE_IMPORTS {
        imports.push(original.linker.get(&mut *caller, "wasi_snapshot_preview1", name)?);
    }
    imports.push(memory);
    let inst = Instance::new(&mut *caller, original.trampoline()?, &imports)?;
    unsafe { std::ptr::write(words[1..3].as_mut_ptr() as *mut Instance, inst) };
    words[0] = SCRATCH_TAG;
    Ok(inst)
}

fn forward_poll(
    caller: &mut Caller<'_, WasmtimeStoreData>,
    original: &Original,
    args: (i32, i32, i32, i32),
) -> wasmtime::Result<i32> {
    let inst = trampoline(caller, original)?;
    let f = inst.get_typed_func::<(i32, i32, i32, i32), i32>(&mut *caller, "poll")?;
    f.call(&mut *caller, args)
}

// ---- opening only what cannot block ------------------------------------------

const ERRNO_NXIO: i32 = 60;
const FILESTAT_SIZE: usize = 64;
const FILETYPE_AT: usize = 16;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;
const FILETYPE_SYMBOLIC_LINK: u8 = 7;

/// 64 bytes of guest memory, 8-aligned, that do not overlap the path: the
/// original path_filestat_get writes its result there (the guest is stopped
/// in this call, and the bytes are put back before it resumes).
fn stat_area(mem_len: usize, path: usize, path_len: usize) -> Option<usize> {
    let path_end = path.checked_add(path_len)?;
    if path >= FILESTAT_SIZE && FILESTAT_SIZE <= mem_len {
        return Some(0);
    }
    let at = path_end.checked_add(7)? & !7;
    (at.checked_add(FILESTAT_SIZE)? <= mem_len).then_some(at)
}

/// The type of what `path` names under `fd`, as path_filestat_get sees it
/// (following symlinks when the open would), or None if it cannot say (no
/// such file yet, a bad fd or path: the open reports those itself).
fn file_type(
    caller: &mut Caller<'_, WasmtimeStoreData>,
    inst: Instance,
    memory: &wasmtime::Memory,
    (fd, dirflags, path, path_len): (i32, i32, i32, i32),
) -> wasmtime::Result<Option<u8>> {
    let mem_len = memory.data_size(&*caller);
    let Some(at) = stat_area(mem_len, path as u32 as usize, path_len as u32 as usize) else {
        return Ok(None);
    };
    let mut saved = [0u8; FILESTAT_SIZE];
    memory.read(&*caller, at, &mut saved)?;
    let stat = inst.get_typed_func::<(i32, i32, i32, i32, i32), i32>(&mut *caller, "stat")?;
    let errno = stat.call(&mut *caller, (fd, dirflags, path, path_len, at as i32))?;
    let mut ty = [0u8; 1];
    memory.read(&*caller, at + FILETYPE_AT, &mut ty)?;
    memory.write(&mut *caller, at, &saved)?;
    Ok((errno == 0).then_some(ty[0]))
}

/// path_open, refusing (ENXIO) anything but regular files, directories and
/// symlinks: opening a FIFO or a device can block in the kernel until
/// another process opens its other end, where no deadline reaches.
fn guarded_path_open(
    mut caller: Caller<'_, WasmtimeStoreData>,
    original: &Original,
    args: (i32, i32, i32, i32, i32, i64, i64, i32, i32),
) -> wasmtime::Result<i32> {
    let inst = trampoline(&mut caller, original)?;
    let memory = inst
        .get_memory(&mut caller, "memory")
        .ok_or_else(|| wasmtime::format_err!("missing required memory export"))?;
    let ty = file_type(&mut caller, inst, &memory, (args.0, args.1, args.2, args.3))?;
    if let Some(t) = ty {
        if t != FILETYPE_REGULAR_FILE && t != FILETYPE_DIRECTORY && t != FILETYPE_SYMBOLIC_LINK {
            return Ok(ERRNO_NXIO);
        }
    }
    let open = inst
        .get_typed_func::<(i32, i32, i32, i32, i32, i64, i64, i32, i32), i32>(&mut caller, "open")?;
    open.call(&mut caller, args)
}

fn bounded_poll_oneoff(
    mut caller: Caller<'_, WasmtimeStoreData>,
    original: &Original,
    budget: &Budget,
    args: (i32, i32, i32, i32),
) -> wasmtime::Result<i32> {
    let (subs, events, n, nevents) = args;
    let mem = caller.get_export("memory");
    let plan = match mem.as_ref().and_then(|m| m.clone().into_memory()) {
        Some(m) => plan_poll(&mut caller, &m, subs as u32, events as u32, n as u32, nevents as u32)?,
        None => Plan::Delegate,
    };
    match plan {
        Plan::Errno(e) => Ok(e),
        Plan::Clocks(waits) => poll_clocks(&mut caller, budget, mem.unwrap(), waits, events as u32, nevents as u32),
        Plan::Delegate => forward_poll(&mut caller, original, args),
    }
}

fn ok_or_error(r: std::thread::Result<wasmtime::Result<()>>) -> Option<Box<wasmtime_error_t>> {
    let err = match r {
        Ok(Ok(())) => return None,
        Ok(Err(e)) => e,
        Err(_) => wasmtime::format_err!("wasmplug: panic while configuring WASI"),
    };
    Some(Box::new(wasmtime_error_t::from(err)))
}

/// Shadows WASI preview 1 `poll_oneoff` in a linker that already has WASI
/// (wasmtime_linker_define_wasi). `slice_us` is how often a wait asks the
/// budget.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_linker_bound_wasi(
    linker: *mut wasmtime_linker_t,
    budget: wasmplug_budget_fn,
    scratch: wasmplug_scratch_fn,
    slice_us: u32,
) -> Option<Box<wasmtime_error_t>> {
    let linker = &mut *(linker as *mut Linker<WasmtimeStoreData>);
    let budget = Budget { fn_: budget, slice: Duration::from_micros(slice_us.max(1).into()) };
    ok_or_error(catch_unwind(AssertUnwindSafe(|| {
        let original = std::sync::Arc::new(Original {
            linker: linker.clone(),
            trampoline: std::sync::OnceLock::new(),
            scratch,
        });
        linker.allow_shadowing(true);
        let r = linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "poll_oneoff",
                {
                    let original = original.clone();
                    move |caller: Caller<'_, WasmtimeStoreData>, a: i32, b: i32, c: i32, d: i32| {
                        bounded_poll_oneoff(caller, &original, &budget, (a, b, c, d))
                    }
                },
            )
            .map(|_| ());
        let r = r.and_then(|_| {
            linker
                .func_wrap(
                    "wasi_snapshot_preview1",
                    "path_open",
                    move |caller: Caller<'_, WasmtimeStoreData>,
                          a: i32,
                          b: i32,
                          c: i32,
                          d: i32,
                          e: i32,
                          f: i64,
                          g: i64,
                          h: i32,
                          i: i32| {
                        guarded_path_open(caller, &original, (a, b, c, d, e, f, g, h, i))
                    },
                )
                .map(|_| ())
        });
        linker.allow_shadowing(false);
        r
    })))
}

/// Shadows WASI preview 2 `wasi:io/poll` `poll` and `[method]pollable.block`
/// in a component linker that already has WASI preview 2
/// (wasmtime_component_linker_add_wasip2).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_linker_bound_wasip2(
    linker: *mut wasmtime_component_linker_t,
    budget: wasmplug_budget_fn,
    slice_us: u32,
) -> Option<Box<wasmtime_error_t>> {
    let linker = &mut *(linker as *mut wasmtime::component::Linker<WasmtimeStoreData>);
    let budget = Budget { fn_: budget, slice: Duration::from_micros(slice_us.max(1).into()) };
    ok_or_error(catch_unwind(AssertUnwindSafe(|| {
        use wasmtime_wasi_io::bindings::wasi::io::poll::{Host, HostPollable};
        linker.allow_shadowing(true);
        let r = (|| {
            let mut io = linker.instance("wasi:io/poll@0.2.12")?;
            io.func_wrap(
                "poll",
                move |mut store: wasmtime::StoreContextMut<'_, WasmtimeStoreData>,
                      (list,): (Vec<Resource<DynPollable>>,)| {
                    let data = store_data(&store);
                    let table: &mut ResourceTable = store.data_mut().ctx().table;
                    budget.run(data, Host::poll(table, list)).map(|r| (r,))
                },
            )?;
            io.func_wrap(
                "[method]pollable.block",
                move |mut store: wasmtime::StoreContextMut<'_, WasmtimeStoreData>,
                      (p,): (Resource<DynPollable>,)| {
                    let data = store_data(&store);
                    let table: &mut ResourceTable = store.data_mut().ctx().table;
                    budget.run(data, HostPollable::block(table, p))
                },
            )?;
            guard_open_at(linker, budget)
        })();
        linker.allow_shadowing(false);
        r
    })))
}

/// Shadows wasi:filesystem's `[method]descriptor.open-at` with a version
/// that opens only regular files, directories and symlinks (see
/// guarded_path_open), and waits within the call's budget.
fn guard_open_at(
    linker: &mut wasmtime::component::Linker<WasmtimeStoreData>,
    budget: Budget,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::filesystem::types::{
        DescriptorFlags, DescriptorType, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
    };
    type Opened = Result<Resource<Descriptor>, ErrorCode>;
    let mut fs = linker.instance("wasi:filesystem/types@0.2.12")?;
    fs.func_wrap(
        "[method]descriptor.open-at",
        move |mut store: wasmtime::StoreContextMut<'_, WasmtimeStoreData>,
              (dir, path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )|
              -> wasmtime::Result<(Opened,)> {
            let data = store_data(&store);
            let mut view = store.data_mut().filesystem();
            let at = Resource::<Descriptor>::new_borrow(dir.rep());
            let stat = budget.run(data, async {
                Ok(HostDescriptor::stat_at(&mut view, at, path_flags, path.clone()).await)
            })?;
            if let Ok(stat) = stat {
                let ok = matches!(
                    stat.type_,
                    DescriptorType::RegularFile | DescriptorType::Directory | DescriptorType::SymbolicLink
                );
                if !ok {
                    return Ok((Err(ErrorCode::NoDevice),));
                }
            }
            let opened = budget.run(data, async {
                Ok(HostDescriptor::open_at(&mut view, dir, path_flags, path, oflags, flags).await)
            })?;
            match opened {
                Ok(d) => Ok((Ok(d),)),
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    )
}

const _: () = assert!(std::mem::size_of::<Instance>() <= 16);

// The casts above rely on each C API handle being exactly its Rust object
// (#[repr(C)] / #[repr(transparent)] with one field, in wasmtime-c-api-impl
// 48.0.8). If a Wasmtime bump adds a field, these stop the build.
const _: () = assert!(
    std::mem::size_of::<wasmtime_store_t>() == std::mem::size_of::<Store<WasmtimeStoreData>>()
);
const _: () = assert!(
    std::mem::size_of::<wasmtime_linker_t>() == std::mem::size_of::<Linker<WasmtimeStoreData>>()
);
const _: () = assert!(
    std::mem::size_of::<wasmtime_component_linker_t>()
        == std::mem::size_of::<wasmtime::component::Linker<WasmtimeStoreData>>()
);
