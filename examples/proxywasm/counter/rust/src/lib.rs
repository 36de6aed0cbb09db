//! counter (Rust): a request counter in shared data, incremented with
//! compare-and-swap; the value written for a request goes back to the client
//! in `x-count`. Behaviour: examples/proxywasm/README.md, section "counter".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::Value;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { key: Rc::from("counter") }) });
}}

const MAX_ATTEMPTS: usize = 100;

fn parse_key(bytes: &[u8]) -> Option<Rc<str>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(Rc::from("counter"));
    }
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => Some(Rc::from("counter")),
        Value::Object(obj) => match obj.get("key") {
            None | Some(Value::Null) => Some(Rc::from("counter")),
            Some(Value::String(s)) if !s.is_empty() => Some(Rc::from(s.as_str())),
            _ => None,
        },
        _ => None,
    }
}

struct Root {
    key: Rc<str>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_key(&bytes) {
            Some(key) => {
                self.key = key;
                true
            }
            None => {
                log::error!("counter: invalid plugin configuration");
                false
            }
        }
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter {
            key: self.key.clone(),
            count: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    key: Rc<str>,
    count: Option<u64>,
}

impl Filter {
    /// get + increment + set with the CAS token, retried on CAS mismatch.
    fn increment(&self) -> Option<u64> {
        for _ in 0..MAX_ATTEMPTS {
            let (value, cas) = self.get_shared_data(&self.key);
            let current = value
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
            let next = current + 1;
            if self
                .set_shared_data(&self.key, Some(next.to_string().as_bytes()), cas)
                .is_ok()
            {
                return Some(next);
            }
        }
        log::warn!("counter: gave up after {} CAS mismatches", MAX_ATTEMPTS);
        None
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        self.count = self.increment();
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        match self.count {
            Some(n) => self.set_http_response_header("x-count", Some(&n.to_string())),
            None => self.set_http_response_header("x-count", Some("conflict")),
        }
        Action::Continue
    }
}
