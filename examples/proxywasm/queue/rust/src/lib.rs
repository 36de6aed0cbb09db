//! queue (Rust): one filter, two roles. The receiver registers a shared
//! queue and logs what arrives; the sender resolves another VM's queue and
//! enqueues one item per request.
//! Behaviour: examples/proxywasm/README.md, section "queue".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::{Map, Value};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { role: None }) });
}}

const LAST_KEY: &str = "queue_last";

enum Role {
    Sender { vm_id: String, queue: String },
    Receiver { queue: String },
}

fn string(obj: &Map<String, Value>, key: &str, default: &str) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => Some(default.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn parse_role(bytes: &[u8]) -> Option<Role> {
    let obj = match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(obj) => obj,
        _ => return None,
    };
    let queue = string(&obj, "queue", "events")?;
    match obj.get("role")?.as_str()? {
        "sender" => Some(Role::Sender {
            vm_id: string(&obj, "vm_id", "")?,
            queue,
        }),
        "receiver" => Some(Role::Receiver { queue }),
        _ => None,
    }
}

struct Root {
    role: Option<Rc<Role>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let Some(role) = parse_role(&bytes) else {
            log::error!("queue: invalid plugin configuration");
            return false;
        };
        if let Role::Receiver { queue } = &role {
            let id = self.register_shared_queue(queue);
            log::info!("queue: registered {} as {}", queue, id);
        }
        self.role = Some(Rc::new(role));
        true
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        while let Ok(Some(item)) = self.dequeue_shared_queue(queue_id) {
            log::info!("queue: received {}", String::from_utf8_lossy(&item));
            if let Err(status) = self.set_shared_data(LAST_KEY, Some(&item), None) {
                log::warn!("queue: set_shared_data failed: {:?}", status);
            }
        }
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        let role = self.role.clone().expect("on_configure sets the role");
        Some(Box::new(Filter {
            role,
            enqueued: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    role: Rc<Role>,
    /// Sender only: whether this request's item was enqueued.
    enqueued: Option<bool>,
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        if let Role::Sender { vm_id, queue } = &*self.role {
            let ok = match self.resolve_shared_queue(vm_id, queue) {
                Some(id) => {
                    let method = self.get_http_request_header(":method").unwrap_or_default();
                    let path = self.get_http_request_header(":path").unwrap_or_default();
                    let item = format!("{} {}", method, path);
                    self.enqueue_shared_queue(id, Some(item.as_bytes())).is_ok()
                }
                None => false,
            };
            self.enqueued = Some(ok);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        if let Some(ok) = self.enqueued {
            self.set_http_response_header("x-enqueued", Some(if ok { "1" } else { "0" }));
        }
        Action::Continue
    }
}
