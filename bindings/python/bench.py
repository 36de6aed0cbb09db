"""bench.sh: the two calls of bench/bindings/c_baseline.c made through the
Python binding, printed in the protocol of bench/bindings/run.py."""
import argparse
import json
import os
import sys
import time

import wasmplug


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=11)
    a = ap.parse_args()
    fixtures = os.environ["WP_FIXTURES"]
    print(f"bindings/python bench: through {wasmplug.fast_path()}", file=sys.stderr)
    with wasmplug.Engine() as engine, \
            engine.load(os.path.join(fixtures, "numeric.wat")) as num, \
            engine.load(os.path.join(fixtures, "echo.wat")) as echo, \
            num.instance() as num_inst, echo.instance() as echo_inst:
        add = num_inst.func("add")          # a function handle found once
        rows = []
        for i in range(1000):               # warm-up
            add(i, 1)
        ns = []
        for _ in range(a.reps):
            t0 = time.perf_counter_ns()
            for i in range(a.batch):
                if add(i, 1) != i + 1:
                    raise SystemExit("numeric_call: wrong result")
            ns.append((time.perf_counter_ns() - t0) / a.batch)
        rows.append({"row": "numeric_call", "ns": ns})

        fn = echo_inst.func("echo")
        data = b"x" * 32
        for _ in range(1000):
            fn.call_bytes(data)
        ns = []
        call_bytes = fn.call_bytes
        for _ in range(a.reps):
            t0 = time.perf_counter_ns()
            for _ in range(a.batch):
                if len(call_bytes(data)) != 32:
                    raise SystemExit("bytes_echo_32B: wrong length")
            ns.append((time.perf_counter_ns() - t0) / a.batch)
        rows.append({"row": "bytes_echo_32B", "ns": ns})
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
