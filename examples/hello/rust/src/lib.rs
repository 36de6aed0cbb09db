//! hello: a wasmplug Component Model plugin in Rust (world example:hello/hello,
//! examples/hello/wit/hello.wit).
//!
//! greet("world") returns "Hello, world!", both as the world-level export
//! `greet` and as `example:hello/greeter#greet`, and logs "greet called for
//! world" through the host's wasmplug:plugin/host.log. Built for
//! wasm32-unknown-unknown, so the component imports no WASI.

wit_bindgen::generate!({
    path: "../wit",
    world: "hello",
    // Also generate the imported wasmplug:plugin/host (from wit/deps).
    generate_all,
});

use exports::example::hello::greeter::Guest as Greeter;
use wasmplug::plugin::host::{log, Level};

struct Hello;

fn greet(name: String) -> String {
    log(Level::Info, &format!("greet called for {name}"));
    format!("Hello, {name}!")
}

impl Guest for Hello {
    fn greet(name: String) -> String {
        greet(name)
    }
}

impl Greeter for Hello {
    fn greet(name: String) -> String {
        greet(name)
    }
}

export!(Hello);
