//! The Extism side of `make bench-peers` (bench/peers/run.py): the rows of
//! wasmplug_side.c, measured the same way through the `extism` crate, with
//! our own guests (guests/extism.wat, guests/hello-go).
//!
//!   wasmplug-bench-peers --wat extism.wat --go hello.wasm --cache DIR
//!                        [--scale F] [--reps R]
//!
//! Each row: one untimed warm-up batch, then R repetitions, each timing a
//! batch of calls; prints one JSON line per row, {"row", "ns": [per op]}.

use extism::{host_fn, CompiledPlugin, Error, Plugin, PluginBuilder, UserData};
use std::time::Instant;

const EMPTY: &[u8] = &[];

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(Error::msg(format!($($msg)+)));
        }
    };
}

// The guest-to-host row's host function: no arguments, no result.
host_fn!(hnop() { Ok(()) });

struct Opts {
    wat: String,
    go: String,
    cache: String,
    scale: f64,
    reps: usize,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        wat: String::new(),
        go: String::new(),
        cache: String::new(),
        scale: 1.0,
        reps: 11,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        match args[i].as_str() {
            "--wat" => o.wat = v,
            "--go" => o.go = v,
            "--cache" => o.cache = v,
            "--scale" => o.scale = v.parse().map_err(|_| format!("bad --scale {v}"))?,
            "--reps" => o.reps = v.parse().map_err(|_| format!("bad --reps {v}"))?,
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    if o.wat.is_empty() || o.go.is_empty() || o.cache.is_empty() || o.reps == 0 {
        return Err(
            "usage: wasmplug-bench-peers --wat F --go F --cache DIR [--scale F] [--reps R]".into(),
        );
    }
    Ok(o)
}

/// Times `reps` batches of `n` operations after one warm-up batch; prints ns
/// per op. What a batch returns is dropped after its timing.
fn measure<T>(
    row: &str,
    n: usize,
    reps: usize,
    mut batch: impl FnMut(usize) -> Result<T, Error>,
) -> Result<(), Error> {
    drop(batch(n)?);
    let mut ns = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t0 = Instant::now();
        let kept = batch(n)?;
        ns.push(t0.elapsed().as_nanos() as f64 / n as f64);
        drop(kept);
    }
    println!("{}", serde_json::json!({"row": row, "ns": ns}));
    Ok(())
}

fn builder(wasm: &[u8]) -> PluginBuilder<'_> {
    // No compile cache for the small guest: it is compiled once per process.
    PluginBuilder::new(wasm)
        .with_cache_disabled()
        .with_function("hnop", [], [], UserData::new(()), hnop)
}

fn echo_row(
    plugin: &mut Plugin,
    row: &str,
    len: usize,
    n: usize,
    reps: usize,
) -> Result<(), Error> {
    let input: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    let out: Vec<u8> = plugin.call("echo", &input[..])?;
    ensure!(out == input, "echo of {len} bytes returned other bytes");
    measure(row, n, reps, |n| {
        for _ in 0..n {
            let out: &[u8] = plugin.call("echo", &input[..])?;
            ensure!(out.len() == len, "echo returned {} bytes", out.len());
        }
        Ok(())
    })
}

fn run(o: &Opts) -> Result<(), Error> {
    let n = |full: usize| ((full as f64 * o.scale) as usize).max(1);
    let wat = std::fs::read(&o.wat)?;
    let compiled: CompiledPlugin = builder(&wat).compile()?;
    let mut plugin = Plugin::new_from_compiled(&compiled)?;

    measure("minimal_call", n(20000), o.reps, |n| {
        for _ in 0..n {
            let _: &[u8] = plugin.call("nop", EMPTY)?;
        }
        Ok(())
    })?;
    echo_row(&mut plugin, "echo_32B", 32, n(20000), o.reps)?;
    echo_row(&mut plugin, "echo_4KiB", 4096, n(5000), o.reps)?;

    measure("fresh_instance_call", n(500), o.reps, |n| {
        for _ in 0..n {
            let mut p = Plugin::new_from_compiled(&compiled)?;
            let _: &[u8] = p.call("nop", EMPTY)?;
        }
        Ok(())
    })?;

    // One call making n guest-to-host calls; the call's own cost is spread over n.
    measure("host_call", n(200000), o.reps, |n| {
        let _: &[u8] = plugin.call("call_host", &(n as u64).to_le_bytes()[..])?;
        Ok(())
    })?;

    // Cached load of the Go guest: read the file and compile it through
    // Wasmtime's cache (what Plugin::new does), after one load filled it.
    let config = format!("{}/wasmtime-cache.toml", o.cache);
    std::fs::write(
        &config,
        format!("[cache]\ndirectory = \"{}/wasmtime\"\n", o.cache),
    )?;
    let load = || -> Result<CompiledPlugin, Error> {
        let wasm = std::fs::read(&o.go)?;
        PluginBuilder::new(wasm)
            .with_wasi(true)
            .with_cache_config(&config)
            .compile()
    };
    let mut go = Plugin::new_from_compiled(&load()?)?;
    let hello: String = go.call("greet", "world")?;
    ensure!(hello == "Hello, world!", "the Go guest said {hello:?}");
    // What a batch loaded is dropped after its timing, as on the wasmplug side.
    measure("load_cached_go", n(10), o.reps, |n| {
        (0..n).map(|_| load()).collect::<Result<Vec<_>, _>>()
    })?;
    Ok(())
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("wasmplug-bench-peers: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&o) {
        eprintln!("wasmplug-bench-peers: {e:#}");
        std::process::exit(1);
    }
}
