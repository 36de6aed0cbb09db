//! config (Rust): echo the VM and plugin configurations (raw bytes) into
//! the log and into response headers; "fail" makes either start fail.
//! Behaviour: examples/proxywasm/README.md, section "config".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::cell::RefCell;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { plugin: Rc::from("") }) });
}}

thread_local! {
    /// The VM configuration: one per VM, read by whichever root context
    /// receives proxy_on_vm_start.
    static VM_CONFIG: RefCell<Rc<str>> = RefCell::new(Rc::from(""));
}

/// Trimmed, with CR and LF replaced by spaces (the value goes into a header).
fn clean(bytes: &[u8]) -> Rc<str> {
    let text = String::from_utf8_lossy(bytes);
    Rc::from(text.trim().replace(['\r', '\n'], " "))
}

struct Root {
    plugin: Rc<str>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        let bytes = self.get_vm_configuration().unwrap_or_default();
        if bytes == b"fail" {
            log::error!("config: vm configuration says fail");
            return false;
        }
        VM_CONFIG.with(|c| *c.borrow_mut() = clean(&bytes));
        true
    }

    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        if bytes == b"fail" {
            log::error!("config: plugin configuration says fail");
            return false;
        }
        self.plugin = clean(&bytes);
        let vm = VM_CONFIG.with(|c| c.borrow().clone());
        log::info!("config: vm={} plugin={}", vm, self.plugin);
        true
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        let vm = VM_CONFIG.with(|c| c.borrow().clone());
        Some(Box::new(Filter {
            vm,
            plugin: self.plugin.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    vm: Rc<str>,
    plugin: Rc<str>,
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        self.set_http_response_header("x-vm-config", Some(&self.vm));
        self.set_http_response_header("x-plugin-config", Some(&self.plugin));
        Action::Continue
    }
}
