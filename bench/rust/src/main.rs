//! wasmplug-bench-rust: per-call cost of a component's exports through
//! Wasmtime's Rust API with typed functions, the floor wasmplug's C component
//! calls are compared with (bench/cases_component.c, `--rust-harness`).
//!
//!   wasmplug-bench-rust COMPONENT.wasm [--quick] [--no-epoch]
//!   wasmplug-bench-rust COMPONENT.wasm --probe ROW N   (bench/callgrind)
//!
//! COMPONENT is the types component (examples/types/wit/types.wit); only its
//! exports `nop: func()` and, in `example:types/echo`, `echo-string` (32 B),
//! `echo-bytes` (64 KiB), `echo-u32` and `echo-point` (a record of two s32)
//! are called. Its imports (example:types/host, wasmplug:plugin/host) are
//! stubbed as traps: the timed functions never call the host.
//!
//! Prints one JSON object on stdout (progress and errors go to stderr):
//!   {"rust_typed_nop_ns": M, "rust_typed_echo32_ns": M,
//!    "rust_typed_bytes64k_ns": M, "rust_typed_u32_ns": M,
//!    "rust_typed_point_ns": M, "reps": R,
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
use wasmtime::component::{Component, ComponentType, Lift, Linker, Lower, TypedFunc};
use wasmtime::{Config, Engine, Result, Store};

/// Same 32 bytes as bench/cases_component.c's component_echo_32B row.
const TEXT32: &str = "0123456789abcdef0123456789abcdef";
/// Same 64 KiB as the component_list_u8_echo_64KiB row: byte i is i * 7 + 3.
fn bytes64k() -> Vec<u8> {
    (0..64 * 1024).map(|i: usize| (i * 7 + 3) as u8).collect()
}

/// example:types/defs.point, as the bindings generator would spell it.
#[derive(ComponentType, Lift, Lower, Clone, Copy)]
#[component(record)]
struct Point {
    x: i32,
    y: i32,
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
    let u32_fn = instance
        .get_export_index(&mut store, Some(&echo_iface), "echo-u32")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo#echo-u32`"))?;
    let echo_u32: TypedFunc<(u32,), (u32,)> = instance.get_typed_func(&mut store, &u32_fn)?;
    let point_fn = instance
        .get_export_index(&mut store, Some(&echo_iface), "echo-point")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo#echo-point`"))?;
    let echo_point: TypedFunc<(Point,), (Point,)> = instance.get_typed_func(&mut store, &point_fn)?;
    let data = bytes64k();
    // Wasmtime 48 needs no post_return after a call (it is a deprecated no-op).

    // Like bench/cases_component.c, every result is checked.
    let nop_batch = |store: &mut Store<()>, n: usize| -> Result<()> {
        for _ in 0..n {
            nop.call(&mut *store, ())?;
        }
        Ok(())
    };
    let echo_batch = |store: &mut Store<()>, n: usize| -> Result<()> {
        for _ in 0..n {
            let (s,) = echo.call(&mut *store, (black_box(TEXT32),))?;
            if s != TEXT32 {
                wasmtime::bail!("echo-string returned {s:?}");
            }
        }
        Ok(())
    };
    let bytes_batch = |store: &mut Store<()>, n: usize| -> Result<()> {
        for _ in 0..n {
            let (b,) = bytes.call(&mut *store, (black_box(&data[..]),))?;
            if b != data {
                wasmtime::bail!("echo-bytes returned {} other bytes", b.len());
            }
        }
        Ok(())
    };
    let u32_batch = |store: &mut Store<()>, n: usize| -> Result<()> {
        for i in 0..n as u32 {
            let (r,) = echo_u32.call(&mut *store, (black_box(i),))?;
            if r != i {
                wasmtime::bail!("echo-u32 returned {r}");
            }
        }
        Ok(())
    };
    let point_batch = |store: &mut Store<()>, n: usize| -> Result<()> {
        for i in 0..n as i32 {
            let p = Point { x: black_box(i), y: -7 };
            let (r,) = echo_point.call(&mut *store, (p,))?;
            if r.x != i || r.y != -7 {
                wasmtime::bail!("echo-point returned {{x: {}, y: {}}}", r.x, r.y);
            }
        }
        Ok(())
    };

    type Batch<'a> = Box<dyn Fn(&mut Store<()>, usize) -> Result<()> + 'a>;
    let rows: Vec<(&str, usize, Batch)> = vec![
        ("rust_typed_nop_ns", plan.batch_nop, Box::new(nop_batch)),
        ("rust_typed_echo32_ns", plan.batch_echo, Box::new(echo_batch)),
        ("rust_typed_bytes64k_ns", plan.batch_bytes, Box::new(bytes_batch)),
        ("rust_typed_u32_ns", plan.batch_nop, Box::new(u32_batch)),
        ("rust_typed_point_ns", plan.batch_echo, Box::new(point_batch)),
    ];
    let time = |store: &mut Store<()>, f: &Batch, n: usize| -> Result<f64> {
        let t = Instant::now();
        f(store, n)?;
        Ok(t.elapsed().as_nanos() as f64 / n as f64)
    };

    // Warm-up: one full batch of each (page faults, branch predictors, the
    // allocator's free lists), not recorded.
    for (_, n, f) in &rows {
        time(&mut store, f, *n)?;
    }

    // Interleaved repetitions, as bench/harness.c's bench_measure_group does,
    // so a disturbance on the machine spoils one repetition of each, not one
    // figure.
    let mut samples: Vec<Vec<f64>> = rows.iter().map(|_| Vec::with_capacity(plan.reps)).collect();
    for _ in 0..plan.reps {
        for (i, (_, n, f)) in rows.iter().enumerate() {
            samples[i].push(time(&mut store, f, *n)?);
        }
    }
    let mut medians = Vec::new();
    let mut mins = Vec::new();
    let mut maxs = Vec::new();
    let mut batches = Vec::new();
    let mut spread = 0f64;
    for (i, (key, n, _)) in rows.iter().enumerate() {
        let (med, min, max) = summarize(&mut samples[i]);
        eprintln!("  {key:24} {med:10.3} ns/call (min {min:.3}, max {max:.3})");
        spread = spread.max((max - min) / med);
        medians.push(format!("\"{key}\": {med:.3}"));
        mins.push(format!("\"{key}\": {min:.3}"));
        maxs.push(format!("\"{key}\": {max:.3}"));
        batches.push(format!("\"{key}\": {n}"));
    }
    Ok(format!(
        concat!(
            "{{{}, \"reps\": {}, \"spread\": {:.4}, \"min\": {{{}}}, \"max\": {{{}}}, ",
            "\"batch\": {{{}}}, \"epoch_interruption\": {}, \"wasmtime\": \"48.0.8\"}}"
        ),
        medians.join(", "),
        plan.reps,
        spread,
        mins.join(", "),
        maxs.join(", "),
        batches.join(", "),
        epoch
    ))
}

/// `--probe ROW N`: N untimed calls of one row, each through a
/// `probe_op_*` function, for bench/callgrind/run.sh to count instructions
/// beside wasmplug's (toggle-collect on those functions).
fn probe(path: &str, row: &str, n: usize) -> Result<()> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, path)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&component)?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker.instantiate(&mut store, &component)?;
    let iface = instance
        .get_export_index(&mut store, None, "example:types/echo")
        .ok_or_else(|| wasmtime::format_err!("no export `example:types/echo`"))?;
    let func = |store: &mut Store<()>, name: &str| {
        instance
            .get_export_index(&mut *store, Some(&iface), name)
            .ok_or_else(|| wasmtime::format_err!("no export `{name}`"))
    };
    match row {
        "component_nop" => {
            let f: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "nop")?;
            for _ in 0..n {
                probe_op_nop(&mut store, &f)?;
            }
        }
        "component_echo_32B" => {
            let i = func(&mut store, "echo-string")?;
            let f: TypedFunc<(&str,), (String,)> = instance.get_typed_func(&mut store, &i)?;
            for _ in 0..n {
                probe_op_echo(&mut store, &f)?;
            }
        }
        "component_echo_u32" => {
            let i = func(&mut store, "echo-u32")?;
            let f: TypedFunc<(u32,), (u32,)> = instance.get_typed_func(&mut store, &i)?;
            for k in 0..n as u32 {
                probe_op_u32(&mut store, &f, k)?;
            }
        }
        "component_echo_point" => {
            let i = func(&mut store, "echo-point")?;
            let f: TypedFunc<(Point,), (Point,)> = instance.get_typed_func(&mut store, &i)?;
            for k in 0..n as i32 {
                probe_op_point(&mut store, &f, k)?;
            }
        }
        _ => wasmtime::bail!("no probe for row `{row}`"),
    }
    Ok(())
}

#[inline(never)]
fn probe_op_nop(store: &mut Store<()>, f: &TypedFunc<(), ()>) -> Result<()> {
    f.call(store, ())
}

#[inline(never)]
fn probe_op_echo(store: &mut Store<()>, f: &TypedFunc<(&str,), (String,)>) -> Result<()> {
    let (s,) = f.call(store, (black_box(TEXT32),))?;
    if s != TEXT32 {
        wasmtime::bail!("echo-string returned {s:?}");
    }
    Ok(())
}

#[inline(never)]
fn probe_op_u32(store: &mut Store<()>, f: &TypedFunc<(u32,), (u32,)>, k: u32) -> Result<()> {
    let (r,) = f.call(store, (black_box(k),))?;
    if r != k {
        wasmtime::bail!("echo-u32 returned {r}");
    }
    Ok(())
}

#[inline(never)]
fn probe_op_point(store: &mut Store<()>, f: &TypedFunc<(Point,), (Point,)>, k: i32) -> Result<()> {
    let (r,) = f.call(store, (Point { x: black_box(k), y: -7 },))?;
    if r.x != k || r.y != -7 {
        wasmtime::bail!("echo-point returned {{x: {}, y: {}}}", r.x, r.y);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 4 && args[1] == "--probe" {
        let n = args[3].parse().unwrap_or(0);
        return match probe(&args[0], &args[2], n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wasmplug-bench-rust: {e:?}");
                ExitCode::FAILURE
            }
        };
    }
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
