#!/usr/bin/env python3
"""make bench-peers: wasmplug beside Extism (the `extism` crate), one run.

Builds (once, cached: build.sh) the Extism harness (src/main.rs) and the
Extism Go guest, then runs the wasmplug side (wasmplug-bench-peers-c,
wasmplug_side.c) and the Extism side in alternating rounds, and prints one
table: per row the median of each side over every repetition of every round,
and the ratio wasmplug/Extism (below 1: wasmplug is faster). Writes
build/bench/peers.json.

Both sides do the same work with the same method (one untimed warm-up batch,
then repetitions each timing a batch):
  minimal_call         an export that reads no input and sets no output
  echo_32B, echo_4KiB  the input handed back as output, checked
  fresh_instance_call  a new instance per call: wasmplug's wp_pool with
                       max_uses 1; Extism's Plugin::new_from_compiled
  host_call            one call of call_host(n): n calls of a host function
                       with no arguments or results (wp_engine_define_func;
                       extism's host_fn!), per host call
  load_cached_go       a 2.6 MB Go plugin (Go, wasip1, c-shared: wasmplug's
                       examples/hello/go and its Extism twin guests/hello-go)
                       loaded from the compile cache after one untimed load;
                       freed untimed
The guests: guests/wasmplug.wat and guests/extism.wat.

The protocol of both harnesses:
  arguments  --wat GUEST --go GO_GUEST --cache DIR [--scale F] [--reps R]
  stdout     one JSON object per row: {"row": NAME, "ns": [ns per op, one per
             repetition]}
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

# name, unit, ns in one unit
ROWS = (
    ("minimal_call", "ns/call", 1),
    ("echo_32B", "ns/call", 1),
    ("echo_4KiB", "ns/call", 1),
    ("fresh_instance_call", "us/call", 1e3),
    ("host_call", "ns/host call", 1),
    ("load_cached_go", "ms/load", 1e6),
)


def run_side(name, cmd, scale, reps):
    tmp = tempfile.mkdtemp(prefix=f"wp-peers-{name}-")
    try:
        os.chmod(tmp, 0o700)
        res = subprocess.run(cmd + ["--cache", tmp, "--scale", str(scale), "--reps", str(reps)],
                             stdout=subprocess.PIPE, text=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if res.returncode != 0:
        raise SystemExit(f"bench-peers: the {name} side failed ({' '.join(cmd)}): "
                         f"exit {res.returncode}, see its message above")
    rows = {}
    for line in res.stdout.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            rows[obj["row"]] = [float(x) for x in obj["ns"]]
    missing = [r for r, _, _ in ROWS if r not in rows]
    if missing:
        raise SystemExit(f"bench-peers: the {name} side gave no figures for {', '.join(missing)}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small batches, one round")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both sides")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.abspath(a.build)
    out = a.out or os.path.join(build, "bench", "peers.json")
    tools = os.path.join(build, "bench", "peers")
    if subprocess.run([os.path.join(here, "build.sh"), tools]).returncode != 0:
        raise SystemExit("bench-peers: bench/peers/build.sh failed (its message is above)")
    wp_go = os.path.join(build, "plugins", "hello-go.wasm")
    ex_go = os.path.join(tools, "hello-go-extism.wasm")
    wp_bin = os.path.join(build, "bin", "wasmplug-bench-peers-c")
    for f in (wp_go, wp_bin):
        if not os.path.exists(f):
            raise SystemExit(f"bench-peers: {f} is missing: build wasmplug first (make)")
    sides = {
        "wasmplug": [wp_bin, "--wat", os.path.join(here, "guests", "wasmplug.wat"), "--go", wp_go],
        "extism": [os.path.join(tools, "wasmplug-bench-peers"), "--wat",
                   os.path.join(here, "guests", "extism.wat"), "--go", ex_go],
    }
    scale, reps, rounds = (0.05, 3, 1) if a.quick else (1.0, 7, max(1, a.rounds))
    figures = {s: {r: [] for r, _, _ in ROWS} for s in sides}
    for rnd in range(rounds):
        order = list(sides) if rnd % 2 == 0 else list(reversed(list(sides)))
        for s in order:
            print(f"bench-peers: round {rnd + 1}/{rounds}: {s}", file=sys.stderr)
            for row, ns in run_side(s, sides[s], scale, reps).items():
                if row in figures[s]:
                    figures[s][row].extend(ns)

    results = []
    print(f"\nwasmplug vs Extism (extism crate {extism_version(here)}), medians over "
          f"{rounds} round(s) x {reps} repetitions; ratio = wasmplug / Extism")
    print(f"{'row':<22} {'unit':<13} {'wasmplug':>10} {'Extism':>10} {'ratio':>7}")
    for row, unit, scale_ns in ROWS:
        wp = statistics.median(figures["wasmplug"][row]) / scale_ns
        ex = statistics.median(figures["extism"][row]) / scale_ns
        ratio = wp / ex
        print(f"{row:<22} {unit:<13} {fmt(wp):>10} {fmt(ex):>10} {ratio:>7.3g}")
        results.append({"name": row, "unit": unit, "wasmplug": wp, "extism": ex, "ratio": ratio,
                        "wasmplug_reps": [x / scale_ns for x in figures["wasmplug"][row]],
                        "extism_reps": [x / scale_ns for x in figures["extism"][row]]})
    print(f"load_cached_go: wasmplug {os.path.getsize(wp_go) / 1e6:.2f} MB "
          f"(examples/hello/go), Extism {os.path.getsize(ex_go) / 1e6:.2f} MB "
          f"(bench/peers/guests/hello-go)")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"extism": extism_version(here), "rounds": rounds, "reps": reps,
                   "quick": a.quick, "rows": results}, f, indent=1)
        f.write("\n")
    print(f"figures in {out}")


def fmt(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def extism_version(here):
    with open(os.path.join(here, "Cargo.toml")) as f:
        for line in f:
            if line.startswith("extism = "):
                return line.split('"=')[1].split('"')[0]
    return "?"


if __name__ == "__main__":
    main()
