//! body (Rust): buffer the whole request (and optionally response) body,
//! read it back in chunks of at most 1024 bytes, then append, prepend or
//! replace text in it. Behaviour: examples/proxywasm/README.md, section "body".
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use serde_json::{Map, Value};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { cfg: Rc::default() }) });
}}

const CHUNK: usize = 1024;

#[derive(Clone, Copy)]
enum Mode {
    Append,
    Prepend,
    Replace,
}

impl Mode {
    /// (start, size) for set_buffer_bytes on a buffer of `len` bytes.
    fn span(self, len: usize) -> (usize, usize) {
        match self {
            Mode::Append => (len, 0),
            Mode::Prepend => (0, 0),
            Mode::Replace => (0, len),
        }
    }
}

#[derive(Default)]
struct Config {
    mode: Option<Mode>,
    text: String,
    require_body: bool,
    response_mode: Option<Mode>,
    response_text: String,
}

fn parse_mode(v: Option<&Value>) -> Result<Option<Mode>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "append" => Ok(Some(Mode::Append)),
            "prepend" => Ok(Some(Mode::Prepend)),
            "replace" => Ok(Some(Mode::Replace)),
            _ => Err(()),
        },
        _ => Err(()),
    }
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<String, ()> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(()),
    }
}

fn parse_config(bytes: &[u8]) -> Result<Config, ()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Config::default());
    }
    let obj = match serde_json::from_slice::<Value>(bytes).map_err(|_| ())? {
        Value::Null => return Ok(Config::default()),
        Value::Object(obj) => obj,
        _ => return Err(()),
    };
    Ok(Config {
        mode: parse_mode(obj.get("mode"))?,
        text: string(&obj, "text")?,
        require_body: match obj.get("require_body") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            _ => return Err(()),
        },
        response_mode: parse_mode(obj.get("response_mode"))?,
        response_text: string(&obj, "response_text")?,
    })
}

struct Root {
    cfg: Rc<Config>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match parse_config(&bytes) {
            Ok(cfg) => {
                self.cfg = Rc::new(cfg);
                true
            }
            Err(()) => {
                log::error!("body: invalid plugin configuration");
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

/// Reads `size` bytes through `get(start, max)` in chunks of at most CHUNK
/// bytes at increasing offsets; returns how many bytes were read.
fn read_chunked(size: usize, get: impl Fn(usize, usize) -> Option<Vec<u8>>) -> usize {
    let mut read = 0;
    while read < size {
        match get(read, CHUNK.min(size - read)) {
            Some(chunk) if !chunk.is_empty() => read += chunk.len(),
            _ => break,
        }
    }
    read
}

struct Filter {
    cfg: Rc<Config>,
}

impl Filter {
    fn reject(&self) -> Action {
        self.send_http_response(400, vec![], Some(b"body required\n"));
        Action::Pause
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _n: usize, eos: bool) -> Action {
        if eos {
            return if self.cfg.require_body {
                self.reject()
            } else {
                Action::Continue
            };
        }
        if self.cfg.mode.is_some() {
            self.set_http_request_header("content-length", None);
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, eos: bool) -> Action {
        if !eos {
            return Action::Pause;
        }
        let read = read_chunked(size, |start, max| self.get_http_request_body(start, max));
        log::info!("body: request body {} bytes", read);
        if size == 0 && self.cfg.require_body {
            return self.reject();
        }
        if let Some(mode) = self.cfg.mode {
            let (start, len) = mode.span(size);
            self.set_http_request_body(start, len, self.cfg.text.as_bytes());
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, eos: bool) -> Action {
        if !eos && self.cfg.response_mode.is_some() {
            self.set_http_response_header("content-length", None);
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, size: usize, eos: bool) -> Action {
        let Some(mode) = self.cfg.response_mode else {
            return Action::Continue;
        };
        if !eos {
            return Action::Pause;
        }
        let read = read_chunked(size, |start, max| self.get_http_response_body(start, max));
        log::info!("body: response body {} bytes", read);
        let (start, len) = mode.span(size);
        self.set_http_response_body(start, len, self.cfg.response_text.as_bytes());
        Action::Continue
    }
}
