"""wasmplug serve: state Proxy-Wasm filters share across workers
(examples/proxywasm/README.md): the counter filter's shared data updated
with compare-and-swap by many concurrent requests over two workers (Go and
Rust: every value 1..N exactly once), and the metrics filter's counters,
gauge and histogram, one counter per x-tenant value, on the server's
metrics endpoint as wasmplug_filter_<name>{name="<name>"} (a histogram as a
summary)."""
import re

from filters_lib import *

UP = echo_upstream("main")


def test_counter():
    doc = {"access_log": "off", "workers": 2, "plugins": {"hello": {"path": hello()}},
           "filters": {"cg": {"path": pw("counter", "go"), "config": {"key": "go_hits"}},
                       "cr": {"path": pw("counter", "rust"), "config": {"key": "rust_hits"}},
                       # Same module and vm_id as cr: the same shared data, another key.
                       "cr2": {"path": pw("counter", "rust"), "root_id": "two",
                               "config": {"key": "other"}}},
           "routes": [{"match": {"path": "/go/..."}, "plugin": "hello", "filters": ["cg"]},
                      {"match": {"path": "/rust/..."}, "upstream": UP.url, "filters": ["cr"]},
                      {"match": {"path": "/both/..."}, "upstream": UP.url,
                       "filters": ["cr2", "cr"]}]}
    s = serve(doc)
    n = 300
    for lang in ("go", "rust"):
        # The first request creates the key (a first write is unconditional: two VMs creating
        # it at the same instant could both write 1); every later one goes through the CAS.
        st, hdrs, _ = req(s.port, "GET", "/%s/first" % lang)
        eq((st, one(hdrs, "x-count")), (200, "1"), "%s: the first request counts 1" % lang)

        def hit(i, lang=lang):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            out = []
            for j in range(n // 20):  # keep-alive: 15 requests per connection
                c.request("GET", "/%s/%d/%d" % (lang, i, j))
                r = c.getresponse()
                r.read()
                out.append((r.status, r.getheader("x-count")))
            c.close()
            return out
        res = [x for part in parallel(hit, range(20), threads=20) for x in part]
        eq([st for st, _ in res], [200] * n, "%s: %d concurrent requests, all 200" % (lang, n))
        counts = [v for _, v in res]
        check("conflict" not in counts, "%s: no CAS gave up" % lang)
        nums = sorted(int(v) for v in counts if v and v.isdigit())
        eq(nums, list(range(2, n + 2)),
           "%s: the x-count values are exactly 2..%d, no duplicate, none lost" % (lang, n + 1))
        check(not re.search(r"counter: (gave up|set_shared_data)", s.log()),
              "%s: no WARN from the filter" % lang, s.log()[-1500:])
    # Two counters on one VM (another root id, another key): both count, cr2 sets x-count last.
    st, hdrs, _ = req(s.port, "GET", "/both/x")
    eq(values(hdrs, "x-count"), ["1"], "cr2 counts its own key from 1 and answers last")
    st, hdrs, _ = req(s.port, "GET", "/rust/after")
    eq(values(hdrs, "x-count"), [str(n + 3)], "cr counted the /both request on its key")
    stop(s)


def test_metrics():
    doc = {"access_log": "off", "metrics_path": "/metrics", "workers": 2,
           "filters": {"mg": {"path": pw("metrics", "go")}, "mr": {"path": pw("metrics", "rust")}},
           "routes": [{"match": {"path": "/go/..."}, "upstream": UP.url, "filters": ["mg"]},
                      {"match": {"path": "/rust/..."}, "upstream": UP.url, "filters": ["mr"]}]}
    s = serve(doc)
    m, text = filter_metrics(s)
    for name, v in (("requests_total", 0), ("active_requests", 0),
                    ("request_body_bytes_count", 0), ("request_body_bytes_sum", 0)):
        eq(m.get(name), v, "%s defined at configure, %d before any request" % (name, v))
    for line in ('# TYPE wasmplug_filter_requests_total counter',
                 'wasmplug_filter_requests_total{name="requests_total"} 0',
                 '# TYPE wasmplug_filter_active_requests gauge',
                 '# TYPE wasmplug_filter_request_body_bytes summary',
                 'wasmplug_filter_request_body_bytes_count{name="request_body_bytes"} 0',
                 'wasmplug_filter_request_body_bytes_sum{name="request_body_bytes"} 0'):
        check(line in text.splitlines(), "the exposition has %r" % line, text[-1500:])
    sent = [("go", "Acme Corp", b"x" * 10), ("go", "Acme Corp", b"y" * 20), ("go", "Acme Corp", b""),
            ("rust", "ACME corp", b"z" * 5), ("rust", "acme corp", b""), ("go", None, b"abc"),
            ("rust", "", b""), ("rust", "t\u00e9/1", b"1234567")]
    for lang, tenant, body in sent:
        headers = {"X-Tenant": tenant.encode("utf-8")} if tenant is not None else {}
        st, _, _ = req(s.port, "POST" if body else "GET", "/%s/x" % lang, body=body or None,
                       headers=headers)
        eq(st, 200, "%s request (tenant %r)" % (lang, tenant))
    # Many at once: the gauge goes back to 0.
    res = parallel(lambda i: req(s.port, "GET", "/%s/p%d" % ("go" if i % 2 else "rust", i),
                                 headers={"X-Tenant": "bulk"}), range(40))
    eq([r[0] for r in res], [200] * 40, "40 concurrent requests")
    total = len(sent) + 40
    m, text = filter_metrics(s)
    eq(m.get("requests_total"), total,
       "requests_total counts every request, both filters (metrics are shared by name)")
    eq(m.get("requests_by_acme_corp"), 5,
       "requests_by_acme_corp: x-tenant lower-cased, ' ' -> '_', from Go and Rust")
    eq(m.get("requests_by_none"), 2, "requests_by_none: missing or empty x-tenant")
    eq(m.get("requests_by_bulk"), 40, "requests_by_bulk")
    eq(m.get("requests_by_t___1"), 1,
       "non-ASCII bytes and '/' each become '_' (t + 2 UTF-8 bytes + '/' + 1)")
    eq(m.get("active_requests"), 0, "active_requests back to 0")
    eq(m.get("request_body_bytes_count"), total, "one body record per request")
    eq(m.get("request_body_bytes_sum"), sum(len(b) for _, _, b in sent),
       "the body sizes add up")
    check("# TYPE wasmplug_filter_requests_by_acme_corp counter" in text.splitlines(),
          "typed counter", text[-1500:])
    names = [l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")]
    eq(sorted(set(n for n in names if names.count(n) > 1)), [], "no metric family twice")
    stop(s)


def test_metrics_gauge_after_failures():
    """active_requests comes back to 0 whatever ends the request: a later
    filter's local response (403), a pause past the route's timeout (504),
    a client gone while its request is paused, a panicking filter (500)."""
    doc = {"access_log": "off", "metrics_path": "/metrics",
           "filters": {"mg": {"path": pw("metrics", "go")}, "mr": {"path": pw("metrics", "rust")},
                       "v": {"path": pw("validate", "rust")},
                       "never": {"path": pw("postpone", "rust"), "config": {"period_ms": 0}},
                       "boom": {"path": pw("panic", "rust")}},
           "routes": [{"match": {"path": "/go-v"}, "upstream": UP.url, "filters": ["mg", "v"]},
                      {"match": {"path": "/rust-v"}, "upstream": UP.url, "filters": ["mr", "v"]},
                      {"match": {"path": "/go-never"}, "upstream": UP.url,
                       "filters": ["mg", "never"], "timeout_ms": 300},
                      {"match": {"path": "/rust-never"}, "upstream": UP.url,
                       "filters": ["mr", "never"], "timeout_ms": 300},
                      {"match": {"path": "/go-boom"}, "upstream": UP.url, "filters": ["mg", "boom"]},
                      {"match": {"path": "/rust-boom"}, "upstream": UP.url,
                       "filters": ["mr", "boom"]}]}
    s = serve(doc)
    for lang in ("go", "rust"):
        eq(req(s.port, "POST", "/%s-v" % lang, body=b"[]")[0], 403, "%s: 403 from validate" % lang)
        eq(req(s.port, "POST", "/%s-v" % lang, body=b"{}")[0], 200, "%s: 200" % lang)
        eq(req(s.port, "GET", "/%s-never" % lang)[0], 504, "%s: 504 from a pause" % lang)
        eq(req(s.port, "GET", "/%s-boom" % lang, headers={"X-Panic": "1"})[0], 500,
           "%s: 500 from a panic" % lang)
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET /%s-never HTTP/1.1\r\nHost: x\r\n\r\n" % lang.encode())
        time.sleep(0.05)
        c.close()
    time.sleep(0.6)  # past the 300 ms timeout of the abandoned requests
    m, text = filter_metrics(s)
    eq(m.get("requests_total"), 10, "10 requests counted")
    eq(m.get("active_requests"), 0, "active_requests back to 0")
    eq(m.get("request_body_bytes_count"), 10,
       "request_body_bytes: one record per request (metrics runs first in each chain)")
    eq(m.get("request_body_bytes_sum"), 8, "the bodies: [] and {} twice")
    stop(s)


def test_metrics_without_filter_metrics():
    """A scrape when filters are configured but none defined a metric (the
    headers filter): 200, no wasmplug_filter_ family, the server lives on."""
    doc = {"access_log": "off", "metrics_path": "/metrics",
           "filters": {"h": {"path": pw("headers", "rust")}}, "filter_chain": ["h"],
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
    s = serve(doc)
    for _ in range(2):
        try:
            st, _, body = req(s.port, "GET", "/metrics")
        except OSError as e:
            st, body = repr(e), b""
        check(st == 200, "metrics answered", "%s\n%s" % (st, s.log()[-1500:]))
        check(b"wasmplug_http_requests_total" in body and b"wasmplug_filter_" not in body,
              "the server's metrics, no filter ones", body[-500:])
    eq(s.proc.poll(), None, "the server is still running")
    stop(s)


def test_metrics_name_collision():
    """Filter metrics whose names differ only in characters Prometheus does not
    take (requests_by_a-b, requests_by_a_b): one family, told apart by the
    `name` label; the exposition stays valid (each family once, each sample once)."""
    doc = {"access_log": "off", "metrics_path": "/metrics",
           "filters": {"mr": {"path": pw("metrics", "rust")}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["mr"]}]}
    s = serve(doc)
    for t in ("a-b", "a_b", "a_b"):
        eq(req(s.port, "GET", "/", headers={"X-Tenant": t})[0], 200, "tenant %s" % t)
    m, text = filter_metrics(s)
    eq((m.get("requests_by_a-b"), m.get("requests_by_a_b")), (1, 2),
       "both counters, by their names as the filter spelt them")
    lines = text.splitlines()
    fams = [l.split()[2] for l in lines if l.startswith("# TYPE ")]
    eq(sorted(set(n for n in fams if fams.count(n) > 1)), [], "each metric family once")
    eq(fams.count("wasmplug_filter_requests_by_a_b"), 1, "a-b and a_b share one family")
    samples = [l.rpartition(" ")[0] for l in lines if l and not l.startswith("#")]
    eq(sorted(set(n for n in samples if samples.count(n) > 1)), [], "each sample once")
    stop(s)


run(globals())
