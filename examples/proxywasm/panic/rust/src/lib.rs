//! panic (Rust): fails on purpose. `x-panic` panics, `x-loop` never returns,
//! anything else gets `x-panic-filter: ok`.
//! Behaviour: examples/proxywasm/README.md, section "panic".
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_http_context(|_, _| -> Box<dyn HttpContext> { Box::new(Filter) });
}}

struct Filter;

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        if self.get_http_request_header_bytes("x-panic").is_some() {
            panic!("boom");
        }
        if self.get_http_request_header_bytes("x-loop").is_some() {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        self.set_http_response_header("x-panic-filter", Some("ok"));
        Action::Continue
    }
}
