//! metrics (Rust): a counter, a per-tenant counter defined on first use, a
//! histogram of request body sizes and a gauge of requests in flight.
//! Behaviour: examples/proxywasm/README.md, section "metrics".
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { metrics: None }) });
}}

struct Metrics {
    requests_total: u32,
    active_requests: u32,
    request_body_bytes: u32,
    /// requests_by_<tenant> ids, defined on first use.
    by_tenant: RefCell<HashMap<String, u32>>,
}

impl Metrics {
    fn tenant_counter(&self, tenant: &str) -> u32 {
        let mut ids = self.by_tenant.borrow_mut();
        if let Some(id) = ids.get(tenant) {
            return *id;
        }
        let name = format!("requests_by_{}", tenant);
        let id = hostcalls::define_metric(MetricType::Counter, &name).unwrap();
        ids.insert(tenant.to_string(), id);
        id
    }
}

/// The x-tenant value as a metric name part: ASCII letters lower-cased,
/// digits, '-' and '_' kept, anything else '_', at most 64 bytes; "none"
/// when the header is missing or empty.
fn tenant_name(header: Option<Vec<u8>>) -> String {
    let raw = header.unwrap_or_default();
    let name: String = raw
        .iter()
        .take(64)
        .map(|&b| match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => b as char,
            b'A'..=b'Z' => b.to_ascii_lowercase() as char,
            _ => '_',
        })
        .collect();
    if name.is_empty() {
        "none".to_string()
    } else {
        name
    }
}

struct Root {
    metrics: Option<Rc<Metrics>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let define = |kind, name| hostcalls::define_metric(kind, name).unwrap();
        self.metrics = Some(Rc::new(Metrics {
            requests_total: define(MetricType::Counter, "requests_total"),
            active_requests: define(MetricType::Gauge, "active_requests"),
            request_body_bytes: define(MetricType::Histogram, "request_body_bytes"),
            by_tenant: RefCell::new(HashMap::new()),
        }));
        true
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        let metrics = self
            .metrics
            .clone()
            .expect("on_configure defines the metrics");
        Some(Box::new(Filter {
            metrics,
            active: false,
            body_bytes: 0,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Filter {
    metrics: Rc<Metrics>,
    /// true between the +1 and the -1 of active_requests.
    active: bool,
    /// Request body bytes seen so far (the filter never pauses, so each
    /// body callback reports only its own chunk).
    body_bytes: u64,
}

impl Filter {
    fn finish(&mut self) {
        if self.active {
            self.active = false;
            hostcalls::increment_metric(self.metrics.active_requests, -1).unwrap();
        }
    }
}

impl Context for Filter {
    fn on_done(&mut self) -> bool {
        self.finish();
        true
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        self.finish();
    }
}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, eos: bool) -> Action {
        let m = &self.metrics;
        hostcalls::increment_metric(m.requests_total, 1).unwrap();
        let tenant = tenant_name(self.get_http_request_header_bytes("x-tenant"));
        hostcalls::increment_metric(m.tenant_counter(&tenant), 1).unwrap();
        if !self.active {
            self.active = true;
            hostcalls::increment_metric(m.active_requests, 1).unwrap();
        }
        if eos {
            hostcalls::record_metric(m.request_body_bytes, 0).unwrap();
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, eos: bool) -> Action {
        self.body_bytes += size as u64;
        if eos {
            hostcalls::record_metric(self.metrics.request_body_bytes, self.body_bytes).unwrap();
        }
        Action::Continue
    }
}
