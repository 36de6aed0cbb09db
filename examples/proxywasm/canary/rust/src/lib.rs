//! canary (Rust): when the request carries the configured header, rewrite
//! `:authority` so the host routes it elsewhere, and mark it.
//! Behaviour: examples/proxywasm/README.md, section "canary".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::Value;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root { cfg: Rc::new(Config::default()) })
    });
}}

struct Config {
    header: String,
    authority: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header: "x-canary".into(),
            authority: "canary.local".into(),
        }
    }
}

fn parse_config(bytes: &[u8]) -> Option<Config> {
    let mut cfg = Config::default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(cfg);
    }
    let obj = match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => return Some(cfg),
        Value::Object(obj) => obj,
        _ => return None,
    };
    for (key, slot) in [
        ("header", &mut cfg.header),
        ("authority", &mut cfg.authority),
    ] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() => *slot = s.clone(),
            _ => return None,
        }
    }
    cfg.header.make_ascii_lowercase();
    Some(cfg)
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
                log::error!("canary: invalid plugin configuration");
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
        if self
            .get_http_request_header_bytes(&self.cfg.header)
            .is_some()
        {
            self.set_http_request_header(":authority", Some(&self.cfg.authority));
            self.set_http_request_header("x-canary-routed", Some("1"));
            log::info!("canary: routed to {}", self.cfg.authority);
        }
        Action::Continue
    }
}
