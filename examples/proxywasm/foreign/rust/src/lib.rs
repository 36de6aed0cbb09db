//! foreign (Rust): compress the buffered request body with the host's
//! foreign function `compress` and forward the compressed bytes.
//! Behaviour: examples/proxywasm/README.md, section "foreign".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter;

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, eos: bool) -> Action {
        if !eos {
            // The body will change length.
            self.set_http_request_header("content-length", None);
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, eos: bool) -> Action {
        if !eos {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, size).unwrap_or_default();
        match self.call_foreign_function("compress", Some(&body)) {
            Ok(result) => {
                let compressed = result.unwrap_or_default();
                self.set_http_request_body(0, size, &compressed);
                self.set_http_request_header(
                    "x-compressed-size",
                    Some(&compressed.len().to_string()),
                );
            }
            Err(status) => log::warn!("foreign: compress failed: {:?}", status),
        }
        Action::Continue
    }
}
