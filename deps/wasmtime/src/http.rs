//! HTTP handler components, run in the C side's own store (so its memory
//! limiter, epoch deadline, fuel, bounded WASI waits and host imports all
//! apply): `wasi:http/incoming-handler@0.2.x#handle`, and wasmplug's own
//! `wasmplug:http/handler@0.1.0#handle` called through Rust's typed API so
//! that bodies cross the boundary as one copy each way.
//!
//! wasi:http needs a `WasiHttpCtxView`: the resource table is the store's
//! WASI p2 table (`WasiView` of the C API's store data, so wasi:io streams
//! and wasi:http resources share it, as they must); the context and hooks are
//! per thread (the C API's store data has no room for them, and the host
//! functions run on the thread calling into the store). The hooks hand
//! outgoing requests to the embedder (wasmplug_http_set_outgoing: the http
//! capability decides and sends them) and refuse them while there is none.
//!
//! Both handlers take the C API's `wasmtime_context_t*` (a
//! `StoreContextMut<WasmtimeStoreData>`) and a resolved
//! `wasmtime_component_func_t` (a `component::Func`), as the C API's own
//! functions do; see the size checks at the end.

use std::any::Any;
use std::cell::UnsafeCell;
use std::ffi::{c_char, c_void, CStr};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{ComponentType, Func, Lift, Lower, Resource, ResourceTable};
use wasmtime::{AsContext, StoreContextMut};
use wasmtime_c_api::{
    wasmtime_component_linker_t, wasmtime_context_get_data, wasmtime_error_t, WasmtimeStoreData,
};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::{
    HostFutureTrailers, HostIncomingBody, HostOutgoingBody, HyperOutgoingBody,
};
use wasmtime_wasi_http::p2::types::{
    HostFutureIncomingResponse, HostIncomingRequest, HostIncomingResponse, HostOutgoingRequest,
    HostOutgoingResponse, HostResponseOutparam,
};
use wasmtime_wasi_http::{
    FieldMap, RequestOptions, WasiBody, WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
};

use crate::sandbox::wasmplug_budget_fn;

// ---- the C types (wasmplug_http.h) -------------------------------------------

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_http_field_t {
    pub name: *const c_char,
    pub name_len: usize,
    pub value: *const u8,
    pub value_len: usize,
}

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_http_request_t {
    pub method: *const c_char,
    pub scheme: *const c_char,
    pub authority: *const c_char,
    pub path_with_query: *const c_char,
    pub headers: *const wasmplug_http_field_t,
    pub n_headers: usize,
    pub body: *const u8,
    pub body_len: usize,
}

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_http_response_t {
    pub status: u32,
    pub headers: *mut wasmplug_http_field_t,
    pub n_headers: usize,
    pub body: *mut u8,
    pub body_len: usize,
    pub message: *mut c_char,
    pub leftover: u32,
    pub internal: *mut c_void,
}

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_http_outgoing_result_t {
    pub outcome: i32,
    pub status: u16,
    pub headers: *const wasmplug_http_field_t,
    pub n_headers: usize,
    pub body: *const u8,
    pub body_len: usize,
    pub message: *const c_char,
}

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wasmplug_http_outgoing_t {
    pub open: extern "C" fn(store_data: *mut c_void, max_request_body: *mut usize) -> *mut c_void,
    pub send: extern "C" fn(
        ctx: *mut c_void,
        req: *const wasmplug_http_request_t,
        out: *mut wasmplug_http_outgoing_result_t,
    ),
    pub close: extern "C" fn(ctx: *mut c_void),
}

// Outcomes of an outgoing request (wasmplug_http.h).
const OUT_OK: i32 = 0;
const OUT_DENIED: i32 = 1;
const OUT_TOO_BIG: i32 = 2;
const OUT_TIMEOUT: i32 = 3;
const OUT_CONNECT: i32 = 4;
const OUT_FAILED: i32 = 5;

// Outcomes (wasmplug_http.h).
const OK: i32 = 0;
const CALL_FAILED: i32 = 1;
const NO_RESPONSE: i32 = 2;
const ERROR_CODE: i32 = 3;
const BODY_TOO_BIG: i32 = 4;
const BAD_BODY: i32 = 5;
const BAD_TYPE: i32 = 6;
const BAD_REQUEST: i32 = 7;

/// What the response's pointers point into (freed by wasmplug_http_response_free).
struct Owned {
    headers: Vec<(String, Vec<u8>)>,
    fields: Vec<wasmplug_http_field_t>,
}

/// A failure other than the call's own: its outcome and message.
struct Fail(i32, String);

fn fail<T>(code: i32, msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(code, msg.into()))
}

fn set_message(out: &mut wasmplug_http_response_t, msg: &str) {
    let msg = msg.replace('\0', " ");
    out.message = std::ffi::CString::new(msg).map_or(std::ptr::null_mut(), |c| c.into_raw());
}

/// Fills `out` with the status, the headers and the body. The body's buffer
/// goes to the caller, who frees it with free(): Rust's default (System)
/// allocator on Unix is malloc, and this library sets no other.
fn fill(
    out: &mut wasmplug_http_response_t,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
) {
    let mut owned = Box::new(Owned {
        headers,
        fields: Vec::new(),
    });
    let fields: Vec<wasmplug_http_field_t> = owned
        .headers
        .iter()
        .map(|(n, v)| wasmplug_http_field_t {
            name: n.as_ptr() as *const c_char,
            name_len: n.len(),
            value: v.as_ptr(),
            value_len: v.len(),
        })
        .collect();
    owned.fields = fields;
    out.status = status.into();
    out.headers = owned.fields.as_mut_ptr();
    out.n_headers = owned.fields.len();
    out.internal = Box::into_raw(owned) as *mut c_void;
    if body.is_empty() {
        out.body = std::ptr::null_mut();
        out.body_len = 0;
    } else {
        let mut body = std::mem::ManuallyDrop::new(body);
        out.body = body.as_mut_ptr();
        out.body_len = body.len();
    }
}

/// Frees what a handle call left in `r` (not a body the caller took: it sets
/// `body` to NULL) and zeroes it.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_http_response_free(r: *mut wasmplug_http_response_t) {
    let Some(r) = r.as_mut() else { return };
    if !r.internal.is_null() {
        drop(Box::from_raw(r.internal as *mut Owned));
    }
    if !r.message.is_null() {
        drop(std::ffi::CString::from_raw(r.message));
    }
    if !r.body.is_null() {
        libc::free(r.body as *mut c_void);
    }
    std::ptr::write_bytes(r as *mut wasmplug_http_response_t, 0, 1);
}

// ---- the request from C ---------------------------------------------------------

struct Req<'a> {
    method: &'a str,
    scheme: &'a str,
    authority: &'a str,
    path_with_query: &'a str,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return fail(BAD_REQUEST, format!("the request has no {what}"));
    }
    match CStr::from_ptr(p).to_str() {
        Ok(s) => Ok(s),
        Err(_) => fail(BAD_REQUEST, format!("the request's {what} is not UTF-8")),
    }
}

unsafe fn slice<'a, T>(p: *const T, len: usize) -> &'a [T] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(p, len)
    }
}

unsafe fn read_request<'a>(r: *const wasmplug_http_request_t) -> Result<Req<'a>, Fail> {
    let Some(r) = r.as_ref() else {
        return fail(BAD_REQUEST, "no request");
    };
    let mut headers = Vec::with_capacity(r.n_headers);
    for h in slice(r.headers, r.n_headers) {
        let name = std::str::from_utf8(slice(h.name as *const u8, h.name_len))
            .or_else(|_| fail(BAD_REQUEST, "a request header name is not UTF-8"))?;
        headers.push((name, slice(h.value, h.value_len)));
    }
    Ok(Req {
        method: c_str(r.method, "method")?,
        scheme: if r.scheme.is_null() {
            "http"
        } else {
            c_str(r.scheme, "scheme")?
        },
        authority: if r.authority.is_null() {
            ""
        } else {
            c_str(r.authority, "authority")?
        },
        path_with_query: c_str(r.path_with_query, "path")?,
        headers,
        body: slice(r.body, r.body_len),
    })
}

/// Runs `f`, catching panics, and reports its outcome the C way.
fn outcome(
    out: *mut wasmplug_http_response_t,
    error: *mut *mut wasmtime_error_t,
    f: impl FnOnce(&mut wasmplug_http_response_t) -> Result<Result<(), Fail>, wasmtime::Error>,
) -> i32 {
    let Some(out) = (unsafe { out.as_mut() }) else {
        return BAD_REQUEST;
    };
    unsafe { std::ptr::write_bytes(out as *mut wasmplug_http_response_t, 0, 1) };
    if !error.is_null() {
        unsafe { *error = std::ptr::null_mut() };
    }
    let r = catch_unwind(AssertUnwindSafe(|| f(&mut *out)));
    let r = r.unwrap_or_else(|_| {
        Err(wasmtime::format_err!(
            "wasmplug: panic while handling an HTTP request"
        ))
    });
    match r {
        Ok(Ok(())) => OK,
        Ok(Err(Fail(code, msg))) => {
            let leftover = out.leftover;
            unsafe { wasmplug_http_response_free(out) };
            out.leftover = leftover;
            set_message(out, &msg);
            code
        }
        Err(e) => {
            unsafe { wasmplug_http_response_free(out) };
            if !error.is_null() {
                unsafe { *error = Box::into_raw(Box::new(wasmtime_error_t::from(e))) };
            }
            CALL_FAILED
        }
    }
}

// ---- wasi:http in the linker ------------------------------------------------------

/// The embedder's hooks for outgoing requests (wasmplug_http.h); null:
/// every outgoing request is refused.
static OUTGOING: AtomicPtr<wasmplug_http_outgoing_t> = AtomicPtr::new(std::ptr::null_mut());

/// Sets the hooks that decide and send components' outgoing requests.
#[no_mangle]
pub extern "C" fn wasmplug_http_set_outgoing(hooks: *const wasmplug_http_outgoing_t) {
    OUTGOING.store(hooks as *mut _, Ordering::Release);
}

/// wasi:http's hooks for the current call into a store: `data` is the
/// store's C data while the shadowed outgoing-handler.handle runs (null
/// otherwise, and then requests are refused).
struct Hooks {
    data: *mut c_void,
}

// Only read on the thread that set it, inside handle (send_request runs
// synchronously there).
unsafe impl Send for Hooks {}

/// An open context of the embedder's hooks; closes it when dropped.
struct OutCtx {
    hooks: &'static wasmplug_http_outgoing_t,
    ctx: *mut c_void,
}

// The hooks are documented to run on any thread.
unsafe impl Send for OutCtx {}

impl Drop for OutCtx {
    fn drop(&mut self) {
        (self.hooks.close)(self.ctx);
    }
}

type SendResult = Result<http::Response<WasiBody>, wasmtime_wasi_http::Error>;

fn out_error(outcome: i32, message: String) -> wasmtime_wasi_http::Error {
    use wasmtime_wasi_http::Error as E;
    match outcome {
        OUT_DENIED => E::HttpRequestDenied,
        OUT_TOO_BIG => E::HttpResponseBodySize(None),
        OUT_TIMEOUT => E::ConnectionTimeout,
        OUT_CONNECT => E::ConnectionRefused,
        _ => E::InternalError(Some(message)),
    }
}

impl OutCtx {
    /// Hands the request to the embedder's send (blocking) and copies its answer.
    fn send(&self, parts: &http::request::Parts, body: &[u8]) -> SendResult {
        use std::ffi::CString;
        use wasmtime_wasi_http::Error as E;
        let bad = |what: &str| E::InternalError(Some(format!("the request's {what} is not valid")));
        let cs = |s: &str, what: &str| CString::new(s).map_err(|_| bad(what));
        let method = cs(parts.method.as_str(), "method")?;
        let scheme = cs(parts.uri.scheme_str().unwrap_or("https"), "scheme")?;
        let authority = cs(parts.uri.authority().map_or("", |a| a.as_str()), "authority")?;
        let path = cs(parts.uri.path_and_query().map_or("/", |p| p.as_str()), "path")?;
        let headers: Vec<wasmplug_http_field_t> = parts
            .headers
            .iter()
            .filter(|(n, _)| *n != http::header::HOST && *n != http::header::CONTENT_LENGTH)
            .map(|(n, v)| wasmplug_http_field_t {
                name: n.as_str().as_ptr() as *const c_char,
                name_len: n.as_str().len(),
                value: v.as_bytes().as_ptr(),
                value_len: v.as_bytes().len(),
            })
            .collect();
        let req = wasmplug_http_request_t {
            method: method.as_ptr(),
            scheme: scheme.as_ptr(),
            authority: authority.as_ptr(),
            path_with_query: path.as_ptr(),
            headers: headers.as_ptr(),
            n_headers: headers.len(),
            body: body.as_ptr(),
            body_len: body.len(),
        };
        let mut out = wasmplug_http_outgoing_result_t {
            outcome: OUT_FAILED,
            status: 0,
            headers: std::ptr::null(),
            n_headers: 0,
            body: std::ptr::null(),
            body_len: 0,
            message: std::ptr::null(),
        };
        (self.hooks.send)(self.ctx, &req, &mut out);
        if out.outcome != OUT_OK {
            let msg = if out.message.is_null() {
                "the request failed".to_string()
            } else {
                unsafe { CStr::from_ptr(out.message) }.to_string_lossy().into_owned()
            };
            return Err(out_error(out.outcome, msg));
        }
        let mut b = http::Response::builder().status(out.status);
        for h in unsafe { slice(out.headers, out.n_headers) } {
            let name = unsafe { slice(h.name as *const u8, h.name_len) };
            let value = unsafe { slice(h.value, h.value_len) };
            // A header the response builder would refuse is left out.
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name),
                http::HeaderValue::from_bytes(value),
            ) {
                b = b.header(n, v);
            }
        }
        let body = Bytes::copy_from_slice(unsafe { slice(out.body, out.body_len) });
        let body = Full::new(body).map_err(|never| match never {}).boxed_unsync();
        b.body(body).map_err(|e| E::InternalError(Some(e.to_string())))
    }
}

/// Collects the request body as the guest writes it, up to `max` bytes.
async fn request_body(mut body: WasiBody, max: usize) -> Result<Vec<u8>, wasmtime_wasi_http::Error> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if buf.len().saturating_add(data.len()) > max {
                return Err(wasmtime_wasi_http::Error::HttpRequestBodySize(Some(max as u64)));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

type IoFuture = Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<(http::Response<WasiBody>, IoFuture), wasmtime_wasi_http::Error>,
            > + Send,
    > {
        let hooks = OUTGOING.load(Ordering::Acquire);
        let mut max_body = 0usize;
        let ctx = if hooks.is_null() || self.data.is_null() {
            std::ptr::null_mut()
        } else {
            unsafe { ((*hooks).open)(self.data, &mut max_body) }
        };
        if ctx.is_null() {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let ctx = OutCtx {
            hooks: unsafe { &*hooks },
            ctx,
        };
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let body = request_body(body, max_body).await?;
            let resp = tokio::task::spawn_blocking(move || ctx.send(&parts, &body))
                .await
                .map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))??;
            Ok((resp, Box::new(async { Ok(()) }) as IoFuture))
        })
    }

    // The embedder sends the request: no Host header added here.
    fn set_host_header(&mut self) -> bool {
        false
    }

    // The response body goes through a channel of this many chunks of at
    // most this many bytes to the task that drains it: room for a 64 KiB
    // body written 4 KiB at a time without waiting for that task, and at
    // most about 1 MiB held in it per request (outside the plugin's memory).
    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        16
    }

    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        64 * 1024
    }
}

thread_local! {
    // Read-only in practice (its field-size limit); no destructor, so a
    // thread that exits leaves nothing behind.
    static HTTP_CTX: UnsafeCell<WasiHttpCtx> = UnsafeCell::new(WasiHttpCtx::new());
    // The hooks of the call running on this thread (see Hooks).
    static HOOKS: UnsafeCell<Hooks> = UnsafeCell::new(Hooks { data: std::ptr::null_mut() });
}

/// The getter the wasi:http bindings call for every host function: the
/// store's WASI p2 table, this thread's context and hooks.
fn http_view(data: &mut WasmtimeStoreData) -> WasiHttpCtxView<'_> {
    // Host functions run on the thread that calls into the store, and only
    // one at a time on it: nothing else holds these references meanwhile.
    let ctx = HTTP_CTX.with(|c| unsafe { &mut *c.get() });
    let hooks = HOOKS.with(|h| unsafe { &mut *h.get() });
    WasiHttpCtxView {
        ctx,
        table: data.ctx().table,
        hooks,
    }
}

/// Shadows `wasi:http/outgoing-handler.handle` with one that tells the hooks
/// whose store the request comes from (the bindings' getter sees only the
/// store data, not the C data the store was made with).
fn shadow_handle(
    linker: &mut wasmtime::component::Linker<WasmtimeStoreData>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host;
    use wasmtime_wasi_http::p2::types::HostOutgoingRequest as Req;
    type Handled = Result<Resource<HostFutureIncomingResponse>, ErrorCode>;
    let mut inst = linker.instance("wasi:http/outgoing-handler@0.2.12")?;
    inst.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, WasmtimeStoreData>,
         (req, options): (Resource<Req>, Option<Resource<RequestOptions>>)|
         -> wasmtime::Result<(Handled,)> {
            let data = wasmtime_context_get_data(store.as_context());
            HOOKS.with(|h| unsafe { (*h.get()).data = data });
            let r = Host::handle(&mut http_view(store.data_mut()), req, options);
            HOOKS.with(|h| unsafe { (*h.get()).data = std::ptr::null_mut() });
            match r {
                Ok(f) => Ok((Ok(f),)),
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    )
}

/// Adds wasi:http/types and wasi:http/outgoing-handler (requests go to the
/// hooks of wasmplug_http_set_outgoing) to a component linker that already
/// has WASI p2.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_linker_add_wasi_http(
    linker: *mut wasmtime_component_linker_t,
) -> Option<Box<wasmtime_error_t>> {
    let linker = &mut *(linker as *mut wasmtime::component::Linker<WasmtimeStoreData>);
    let r = catch_unwind(AssertUnwindSafe(|| -> wasmtime::Result<()> {
        use wasmtime_wasi_http::p2::bindings::{sync::http, LinkOptions};
        let options = LinkOptions::default();
        http::outgoing_handler::add_to_linker::<_, WasiHttp>(linker, http_view)?;
        http::types::add_to_linker::<_, WasiHttp>(linker, &options.into(), http_view)?;
        linker.allow_shadowing(true);
        let r = shadow_handle(linker);
        linker.allow_shadowing(false);
        r
    }));
    match r {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Box::new(wasmtime_error_t::from(e))),
        Err(_) => Some(Box::new(wasmtime_error_t::from(wasmtime::format_err!(
            "wasmplug: panic while adding wasi:http"
        )))),
    }
}

// ---- wasi:http/incoming-handler#handle ----------------------------------------------

/// wasi:http resources in the table: (all of them, outgoing bodies).
fn http_entries(table: &mut ResourceTable) -> (usize, usize) {
    let (mut all, mut bodies) = (0, 0);
    for e in table.iter_mut() {
        let e: &dyn Any = e;
        if e.is::<HostOutgoingBody>() {
            bodies += 1;
            all += 1;
        } else if e.is::<HostIncomingRequest>()
            || e.is::<HostResponseOutparam>()
            || e.is::<HostOutgoingResponse>()
            || e.is::<HostIncomingBody>()
            || e.is::<HostFutureTrailers>()
            || e.is::<HostOutgoingRequest>()
            || e.is::<HostIncomingResponse>()
            || e.is::<HostFutureIncomingResponse>()
            || e.is::<FieldMap>()
            || e.is::<RequestOptions>()
        {
            all += 1;
        }
    }
    (all, bodies)
}

enum Drained {
    Body(Vec<u8>),
    TooBig(usize),
    Failed(String),
}

/// Collects the body as the guest writes it, up to `max` bytes. Runs on
/// Wasmtime's runtime while the guest call runs: the body is a bounded
/// channel, so a guest writing more than it holds waits for this.
async fn drain(mut body: HyperOutgoingBody, max: usize) -> Drained {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    let total = buf.len().saturating_add(data.len());
                    if total > max {
                        // Dropping the body closes the guest's stream.
                        return Drained::TooBig(total);
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Err(e) => return Drained::Failed(e.to_string()),
        }
    }
    Drained::Body(buf)
}

/// What response-outparam.set handed over.
enum Answer {
    None,
    Response(
        u16,
        Vec<(String, Vec<u8>)>,
        wasmtime_wasi::runtime::AbortOnDropJoinHandle<Drained>,
    ),
    Error(ErrorCode),
}

fn build_request(req: &Req<'_>) -> Result<(Scheme, http::Request<Full<Bytes>>), Fail> {
    let scheme = match req.scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        s => Scheme::Other(s.to_string()),
    };
    let host = req
        .headers
        .iter()
        .find(|h| h.0.eq_ignore_ascii_case("host"));
    let authority = match (req.authority, host) {
        ("", Some((_, v))) => std::str::from_utf8(v).unwrap_or("localhost"),
        ("", None) => "localhost",
        (a, _) => a,
    };
    let uri = http::Uri::builder()
        .scheme(req.scheme)
        .authority(authority)
        .path_and_query(req.path_with_query)
        .build()
        .or_else(|e| fail(BAD_REQUEST, format!("the request's URI is not valid: {e}")))?;
    let mut b = http::Request::builder().method(req.method).uri(uri);
    for (n, v) in &req.headers {
        b = b.header(*n, *v);
    }
    let r = b
        .body(Full::new(Bytes::copy_from_slice(req.body)))
        .or_else(|e| fail(BAD_REQUEST, format!("the request is not valid HTTP: {e}")))?;
    Ok((scheme, r))
}

/// Waits for the drain task, asking `budget` every few milliseconds; an
/// error when it says stop (the C side has recorded why).
fn await_drain(
    task: wasmtime_wasi::runtime::AbortOnDropJoinHandle<Drained>,
    budget: wasmplug_budget_fn,
    data: *mut c_void,
) -> wasmtime::Result<Drained> {
    wasmtime_wasi::runtime::in_tokio(async move {
        let mut task = pin!(task);
        loop {
            let left = budget(data);
            if left == 0 {
                wasmtime::bail!("wasmplug: call stopped while the response body was read");
            }
            let slice = Duration::from_nanos(left).min(Duration::from_millis(5));
            let mut sleep = pin!(tokio::time::sleep(slice));
            let done = std::future::poll_fn(|cx| {
                if let Poll::Ready(d) = task.as_mut().poll(cx) {
                    return Poll::Ready(Some(d));
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                Poll::Pending
            })
            .await;
            if let Some(d) = done {
                return Ok(d);
            }
        }
    })
}

type HandleParams = (
    Resource<HostIncomingRequest>,
    Resource<HostResponseOutparam>,
);

fn wasi_handle(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    budget: wasmplug_budget_fn,
    req: &Req<'_>,
    max_body: usize,
    out: &mut wasmplug_http_response_t,
) -> wasmtime::Result<Result<(), Fail>> {
    let typed = match func.typed::<HandleParams, ()>(&store) {
        Ok(t) => t,
        Err(e) => return Ok(fail(BAD_TYPE, format!("{e:#}"))),
    };
    let (scheme, request) = match build_request(req) {
        Ok(r) => r,
        Err(f) => return Ok(Err(f)),
    };
    let answer = Arc::new(Mutex::new(Answer::None));
    let table_before = http_entries(store.data_mut().ctx().table);
    let (req_res, out_res) = {
        let data = store.data_mut();
        let mut view = http_view(data);
        let r = match view.new_incoming_request(scheme, request) {
            Ok(r) => r,
            Err(e) => return Ok(fail(BAD_REQUEST, format!("{e:#}"))),
        };
        let answer = answer.clone();
        let o = view.new_response_outparam_from_callback(move |result| {
            let a = match result {
                Ok(resp) => {
                    let (parts, body) = resp.into_parts();
                    let headers = parts
                        .headers
                        .iter()
                        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                        .collect();
                    let task = wasmtime_wasi::runtime::spawn(drain(body, max_body));
                    Answer::Response(parts.status.as_u16(), headers, task)
                }
                Err(code) => Answer::Error(code),
            };
            *answer.lock().unwrap() = a;
        });
        match o {
            Ok(o) => (r, o),
            Err(e) => {
                let _ = view.table.delete(r);
                return Ok(fail(BAD_REQUEST, format!("{e:#}")));
            }
        }
    };
    // A failed call (trap, timeout, interrupt) is the C side's to describe;
    // the instance is not reused after it.
    typed.call(&mut store, (req_res, out_res))?;
    let table_after = http_entries(store.data_mut().ctx().table);
    out.leftover = table_after.0.saturating_sub(table_before.0) as u32;
    let answer = std::mem::replace(&mut *answer.lock().unwrap(), Answer::None);
    let (status, headers, task) = match answer {
        Answer::None => {
            return Ok(fail(
                NO_RESPONSE,
                "handle returned without calling response-outparam.set",
            ))
        }
        Answer::Error(code) => return Ok(fail(ERROR_CODE, format!("{code:?}"))),
        Answer::Response(s, h, t) => (s, h, t),
    };
    if table_after.1 > table_before.1 {
        // The guest still holds the outgoing-body: the body cannot end now.
        return Ok(fail(
            BAD_BODY,
            "handle returned before finishing the response body (outgoing-body.finish was not called)",
        ));
    }
    let data = wasmtime_context_get_data(store.as_context());
    match await_drain(task, budget, data)? {
        Drained::Body(body) => {
            fill(out, status, headers, body);
            Ok(Ok(()))
        }
        Drained::TooBig(n) => Ok(fail(
            BODY_TOO_BIG,
            format!("the response body reached {n} bytes, over the {max_body}-byte limit"),
        )),
        Drained::Failed(e) => Ok(fail(BAD_BODY, format!("the response body failed: {e}"))),
    }
}

/// One request through `wasi:http/incoming-handler#handle` (`func`, resolved
/// by the caller in an instance living in `store`). See wasmplug_http.h.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_http_handle(
    store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    budget: wasmplug_budget_fn,
    req: *const wasmplug_http_request_t,
    max_body: usize,
    out: *mut wasmplug_http_response_t,
    error: *mut *mut wasmtime_error_t,
) -> i32 {
    outcome(out, error, |out| {
        let req = match read_request(req) {
            Ok(r) => r,
            Err(f) => return Ok(Err(f)),
        };
        wasi_handle(store, func, budget, &req, max_body, out)
    })
}

// ---- wasmplug:http/handler#handle ----------------------------------------------

#[derive(ComponentType, Lower)]
#[component(record)]
struct OwnRequest<'a> {
    method: &'a str,
    #[component(name = "path-with-query")]
    path_with_query: &'a str,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

#[derive(ComponentType, Lift)]
#[component(record)]
struct OwnResponse {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// One request through `wasmplug:http/handler@0.1.0#handle` (`func`), with
/// Wasmtime's typed calls: the body is lowered and lifted as one copy each.
/// (Wasmtime runs the export's post-return function inside the call.)
#[no_mangle]
pub unsafe extern "C" fn wasmplug_http_own_handle(
    mut store: StoreContextMut<'_, WasmtimeStoreData>,
    func: &Func,
    req: *const wasmplug_http_request_t,
    max_body: usize,
    out: *mut wasmplug_http_response_t,
    error: *mut *mut wasmtime_error_t,
) -> i32 {
    outcome(out, error, |out| {
        let req = match read_request(req) {
            Ok(r) => r,
            Err(f) => return Ok(Err(f)),
        };
        let typed = match func.typed::<(OwnRequest<'_>,), (OwnResponse,)>(&store) {
            Ok(t) => t,
            Err(e) => return Ok(fail(BAD_TYPE, format!("{e:#}"))),
        };
        let arg = OwnRequest {
            method: req.method,
            path_with_query: req.path_with_query,
            headers: req.headers.clone(),
            body: req.body,
        };
        let (resp,) = typed.call(&mut store, (arg,))?;
        if resp.body.len() > max_body {
            return Ok(fail(
                BODY_TOO_BIG,
                format!(
                    "the response body has {} bytes, over the {max_body}-byte limit",
                    resp.body.len()
                ),
            ));
        }
        fill(out, resp.status, resp.headers, resp.body);
        Ok(Ok(()))
    })
}

// The C API passes `wasmtime_context_t*` as this and `wasmtime_component_func_t`
// by reference as `Func`, as these functions take them; if a Wasmtime bump
// changes either, these stop the build.
const _: () = assert!(
    std::mem::size_of::<StoreContextMut<'static, WasmtimeStoreData>>()
        == std::mem::size_of::<usize>()
);
// wasmtime_component_func_t: { { u64 store_id; u32 } ; u32 }, 24 bytes (Wasmtime
// checks its Func against the same layout).
const _: () = assert!(std::mem::size_of::<Func>() == 24);
