"""wasmplug serve: /metrics parses as Prometheus text and counts what the
test sent; the access log has one JSON line per request."""
import json

from serve_lib import *


def test_metrics_count():
    log = os.path.join(TMP, "access.log")
    doc = {"access_log": log, "metrics_path": "/metrics",
           "plugins": {"echo": {"path": fixture("http_echo.wat")},
                       "trap": {"path": fixture("http_trap.wat")},
                       "loop": {"path": fixture("http_loop.wat")}},
           "routes": [{"match": {"path": "/ok/..."}, "plugin": "echo",
                       "instances": {"mode": "reuse", "max_idle": 4}},
                      {"match": {"path": "/trap"}, "plugin": "trap"},
                      {"match": {"path": "/loop"}, "plugin": "loop", "timeout_ms": 100}]}
    with Server(write_config(doc)) as s:
        for i in range(7):
            eq(get(s.port, "/ok/%d" % i)[0], 200, "ok request")
        for _ in range(3):
            eq(get(s.port, "/trap")[0], 500, "trap request")
        eq(get(s.port, "/loop")[0], 504, "timeout request")
        eq(get(s.port, "/none")[0], 404, "404")
        # A request is counted when its response has gone out, which can be
        # just after the client has read it: scrape until the earlier
        # requests are done (only the scrape itself in flight).
        end = time.time() + 5
        while True:
            st, h, body = get(s.port, "/metrics")
            done = metric(parse_metrics(body.decode()), "wasmplug_http_in_flight") == 1.0
            if done or time.time() > end:
                break
            time.sleep(0.02)
        eq(st, 200, "GET /metrics")
        check(h.get("content-type", "").startswith("text/plain; version=0.0.4"), "Prometheus content type", h)
        m = parse_metrics(body.decode())
        eq(metric(m, "wasmplug_http_requests_total", route="/ok/...", code="2xx"), 7.0, "7 ok counted")
        eq(metric(m, "wasmplug_http_requests_total", route="/trap", code="5xx"), 3.0, "3 traps counted as 5xx")
        eq(metric(m, "wasmplug_handler_traps_total", route="/trap"), 3.0, "3 traps")
        eq(metric(m, "wasmplug_handler_timeouts_total", route="/loop"), 1.0, "1 timeout")
        eq(metric(m, "wasmplug_http_request_duration_seconds_count", route="/ok/..."), 7.0,
           "histogram count")
        eq(metric(m, "wasmplug_http_request_duration_seconds_bucket", route="/ok/...", le="+Inf"), 7.0,
           "histogram +Inf bucket")
        eq(metric(m, "wasmplug_pool_instances", route="/ok/...", mode="reuse"), 1.0,
           "one reused instance idle")
        eq(metric(m, "wasmplug_http_in_flight"), 1.0, "in flight: only the scrape itself")
        check(metric(m, "wasmplug_reloads_total") is not None, "reloads counted")
    with open(log) as f:
        lines = [json.loads(l) for l in f]
    metrics_lines = [l for l in lines if l["path"] == "/metrics"]
    check(len(metrics_lines) >= 1, "the scrapes are logged too")
    eq(len(lines) - len(metrics_lines), 12, "one access-log line per request")
    # Lines are written when a response has gone out, so two requests in a
    # row may be logged in either order by two workers.
    first = [l for l in lines if l["path"] == "/ok/0"][0]
    for k in ("time", "remote", "method", "path", "route", "status", "bytes_in", "bytes_out",
              "duration_us", "plugin"):
        check(k in first, "access log has %s" % k, first)
    eq((first["path"], first["status"], first["route"], first["plugin"]),
       ("/ok/0", 200, "/ok/...", "echo"), "the line of the first request describes it")
    eq(sorted(l["status"] for l in lines).count(500), 3, "the traps are logged as 500")


run_tests(globals())
