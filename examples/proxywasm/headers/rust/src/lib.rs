//! headers (Rust): set/remove request and response headers from the plugin
//! configuration, and always add `x-filtered-by: rust` to the response.
//! Behaviour: examples/proxywasm/README.md, section "headers".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::Value;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { cfg: Rc::default() }) });
}}

/// Edits for one header map: `set` (sorted by name) then `remove`.
#[derive(Default)]
struct Rules {
    set: Vec<(String, String)>,
    remove: Vec<String>,
}

#[derive(Default)]
struct Config {
    request: Rules,
    response: Rules,
}

fn parse_rules(v: Option<&Value>) -> Option<Rules> {
    let mut rules = Rules::default();
    let obj = match v {
        None | Some(Value::Null) => return Some(rules),
        Some(Value::Object(obj)) => obj,
        _ => return None,
    };
    match obj.get("set") {
        None | Some(Value::Null) => {}
        Some(Value::Object(set)) => {
            for (name, value) in set {
                rules
                    .set
                    .push((name.to_ascii_lowercase(), value.as_str()?.to_string()));
            }
        }
        _ => return None,
    }
    match obj.get("remove") {
        None | Some(Value::Null) => {}
        Some(Value::Array(names)) => {
            for name in names {
                rules.remove.push(name.as_str()?.to_ascii_lowercase());
            }
        }
        _ => return None,
    }
    rules.set.sort();
    Some(rules)
}

fn parse_config(bytes: &[u8]) -> Option<Config> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(Config::default());
    }
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => Some(Config::default()),
        Value::Object(obj) => Some(Config {
            request: parse_rules(obj.get("request"))?,
            response: parse_rules(obj.get("response"))?,
        }),
        _ => None,
    }
}

struct Root {
    cfg: Rc<Config>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_config(&bytes) {
            Some(cfg) => {
                self.cfg = Rc::new(cfg);
                true
            }
            None => {
                log::error!("headers: invalid plugin configuration");
                false
            }
        }
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter {
            cfg: self.cfg.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    cfg: Rc<Config>,
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        for (name, value) in &self.cfg.request.set {
            self.set_http_request_header(name, Some(value));
        }
        for name in &self.cfg.request.remove {
            self.set_http_request_header(name, None);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        for (name, value) in &self.cfg.response.set {
            self.set_http_response_header(name, Some(value));
        }
        for name in &self.cfg.response.remove {
            self.set_http_response_header(name, None);
        }
        self.add_http_response_header("x-filtered-by", "rust");
        Action::Continue
    }
}
