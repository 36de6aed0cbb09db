#!/usr/bin/env python3
"""make bench-bindings: each host binding's cost per call beside C's, one run.

Runs build/bin/wasmplug-bench-bindings-c (the C baseline) and every
bindings/<lang>/bench.sh that exists, then C again, and prints one table:
per binding and row, the median ns per call, the C median of the same run,
their ratio and whether the issue's target is met. Writes
build/bench/bindings.json.

The protocol every bench.sh follows (the C baseline too):
  arguments  --batch N --reps R
  env        WASMPLUG_PREFIX (installed tree), WP_FIXTURES, WP_PLUGINS
  work       numeric_call: tests/fixtures/numeric.wat, add(i, 1) through a
             function handle found once, result checked; bytes_echo_32B:
             tests/fixtures/echo.wat, "echo" with 32 bytes, length checked.
             Each repetition times N calls after a warm-up.
  stdout     one JSON object per line: {"row": NAME, "ns": [ns per call,
             one per repetition]}; anything else on stdout is ignored.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROWS = ("numeric_call", "bytes_echo_32B")
# Issue 14's targets for the numeric call: ratio to C.
TARGETS = {"go": 3.0, "java": 3.0, "python": 20.0, "node": 20.0}
LANGS = ("go", "python", "node", "java")


def run(cmd, env, batch, reps):
    out = subprocess.run(cmd + ["--batch", str(batch), "--reps", str(reps)], env=env,
                         stdout=subprocess.PIPE, check=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        obj = json.loads(line)
        if obj.get("row") in ROWS:
            rows[obj["row"]] = [float(x) for x in obj["ns"]]
    missing = [r for r in ROWS if r not in rows]
    if missing:
        raise SystemExit(f"{' '.join(cmd)}: no figures for {', '.join(missing)}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small batches")
    ap.add_argument("--only", action="append", help="bindings to run (default: all present)")
    a = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.path.abspath(a.build)
    env = dict(os.environ)
    env.setdefault("WASMPLUG_PREFIX", os.path.join(build, "stage"))
    env.setdefault("WP_FIXTURES", os.path.join(src, "tests", "fixtures"))
    env.setdefault("WP_PLUGINS", os.path.join(build, "plugins"))
    env.setdefault("WASMPLUG_WORKER", os.path.join(env["WASMPLUG_PREFIX"], "bin", "wasmplug"))
    batch, reps = (2000, 3) if a.quick else (100000, 11)

    c_cmd = [os.path.join(build, "bin", "wasmplug-bench-bindings-c")]
    samples = {"c": {r: [] for r in ROWS}}
    first = run(c_cmd, env, batch, reps)
    for r in ROWS:
        samples["c"][r] += first[r]
    langs = [l for l in LANGS if os.path.exists(os.path.join(src, "bindings", l, "bench.sh"))]
    if a.only:
        langs = [l for l in langs if l in a.only]
    for lang in langs:
        print(f"bench-bindings: {lang}...", file=sys.stderr)
        # Slow bindings get smaller batches so that a run stays short; the
        # figure is per call either way.
        b = batch if lang in ("go", "java") else max(batch // 10, 100)
        samples[lang] = run([os.path.join(src, "bindings", lang, "bench.sh")], env, b, reps)
    last = run(c_cmd, env, batch, reps)
    for r in ROWS:
        samples["c"][r] += last[r]

    c_med = {r: statistics.median(samples["c"][r]) for r in ROWS}
    results = []
    print(f"{'binding':8} {'row':16} {'median ns':>10} {'C ns':>8} {'ratio':>7}  target")
    for r in ROWS:
        print(f"{'c':8} {r:16} {c_med[r]:10.1f} {c_med[r]:8.1f} {1.0:7.2f}")
        results.append({"binding": "c", "row": r, "median_ns": c_med[r], "c_median_ns": c_med[r],
                        "ratio": 1.0, "samples_ns": samples["c"][r]})
    for lang in langs:
        for r in ROWS:
            med = statistics.median(samples[lang][r])
            ratio = med / c_med[r]
            target = TARGETS.get(lang) if r == "numeric_call" else None
            verdict = ""
            if target:
                verdict = f"<= {target:g}x: {'met' if ratio <= target else 'NOT met'}"
            print(f"{lang:8} {r:16} {med:10.1f} {c_med[r]:8.1f} {ratio:7.2f}  {verdict}")
            results.append({"binding": lang, "row": r, "median_ns": med, "c_median_ns": c_med[r],
                            "ratio": ratio, "target_ratio": target,
                            "met": None if target is None else ratio <= target,
                            "samples_ns": samples[lang][r]})
    out = a.out or os.path.join(build, "bench", "bindings.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
