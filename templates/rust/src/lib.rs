//! {{name}}: a wasmplug Component Model plugin in Rust (world
//! local:greeter/greeter, wit/world.wit).
//!
//! greet("world") returns "Hello, world!"; the manifest's config key
//! `greeting` replaces "Hello", read through the host's wasmplug:plugin/host.
//! Built for wasm32-unknown-unknown, so the component imports no WASI.

wit_bindgen::generate!({
    path: "wit",
    world: "greeter",
    // Also generate the imported wasmplug:plugin/host (from wit/deps).
    generate_all,
});

use wasmplug::plugin::host::config_get;

struct Plugin;

impl Guest for Plugin {
    fn greet(name: String) -> String {
        let greeting = config_get("greeting").unwrap_or_else(|| "Hello".to_string());
        format!("{greeting}, {name}!")
    }
}

export!(Plugin);
