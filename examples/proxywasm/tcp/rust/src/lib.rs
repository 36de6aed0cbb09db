//! tcp (Rust): a network (TCP) filter that logs connection events, keeps a
//! byte total in shared data and can prepend a prefix to the downstream data.
//! Behaviour: examples/proxywasm/README.md, section "tcp".
use proxy_wasm::traits::{Context, RootContext, StreamContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, PeerType};
use serde_json::Value;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { prefix: Rc::from("") }) });
}}

const TOTAL_KEY: &str = "tcp_bytes";
const MAX_ATTEMPTS: usize = 100;

fn parse_prefix(bytes: &[u8]) -> Option<Rc<str>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(Rc::from(""));
    }
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Null => Some(Rc::from("")),
        Value::Object(obj) => match obj.get("prefix") {
            None | Some(Value::Null) => Some(Rc::from("")),
            Some(Value::String(s)) => Some(Rc::from(s.as_str())),
            _ => None,
        },
        _ => None,
    }
}

struct Root {
    prefix: Rc<str>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_prefix(&bytes) {
            Some(prefix) => {
                self.prefix = prefix;
                true
            }
            None => {
                log::error!("tcp: invalid plugin configuration");
                false
            }
        }
    }

    fn create_stream_context(&self, _id: u32) -> Option<Box<dyn StreamContext>> {
        Some(Box::new(Tcp {
            prefix: self.prefix.clone(),
            prefixed: false,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::StreamContext)
    }
}

struct Tcp {
    prefix: Rc<str>,
    /// The prefix goes in front of the first non-empty downstream data only.
    prefixed: bool,
}

impl Tcp {
    /// Adds `n` to the decimal total under TOTAL_KEY (CAS, retried).
    fn count(&self, n: usize) {
        if n == 0 {
            return;
        }
        for _ in 0..MAX_ATTEMPTS {
            let (value, cas) = self.get_shared_data(TOTAL_KEY);
            let total = value
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0)
                + n as u64;
            if self
                .set_shared_data(TOTAL_KEY, Some(total.to_string().as_bytes()), cas)
                .is_ok()
            {
                return;
            }
        }
        log::warn!(
            "tcp: gave up updating {} after {} CAS mismatches",
            TOTAL_KEY,
            MAX_ATTEMPTS
        );
    }
}

impl Context for Tcp {}

impl StreamContext for Tcp {
    fn on_new_connection(&mut self) -> Action {
        log::info!("tcp: new connection");
        Action::Continue
    }

    fn on_downstream_data(&mut self, size: usize, _eos: bool) -> Action {
        log::info!("tcp: downstream {} bytes", size);
        self.count(size);
        if !self.prefixed && size > 0 && !self.prefix.is_empty() {
            self.set_downstream_data(0, 0, self.prefix.as_bytes());
            self.prefixed = true;
        }
        Action::Continue
    }

    fn on_downstream_close(&mut self, _peer: PeerType) {
        log::info!("tcp: downstream close");
    }

    fn on_upstream_data(&mut self, size: usize, _eos: bool) -> Action {
        log::info!("tcp: upstream {} bytes", size);
        self.count(size);
        Action::Continue
    }

    fn on_upstream_close(&mut self, _peer: PeerType) {
        log::info!("tcp: upstream close");
    }
}
