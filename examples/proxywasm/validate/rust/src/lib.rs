//! validate (Rust): buffer the request body, require a JSON object holding
//! every configured key, answer 403 (or 413) otherwise.
//! Behaviour: examples/proxywasm/README.md, section "validate".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::Value;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { required: Rc::default() }) });
}}

/// Bodies larger than this are refused with 413 before being parsed.
const MAX_BODY: usize = 1 << 20;

fn parse_required(bytes: &[u8]) -> Option<Vec<String>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(Vec::new());
    }
    let obj = match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => return Some(Vec::new()),
        Value::Object(obj) => obj,
        _ => return None,
    };
    match obj.get("required") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(keys)) => keys.iter().map(|k| k.as_str().map(String::from)).collect(),
        _ => None,
    }
}

struct Root {
    required: Rc<Vec<String>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_required(&bytes) {
            Some(required) => {
                self.required = Rc::new(required);
                true
            }
            None => {
                log::error!("validate: invalid plugin configuration");
                false
            }
        }
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter {
            required: self.required.clone(),
            answered: false,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    required: Rc<Vec<String>>,
    answered: bool,
}

impl Filter {
    fn reject(&mut self, status: u32, body: &str) -> Action {
        self.answered = true;
        self.send_http_response(status, vec![], Some(body.as_bytes()));
        Action::Pause
    }

    /// The 403 body for `body`, or None when it passes.
    fn check(&self, body: &[u8]) -> Option<String> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => self
                .required
                .iter()
                .find(|key| !obj.contains_key(key.as_str()))
                .map(|key| format!("missing key: {}\n", key)),
            _ => Some("invalid json\n".to_string()),
        }
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, eos: bool) -> Action {
        if eos {
            return self.reject(403, "invalid json\n");
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, eos: bool) -> Action {
        if self.answered {
            return Action::Pause;
        }
        if size > MAX_BODY {
            return self.reject(413, "body too large\n");
        }
        if !eos {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, size).unwrap_or_default();
        match self.check(&body) {
            Some(reason) => self.reject(403, &reason),
            None => Action::Continue,
        }
    }
}
