"""wasmplug serve: TCP listeners ("tcp"), which proxy connections to an
upstream through Proxy-Wasm network filters. A real TCP echo upstream (a
socket server thread in this script) behind the real server, with the
example `tcp` filter (examples/proxywasm/README.md, "tcp"): bytes round-trip,
the filter's prefix reaches the upstream, its log lines count the bytes both
ways and see both closes, concurrent connections, an upstream that is down,
a big transfer with backpressure, a reload that changes "tcp" (refused) and
a prompt shutdown with connections open.

Skipped (exit 77) when build/plugins/pw-tcp-rust.wasm was not built."""
import hashlib
import threading

from serve_lib import *

TCP_FILTER = plugin("pw-tcp-rust.wasm") if PLUG else None


class Echo:
    """A TCP server that sends back what it reads. Keeps what each
    connection received (in accept order) and counts the connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.received.append(bytearray())
                got = self.received[-1]
            threading.Thread(target=self.echo, args=(conn, got), daemon=True).start()

    def echo(self, conn, got):
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                with self.lock:
                    got.extend(data)
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def count(self):
        with self.lock:
            return len(self.received)


def tcp_ports(server):
    """The TCP listeners' ports, in config order, from the server's log."""
    return [int(p) for p in re.findall(r"tcp listening on 127\.0\.0\.1:(\d+)", server.log())]


def wait_log(server, pattern, timeout=10, count=1):
    end = time.time() + timeout
    while time.time() < end:
        if len(re.findall(pattern, server.log())) >= count:
            return True
        time.sleep(0.05)
    return False


def recv_exactly(s, n):
    out = bytearray()
    while len(out) < n:
        data = s.recv(min(65536, n - len(out)))
        if not data:
            break
        out.extend(data)
    return bytes(out)


def recv_all(s):
    out = bytearray()
    while True:
        data = s.recv(65536)
        if not data:
            return bytes(out)
        out.extend(data)


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def config(echo, dead_port):
    return {
        "filters": {
            "tcp": {"path": TCP_FILTER},
            "tcp-prefix": {"path": TCP_FILTER, "config": {"prefix": "PFX:"}},
            "pause": {"path": wat_file("pause.wat", PAUSE_WAT)},
            "trap": {"path": wat_file("trap.wat", TRAP_WAT)},
            "trap-open": {"path": wat_file("trap.wat", TRAP_WAT), "fail_open": True},
        },
        "tcp": [
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port, "filters": ["tcp"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port,
             "filters": ["tcp-prefix"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % dead_port, "filters": ["tcp"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port,
             "filters": ["tcp", "tcp-prefix"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port,
             "filters": ["tcp", "pause", "tcp-prefix"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port, "filters": ["trap"]},
            {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:%d" % echo.port,
             "filters": ["trap-open", "tcp-prefix"]},
        ],
        "metrics_path": "/metrics",
        "watch": True,
    }


# Network filters written here (WAT): what the example filter does not do.
WAT_HEAD = """(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $eff (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $cont (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
"""

# Pauses the new connection, downstream data until it has 8 bytes (or the
# end of the stream), and every upstream chunk; a tick (20 ms) continues the
# new connection, the end of the stream and the upstream chunks.
PAUSE_WAT = WAT_HEAD + """
  (global $init (mut i32) (i32.const 0))
  (global $down (mut i32) (i32.const 0))
  (global $up (mut i32) (i32.const 0))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $tick (i32.const 20)))
    (i32.const 1))
  (func (export "proxy_on_new_connection") (param $c i32) (result i32)
    (global.set $init (local.get $c))
    (i32.const 1))
  (func (export "proxy_on_downstream_data") (param $c i32) (param $n i32) (param $eos i32)
    (result i32)
    (if (local.get $eos) (then
      (global.set $down (local.get $c))
      (return (i32.const 1))))
    (i32.lt_u (local.get $n) (i32.const 8)))
  (func (export "proxy_on_upstream_data") (param $c i32) (param i32 i32) (result i32)
    (global.set $up (local.get $c))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (if (global.get $init) (then
      (drop (call $eff (global.get $init)))
      (drop (call $cont (i32.const 2)))
      (global.set $init (i32.const 0))))
    (if (global.get $down) (then
      (drop (call $eff (global.get $down)))
      (drop (call $cont (i32.const 2)))
      (global.set $down (i32.const 0))))
    (if (global.get $up) (then
      (drop (call $eff (global.get $up)))
      (drop (call $cont (i32.const 3)))
      (global.set $up (i32.const 0)))))
)"""

# Traps when it has exactly 5 bytes of downstream data; closes the stream
# when it has exactly 4.
TRAP_WAT = WAT_HEAD + """
  (func (export "proxy_on_downstream_data") (param $c i32) (param $n i32) (param i32) (result i32)
    (if (i32.eq (local.get $n) (i32.const 5)) (then unreachable))
    (if (i32.eq (local.get $n) (i32.const 4)) (then (drop (call $close (i32.const 2)))))
    (i32.const 0))
)"""


def wat_file(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


ECHO = None
SERVER = None
PORTS = []
CONFIG_PATH = None


def setup():
    global ECHO, SERVER, PORTS, CONFIG_PATH
    ECHO = Echo()
    doc = config(ECHO, free_port())
    CONFIG_PATH = write_config(doc, "tcp.json")
    SERVER = Server(CONFIG_PATH).start()
    PORTS = tcp_ports(SERVER)
    if len(PORTS) != 7:
        raise RuntimeError("expected 7 tcp listening lines:\n" + SERVER.log())


def filter_counts(log, what):
    """The byte counts of the filter's 'tcp: <what> N bytes' lines."""
    return [int(n) for n in re.findall(r"tcp: %s (\d+) bytes" % what, log)]


def test_round_trip_and_filter_log():
    setup()
    before = ECHO.count()
    s = connect(PORTS[0])
    msg = b"hello, proxy!"  # 13 bytes
    s.sendall(msg)
    eq(recv_exactly(s, len(msg)), msg, "the echo came back through the proxy")
    s.sendall(b"second")
    eq(recv_exactly(s, 6), b"second", "a second exchange on the same connection")
    # Half-close: the end of our stream reaches the upstream, whose end reaches us.
    s.shutdown(socket.SHUT_WR)
    eq(recv_all(s), b"", "EOF after the upstream closed")
    s.close()
    eq(ECHO.count() - before, 1, "one upstream connection")
    eq(bytes(ECHO.received[-1]), msg + b"second", "what the upstream received")
    check(wait_log(SERVER, r"tcp: upstream close"), "the filter saw the upstream close",
          SERVER.log())
    log = SERVER.log()
    check("tcp: new connection" in log, "the filter saw the new connection", log)
    eq(sum(filter_counts(log, "downstream")), 19, "downstream bytes the filter saw")
    eq(sum(filter_counts(log, "upstream")), 19, "upstream bytes the filter saw")
    check("tcp: downstream 13 bytes" in log, "the first chunk's size in the log", log)
    check("tcp: downstream close" in log and "tcp: upstream close" in log,
          "the filter saw both closes", log)


def test_prefix_reaches_upstream():
    before = ECHO.count()
    s = connect(PORTS[1])
    s.sendall(b"abc")
    eq(recv_exactly(s, 7), b"PFX:abc", "the echo of the prefixed data")
    s.sendall(b"def")  # the prefix goes once per connection
    eq(recv_exactly(s, 3), b"def", "no prefix on later data")
    s.close()
    time.sleep(0.2)
    eq(ECHO.count() - before, 1, "one upstream connection")
    eq(bytes(ECHO.received[-1]), b"PFX:abcdef", "the upstream received the prefix first")


def test_chain_of_two_filters():
    before = ECHO.count()
    s = connect(PORTS[3])
    s.sendall(b"xyz")
    eq(recv_exactly(s, 7), b"PFX:xyz", "two filters in a chain")
    s.shutdown(socket.SHUT_WR)
    eq(recv_all(s), b"", "EOF after the upstream closed")
    s.close()
    eq(bytes(ECHO.received[before]), b"PFX:xyz", "the upstream received it once prefixed")


def test_paused_filter_holds_data():
    """A filter that pauses on the new connection and on every chunk, and
    continues from a tick: nothing passes it before it continues, all of it
    does after, in order, through the filters after it."""
    before = ECHO.count()
    s = connect(PORTS[4])
    s.sendall(b"one ")
    check(wait_log(SERVER, r"tcp: downstream 4 bytes"), "the first filter passed the chunk on")
    time.sleep(0.3)
    eq(ECHO.count() - before, 1, "the upstream was connected once the filter continued")
    eq(bytes(ECHO.received[before]), b"", "nothing passed the paused filter")
    s.sendall(b"two ")
    eq(recv_exactly(s, 12), b"PFX:one two ", "the held bytes and the next ones came through")
    s.sendall(b"three four")
    eq(recv_exactly(s, 10), b"three four", "the next chunk through the filter")
    s.shutdown(socket.SHUT_WR)
    eq(recv_all(s), b"", "the end of the stream passed the paused filter both ways")
    s.close()
    eq(bytes(ECHO.received[before]), b"PFX:one two three four", "what the upstream received")


def test_filter_failure_closes_connection():
    s = connect(PORTS[5])
    s.sendall(b"crash")  # 5 bytes: the filter traps
    try:
        data = recv_all(s)
    except ConnectionResetError:
        data = b""
    s.close()
    eq(data, b"", "the connection was closed")
    check(wait_log(SERVER, r"filter 'trap' failed: .*closing the connection"),
          "the failure is logged with the filter's name", SERVER.log()[-3000:])
    with connect(PORTS[5]) as s:
        s.sendall(b"fine, now")
        eq(recv_exactly(s, 9), b"fine, now", "the next connection through the same filter works")
    s = connect(PORTS[5])
    s.sendall(b"stop")  # 4 bytes: the filter closes the stream
    try:
        data = recv_all(s)
    except ConnectionResetError:
        data = b""
    s.close()
    eq(data, b"", "a filter that closes the stream closes the connection")
    check(wait_log(SERVER, r"filter 'trap' closed the connection"), "the close is logged")


def test_filter_failure_fail_open():
    before = ECHO.count()
    with connect(PORTS[6]) as s:
        s.sendall(b"crash")
        eq(recv_exactly(s, 9), b"PFX:crash", "fail_open: the data passed the failed filter")
        s.sendall(b"more!")
        eq(recv_exactly(s, 5), b"more!", "and the rest of the connection too")
    check(wait_log(SERVER, r"filter 'trap-open' failed: .*fail_open"), "the failure is logged")
    # The upstream's connections since `before`, in whatever order it accepted
    # them (an earlier test's may come late on a loaded machine).
    deadline = time.time() + 5
    while time.time() < deadline:
        got = [bytes(r) for r in ECHO.received[before:]]
        if b"PFX:crashmore!" in got:
            break
        time.sleep(0.05)
    check(b"PFX:crashmore!" in got, "what the upstream received", got)


def test_concurrent_connections():
    n, rounds = 16, 20
    results = [None] * n

    def client(k):
        try:
            with connect(PORTS[0]) as s:
                for r in range(rounds):
                    msg = ("client %d round %d " % (k, r)).encode() * (k + 1)
                    s.sendall(msg)
                    if recv_exactly(s, len(msg)) != msg:
                        results[k] = "round %d: wrong echo" % r
                        return
                s.shutdown(socket.SHUT_WR)
                results[k] = "ok" if recv_all(s) == b"" else "no EOF"
        except Exception as e:
            results[k] = repr(e)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    eq(results, ["ok"] * n, "every concurrent client got its own echo")
    check(time.time() - t0 < 30, "concurrent clients took %.1fs" % (time.time() - t0))


def test_upstream_down_closes_client():
    s = connect(PORTS[2])
    t0 = time.time()
    try:
        s.sendall(b"anyone?")
        data = recv_all(s)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    took = time.time() - t0
    s.close()
    eq(data, b"", "nothing came back")
    check(took < 3, "the client connection was closed promptly (%.2fs)" % took)
    check(wait_log(SERVER, r"upstream 127\.0\.0\.1:\d+: Connection refused"),
          "the connect failure is logged", SERVER.log())
    # The listener goes on: the next connection on another listener works.
    with connect(PORTS[0]) as s2:
        s2.sendall(b"still here")
        eq(recv_exactly(s2, 10), b"still here", "the server still proxies")


def test_big_transfer_intact():
    size = 5 * 1024 * 1024
    data = os.urandom(size)
    before = ECHO.count()
    got = []
    with connect(PORTS[0], timeout=60) as s:
        reader = threading.Thread(target=lambda: got.append(recv_all(s)))
        reader.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reader.join(60)
    eq(len(got[0]) if got else None, size, "all the bytes came back")
    check(got and hashlib.sha256(got[0]).digest() == hashlib.sha256(data).digest(),
          "the bytes came back intact")
    check(bytes(ECHO.received[before]) == data, "the upstream received them intact")


def test_backpressure():
    """A client that sends without reading: the proxy stops reading once its
    buffers are full, so the sender blocks instead of the server buffering
    everything; then everything still arrives."""
    total = 64 * 1024 * 1024
    chunk = os.urandom(1024 * 1024)
    s = connect(PORTS[0], timeout=60)
    s.setblocking(False)
    sent = 0
    end = time.time() + 3
    while time.time() < end and sent < total:
        try:
            sent += s.send(chunk[: min(len(chunk), total - sent)])
        except BlockingIOError:
            time.sleep(0.01)
    print("  sent %d bytes before the proxy pushed back" % sent)
    check(sent < total, "the sender was held back (sent %d of %d bytes without reading)"
          % (sent, total))
    # Now read everything back while sending the rest.
    s.setblocking(True)
    s.settimeout(60)
    got = []
    reader = threading.Thread(target=lambda: got.append(recv_all(s)))
    reader.start()
    while sent < total:
        n = min(len(chunk), total - sent)
        s.sendall(chunk[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)
    reader.join(120)
    s.close()
    eq(len(got[0]) if got else None, total, "every byte came back after the pause")


def test_metrics():
    status, _, body = get(SERVER.port, "/metrics")
    eq(status, 200, "metrics")
    m = parse_metrics(body.decode())
    check((metric(m, "wasmplug_tcp_connections_total") or 0) >= 20, "connections counted",
          metric(m, "wasmplug_tcp_connections_total"))
    check((metric(m, "wasmplug_tcp_upstream_failures_total") or 0) >= 1,
          "upstream failures counted")


def test_reload_changing_tcp_is_refused():
    doc = json.load(open(CONFIG_PATH))
    doc["tcp"] = doc["tcp"][:1]
    write_config(doc, "tcp.json.new")
    os.rename(os.path.join(TMP, "tcp.json.new"), CONFIG_PATH)
    check(wait_log(SERVER, r"tcp: cannot change while the server runs"),
          "a reload that changes tcp is refused", SERVER.log())
    with connect(PORTS[1]) as s:
        s.sendall(b"q")
        eq(recv_exactly(s, 5), b"PFX:q", "the listeners still run as configured")


def test_config_errors():
    """Refused at start, naming the field: an HTTP filter in a TCP chain, a
    listen address in use."""
    # (The SDKs export every callback, so their filters all pass this check.)
    http_only = wat_file("http_only.wat", WAT_HEAD + """
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
)""")
    cases = [({"filters": {"h": {"path": http_only}},
               "tcp": [{"listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "filters": ["h"]}]},
              "tcp[0].filters: 'h' is not a network filter")]
    cases.append(({"tcp": [{"listen": "127.0.0.1:%d" % PORTS[0], "upstream": "127.0.0.1:1"}]},
                  "tcp[0].listen 127.0.0.1:%d: Address already in use" % PORTS[0]))
    for doc, want in cases:
        path = write_config(doc, "bad.json")
        r = subprocess.run([CLI, "serve", path, "--listen", "127.0.0.1:0"], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode != 0 and want in r.stderr, "refused: " + want, r.stderr[-1000:])


def test_shutdown_with_open_connections():
    conns = [connect(PORTS[0]) for _ in range(5)]
    for s in conns:
        s.sendall(b"ping")
        eq(recv_exactly(s, 4), b"ping", "an open connection works")
    big = connect(PORTS[0], timeout=30)
    big.sendall(os.urandom(3 * 1024 * 1024))  # and one with bytes in flight
    t0 = time.time()
    rc = SERVER.stop()
    took = time.time() - t0
    eq(rc, 0, "the server exited cleanly")
    check(took < 5, "shutdown with open connections took %.2fs" % took)
    for s in conns + [big]:
        try:
            s.settimeout(5)
            recv_all(s)
        except OSError:
            pass
        s.close()
    log = SERVER.log()
    check("stopped" in log, "the server said it stopped", log[-2000:])
    check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer reports",
          log[-3000:])


if __name__ == "__main__":
    if CLI and not os.path.exists(TCP_FILTER):
        print("SKIP: %s was not built (the Rust Proxy-Wasm example filters are not part of "
              "this build)" % TCP_FILTER)
        sys.exit(77)
    run_tests(globals())
