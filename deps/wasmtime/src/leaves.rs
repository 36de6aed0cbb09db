//! Calls of component exports whose parameters and result are built from
//! scalars, `string` and `list<u8>`, in records and tuples, through
//! Wasmtime's typed lowering (wasmplug_leaves.h): the C API's value path
//! converts every value twice (C value to `Val`, `Val` to core values) and
//! type-checks it on each call; here each leaf is lowered by Wasmtime's own
//! code for its type, straight into the core call's arguments.
//!
//! The values cross as a flat, depth-first list of leaves. Lowering and
//! lifting walk the export's real type (the `InterfaceType` Wasmtime hands
//! to `Lower`/`Lift`), so a leaf is always lowered as the type the export
//! declares, whatever the caller meant: a leaf list that does not fit is an
//! error, never a misread.
//!
//! `TypedFunc::new_unchecked` is told the parameters lower into at most 16
//! core values and the result into one (`ResultFlat`) or into memory
//! (`ResultMemory`); the caller picks those from the export's type, and the
//! walks below check them again before relying on them.

use std::cell::Cell;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

use wasmtime::component::__internal::wasmtime_environ::component::StringEncoding;
use wasmtime::component::__internal::{
    CanonicalAbiInfo, ComponentTypes, InstanceType, InterfaceType, LiftContext, LowerContext,
};
use wasmtime::component::{ComponentNamedList, ComponentType, Func, Lift, Lower, TypedFunc};
use wasmtime::{bail, Result, StoreContextMut, ValRaw};
use wasmtime_c_api::{wasmtime_error_t, WasmtimeStoreData};

use crate::bytes::{wasmplug_bytes_alloc_fn, BAD_INPUT, CALL_FAILED, NO_MEMORY, OK};

/// The canonical ABI's limit on parameters passed as core values.
const MAX_FLAT_PARAMS: usize = 16;

/// What the result lowers to (the caller's `result_mode`).
const RESULT_NONE: u32 = 0;
const RESULT_FLAT: u32 = 1;
const RESULT_MEMORY: u32 = 2;

/// One leaf value (wasmplug_leaves.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct wasmplug_leaf {
    bits: u64,
    data: *const u8,
    len: usize,
}

impl Default for wasmplug_leaf {
    fn default() -> Self {
        wasmplug_leaf { bits: 0, data: std::ptr::null(), len: 0 }
    }
}

/// The parameters: the caller's leaves, lowered as the export's types say.
struct Params {
    leaves: *const wasmplug_leaf,
    n: usize,
}

// SAFETY: a `Params` lives on the calling thread's stack for one call only;
// Send and Sync are required of every ComponentType.
unsafe impl Send for Params {}
unsafe impl Sync for Params {}

/// A result of one core value: one scalar leaf (no sink needed).
struct ResultFlat(u64);

/// A result in linear memory, its leaves put in the sink.
struct ResultMemory;

/// A `string` or `list<u8>` result, copied straight from the guest's memory
/// into the sink's room (no intermediate Rust allocation).
pub(crate) struct Room;

/// Where lifted result leaves go during one call: the caller's leaves, and
/// its allocator for their bytes. Lifting is a static function of the
/// result type, so it finds the sink through a thread-local pointer, set for
/// the duration of the call (restored after, so nested calls made from
/// guest code, e.g. from post-return, keep theirs).
pub(crate) struct Sink {
    alloc: wasmplug_bytes_alloc_fn,
    alloc_data: *mut c_void,
    results: *mut wasmplug_leaf,
    n: usize,
    next: Cell<usize>,
    out_of_memory: Cell<bool>,
}

thread_local! {
    static SINK: Cell<*const Sink> = const { Cell::new(std::ptr::null()) };
}

impl Sink {
    /// A sink writing to `n` leaves at `results` (zeroed by the caller).
    pub(crate) fn new(
        alloc: wasmplug_bytes_alloc_fn,
        alloc_data: *mut c_void,
        results: *mut wasmplug_leaf,
        n: usize,
    ) -> Sink {
        Sink { alloc, alloc_data, results, n, next: Cell::new(0), out_of_memory: Cell::new(false) }
    }

    /// Runs `f` with this sink receiving the results lifted on this thread.
    pub(crate) fn during<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(*const Sink);
        impl Drop for Restore {
            fn drop(&mut self) {
                SINK.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(SINK.with(|c| c.replace(self)));
        f()
    }

    /// Puts the one scalar leaf of a result lifted without the sink.
    fn put_direct(&self, bits: u64) -> Result<()> {
        if self.n != 1 || self.next.get() != 0 {
            bail!("wasmplug: the caller expects {} result leaves, not one", self.n);
        }
        // SAFETY: `results` holds `n` (1) leaves.
        unsafe { (*self.results).bits = bits };
        self.next.set(1);
        Ok(())
    }

    /// The code a call that used this sink returns: NO_MEMORY when `alloc`
    /// failed, `short` when it succeeded without filling every leaf, the
    /// call's own code, or CALL_FAILED with `*error` set.
    pub(crate) fn code(&self, r: Result<i32>, short: i32, error: *mut *mut wasmtime_error_t) -> i32 {
        match r {
            _ if self.out_of_memory.get() => NO_MEMORY,
            Ok(OK) if self.next.get() != self.n => short,
            Ok(c) => c,
            Err(e) => {
                // SAFETY: the callers checked `error` is not NULL.
                unsafe { *error = Box::into_raw(Box::new(wasmtime_error_t::from(e))) };
                CALL_FAILED
            }
        }
    }
}

/// Puts the next result leaf: `bits`, or a copy of `bytes` in new room.
fn put(bits: u64, bytes: Option<&[u8]>) -> Result<()> {
    let p = SINK.with(|c| c.get());
    if p.is_null() {
        bail!("wasmplug: a result lifted outside a leaf call");
    }
    // SAFETY: the pointer is set by Sink::during for the call on this thread.
    let s = unsafe { &*p };
    let i = s.next.get();
    if i >= s.n {
        bail!("wasmplug: the result holds more leaves than the caller expects");
    }
    // SAFETY: `results` holds `n` leaves (Sink::new's contract).
    let r = unsafe { &mut *s.results.add(i) };
    r.bits = bits;
    if let Some(b) = bytes {
        // SAFETY: alloc is the caller's, called as the headers say.
        let dst = unsafe { (s.alloc)(s.alloc_data, b.len()) };
        if dst.is_null() {
            s.out_of_memory.set(true);
            bail!("wasmplug: out of memory for a result of {} bytes", b.len());
        }
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), dst, b.len()) };
        r.data = dst;
        r.len = b.len();
    }
    s.next.set(i + 1);
    Ok(())
}

/// Lifts a `string` or `list<u8>` of `len` at `ptr` into the sink, with
/// the checks Wasmtime's own lifting makes (bounds, host-call fuel, UTF-8).
fn lift_bytes(cx: &mut LiftContext<'_>, ty: InterfaceType, ptr: usize, len: usize) -> Result<()> {
    let memory = cx.memory();
    let end = ptr.checked_add(len).filter(|&n| n <= memory.len());
    if ty == InterfaceType::String {
        if !matches!(cx.options().string_encoding, StringEncoding::Utf8) {
            // Other encodings are transcoded by Wasmtime's own String lift.
            let mut pair = [0u8; 8];
            pair[..4].copy_from_slice(&u32::try_from(ptr)?.to_le_bytes());
            pair[4..].copy_from_slice(&u32::try_from(len)?.to_le_bytes());
            let s = String::linear_lift_from_memory(cx, ty, &pair)?;
            return put(0, Some(s.as_bytes()));
        }
        let Some(end) = end else {
            bail!("string pointer/length out of bounds of memory")
        };
        cx.consume_fuel(len)?;
        let s = std::str::from_utf8(&memory[ptr..end])?;
        return put(0, Some(s.as_bytes()));
    }
    if !is_u8_list(cx.types, ty) {
        bail!("wasmplug: expected a string or list<u8> result");
    }
    let Some(end) = end else {
        bail!("list pointer/length out of bounds of memory")
    };
    cx.consume_fuel_array(len, 1)?;
    put(0, Some(&memory[ptr..end]))
}

/// A pointer and a length as the canonical ABI stores them (memory32).
fn pointer_pair(bytes: &[u8]) -> Result<(usize, usize)> {
    let Some(pair) = bytes.get(..8) else {
        bail!("wasmplug: a pointer pair outside its record")
    };
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    Ok((word(&pair[..4]), word(&pair[4..])))
}

fn not_typechecked() -> Result<()> {
    bail!("wasmplug: leaf values are only lowered through TypedFunc::new_unchecked")
}

// SAFETY (the three impls): `Lower` is an array of ValRaw as the trait asks.
// `flatten_count()` (its size over ValRaw's) steers TypedFunc: 16 keeps the
// parameters in core values, 1 reads one core result, 2 reads a pointer to
// the result in memory. The real counts are checked in the walks.
unsafe impl ComponentType for Params {
    type Lower = [ValRaw; MAX_FLAT_PARAMS];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo {
        size32: 0,
        align32: 1,
        size64: 0,
        align64: 1,
        flat_count: Some(MAX_FLAT_PARAMS as u8),
    };
    fn typecheck(_: &InterfaceType, _: &InstanceType<'_>) -> Result<()> {
        not_typechecked()
    }
}
unsafe impl ComponentNamedList for Params {}

unsafe impl ComponentType for ResultFlat {
    type Lower = ValRaw;
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR8;
    fn typecheck(_: &InterfaceType, _: &InstanceType<'_>) -> Result<()> {
        not_typechecked()
    }
}
unsafe impl ComponentNamedList for ResultFlat {}

// size32 0 and align32 1: TypedFunc checks only that the returned pointer is
// within memory; lift_memory checks the real size and alignment.
unsafe impl ComponentType for ResultMemory {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo {
        size32: 0,
        align32: 1,
        size64: 0,
        align64: 1,
        flat_count: None,
    };
    fn typecheck(_: &InterfaceType, _: &InstanceType<'_>) -> Result<()> {
        not_typechecked()
    }
}
unsafe impl ComponentNamedList for ResultMemory {}

/// Calls `f` on each field of a record or tuple, in order; None for every
/// other type.
fn each_field(
    types: &ComponentTypes,
    ty: InterfaceType,
    mut f: impl FnMut(InterfaceType) -> Result<()>,
) -> Option<Result<()>> {
    Some(match ty {
        InterfaceType::Record(r) => types[r].fields.iter().try_for_each(|x| f(x.ty)),
        InterfaceType::Tuple(t) => types[t].types.iter().try_for_each(|x| f(*x)),
        _ => return None,
    })
}

/// The one field of a record or tuple that has one; None otherwise.
fn only_field(types: &ComponentTypes, ty: InterfaceType) -> Option<InterfaceType> {
    match ty {
        InterfaceType::Record(r) if types[r].fields.len() == 1 => Some(types[r].fields[0].ty),
        InterfaceType::Tuple(t) if types[t].types.len() == 1 => Some(types[t].types[0]),
        _ => None,
    }
}

fn is_u8_list(types: &ComponentTypes, ty: InterfaceType) -> bool {
    matches!(ty, InterfaceType::List(l) if types[l].element == InterfaceType::U8)
}

/// Lowers the leaves into core values, walking the parameters' type.
struct Lowering<'s> {
    leaves: &'s [wasmplug_leaf],
    next: usize,
    dst: &'s mut [MaybeUninit<ValRaw>; MAX_FLAT_PARAMS],
    used: usize,
}

impl Lowering<'_> {
    fn leaf(&mut self) -> Result<wasmplug_leaf> {
        let Some(l) = self.leaves.get(self.next) else {
            bail!("wasmplug: fewer leaf values than the export's parameters hold")
        };
        self.next += 1;
        Ok(*l)
    }

    fn slots<const N: usize>(&mut self) -> Result<&mut MaybeUninit<[ValRaw; N]>> {
        if self.used + N > MAX_FLAT_PARAMS {
            bail!("wasmplug: the export's parameters do not fit in core values")
        }
        let p = self.dst[self.used..].as_mut_ptr();
        self.used += N;
        // SAFETY: N consecutive MaybeUninit<ValRaw> are one MaybeUninit<[ValRaw; N]>.
        Ok(unsafe { &mut *p.cast::<MaybeUninit<[ValRaw; N]>>() })
    }

    fn scalar<T, V>(&mut self, cx: &mut LowerContext<'_, T>, ty: InterfaceType, v: V) -> Result<()>
    where
        V: Lower<Lower = ValRaw>,
    {
        let dst = self.slots::<1>()?;
        // SAFETY: [ValRaw; 1] and ValRaw have the same layout.
        let dst = unsafe { &mut *(dst as *mut MaybeUninit<[ValRaw; 1]>).cast::<MaybeUninit<ValRaw>>() };
        v.linear_lower_to_flat(cx, ty, dst)
    }

    fn walk<T>(&mut self, cx: &mut LowerContext<'_, T>, ty: InterfaceType) -> Result<()> {
        let types = cx.types;
        if let Some(r) = each_field(types, ty, |f| self.walk(cx, f)) {
            return r;
        }
        if ty == InterfaceType::String || is_u8_list(types, ty) {
            let l = self.leaf()?;
            let bytes: &[u8] = if l.len == 0 {
                &[]
            } else if l.data.is_null() {
                bail!("wasmplug: a NULL leaf with {} bytes", l.len)
            } else {
                // SAFETY: the caller lends `len` readable bytes for the call.
                unsafe { std::slice::from_raw_parts(l.data, l.len) }
            };
            let dst = self.slots::<2>()?;
            return if ty == InterfaceType::String {
                std::str::from_utf8(bytes)?.linear_lower_to_flat(cx, ty, dst)
            } else {
                bytes.linear_lower_to_flat(cx, ty, dst)
            };
        }
        let b = self.leaf()?.bits;
        // Integers arrive sign- or zero-extended to 64 bits; the casts keep
        // the low bits, as the caller checked the range.
        match ty {
            InterfaceType::Bool => self.scalar(cx, ty, b != 0),
            InterfaceType::S8 => self.scalar(cx, ty, b as i8),
            InterfaceType::U8 => self.scalar(cx, ty, b as u8),
            InterfaceType::S16 => self.scalar(cx, ty, b as i16),
            InterfaceType::U16 => self.scalar(cx, ty, b as u16),
            InterfaceType::S32 => self.scalar(cx, ty, b as i32),
            InterfaceType::U32 => self.scalar(cx, ty, b as u32),
            InterfaceType::S64 => self.scalar(cx, ty, b as i64),
            InterfaceType::U64 => self.scalar(cx, ty, b),
            InterfaceType::Float32 => self.scalar(cx, ty, f32::from_bits(b as u32)),
            InterfaceType::Float64 => self.scalar(cx, ty, f64::from_bits(b)),
            InterfaceType::Char => match u32::try_from(b).ok().and_then(char::from_u32) {
                Some(c) => self.scalar(cx, ty, c),
                None => bail!("wasmplug: {b:#x} is not a Unicode scalar value"),
            },
            _ => bail!("wasmplug: a parameter type with no leaf form"),
        }
    }
}

unsafe impl Lower for Params {
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> Result<()> {
        // SAFETY: the caller lends `n` leaves for the call.
        let leaves = unsafe { std::slice::from_raw_parts(self.leaves, self.n) };
        // SAFETY: an uninit array is an array of uninit elements.
        let dst = unsafe { &mut *(dst as *mut MaybeUninit<Self::Lower>).cast() };
        let mut l = Lowering { leaves, next: 0, dst, used: 0 };
        l.walk(cx, ty)?;
        if l.next != leaves.len() {
            bail!("wasmplug: more leaf values than the export's parameters hold");
        }
        Ok(())
    }

    fn linear_lower_to_memory<T>(
        &self,
        _: &mut LowerContext<'_, T>,
        _: InterfaceType,
        _: usize,
    ) -> Result<()> {
        bail!("wasmplug: leaf parameters are only passed as core values")
    }
}

/// A scalar of type `ty` lifted by Wasmtime's own `Lift` for it (`$lift`:
/// from a core value or from memory), as a leaf's 64 bits: integers sign- or
/// zero-extended, floats as bit patterns, bool 0 or 1, a char's code point.
macro_rules! lift_scalar {
    ($cx:expr, $ty:expr, $lift:ident, $src:expr, $other:literal) => {
        match $ty {
            InterfaceType::Bool => bool::$lift($cx, $ty, $src)? as u64,
            InterfaceType::S8 => i8::$lift($cx, $ty, $src)? as i64 as u64,
            InterfaceType::U8 => u8::$lift($cx, $ty, $src)? as u64,
            InterfaceType::S16 => i16::$lift($cx, $ty, $src)? as i64 as u64,
            InterfaceType::U16 => u16::$lift($cx, $ty, $src)? as u64,
            InterfaceType::S32 => i32::$lift($cx, $ty, $src)? as i64 as u64,
            InterfaceType::U32 => u32::$lift($cx, $ty, $src)? as u64,
            InterfaceType::S64 => i64::$lift($cx, $ty, $src)? as u64,
            InterfaceType::U64 => u64::$lift($cx, $ty, $src)?,
            InterfaceType::Float32 => f32::$lift($cx, $ty, $src)?.to_bits() as u64,
            InterfaceType::Float64 => f64::$lift($cx, $ty, $src)?.to_bits(),
            InterfaceType::Char => char::$lift($cx, $ty, $src)? as u64,
            _ => bail!($other),
        }
    };
}

/// The one scalar leaf of a result that lowers to one core value.
fn lift_flat_scalar(cx: &mut LiftContext<'_>, ty: InterfaceType, src: &ValRaw) -> Result<u64> {
    if let Some(f) = only_field(cx.types, ty) {
        return lift_flat_scalar(cx, f, src);
    }
    Ok(lift_scalar!(cx, ty, linear_lift_from_flat, src, "wasmplug: the export's result is not one scalar"))
}

unsafe impl Lift for ResultFlat {
    fn linear_lift_from_flat(cx: &mut LiftContext<'_>, ty: InterfaceType, src: &ValRaw) -> Result<Self> {
        Ok(ResultFlat(lift_flat_scalar(cx, ty, src)?))
    }

    fn linear_lift_from_memory(_: &mut LiftContext<'_>, _: InterfaceType, _: &[u8]) -> Result<Self> {
        bail!("wasmplug: a one-value result is read from core values")
    }
}

/// Puts the leaves of a value of type `ty` stored in `bytes` (its size).
fn lift_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<()> {
    let types: &ComponentTypes = cx.types;
    let mut offset = 0usize;
    let fields = each_field(types, ty, |f| {
        let abi = types.canonical_abi(&f);
        let at = abi.next_field32_size(&mut offset);
        match bytes.get(at..at + abi.size32 as usize) {
            Some(b) => lift_memory(cx, f, b),
            None => bail!("wasmplug: a field outside its record"),
        }
    });
    if let Some(r) = fields {
        return r;
    }
    if ty == InterfaceType::String || is_u8_list(types, ty) {
        let (ptr, len) = pointer_pair(bytes)?;
        return lift_bytes(cx, ty, ptr, len);
    }
    let bits = lift_scalar!(cx, ty, linear_lift_from_memory, bytes, "wasmplug: a result type with no leaf form");
    put(bits, None)
}

unsafe impl Lift for ResultMemory {
    fn linear_lift_from_flat(_: &mut LiftContext<'_>, _: InterfaceType, _: &[ValRaw; 2]) -> Result<Self> {
        bail!("wasmplug: a result in memory is read through its pointer")
    }

    fn linear_lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        // `bytes` is empty (size32 0) and starts at the returned pointer,
        // which TypedFunc found within memory: check the real layout here.
        let memory = cx.memory();
        let ptr = bytes.as_ptr() as usize - memory.as_ptr() as usize;
        let abi = cx.types.canonical_abi(&ty);
        if abi.flat_count(1).is_some() {
            bail!("wasmplug: the export's result is not passed in memory");
        }
        if ptr % abi.align32 as usize != 0 {
            bail!("return pointer not aligned");
        }
        let Some(bytes) = memory.get(ptr..).and_then(|b| b.get(..abi.size32 as usize)) else {
            bail!("pointer out of bounds of memory")
        };
        lift_memory(cx, ty, bytes)?;
        Ok(ResultMemory)
    }
}

// SAFETY: laid out as a string's or list's pointer and length.
unsafe impl ComponentType for Room {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo {
        size32: 8,
        align32: 4,
        size64: 16,
        align64: 8,
        flat_count: Some(2),
    };
    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> Result<()> {
        if *ty == InterfaceType::String || is_u8_list(types.types, *ty) {
            Ok(())
        } else {
            bail!("expected `string` or `list<u8>`")
        }
    }
}

unsafe impl Lift for Room {
    fn linear_lift_from_flat(cx: &mut LiftContext<'_>, ty: InterfaceType, src: &[ValRaw; 2]) -> Result<Self> {
        lift_bytes(cx, ty, src[0].get_u32() as usize, src[1].get_u32() as usize)?;
        Ok(Room)
    }

    fn linear_lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        let (ptr, len) = pointer_pair(bytes)?;
        lift_bytes(cx, ty, ptr, len)?;
        Ok(Room)
    }
}

fn call(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    params: Params,
    mode: u32,
    sink: &Sink,
) -> Result<i32> {
    // SAFETY (each new_unchecked): the caller chose `mode` from the export's
    // type as Wasmtime reported it; lowering and lifting check the rest.
    match mode {
        RESULT_NONE => unsafe { TypedFunc::<Params, ()>::new_unchecked(*func) }
            .call(&mut store, params)
            .map(|()| OK),
        RESULT_FLAT => {
            let f = unsafe { TypedFunc::<Params, ResultFlat>::new_unchecked(*func) };
            let ResultFlat(bits) = f.call(&mut store, params)?;
            sink.put_direct(bits)?;
            Ok(OK)
        }
        // Only results in memory are lifted through the sink (its
        // thread-local costs a scalar result more than it saves).
        RESULT_MEMORY => sink.during(|| {
            unsafe { TypedFunc::<Params, ResultMemory>::new_unchecked(*func) }
                .call(&mut store, params)
                .map(|_| OK)
        }),
        _ => Ok(BAD_INPUT),
    }
}

/// One call (wasmplug_leaves.h).
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_call_leaves(
    store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    params: *const wasmplug_leaf,
    nparams: usize,
    result_mode: u32,
    results: *mut wasmplug_leaf,
    nresults: usize,
    alloc: wasmplug_bytes_alloc_fn,
    alloc_data: *mut c_void,
    error: *mut *mut wasmtime_error_t,
) -> i32 {
    if error.is_null() || (params.is_null() && nparams != 0) || (results.is_null() && nresults != 0) {
        return BAD_INPUT;
    }
    *error = std::ptr::null_mut();
    let params = Params { leaves: if nparams == 0 { [].as_ptr() } else { params }, n: nparams };
    let sink = Sink::new(alloc, alloc_data, results, nresults);
    let r = catch_unwind(AssertUnwindSafe(|| call(store, func, params, result_mode, &sink)));
    let r = r.unwrap_or_else(|_| Err(wasmtime::format_err!("wasmplug: panic during a call")));
    sink.code(r, BAD_INPUT, error)
}
