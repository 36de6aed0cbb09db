#!/usr/bin/env python3
"""bench/http/run.py - `make bench-http`: HTTP throughput of `wasmplug serve`.

wrk on loopback against one server at a time, every server answering GET
/hello with the project's hello handler:

  a  http_native_c               a C handler compiled into a program that embeds
                                 the server (bench/http/native.c): the ceiling
  b  http_wasi_c_fresh           http-hello-c-wasi.wasm (wasi:http) via wasmplug
                                 serve, a fresh instance per request
  c  http_own_c_reuse            http-hello-c-wasmplug.wasm (wasmplug:http), reused
  d  http_core_c_reuse           http-hello-c.wasm (core, bytes ABI), reused
  e  http_wasmtime_serve_c       `wasmtime serve` 48.0.8 on the file of (b)
  f  http_python_fresh           http-hello-python.wasm via wasmplug serve, fresh
     http_python_reuse           ... reused
     http_wasmtime_serve_python  `wasmtime serve -S cli=y` on the same file
  g  http_filter_none            the native handler of (a), no filter: the
                                 baseline of the filter rows
     http_filter_rust            ... behind one Proxy-Wasm header filter,
                                 pw-headers-rust.wasm (Rust SDK)
     http_filter_go              ... behind pw-headers-go.wasm (Go SDK)
     http_filter_chain3          ... behind a chain of three pw-headers-rust.wasm

Targets: b >= 1.2 x e (rps); c and d >= 0.5 x a; python reused >= 10 x
wasmtime serve on the same file; one Rust header filter adds <= 3 us per
request at p50 (g). Rows are interleaved over several rounds
(noise on a 2-vCPU box is about +-20%), in a rotated order each round; each
sample starts its server, waits until it answers (curl), checks the answer
is the expected hello, warms up, runs wrk, checks the answer again, and stops
the server (SIGTERM). A row whose server fails or answers wrong is an error,
not a number; a row whose plugin or server is not built is skipped.

The filter rows (g) run bench/http/native.c with --filter (the server's
filter_chain) and --echo: every filter sets the request header
x-bench-request (the client sends "x-bench-request: client") and one
response header of its own, and adds x-filtered-by; the checks before and
after the run want the hello body, every response header the filters set,
one x-filtered-by per filter, and the request header as the last filter set
it (echoed by the handler), so a row whose filters did not run is an error.
Each of their samples runs two servers one after the other. Unloaded: the
server and the client, bench/http/latency.c (wasmplug-bench-latency: one
keep-alive connection, one request at a time, nanosecond timing), pinned
to one CPU (taskset) for --latency-duration s; p50 and p99 are one
request's latency in microseconds. Loaded: an unpinned server and wrk (the
usual -t/-c, for --filter-duration s): rps, p50, p99.
Why pinned: unpinned, one request at a time on this 2-vCPU VM, a request's
latency is mostly the wake-up of an idle vCPU, and whether the client and
the server share a CPU changes from run to run, so the same server measures
53 us in one run and 58 us in the next, and 24 or 55 us inside one run
depending on where the scheduler puts it. On one CPU there is no idle vCPU
to wake: the latency is the server's own work per request, the client's,
two context switches and loopback TCP, and repeats to about 0.1 us, which
is what a difference of a few microseconds needs.
added_us_p50 is p50(row) - p50(http_filter_none) of the same round, median
over the rounds (likewise added_us_p99); added_us_mean does the same with
the mean time per request.

The table goes to stdout, the figures to --out (build/bench/http.json), in
the shape of build/bench/core.json (bench/harness.c): name, unit ("rps"),
median, min, max, reps, and baseline, baseline_median, ratio, target_of,
target, met where they apply; plus p50_ms and p99_ms (medians over the
rounds) and target_cmp (">=": here higher is better). The filter rows give
two entries each: NAME (unit "rps", loaded, as above, baseline
http_filter_none) and NAME_latency (unit "us": median/min/max of the p50s;
p50_us, p99_us, rps and mean_us at one connection; baseline
http_filter_none_latency, added_us_p50, added_us_p99, added_us_mean,
added_us_p50_per_round; target_of "added_us_p50", target_cmp "<=",
target, met where a target applies). Python 3 stdlib only.

  bench/http/run.py [--build DIR] [--out PATH] [--quick] [--rounds N]
                    [--threads T] [--connections C] [--duration S]
                    [--rows a,b,c,d,e,f,g | names] [--wasmtime PATH]
                    [--latency-duration S] [--filter-duration S] ...
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PATH = "/hello"
# Every hello handler answers GET with this (the language and kind vary).
HELLO_RE = re.compile(r"Hello from [^\n]+! You asked for GET /hello\n")


class Row:
    def __init__(self, key, name, title, server, plugin=None, instances=None,
                 body_re=HELLO_RE, baseline=None, target=None, filters=None,
                 target_us=None):
        self.key, self.name, self.title = key, name, title
        self.server = server          # "native", "wasmplug" or "wasmtime"
        self.plugin = plugin          # file name in BUILD/plugins
        self.instances = instances    # wasmplug serve --instances
        self.body_re = body_re
        self.baseline, self.target = baseline, target  # row name, ratio >= target
        # Filter rows (native server only): a list of (filter file name in
        # BUILD/plugins, its config), [] for none; None for the other rows.
        self.filters = filters
        self.target_us = target_us    # added_us_p50 <= target_us
        self.samples = []             # (rps, p50_ms, p99_ms) per round
        self.lat_samples = {}         # filter rows: round -> (rps, p50_ms, p99_ms), pinned, one at a time
        self.skipped = None           # reason
        self.error = None             # reason
        self.warnings = []

    @property
    def latency(self):
        return self.filters is not None

    def client_headers(self):
        """What the client (curl and wrk) sends besides Host."""
        return {ECHO_HEADER: CLIENT_VALUE} if self.latency else {}

    def expected_headers(self):
        """Response headers the filters must have put, name -> list of values
        (in the order they were added), for the checks."""
        if not self.latency:
            return {}
        want = {}
        if self.filters:
            # Responses go back through the chain: the last filter adds first.
            want["x-filtered-by"] = ["go" if "-go" in plugin else "rust"
                                     for plugin, _ in reversed(self.filters)]
        echo = CLIENT_VALUE
        for plugin, config in self.filters:
            echo = config["request"]["set"][ECHO_HEADER]
            for name, value in config["response"]["set"].items():
                want[name] = [value]
        want["x-bench-echo"] = [echo]
        return want


PY_RE = re.compile(r"Hello from Python \(wasi:http\)! You asked for GET /hello\n")
NATIVE_RE = re.compile(r"Hello from C \(native\)! You asked for GET /hello\n")
# The filter rows: the request header every filter rewrites (the client sends
# it, the native handler echoes it back in x-bench-echo).
ECHO_HEADER = "x-bench-request"
CLIENT_VALUE = "client"
RUST_FILTER = "pw-headers-rust.wasm"
GO_FILTER = "pw-headers-go.wasm"


def header_filter(plugin, request_value, response_header, response_value):
    """A header filter (examples/proxywasm/README.md, "headers") rewriting one
    request header and setting one response header."""
    return (plugin, {"request": {"set": {ECHO_HEADER: request_value}},
                     "response": {"set": {response_header: response_value}}})


ROWS = [
    Row("a", "http_native_c", "native C handler in the server", "native"),
    Row("b", "http_wasi_c_fresh", "C wasi:http, wasmplug serve, fresh", "wasmplug",
        "http-hello-c-wasi.wasm", "fresh", baseline="http_wasmtime_serve_c", target=1.2),
    Row("c", "http_own_c_reuse", "C wasmplug:http, wasmplug serve, reused", "wasmplug",
        "http-hello-c-wasmplug.wasm", "reuse", baseline="http_native_c", target=0.5),
    Row("d", "http_core_c_reuse", "C core module, wasmplug serve, reused", "wasmplug",
        "http-hello-c.wasm", "reuse", baseline="http_native_c", target=0.5),
    Row("e", "http_wasmtime_serve_c", "C wasi:http, wasmtime serve", "wasmtime",
        "http-hello-c-wasi.wasm"),
    Row("f-fresh", "http_python_fresh", "Python wasi:http, wasmplug serve, fresh", "wasmplug",
        "http-hello-python.wasm", "fresh", PY_RE, baseline="http_wasmtime_serve_python"),
    Row("f-reuse", "http_python_reuse", "Python wasi:http, wasmplug serve, reused", "wasmplug",
        "http-hello-python.wasm", "reuse", PY_RE, baseline="http_wasmtime_serve_python",
        target=10),
    Row("f-wasmtime", "http_wasmtime_serve_python", "Python wasi:http, wasmtime serve",
        "wasmtime", "http-hello-python.wasm", body_re=PY_RE),
    Row("g-none", "http_filter_none", "native handler, no filter", "native",
        body_re=NATIVE_RE, filters=[]),
    Row("g-rust", "http_filter_rust", "native handler, 1 Rust header filter", "native",
        body_re=NATIVE_RE, baseline="http_filter_none", target_us=3,
        filters=[header_filter(RUST_FILTER, "rust", "x-bench-response", "rust")]),
    Row("g-go", "http_filter_go", "native handler, 1 Go header filter", "native",
        body_re=NATIVE_RE, baseline="http_filter_none",
        filters=[header_filter(GO_FILTER, "go", "x-bench-response", "go")]),
    Row("g-chain3", "http_filter_chain3", "native handler, 3 Rust header filters", "native",
        body_re=NATIVE_RE, baseline="http_filter_none",
        filters=[header_filter(RUST_FILTER, f"chain-{i}", f"x-bench-chain-{i}", str(i))
                 for i in (1, 2, 3)]),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class RowError(Exception):
    pass


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(url, timeout=5.0, headers=None):
    """(status, headers dict: lower-case name -> list of values, body bytes), or
    None if nothing answered."""
    extra = [a for name, value in (headers or {}).items() for a in ("-H", f"{name}: {value}")]
    try:
        p = subprocess.run(["curl", "-s", "-S", "-i", "--max-time", str(timeout), *extra, url],
                           capture_output=True, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0:
        return None
    head, sep, body = p.stdout.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/\S+ (\d{3})", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(m.group(1)), headers, body


def check_answer(row, answer, when):
    if answer is None:
        raise RowError(f"{when}: no HTTP answer")
    status, headers, body = answer
    text = body.decode("utf-8", "replace")
    if status != 200:
        raise RowError(f"{when}: status {status}, body {text[:200]!r}")
    if not row.body_re.fullmatch(text):
        raise RowError(f"{when}: unexpected body {text[:200]!r} (expected /{row.body_re.pattern}/)")
    if "x-wasmplug-example" not in headers:
        raise RowError(f"{when}: no x-wasmplug-example header (headers: {sorted(headers)})")
    for name, want in row.expected_headers().items():
        got = headers.get(name)
        if got != want:
            what = "the filters did not run" if name == "x-filtered-by" or not got \
                else "the filters did not do what their config says"
            raise RowError(f"{when}: {name}: {got!r}, expected {want!r} ({what}; response "
                           f"headers: {headers})")


class Server:
    """One server process for one sample; stopped with SIGTERM."""

    def __init__(self, cmd, log_path):
        self.cmd = cmd
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.log.write(f"\n$ {shlex.join(cmd)}\n".encode())
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def log_tail(self, n=15):
        self.log.flush()
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in lines[-n:])

    def wait_ready(self, url, timeout, headers=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RowError(f"the server exited with status {self.proc.returncode} before "
                               f"answering:\n{self.log_tail()}")
            answer = curl(url, timeout=2.0, headers=headers)
            if answer is not None:
                return answer
            time.sleep(0.1)
        raise RowError(f"the server did not answer within {timeout:g} s:\n{self.log_tail()}")

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL after `grace` s. Returns a warning or None."""
        warning = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                warning = f"did not exit within {grace:g} s of SIGTERM (killed)"
        if warning is None and self.proc.returncode not in (0, -signal.SIGTERM):
            warning = f"exited with status {self.proc.returncode} on SIGTERM"
        self.log.close()
        return warning


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------

UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise RowError(f"wrk: cannot read the latency {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def run_wrk(args, url, duration, threads=None, connections=None, headers=None):
    """(rps, p50 ms, p99 ms, socket errors or None). wrk prints latencies with
    two decimals in its unit (41.00us, 1.23ms): to_ms keeps that precision."""
    extra = [a for name, value in (headers or {}).items() for a in ("-H", f"{name}: {value}")]
    cmd = ["wrk", f"-t{threads or args.threads}", f"-c{connections or args.connections}",
           f"-d{duration}s", f"--timeout={args.wrk_timeout}s", "--latency", *extra, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if p.returncode != 0:
        raise RowError(f"wrk failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    out = p.stdout
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (rps and p50 and p99):
        raise RowError(f"wrk: cannot read its output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx and int(non2xx.group(1)):
        raise RowError(f"{non2xx.group(1)} responses were not 2xx during the run")
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return float(rps.group(1)), to_ms(p50.group(1)), to_ms(p99.group(1)), \
        socket_errors.group(1) if socket_errors else None


# --------------------------------------------------------------------------
# The rows' commands
# --------------------------------------------------------------------------

def build_latency_tool(args):
    """BUILD/bench/wasmplug-bench-latency from bench/http/latency.c (libc only)."""
    src = os.path.join(HERE, "latency.c")
    out = os.path.join(args.build, "bench", "wasmplug-bench-latency")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = [os.environ.get("CC", "cc"), "-std=c11", "-O2", "-Wall", "-Wextra", src, "-o", out]
    log("bench-http: " + shlex.join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RowError(f"building latency.c failed:\n{p.stderr}")
    return out


def build_native(args):
    """BUILD/bench/wasmplug-bench-http-native from bench/http/native.c, or the
    binary a CMake target put in BUILD/bin. Raises RowError (skip) if the
    server library is not built."""
    prebuilt = os.path.join(args.build, "bin", "wasmplug-bench-http-native")
    if os.path.exists(prebuilt):
        return prebuilt
    lib = None
    for name in ("libwasmplug_server.a", "libwasmplug_server.so"):
        for d in ("lib", "server", "."):
            if os.path.exists(os.path.join(args.build, d, name)):
                lib = os.path.join(args.build, d, name)
                break
        if lib:
            break
    if not lib:
        for dirpath, _, files in os.walk(args.build):
            if "libwasmplug_server.a" in files:
                lib = os.path.join(dirpath, "libwasmplug_server.a")
                break
    if not lib:
        raise RowError(f"no libwasmplug_server in {args.build} (the server library is not built)")
    src = os.path.join(HERE, "native.c")
    out = os.path.join(args.build, "bench", "wasmplug-bench-http-native")
    if os.path.exists(out) and os.path.getmtime(out) >= max(os.path.getmtime(src),
                                                           os.path.getmtime(lib)):
        return out
    libdir = os.path.join(os.path.abspath(args.build), "lib")
    wasmtime_lib = os.path.join(os.path.abspath(args.build), "deps", "wasmtime", "lib")
    # The server library's own dependencies (server/CMakeLists.txt): libcurl
    # for upstream routes and the filters' outgoing calls.
    pkgs = ["libmicrohttpd", "libcurl", "libcjson"]
    pkg = subprocess.run(["pkg-config", "--cflags", "--libs", *pkgs], capture_output=True, text=True)
    if pkg.returncode != 0:
        raise RowError(f"pkg-config {' '.join(pkgs)}: {pkg.stderr.strip()}")
    cmd = [os.environ.get("CC", "cc"), "-std=c11", "-O2", "-Wall", "-Wextra",
           "-I", os.path.join(ROOT, "include"), src, "-o", out, lib, "-L", libdir, "-lwasmplug",
           *pkg.stdout.split(), "-lpthread", f"-Wl,-rpath,{libdir}", f"-Wl,-rpath,{wasmtime_lib}"]
    log("bench-http: " + shlex.join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RowError(f"building native.c failed:\n{p.stderr}")
    if p.stderr.strip():
        log(p.stderr.rstrip())
    return out


def prepare(rows, args):
    """Finds what each row needs; sets row.skipped when something is missing."""
    plugins = os.path.join(args.build, "plugins")
    wasmplug = os.path.join(args.build, "bin", "wasmplug")
    wasmplug_ok = None
    if os.path.exists(wasmplug):
        p = subprocess.run([wasmplug, "serve", "--help"], capture_output=True, text=True)
        wasmplug_ok = p.returncode == 0
    native = None
    config_dir = os.path.join(args.build, "bench", "http-filters")
    for row in rows:
        missing = [f for f in [row.plugin] + [p for p, _ in row.filters or []]
                   if f and not os.path.exists(os.path.join(plugins, f))]
        if missing:
            row.skipped = f"{missing[0]} is not built"
        elif row.server == "wasmplug" and not wasmplug_ok:
            row.skipped = f"{wasmplug} serve is not available"
        elif row.server == "wasmtime" and not (args.wasmtime and os.path.exists(args.wasmtime)):
            row.skipped = "no wasmtime CLI (--wasmtime; deps/tools/wasmtime-cli.sh builds it)"
        elif row.server == "native":
            try:
                native = build_native(args)
            except RowError as e:
                row.skipped = str(e)
        row.plugin_path = os.path.join(plugins, row.plugin) if row.plugin else None
        # The filter rows' --filter FILE,config=JSON-FILE arguments.
        row.filter_specs = []
        for i, (plugin, config) in enumerate(row.filters or []):
            os.makedirs(config_dir, exist_ok=True)
            path = os.path.join(config_dir, f"{row.name}-{i + 1}.json")
            with open(path, "w") as f:
                json.dump(config, f)
                f.write("\n")
            row.filter_specs.append(f"{os.path.join(plugins, plugin)},config={path}")
    return wasmplug, native


def command(row, args, port, wasmplug, native, pinned=False):
    listen = f"127.0.0.1:{port}"
    if row.server == "native":
        cmd = [native, "--listen", listen, "--workers", str(args.workers)]
        if pinned:
            cmd = ["taskset", "-c", str(args.cpu)] + cmd
        if row.latency:
            cmd += ["--echo", ECHO_HEADER]
            for spec in row.filter_specs:
                cmd += ["--filter", spec]
        return cmd
    if row.server == "wasmtime":
        # -S cli=y: the guests built with a WASI adapter or a language runtime
        # import wasi:cli too (it changes nothing for the others).
        return [args.wasmtime, "serve", "-S", "cli=y", "--addr", listen, row.plugin_path]
    # No access log: a line per request is not the cost measured here (and
    # neither wasmtime serve nor the native row writes one).
    return [wasmplug, "serve", row.plugin_path, "--listen", listen, "--workers",
            str(args.workers), "--instances", row.instances, "--access-log", "off",
            *shlex.split(args.serve_args)]


def run_latency(args, port, headers):
    """(rps, p50 ms, p99 ms) of one request at a time from wasmplug-bench-latency,
    pinned to args.cpu like the server (rps = 1e6 / mean us)."""
    extra = [a for name, value in headers.items() for a in ("--header", f"{name}: {value}")]
    cmd = ["taskset", "-c", str(args.cpu), args.latency_tool, "--duration",
           str(args.latency_duration), "--warmup", "1", "--path", PATH, *extra,
           f"127.0.0.1:{port}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.latency_duration + 60)
    if p.returncode != 0:
        raise RowError(f"wasmplug-bench-latency failed ({p.returncode}): {p.stderr.strip()}")
    s = json.loads(p.stdout)["servers"][0]
    return 1e6 / s["mean_us"], s["p50_us"] / 1e3, s["p99_us"] / 1e3


def sample(row, args, wasmplug, native, log_dir):
    """The loaded (rps, p50 ms, p99 ms), or None for a filter row with
    --filter-duration 0; and for a filter row the unloaded one (pinned, one
    request at a time), else None."""
    headers = row.client_headers()
    loaded = lat = None
    errors = []
    if row.latency:
        port = free_port()
        url = f"http://127.0.0.1:{port}{PATH}"
        server = Server(command(row, args, port, wasmplug, native, pinned=True),
                        os.path.join(log_dir, f"{row.name}.log"))
        try:
            check_answer(row, server.wait_ready(url, args.ready_timeout, headers), "first answer")
            lat = run_latency(args, port, headers)
            check_answer(row, curl(url, headers=headers), "answer after the pinned run")
            if server.proc.poll() is not None:
                raise RowError(f"the server exited during the run:\n{server.log_tail()}")
        finally:
            warning = server.stop()
            if warning:
                row.warnings.append(f"server {warning}")
    duration = args.filter_duration if row.latency else args.duration
    if duration <= 0:
        return loaded, lat
    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    server = Server(command(row, args, port, wasmplug, native),
                    os.path.join(log_dir, f"{row.name}.log"))
    try:
        check_answer(row, server.wait_ready(url, args.ready_timeout, headers), "first answer")
        if args.warmup > 0:
            run_wrk(args, url, args.warmup, headers=headers)
        *loaded, socket_errors = run_wrk(args, url, duration, headers=headers)
        errors.append(socket_errors)
        check_answer(row, curl(url, headers=headers), "answer after the run")
        if server.proc.poll() is not None:
            raise RowError(f"the server exited during the run:\n{server.log_tail()}")
    finally:
        warning = server.stop()
        if warning:
            row.warnings.append(f"server {warning}")
    for socket_errors in errors:
        if socket_errors and not re.fullmatch(r"connect 0, read 0, write 0, timeout 0",
                                              socket_errors):
            row.warnings.append(f"wrk socket errors: {socket_errors}")
    return loaded, lat


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

def summarize(rows):
    by_name = {r.name: r for r in rows}
    results = []
    for r in rows:
        if r.skipped or r.error or not r.samples:
            continue
        rps = sorted(s[0] for s in r.samples)
        res = {"name": r.name, "unit": "rps", "median": statistics.median(rps),
               "min": rps[0], "max": rps[-1], "reps": len(rps),
               "p50_ms": statistics.median(s[1] for s in r.samples),
               "p99_ms": statistics.median(s[2] for s in r.samples)}
        results.append(res)
        r.result = res
    for r in rows:
        res = getattr(r, "result", None)
        if not res or not r.baseline:
            continue
        base = getattr(by_name.get(r.baseline), "result", None)
        if base:
            res["baseline"] = base["name"]
            res["baseline_median"] = base["median"]
            res["ratio"] = res["median"] / base["median"] if base["median"] > 0 else 0
        if r.target is not None:
            res["target_of"] = "ratio"
            res["target_cmp"] = ">="
            res["target"] = r.target
            res["met"] = bool(base) and res["ratio"] >= r.target
    results += summarize_latency(rows)
    return results


def summarize_latency(rows):
    """The filter rows' unloaded figures (r.lat_result): p50 and p99 in us,
    and what each adds to its baseline's p50 and p99, round by round."""
    by_name = {r.name: r for r in rows}
    results = []
    for r in rows:
        if r.skipped or r.error or not r.lat_samples:
            continue
        p50s = sorted(1e3 * s[1] for s in r.lat_samples.values())
        res = {"name": f"{r.name}_latency", "unit": "us", "median": round(statistics.median(p50s), 3),
               "min": round(p50s[0], 3), "max": round(p50s[-1], 3), "reps": len(p50s),
               "p50_ms": statistics.median(s[1] for s in r.lat_samples.values()),
               "p99_ms": statistics.median(s[2] for s in r.lat_samples.values()),
               "p50_us": round(statistics.median(p50s), 3),
               "p99_us": round(statistics.median(1e3 * s[2] for s in r.lat_samples.values()), 3),
               "rps": statistics.median(s[0] for s in r.lat_samples.values()),
               "mean_us": round(statistics.median(1e6 / s[0] for s in r.lat_samples.values()), 3),
               "threads": 1, "connections": 1}
        results.append(res)
        r.lat_result = res
    for r in rows:
        res = getattr(r, "lat_result", None)
        if not res or not r.baseline:
            continue
        base = by_name.get(r.baseline)
        base_res = getattr(base, "lat_result", None)
        # The same round's baseline sample.
        rounds = sorted(set(r.lat_samples) & set(base.lat_samples)) if base_res else []
        if rounds:
            res["baseline"] = base_res["name"]
            res["baseline_median"] = base_res["median"]
            res["ratio"] = res["median"] / base_res["median"] if base_res["median"] > 0 else 0
            for i, key in ((1, "added_us_p50"), (2, "added_us_p99")):
                res[key] = round(statistics.median(
                    1e3 * (r.lat_samples[n][i] - base.lat_samples[n][i]) for n in rounds), 3)
            res["added_us_p50_per_round"] = [
                round(1e3 * (r.lat_samples[n][1] - base.lat_samples[n][1]), 3) for n in rounds]
            # One connection: 1e6 / rps is the mean time per request (wrk's
            # own turnaround included), not quantized to wrk's 1 us buckets,
            # but pulled by outliers.
            res["added_us_mean"] = round(statistics.median(
                1e6 / r.lat_samples[n][0] - 1e6 / base.lat_samples[n][0] for n in rounds), 3)
        if r.target_us is not None:
            res["target_of"] = "added_us_p50"
            res["target_cmp"] = "<="
            res["target"] = r.target_us
            res["met"] = "added_us_p50" in res and res["added_us_p50"] <= r.target_us
    return results


def print_table(rows, args):
    print(f"\n{'name':<28} {'median':>10}  {'unit':<5} {'p50 ms':>8} {'p99 ms':>8}  "
          f"{'baseline':<28} {'ratio':>6}  {'target':<12} {'status':<8} spread/reps")
    for r in rows:
        res = getattr(r, "result", None)
        if not res:
            why = f"skipped: {r.skipped}" if r.skipped else f"ERROR: {r.error}" if r.error else \
                "no loaded run (--filter-duration 0)" if r.latency and not args.filter_duration else "-"
            print(f"{r.name:<28} {'-':>10}  {'':<5} {'':>8} {'':>8}  {why.splitlines()[0]}")
            continue
        ratio = f"{res['ratio']:.3g}" if "ratio" in res else "-"
        target = f"ratio >= {r.target:g}" if r.target is not None else "-"
        status = "-" if r.target is None else ("met" if res.get("met") else "not met")
        spread = 100 * (res["max"] - res["min"]) / res["median"] if res["median"] else 0
        print(f"{r.name:<28} {res['median']:>10.0f}  {'rps':<5} {res['p50_ms']:>8.3f} "
              f"{res['p99_ms']:>8.3f}  {res.get('baseline', '-'):<28} {ratio:>6}  "
              f"{target:<12} {status:<8} {spread:.0f}%/{res['reps']}")
    filter_note = ""
    if any(r.latency for r in rows):
        filter_note = (f"; the http_filter_* rows -d{args.filter_duration}s" if args.filter_duration
                       else "; the http_filter_* rows: no loaded run (--filter-duration 0)")
    print(f"(wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency{filter_note}, "
          f"GET {PATH}, {args.rounds} round(s), {os.cpu_count()} CPUs shared by wrk and the server"
          f"{'; --quick: a smoke test, not figures' if args.quick else ''})")
    lat_rows = [r for r in rows if r.latency]
    if lat_rows:
        print_latency_table(lat_rows, args)


def print_latency_table(rows, args):
    print(f"\nfilters in front of the native handler, unloaded (one request at a time for "
          f"{args.latency_duration} s, client and server pinned to CPU {args.cpu}):")
    print(f"{'name':<28} {'p50 us':>8} {'p99 us':>8} {'rps':>8} {'mean us':>8}  {'+p50 us':>8} "
          f"{'+p99 us':>8} {'+mean us':>8}  {'target':<14} {'status':<8} spread/reps")
    for r in rows:
        res = getattr(r, "lat_result", None)
        if not res:
            why = f"skipped: {r.skipped}" if r.skipped else f"ERROR: {r.error}" if r.error else "-"
            print(f"{r.name:<28} {'-':>8}  {why.splitlines()[0]}")
            continue
        added50 = f"{res['added_us_p50']:+.2f}" if "added_us_p50" in res else "-"
        added99 = f"{res['added_us_p99']:+.2f}" if "added_us_p99" in res else "-"
        added_mean = f"{res['added_us_mean']:+.2f}" if "added_us_mean" in res else "-"
        target = f"+p50 <= {r.target_us:g} us" if r.target_us is not None else "-"
        status = "-" if r.target_us is None else ("met" if res.get("met") else "not met")
        spread = 100 * (res["max"] - res["min"]) / res["median"] if res["median"] else 0
        print(f"{r.name:<28} {res['p50_us']:>8.1f} {res['p99_us']:>8.1f} {res['rps']:>8.0f} "
              f"{res['mean_us']:>8.2f}  {added50:>8} {added99:>8} {added_mean:>8}  {target:<14} "
              f"{status:<8} {spread:.0f}%/{res['reps']}")
    # The target, with the Go filter and the chain beside it.
    by_key = {r.key: getattr(r, "lat_result", None) or {} for r in rows}
    def added(key):
        v = by_key.get(key, {}).get("added_us_p50")
        return f"{v:+.1f} us" if v is not None else "-"
    rust = by_key.get("g-rust", {})
    if "g-rust" in by_key:
        status = "no figure" if "added_us_p50" not in rust else "met" if rust.get("met") else "not met"
        print(f"target: one Rust header filter adds <= 3 us per request at p50: {added('g-rust')}, "
              f"{status} (Go header filter: {added('g-go')}, no target; chain of three Rust: "
              f"{added('g-chain3')}; median over rounds of p50(row) - p50(http_filter_none) in "
              f"the same round, client and server pinned to one CPU)")


# --------------------------------------------------------------------------

def select_rows(spec):
    if not spec:
        return list(ROWS)
    wanted = []
    for item in spec.split(","):
        item = item.strip()
        match = [r for r in ROWS if r.key == item or r.name == item or
                 (item in ("f", "g") and r.key.startswith(item + "-"))]
        if not match:
            keys = ", ".join([r.key for r in ROWS] + ["f", "g"])
            sys.exit(f"bench-http: unknown row {item!r} (rows: {keys}, or a row's name)")
        wanted += [r for r in match if r not in wanted]
    return [r for r in ROWS if r in wanted]  # in the table's order


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory")
    ap.add_argument("--out", help="JSON output (default BUILD/bench/http.json)")
    ap.add_argument("--quick", action="store_true", help="one short round: a smoke test")
    ap.add_argument("--rounds", type=int, help="rounds (default 5; --quick 1)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--connections", type=int, default=50, help="wrk -c (default 50)")
    ap.add_argument("--duration", type=int, help="wrk -d in seconds (default 5; --quick 1)")
    ap.add_argument("--warmup", type=int, help="seconds of wrk before each sample (default 1; --quick 0)")
    ap.add_argument("--wrk-timeout", type=int, default=10, help="wrk --timeout in seconds")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="server worker threads (default: the number of CPUs)")
    ap.add_argument("--rows", help="comma-separated rows: a,b,c,d,e,f (f-fresh,f-reuse,f-wasmtime),"
                    "g (g-none,g-rust,g-go,g-chain3: the filter rows) or names")
    ap.add_argument("--latency-duration", type=int,
                    help="filter rows: seconds of the pinned one-request-at-a-time run "
                         "(default 3; --quick 1)")
    ap.add_argument("--cpu", type=int,
                    help="filter rows: the CPU the pinned run uses (default: the last one)")
    ap.add_argument("--filter-duration", type=int,
                    help="filter rows: the loaded run's wrk -d in seconds, 0 for none "
                         "(default 3; --quick 1)")
    ap.add_argument("--wasmtime", help="the wasmtime 48.0.8 CLI (deps/tools/wasmtime-cli.sh)")
    ap.add_argument("--serve-args", default="", help="more arguments for every `wasmplug serve`")
    ap.add_argument("--ready-timeout", type=float, default=180,
                    help="seconds to wait for a server's first answer (compiling Python takes a while)")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.duration = args.duration or (1 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    args.latency_duration = args.latency_duration or (1 if args.quick else 3)
    if args.filter_duration is None:
        args.filter_duration = 1 if args.quick else 3
    args.out = args.out or os.path.join(args.build, "bench", "http.json")
    if args.cpu is None:
        args.cpu = max(os.sched_getaffinity(0))
    for tool in ("wrk", "curl", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"bench-http: {tool} is required (deps/setup.sh installs it)")

    rows = select_rows(args.rows)
    log_dir = os.path.join(args.build, "bench", "http-logs")
    os.makedirs(log_dir, exist_ok=True)
    for f in os.listdir(log_dir):
        if f.endswith(".log"):
            os.unlink(os.path.join(log_dir, f))
    wasmplug, native = prepare(rows, args)
    if any(r.latency and not r.skipped for r in rows):
        try:
            args.latency_tool = build_latency_tool(args)
        except RowError as e:
            for r in rows:
                if r.latency and not r.skipped:
                    r.skipped = str(e)
    for r in rows:
        if r.skipped:
            log(f"bench-http: {r.name}: skipped: {r.skipped}")

    active = [r for r in rows if not r.skipped]
    for rnd in range(args.rounds):
        shift = rnd % len(active) if active else 0
        for row in active[shift:] + active[:shift]:
            if row.error:
                continue
            try:
                loaded, lat = sample(row, args, wasmplug, native, log_dir)
            except (RowError, OSError, subprocess.SubprocessError) as e:
                row.error = str(e)
                log(f"bench-http: round {rnd + 1}: {row.name}: ERROR: {e}")
                continue
            if lat:
                row.lat_samples[rnd] = tuple(lat)
                log(f"bench-http: round {rnd + 1}/{args.rounds}: {row.name:<28} {lat[0]:10.0f} rps"
                    f"  p50 {1e3 * lat[1]:.2f} us  p99 {1e3 * lat[2]:.2f} us  (pinned, one at a time)")
            if loaded:
                rps, p50, p99 = loaded
                row.samples.append((rps, p50, p99))
                log(f"bench-http: round {rnd + 1}/{args.rounds}: {row.name:<28} {rps:10.0f} rps"
                    f"  p50 {p50:.3f} ms  p99 {p99:.3f} ms")

    results = summarize(rows)
    print_table(rows, args)
    for r in rows:
        for w in dict.fromkeys(r.warnings):
            print(f"warning: {r.name}: {w}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    os.replace(args.out + ".tmp", args.out)
    print(f"figures in {args.out}; server logs in {log_dir}")
    errors = [r for r in rows if r.error]
    for r in errors:
        print(f"error: {r.name}: {r.error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
