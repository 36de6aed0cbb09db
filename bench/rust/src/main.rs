//! wasmplug-bench-rust: per-call cost of a component's exports through
//! Wasmtime's Rust API with typed functions, the floor wasmplug's C component
//! calls are compared with (bench/cases_component.c, `--rust-harness`).
//!
//!   wasmplug-bench-rust COMPONENT.wasm [--quick] [--no-epoch]
//!
//! COMPONENT is the types component (examples/types/wit/types.wit); only its
//! exports `nop: func()`, `example:types/echo#echo-string` and
//! `example:types/echo#echo-bytes` (with 64 KiB) are called. Its
//! imports (example:types/host, wasmplug:plugin/host) are stubbed as traps:
//! the two timed functions never call the host.
//!
//! Prints one JSON object on stdout (progress and errors go to stderr):
//!   {"rust_typed_nop_ns": M, "rust_typed_echo32_ns": M,
//!    "rust_typed_bytes64k_ns": M, "reps": R,
//!    "spread": S, "min": {...}, "max": {...}, "batch": {...},
//!    "epoch_interruption": true, "wasmtime": "48.0.8"}
//! where M is the median over R repetitions of the mean ns per call in one
//! batch, and S the largest (max - min) / median of the figures.
//!
//! The engine is configured like wasmplug's (epoch interruption on, fuel off,
//! default Cranelift settings), so the comparison measures what the C API and
//! wasmplug add, not a different engine setup; `--no-epoch` turns epoch
//! interruption off to show what it costs. wasmplug's pooling allocator only
//! affects instantiation, which is not timed here.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;
use wasmtime::component::{Component, Linker, TypedFunc};
use wasmtime::{Config, Engine, Result, Store};

/// Same 32 bytes as bench/cases_component.c's component_echo_32B row.
const TEXT32: &str = "0123456789abcdef0123456789abcdef";
/// Same 64 KiB as the component_list_u8_echo_64KiB row: byte i is i * 7 + 3.
fn bytes64k() -> Vec<u8> {
    (0..64 * 1024).map(|i: usize| (i * 7 + 3) as u8).collect()
}

struct Plan {
    reps: usize,
    batch_nop: usize,
    batch_echo: usize,
    batch_bytes: usize,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median, min and max (ns per call) of `samples`.
fn summarize(samples: &mut [f64]) -> (f64, f64, f64) {
    let m = median(samples);
    (m, samples[0], samples[samples.len() - 1])
}

fn run(path: &str, plan: &Plan, epoch: bool) -> Result<String> {
    let mut config = Config::new();
    config.epoch_interruption(epoch);
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, path)?;

    let mut linker = Linker::<()>::new(&engine);
    // The host imports are never reached by nop/echo-string; stubbing them
    // (resources included) lets the component instantiate without a host.
    linker.define_unknown_imports_as_traps(&component)?;

    let mut store = Store::new(&engine, ());
    // The epoch never advances here; the deadline only has to be set so the
    // per-call epoch check runs (as in wasmplug) without ever trapping.
    if epoch {
        store.set_epoch_deadline(u64::MAX / 2);
    }
    let instance = linker.instantiate(&mut store, &component)?;

    let nop: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "nop")?;
    let echo_iface = instance
        .get_export_index(&mut store, None, "example:types/echo")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo`"))?;
    let echo_fn = instance
        .get_export_index(&mut store, Some(&echo_iface), "echo-string")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo#echo-string`"))?;
    let echo: TypedFunc<(&str,), (String,)> = instance.get_typed_func(&mut store, &echo_fn)?;
    let bytes_fn = instance
        .get_export_index(&mut store, Some(&echo_iface), "echo-bytes")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo#echo-bytes`"))?;
    let bytes: TypedFunc<(&[u8],), (Vec<u8>,)> = instance.get_typed_func(&mut store, &bytes_fn)?;
    let data = bytes64k();
    // Wasmtime 48 needs no post_return after a call (it is a deprecated no-op).

    let nop_batch = |store: &mut Store<()>, n: usize| -> Result<f64> {
        let t = Instant::now();
        for _ in 0..n {
            nop.call(&mut *store, ())?;
        }
        Ok(t.elapsed().as_nanos() as f64 / n as f64)
    };
    // Like bench/cases_component.c, every result is checked (a 32-byte compare).
    let echo_batch = |store: &mut Store<()>, n: usize| -> Result<f64> {
        let t = Instant::now();
        for _ in 0..n {
            let (s,) = echo.call(&mut *store, (black_box(TEXT32),))?;
            if s != TEXT32 {
                wasmtime::bail!("echo-string returned {s:?}");
            }
        }
        Ok(t.elapsed().as_nanos() as f64 / n as f64)
    };

    let bytes_batch = |store: &mut Store<()>, n: usize| -> Result<f64> {
        let t = Instant::now();
        for _ in 0..n {
            let (b,) = bytes.call(&mut *store, (black_box(&data[..]),))?;
            if b != data {
                wasmtime::bail!("echo-bytes returned {} other bytes", b.len());
            }
        }
        Ok(t.elapsed().as_nanos() as f64 / n as f64)
    };

    // Warm-up: one full batch of each (page faults, branch predictors, the
    // allocator's free lists), not recorded.
    nop_batch(&mut store, plan.batch_nop)?;
    echo_batch(&mut store, plan.batch_echo)?;
    bytes_batch(&mut store, plan.batch_bytes)?;

    // Interleaved repetitions, as bench/harness.c's bench_measure_group does,
    // so a disturbance on the machine spoils one repetition of each, not one
    // figure.
    let mut nop_ns = Vec::with_capacity(plan.reps);
    let mut echo_ns = Vec::with_capacity(plan.reps);
    let mut bytes_ns = Vec::with_capacity(plan.reps);
    for _ in 0..plan.reps {
        nop_ns.push(nop_batch(&mut store, plan.batch_nop)?);
        echo_ns.push(echo_batch(&mut store, plan.batch_echo)?);
        bytes_ns.push(bytes_batch(&mut store, plan.batch_bytes)?);
    }
    let (nop_med, nop_min, nop_max) = summarize(&mut nop_ns);
    let (echo_med, echo_min, echo_max) = summarize(&mut echo_ns);
    let (bytes_med, bytes_min, bytes_max) = summarize(&mut bytes_ns);
    let spread = ((nop_max - nop_min) / nop_med)
        .max((echo_max - echo_min) / echo_med)
        .max((bytes_max - bytes_min) / bytes_med);
    eprintln!("  rust typed nop     {nop_med:10.3} ns/call (min {nop_min:.3}, max {nop_max:.3})");
    eprintln!("  rust typed echo32  {echo_med:10.3} ns/call (min {echo_min:.3}, max {echo_max:.3})");
    eprintln!("  rust typed bytes64k {bytes_med:10.3} ns/call (min {bytes_min:.3}, max {bytes_max:.3})");

    Ok(format!(
        concat!(
            "{{\"rust_typed_nop_ns\": {:.3}, \"rust_typed_echo32_ns\": {:.3}, ",
            "\"rust_typed_bytes64k_ns\": {:.3}, ",
            "\"reps\": {}, \"spread\": {:.4}, ",
            "\"min\": {{\"rust_typed_nop_ns\": {:.3}, \"rust_typed_echo32_ns\": {:.3}, ",
            "\"rust_typed_bytes64k_ns\": {:.3}}}, ",
            "\"max\": {{\"rust_typed_nop_ns\": {:.3}, \"rust_typed_echo32_ns\": {:.3}, ",
            "\"rust_typed_bytes64k_ns\": {:.3}}}, ",
            "\"batch\": {{\"rust_typed_nop_ns\": {}, \"rust_typed_echo32_ns\": {}, ",
            "\"rust_typed_bytes64k_ns\": {}}}, ",
            "\"epoch_interruption\": {}, \"wasmtime\": \"48.0.8\"}}"
        ),
        nop_med,
        echo_med,
        bytes_med,
        plan.reps,
        spread,
        nop_min,
        echo_min,
        bytes_min,
        nop_max,
        echo_max,
        bytes_max,
        plan.batch_nop,
        plan.batch_echo,
        plan.batch_bytes,
        epoch
    ))
}

fn main() -> ExitCode {
    let mut path = None;
    let mut quick = false;
    let mut epoch = true;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "--no-epoch" => epoch = false,
            _ if arg.starts_with("--") || path.is_some() => {
                eprintln!("usage: wasmplug-bench-rust COMPONENT.wasm [--quick] [--no-epoch]");
                return ExitCode::from(2);
            }
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: wasmplug-bench-rust COMPONENT.wasm [--quick] [--no-epoch]");
        return ExitCode::from(2);
    };
    // --quick matches bench/harness.c's: 3 repetitions, batches / 50.
    let plan = if quick {
        Plan { reps: 3, batch_nop: 2_000, batch_echo: 1_000, batch_bytes: 40 }
    } else {
        Plan { reps: 11, batch_nop: 100_000, batch_echo: 50_000, batch_bytes: 2_000 }
    };
    match run(&path, &plan, epoch) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wasmplug-bench-rust: {path}: {e:?}");
            ExitCode::FAILURE
        }
    }
}
