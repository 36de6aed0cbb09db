//! postpone (Rust): every request is paused at its headers and resumed by
//! the next tick, from the root context, through set_effective_context.
//! Behaviour: examples/proxywasm/README.md, section "postpone".
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MapType};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { pending: Rc::default() }) });
}}

const DEFAULT_PERIOD_MS: u64 = 50;

fn parse_period(bytes: &[u8]) -> Option<u64> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(DEFAULT_PERIOD_MS);
    }
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => Some(DEFAULT_PERIOD_MS),
        Value::Object(obj) => match obj.get("period_ms") {
            None | Some(Value::Null) => Some(DEFAULT_PERIOD_MS),
            Some(v) => v.as_u64().filter(|&ms| ms <= u32::MAX as u64),
        },
        _ => None,
    }
}

/// Context ids of the paused requests, oldest first.
type Pending = Rc<RefCell<Vec<u32>>>;

struct Root {
    pending: Pending,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_period(&bytes) {
            Some(ms) => {
                self.set_tick_period(Duration::from_millis(ms));
                true
            }
            None => {
                log::error!("postpone: invalid plugin configuration");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        let ids: Vec<u32> = self.pending.borrow_mut().drain(..).collect();
        let mut resumed = 0;
        for id in ids {
            if hostcalls::set_effective_context(id).is_err() {
                log::warn!("postpone: context {} is gone", id);
                continue;
            }
            hostcalls::set_map_value(MapType::HttpRequestHeaders, "x-postponed", Some("1"))
                .unwrap();
            hostcalls::resume_http_request().unwrap();
            resumed += 1;
        }
        if resumed > 0 {
            log::info!("postpone: resumed {}", resumed);
        }
    }

    fn create_http_context(&self, id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter {
            id,
            pending: self.pending.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    id: u32,
    pending: Pending,
}

impl Context for Filter {}

impl Drop for Filter {
    fn drop(&mut self) {
        let id = self.id;
        self.pending.borrow_mut().retain(|&p| p != id);
    }
}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        self.pending.borrow_mut().push(self.id);
        Action::Pause
    }
}
