//! {{name}}: an HTTP handler in Rust, a component of the standard world
//! wasi:http/proxy (it runs in `wasmplug serve`, `wasmtime serve` and Spin),
//! with the bindings of the `wasi` crate.
//!
//! POST and PUT answer with the request body; any other method with
//!
//! ```text
//! Hello from {{name}}! You asked for GET /the/path?and=query
//! ```
//!
//! Built for wasm32-unknown-unknown (no WASI preview 1, so no adapter): the
//! component imports only the wasi:http/types and wasi:io it uses.

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
    ResponseOutparam,
};
use wasi::io::streams::StreamError;

/// blocking-write-and-flush takes at most 4096 bytes per call.
const WRITE_CHUNK: usize = 4096;
const READ_CHUNK: u64 = 65536;

struct Handler;

wasi::http::proxy::export!(Handler);

fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(name) => name,
    }
}

/// The whole request body. The stream is a child of the body: it is dropped
/// before the body is finished.
fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, ErrorCode> {
    let failed = |what: &str| ErrorCode::InternalError(Some(format!("request body: {what}")));
    let body = request.consume().map_err(|()| failed("already consumed"))?;
    let mut all = Vec::new();
    {
        let stream = body.stream().map_err(|()| failed("no stream"))?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => all.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(failed(&e.to_debug_string()))
                }
            }
        }
    }
    drop(IncomingBody::finish(body));
    Ok(all)
}

fn respond(response_out: ResponseOutparam, body: &[u8]) {
    let length = body.len().to_string();
    let headers = Fields::from_list(&[
        ("content-type".to_string(), b"text/plain; charset=utf-8".to_vec()),
        ("content-length".to_string(), length.into_bytes()),
    ])
    .expect("valid header fields");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(200).expect("valid status");
    let out = response.body().expect("first call of body()");
    ResponseOutparam::set(response_out, Ok(response));
    {
        let stream = out.write().expect("first call of write()");
        for chunk in body.chunks(WRITE_CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return; // the client went away: dropping `out` reports it
            }
        }
    }
    let _ = OutgoingBody::finish(out, None);
}

impl Guest for Handler {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = request.method();
        let method = method_name(&method);
        let body = if method == "POST" || method == "PUT" {
            match read_body(&request) {
                Ok(body) => body,
                Err(e) => return ResponseOutparam::set(response_out, Err(e)),
            }
        } else {
            let path = request.path_with_query().unwrap_or_else(|| "/".to_string());
            format!("Hello from {{name}}! You asked for {method} {path}\n").into_bytes()
        };
        drop(request);
        respond(response_out, &body);
    }
}
