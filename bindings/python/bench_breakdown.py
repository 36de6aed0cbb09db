"""Where a call's time goes (the figures of README.md "Where the time
goes"): the pieces of `add(i, 1)` and of a 32-byte echo through the fast
path, each timed alone in one process, loop overhead taken off.

    WASMPLUG_PREFIX=... WP_FIXTURES=tests/fixtures WASMPLUG_PY_FAST_DIR=... \\
        PYTHONPATH=bindings/python python3 bindings/python/bench_breakdown.py

It reaches into the binding's internals (it is a measuring tool, not an
example). With WASMPLUG_PY_FFI=ctypes it times the whole calls only."""
import os
import statistics
import time

import wasmplug
from wasmplug import _fast

N = 200_000


def per_call(loop, reps=9):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        loop()
        out.append((time.perf_counter_ns() - t0) / N)
    return statistics.median(out)


def main():
    fx = os.environ["WP_FIXTURES"]
    with wasmplug.Engine() as e, e.load(os.path.join(fx, "numeric.wat")) as p, \
            p.instance() as inst, e.load(os.path.join(fx, "echo.wat")) as ep, \
            ep.instance() as einst:
        add = inst.func("add")
        echo = einst.func("echo")
        echo.call_bytes(b"")                 # makes the call_bytes closure
        call, call_bytes, data = add.call, echo.call_bytes, b"x" * 32
        rng = range(N)

        def empty():
            for i in rng:
                pass
        base = per_call(empty)
        rows = []
        lib = _fast.lib
        if lib is not None:
            f, ci, buf = add._wpf_keep[0], inst._ci, _fast.thread_buf()[0]
            fe = echo._wpf_keep[0]
            status, try_lock, unlock, i2 = (lib.wpf_status, lib.wpf_try_lock, lib.wpf_unlock,
                                            lib.wpf_call_i2)
            cbytes = lib.wpf_call_bytes

            def noop():
                for i in rng:
                    status()

            def lock():
                for i in rng:
                    try_lock(ci)
                    unlock(ci)

            def raw():
                for i in rng:
                    i2(f, i, 1)

            def raw_bytes():
                for i in rng:
                    cbytes(fe, data, 32, buf, 4096, 0)
            rows += [("cffi call of a C function doing nothing (GIL released and taken back)",
                      per_call(noop)),
                     ("wpf_try_lock + wpf_unlock from Python (two cffi calls)", per_call(lock)),
                     ("wpf_call_i2(f, i, 1): cffi + C lock + closed check + the wasm call",
                      per_call(raw)),
                     ("wpf_call_bytes(...) 32 B: cffi + lock + the call + copy out",
                      per_call(raw_bytes))]

        def handle():
            for i in rng:
                call(i, 1)

        def whole():
            for i in rng:
                add(i, 1)

        def bytes_():
            for i in rng:
                call_bytes(data)
        rows += [("add.call(i, 1): the handle's closure", per_call(handle)),
                 ("add(i, 1): through BoundFunc.__call__ (what bench.sh times)", per_call(whole)),
                 ("echo.call_bytes(32 bytes)", per_call(bytes_))]
    print(f"path: {wasmplug.fast_path()}; an empty loop iteration ({base:.0f} ns) taken off")
    for name, ns in rows:
        print(f"{ns - base:8.0f} ns  {name}")


if __name__ == "__main__":
    main()
