"""wasmplug serve: Proxy-Wasm filters in front of routes (docs/serve.md,
"Filters"; examples/proxywasm/README.md). The real server, real clients, a
real upstream that echoes what it got: header rewriting from JSON config
(Go and Rust), filter config errors, body append/prepend/replace with
buffering, the 400 for a missing body and max_body with filters, routing on
a rewritten :authority (canary), per-route metadata and other properties,
chains (server chain + route chain, with bodies and pauses), the CLI
one-liner with two --filter options, and changes while serving: a filter's
configuration (file watch, control API) with no failed request, filters
added and removed through the control API, a replaced filter file.

The other areas are in test_serve_filters_calls.py (http_call, ticks,
pause/resume, queues), _state.py (shared data, metrics) and _faults.py
(validation, foreign functions, panics and timeouts, configuration)."""
import threading

from filters_lib import *

UP = echo_upstream("main")


# ---- headers --------------------------------------------------------------------------------

HEADERS_CFG = {"request": {"set": {"x-added": "req", "X-Upper": "U", "x-both": "set"},
                           "remove": ["x-secret", "x-both"]},
               "response": {"set": {"x-resp": "r", "x-upstream": "overridden"},
                            "remove": ["x-reply"]}}


def test_headers():
    """Request and response headers rewritten from JSON config, Go and Rust;
    upstream and plugin routes."""
    go, rust = pw("headers", "go"), pw("headers", "rust")
    doc = {"access_log": "off",
           "plugins": {"hello": {"path": hello()}},
           "filters": {"hg": {"path": go, "config": HEADERS_CFG},
                       "hr": {"path": rust, "config": HEADERS_CFG},
                       "hr-empty": {"path": rust}},
           "routes": [{"match": {"path": "/go/..."}, "upstream": UP.url, "filters": ["hg"]},
                      {"match": {"path": "/rust/..."}, "upstream": UP.url, "filters": ["hr"]},
                      {"match": {"path": "/empty/..."}, "upstream": UP.url, "filters": ["hr-empty"]},
                      {"match": {"path": "/hello/..."}, "plugin": "hello", "filters": ["hg", "hr"]},
                      {"match": {"path": "/plain/..."}, "upstream": UP.url}]}
    s = serve(doc)
    for lang in ("go", "rust"):
        st, hdrs, body = req(s.port, "POST", "/%s/x?q=1" % lang, body=b"payload", headers={
            "X-Secret": "s3cret", "X-Keep": "k", "X-Added": "from-client", "X-Both": "c"})
        eq(st, 200, "%s: 200 through the headers filter" % lang)
        e = echoed(body)
        eq(e["path"], "/%s/x?q=1" % lang, "%s: path unchanged" % lang)
        eq(e["body"], b"payload", "%s: body unchanged" % lang)
        eq(e["h"].get("x-added"), ["req"], "%s: request.set replaces the client's value" % lang)
        eq(e["h"].get("x-upper"), ["U"], "%s: a configured name is lower-cased" % lang)
        check("x-secret" not in e["h"], "%s: request.remove: the upstream does not see x-secret"
              % lang, e["h"])
        check("x-both" not in e["h"], "%s: a name set and removed ends up removed" % lang, e["h"])
        eq(e["h"].get("x-keep"), ["k"], "%s: other headers pass" % lang)
        eq(values(hdrs, "x-resp"), ["r"], "%s: response.set" % lang)
        eq(values(hdrs, "x-upstream"), ["overridden"], "%s: response.set replaces the upstream's"
           % lang)
        eq(values(hdrs, "x-reply"), [], "%s: response.remove drops the upstream's x-reply" % lang)
        eq(values(hdrs, "x-filtered-by"), [lang], "%s: x-filtered-by added" % lang)
        eq(one(hdrs, "content-type"), "application/json", "%s: other response headers pass" % lang)
        # Repeated headers keep their values and order, both ways.
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        c.putrequest("GET", "/%s/dup" % lang)
        for k, v in (("X-Dup", "one"), ("X-Dup", "two"), ("X-Echo-Cookies", "1")):
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        e = echoed(r.read())
        c.close()
        eq(e["h"].get("x-dup"), ["one", "two"], "%s: a repeated request header reaches the "
           "upstream with both values, in order" % lang)
        eq(r.headers.get_all("set-cookie"), ["a=1", "b=2"],
           "%s: the upstream's repeated set-cookie comes back whole" % lang)
    st, hdrs, body = req(s.port, "GET", "/empty/a", headers={"X-Secret": "s"})
    e = echoed(body)
    eq((st, e["h"].get("x-secret")), (200, ["s"]), "no configuration: no request edits")
    eq(values(hdrs, "x-filtered-by"), ["rust"], "no configuration: only x-filtered-by")
    eq(values(hdrs, "x-reply"), ["yes"], "no configuration: no response edits")
    st, hdrs, body = req(s.port, "GET", "/hello/there")
    eq(st, 200, "a plugin route behind two filters")
    check(body.startswith(b"Hello from C (core)! You asked for GET /hello/there"),
          "the handler answers", body[:200])
    eq(values(hdrs, "x-filtered-by"), ["rust", "go"],
       "both filters add x-filtered-by, the response going back through the chain (hr, then hg)")
    eq(values(hdrs, "x-resp"), ["r"], "response.set on a handler's response")
    st, hdrs, body = req(s.port, "GET", "/plain/x", headers={"X-Secret": "s"})
    eq((st, values(hdrs, "x-filtered-by"), echoed(body)["h"].get("x-secret")), (200, [], ["s"]),
       "a route without filters is not filtered")
    stop(s)


def test_headers_bad_config():
    """A configuration the filter refuses (configure returns false): the server does not start."""
    for lang in ("go", "rust"):
        doc = {"filters": {"bad": {"path": pw("headers", lang),
                                   "config": {"request": {"set": {"a": 1}}}}},
               "filter_chain": ["bad"],
               "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
        r = subprocess.run([CLI, "serve", write_config(doc, "bad-%s.json" % lang),
                            "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        check(r.returncode != 0, "%s: a refused filter configuration stops the start" % lang,
              r.stderr[-2000:])
        check("filters.bad" in r.stderr, "%s: the error names the filter" % lang, r.stderr[-2000:])
        check("the filter rejected its plugin configuration" in r.stderr,
              "%s: and says the filter rejected its plugin configuration" % lang, r.stderr[-2000:])
        check("headers: invalid plugin configuration" in r.stderr,
              "%s: the filter's own ERROR log is shown" % lang, r.stderr[-2000:])
        check("listening" not in r.stderr, "%s: never listening" % lang)


def test_filter_config_errors():
    """Every filter field is checked, and the error names its path."""
    import hashlib
    h = pw("headers", "rust")
    with open(h, "rb") as f:
        good_sha = hashlib.sha256(f.read()).hexdigest()
    up = {"match": {"path": "/"}, "upstream": UP.url}
    cases = [
        ({"filter_chain": ["nope"]}, "filter_chain[0]: must name a filter defined in \"filters\""),
        ({"filters": {"a": {"path": h}}, "filter_chain": "a"}, "filter_chain: must be an array"),
        ({"filters": {"a": {"config": 1}}}, "filters.a: \"path\" (the filter's .wasm file) is missing"),
        ({"filters": {"a": {"path": h, "config": "x", "config_file": "y"}}},
         "filters.a.config_file: give \"config\" or \"config_file\", not both"),
        ({"filters": {"a": {"path": h, "vm_config_file": "/nonexistent/x"}}},
         "filters.a.vm_config_file: cannot read '/nonexistent/x'"),
        ({"filters": {"a": {"path": h, "fail_open": 1}}}, "filters.a.fail_open: must be true or false"),
        ({"filters": {"a": {"path": h, "bogus": 1}}}, "filters.a.bogus: unknown field"),
        ({"filters": {".a": {"path": h}}}, "filters..a: a filter name is"),
        ({"filters": {"a": {"path": h, "sha256": "0" * 64}}}, "filters.a"),
        ({"filters": {"a": {"path": hello()}}},
         "filters.a: plugin 'http-hello-c.wasm' is a core module, not a Proxy-Wasm filter"),
        ({"filters": {"a": {"path": h}}, "routes": [dict(up, filters=["b"])]},
         "routes[0].filters[0]: must name a filter defined in \"filters\""),
        ({"plugins": {"p": {"path": h}}, "routes": [{"match": {"path": "/"}, "plugin": "p"}]},
         "is not an HTTP handler"),
        ({"routes": [dict(up, metadata=5)]}, "routes[0].metadata: must be an object"),
        ({"routes": [dict(up, name=5)]}, "routes[0].name"),
        ({"routes": [{"match": {"path": "/", "host": 5}, "upstream": UP.url}]},
         "routes[0].match.host: must be a non-empty string"),
    ]
    for doc, want in cases:
        r = subprocess.run([CLI, "serve", write_config(doc, "bad.json"), "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "listening" not in r.stderr, "refused: %s" % want, r.stderr)
        check(want in r.stderr, "the error says %r" % want, r.stderr[-1500:])
    # The right pin is accepted.
    doc = {"access_log": "off", "filters": {"a": {"path": h, "sha256": good_sha}},
           "filter_chain": ["a"], "routes": [up]}
    s = serve(doc)
    eq(values(req(s.port, "GET", "/")[1], "x-filtered-by"), ["rust"], "a pinned filter")
    stop(s)


# ---- body ------------------------------------------------------------------------------------

def test_body():
    """Body append/prepend/replace (the whole body buffered first), the
    response body too, and the 400 when a body is required; Go and Rust."""
    doc = {"access_log": "off", "plugins": {"hello": {"path": hello()}}, "filters": {},
           "routes": []}
    for lang in ("go", "rust"):
        path = pw("body", lang)
        f = doc["filters"]
        f["append-" + lang] = {"path": path, "config": {
            "mode": "append", "text": "!END", "require_body": True,
            "response_mode": "prepend", "response_text": "PRE:"}}
        f["prepend-" + lang] = {"path": path, "config": {"mode": "prepend", "text": "START!"}}
        f["replace-" + lang] = {"path": path, "config": {"mode": "replace", "text": "replaced",
                                                         "response_mode": "replace",
                                                         "response_text": "all new"}}
        for mode in ("append", "prepend", "replace"):
            doc["routes"].append({"match": {"path": "/%s/%s/..." % (lang, mode)},
                                  "upstream": UP.url, "filters": ["%s-%s" % (mode, lang)]})
        doc["routes"].append({"match": {"path": "/hello-%s/..." % lang}, "plugin": "hello",
                              "filters": ["append-" + lang]})
    s = serve(doc)
    small = b"a" * 2560
    big = bytes(range(256)) * 1000  # 256000 bytes, several reads and TCP segments
    for lang in ("go", "rust"):
        for data in (small, big):
            st, hdrs, body = req(s.port, "POST", "/%s/append/x" % lang, body=data)
            eq(st, 200, "%s append: 200 (%d bytes)" % (lang, len(data)))
            check(body.startswith(b"PRE:{"), "%s: response body prepended" % lang, body[:100])
            e = echoed(body[4:])
            eq(e["body"] == data + b"!END", True,
               "%s: the upstream gets the whole body plus the appended text (%d bytes)"
               % (lang, len(data)))
            eq(e["h"].get("content-length"), [str(len(data) + 4)],
               "%s: Content-Length recomputed for the new body" % lang)
            eq(one(hdrs, "content-length"), str(len(body)),
               "%s: the response's Content-Length matches the changed body" % lang)
            check(wait_log(s, "filter 'append-%s' info: body: request body %d bytes"
                           % (lang, len(data))),
                  "%s: the filter logs the size it read in 1024-byte chunks" % lang, s.log()[-1500:])
            check(wait_log(s, "filter 'append-%s' info: body: response body %d bytes"
                           % (lang, len(body) - 4)),
                  "%s: and the response body's size" % lang, s.log()[-1500:])
        st, _, body = req(s.port, "POST", "/%s/prepend/x" % lang, body=b"hello")
        e = echoed(body)
        eq((st, e["body"]), (200, b"START!hello"), "%s prepend" % lang)
        st, _, body = req(s.port, "POST", "/%s/replace/x" % lang, body=small)
        eq((st, body), (200, b"all new"), "%s replace: the response body replaced" % lang)
        ups = UP.requests()[-1]
        eq((ups["body"], ups["h"].get("content-length")), (b"replaced", ["8"]),
           "%s replace: the upstream got the replacement" % lang)
        # Chunked request body: still buffered whole, then modified.
        r = subprocess.run(["curl", "-s", "-H", "Transfer-Encoding: chunked", "--data-binary",
                            "@-", s.url("/%s/prepend/chunked" % lang)], input=b"c" * 7000,
                           capture_output=True, timeout=30)
        e = echoed(r.stdout)
        eq(e["body"], b"START!" + b"c" * 7000, "%s: a chunked request body, prepended" % lang)
        # require_body: no body -> 400 "body required\n", the upstream is not asked.
        n = UP.count()
        st, _, body = req(s.port, "GET", "/%s/append/x" % lang)
        eq((st, body), (400, b"body required\n"), "%s: no body with require_body: 400" % lang)
        st, _, body = req(s.port, "POST", "/%s/append/x" % lang, body=b"")
        eq((st, body), (400, b"body required\n"), "%s: an empty body with require_body: 400" % lang)
        eq(UP.count(), n, "%s: a 400 from the filter never reaches the upstream" % lang)
        st, _, body = req(s.port, "GET", "/%s/prepend/x" % lang)
        e = echoed(body)
        eq((st, e["body"]), (200, b""), "%s: no body, no require_body: not touched" % lang)
        st, _, body = req(s.port, "POST", "/hello-%s/h" % lang, body=b"to the handler")
        eq(st, 200, "%s: a plugin route behind the body filter" % lang)
        check(body.startswith(b"PRE:"), "%s: the handler's response body is prepended" % lang,
              body[:100])
    stop(s)


def test_body_limits():
    """A server chain buffers the body up to the largest route's max_body
    (413 before any filter over it); a route's max_body applies after
    routing."""
    doc = {"access_log": "off",
           "filters": {"b": {"path": pw("body", "rust"), "config": {"mode": "prepend", "text": ">"}}},
           "filter_chain": ["b"],
           "routes": [{"match": {"path": "/small"}, "upstream": UP.url, "max_body": 100},
                      {"match": {"path": "/big"}, "upstream": UP.url, "max_body": 1000}]}
    s = serve(doc)
    st, _, body = req(s.port, "POST", "/small", body=b"x" * 50)
    eq((st, echoed(body)["body"]), (200, b">" + b"x" * 50), "under the route's max_body")
    st, _, body = req(s.port, "POST", "/small", body=b"x" * 200)
    eq(st, 413, "over the route's max_body (but under the largest): 413 after routing")
    check(b"limit is 100 bytes" in body, "naming the route's limit", body)
    st, _, body = req(s.port, "POST", "/big", body=b"x" * 900)
    eq((st, len(echoed(body)["body"])), (200, 901), "a body of 900 on the 1000 route")
    n = s.log().count("body: request body")
    st, _, body = req(s.port, "POST", "/big", body=b"x" * 5000)
    eq(st, 413, "over the largest route's max_body: 413")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                        "Transfer-Encoding: chunked", "--data-binary", "@-", s.url("/big")],
                       input=b"c" * 3000, capture_output=True, timeout=30)
    eq(r.stdout, b"413", "a chunked body over it: 413")
    eq(s.log().count("body: request body"), n, "the filter never saw those bodies")
    stop(s)


def test_max_body_is_the_clients():
    """max_body bounds what the client sends, whichever filter changes the body."""
    doc = {"access_log": "off",
           "filters": {"b": {"path": pw("body", "rust"), "config": {"mode": "prepend", "text": ">"}}},
           "filter_chain": ["b"],
           "routes": [{"match": {"path": "/small"}, "upstream": UP.url, "max_body": 100},
                      {"match": {"path": "/big"}, "upstream": UP.url, "max_body": 1000}]}
    s = serve(doc)
    st, _, body = req(s.port, "POST", "/small", body=b"x" * 100)
    eq(st, 200, "a 100-byte body on a route with max_body 100, grown to 101 by a server-chain filter")
    if st == 200:
        eq(echoed(body)["body"], b">" + b"x" * 100, "and forwarded as the filter left it")
    stop(s)


# ---- canary: routing on a rewritten :authority ------------------------------------------------

def test_canary():
    canary_up = echo_upstream("canary")
    doc = {"access_log": "off",
           "filters": {"canary": {"path": pw("canary", "rust"),
                                  "config": {"header": "x-canary", "authority": "canary.local"}},
                       "canary2": {"path": pw("canary", "rust"),
                                   "config": {"header": "x-beta", "authority": "beta.local"}}},
           "filter_chain": ["canary", "canary2"],
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url},
                      {"match": {"path": "/...", "host": "canary.local"}, "upstream": canary_up.url},
                      {"match": {"path": "/only-beta", "host": "beta.local"},
                       "upstream": canary_up.url + "/beta"}]}
    s = serve(doc)
    st, hdrs, body = req(s.port, "GET", "/a/b?c=1", headers={"Host": "www.example"})
    e = echoed(body)
    eq((st, e["tag"]), (200, "main"), "no x-canary: the default route")
    eq(e["h"].get("host"), ["www.example"], "the client's Host is forwarded")
    check("x-canary-routed" not in e["h"], "no x-canary-routed", e["h"])
    for value in ("1", ""):
        st, hdrs, body = req(s.port, "GET", "/a/b?c=1", headers={"Host": "www.example",
                                                                "X-Canary": value})
        e = echoed(body)
        eq((st, e["tag"]), (200, "canary"),
           "x-canary: %r: :authority rewritten, routed to the match.host route" % value)
        eq(e["h"].get("host"), ["canary.local"], "the canary upstream sees the rewritten Host")
        eq(e["h"].get("x-canary-routed"), ["1"], "and x-canary-routed: 1")
        eq(e["path"], "/a/b?c=1", "path unchanged")
    check(wait_log(s, "filter 'canary' info: canary: routed to canary.local", count=2),
          "the filter logs the rerouting", s.log()[-1000:])
    st, _, body = req(s.port, "GET", "/z", headers={"Host": "canary.local:8080"})
    eq(echoed(body)["tag"], "canary", "a client asking for canary.local (port aside) gets it too")
    st, _, body = req(s.port, "GET", "/z", headers={"Host": "CANARY.Local"})
    eq(echoed(body)["tag"], "canary", "host names match case-insensitively")
    # The second filter of the chain rewrites to beta.local: its host route, or the default
    # route (a route without a host takes any host) where it has none.
    st, _, body = req(s.port, "GET", "/only-beta", headers={"X-Beta": "1"})
    e = echoed(body)
    eq((st, e["path"], e["h"].get("host")), (200, "/beta/only-beta", ["beta.local"]),
       "the second filter's rewrite routes to its host route")
    eq(echoed(req(s.port, "GET", "/only-beta")[2])["tag"], "main",
       "without it the host route is not taken")
    st, _, body = req(s.port, "GET", "/other", headers={"X-Beta": "1"})
    eq((st, echoed(body)["tag"], echoed(body)["h"].get("host")), (200, "main", ["beta.local"]),
       "a rewritten host with no host route for the path: the default route")
    # Both headers: the chain runs in order, the last rewrite wins.
    st, _, body = req(s.port, "GET", "/x", headers={"X-Beta": "1", "X-Canary": "1"})
    eq(echoed(body)["h"].get("host"), ["beta.local"], "both filters: the later one's rewrite wins")
    stop(s)
    canary_up.close()


# ---- metadata through properties --------------------------------------------------------------

def test_metadata():
    md = pw("metadata", "go")
    doc = {"access_log": "off", "plugins": {"hello": {"path": hello()}},
           "filters": {"md": {"path": md, "config": {"key": "owner"}},
                       "md-tier": {"path": md, "root_id": "tier-root", "config": {"key": "tier"}}},
           "routes": [{"match": {"path": "/api/..."}, "upstream": UP.url, "filters": ["md"],
                       "name": "api", "metadata": {"owner": "team-a", "tier": 3}},
                      {"match": {"path": "/tier/..."}, "plugin": "hello", "filters": ["md-tier"],
                       "name": "tiered", "metadata": {"owner": "team-b", "tier": {"level": 3}}},
                      {"match": {"path": "/anon/..."}, "upstream": UP.url, "filters": ["md"]}]}
    s = serve(doc)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", "/api/x?y=1")
    r = c.getresponse()
    r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    local_port = c.sock.getsockname()[1]
    eq(r.status, 200, "a route with name and metadata")
    eq(h.get("x-prop-route-name"), "api", "route_name is the route's name")
    eq(h.get("x-prop-route-metadata"), "team-a", "route_metadata.owner")
    eq(h.get("x-prop-plugin-name"), "md", "plugin_name is the filter's name")
    check("x-prop-plugin-root-id" not in h or h["x-prop-plugin-root-id"] == "",
          "plugin_root_id: empty by default (test_empty_response_header checks the header)")
    eq(h.get("x-prop-request-path"), "/api/x?y=1", "request.path with the query")
    eq(h.get("x-prop-request-method"), "GET", "request.method")
    eq(h.get("x-prop-source-address"), "127.0.0.1:%d" % local_port,
       "source.address is the client's address and port")
    conn_id = h.get("x-prop-connection-id", "")
    check(conn_id.isdigit(), "connection.id is an integer (8 bytes LE, shown in decimal)", conn_id)
    c.request("GET", "/api/second")
    r = c.getresponse()
    r.read()
    eq(r.getheader("x-prop-connection-id"), conn_id, "the same connection keeps its id")
    c.close()
    st, hdrs, body = req(s.port, "POST", "/tier/t", body=b"x")
    eq(st, 200, "a plugin route with metadata")
    eq(one(hdrs, "x-prop-route-name"), "tiered", "its name")
    eq(one(hdrs, "x-prop-route-metadata"), '{"level":3}',
       "a metadata value that is not a string reads as its JSON")
    eq(one(hdrs, "x-prop-plugin-root-id"), "tier-root", "plugin_root_id from the config")
    eq(one(hdrs, "x-prop-plugin-name"), "md-tier", "plugin_name")
    eq(one(hdrs, "x-prop-request-method"), "POST", "request.method POST")
    st, hdrs, _ = req(s.port, "GET", "/anon/x")
    eq(one(hdrs, "x-prop-route-name"), "/anon/...", "a route without a name: its pattern")
    eq(one(hdrs, "x-prop-route-metadata"), "missing", "a route without metadata: not found")
    stop(s)


def test_connection_id_unique():
    """connection.id tells connections apart: sequential connections (each
    closed before the next opens) never share an id."""
    doc = {"access_log": "off", "workers": 1, "filters": {"md": {"path": pw("metadata", "go")}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["md"]}]}
    s = serve(doc)
    ids = [one(req(s.port, "GET", "/c%d" % i)[1], "x-prop-connection-id") for i in range(30)]
    check(all(i and i.isdigit() for i in ids), "integers", ids[:5])
    eq(len(set(ids)), 30, "30 connections, 30 different connection.id values")
    stop(s)


def test_empty_response_header():
    """An empty header value set by a filter (the metadata filter's empty
    plugin_root_id; the headers filter's response.set to ""), or sent by
    the upstream, reaches the client as an empty header."""
    doc = {"access_log": "off",
           "filters": {"md": {"path": pw("metadata", "go")},
                       "h": {"path": pw("headers", "rust"),
                             "config": {"response": {"set": {"x-empty": ""}}}}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["md", "h"]},
                      {"match": {"path": "/nofilter"}, "upstream": UP.url}]}
    s = serve(doc)
    st, hdrs, body = req(s.port, "GET", "/x")
    eq(st, 200, "200")
    eq(values(hdrs, "x-prop-plugin-root-id"), [""],
       "metadata: an empty property value gives an empty header (README)")
    eq(values(hdrs, "x-empty"), [""], "headers: response.set x-empty to \"\"")
    st, hdrs, _ = req(s.port, "GET", "/nofilter", headers={"x-echo-empty": "1"})
    eq((st, values(hdrs, "x-empty-up")), (200, [""]),
       "no filter: the upstream's empty x-empty-up header is relayed")
    stop(s)


# ---- chains -------------------------------------------------------------------------------

def test_chain_of_three():
    """filter_chain [one (go), two (rust)] before routing, route filters
    [three (rust)] after: each filter undoes what the one before it added,
    so only the right order leaves x-c alone upstream; on the way back the
    route's filter runs first and the server chain's first filter last."""
    go, rust = pw("headers", "go"), pw("headers", "rust")
    doc = {"access_log": "off",
           "filters": {
               "one": {"path": go, "config": {"request": {"set": {"x-a": "1"}},
                                              "response": {"set": {"x-r": "one"}}}},
               "two": {"path": rust, "config": {"request": {"set": {"x-b": "2"}, "remove": ["x-a"]},
                                                "response": {"set": {"x-r": "two", "x-two": "2"}}}},
               "three": {"path": rust, "config": {"request": {"set": {"x-c": "3"}, "remove": ["x-b"]},
                                                  "response": {"set": {"x-r": "three"},
                                                               "remove": ["x-two"]}}}},
           "filter_chain": ["one", "two"],
           "routes": [{"match": {"path": "/three/..."}, "upstream": UP.url, "filters": ["three"]},
                      {"match": {"path": "/..."}, "upstream": UP.url}]}
    s = serve(doc)
    st, hdrs, body = req(s.port, "GET", "/three/x")
    e = echoed(body)
    eq(st, 200, "through three filters")
    eq([k for k in ("x-a", "x-b", "x-c") if k in e["h"]], ["x-c"],
       "request: one, two, three in order (each removes what the previous one set)")
    eq(values(hdrs, "x-filtered-by"), ["rust", "rust", "go"],
       "response: three, two, one (x-filtered-by added in that order)")
    eq(values(hdrs, "x-r"), ["one"], "the server chain's first filter edits the response last")
    eq(values(hdrs, "x-two"), ["2"],
       "the route's filter ran before 'two' on the response (its remove saw no x-two)")
    st, hdrs, body = req(s.port, "GET", "/other")
    e = echoed(body)
    eq([k for k in ("x-a", "x-b", "x-c") if k in e["h"]], ["x-b"], "only the server chain here")
    eq(values(hdrs, "x-filtered-by"), ["rust", "go"], "two filters on the way back")
    stop(s)


def test_chain_bodies_and_pauses():
    """A server chain that pauses (postpone) and edits the body (prepend),
    then route chains that pause on an http_call (auth), append and compress
    the body: each filter gets the body the one before it left."""
    import zlib
    auth = Backend(lambda h: (200, [], b"bob") if h.headers.get("authorization") == "ok"
                   else (401, [], b""))
    doc = {"access_log": "off", "clusters": {"auth": auth.url},
           "filters": {"pp": {"path": pw("postpone", "rust"), "config": {"period_ms": 20}},
                       "pre": {"path": pw("body", "rust"), "config": {"mode": "prepend", "text": ">"}},
                       "app": {"path": pw("body", "go"), "config": {"mode": "append", "text": "!"}},
                       "zip": {"path": pw("foreign", "rust")},
                       "auth": {"path": pw("auth", "go")},
                       "v": {"path": pw("validate", "go")}},
           "filter_chain": ["pp", "pre"],
           "routes": [{"match": {"path": "/zip"}, "upstream": UP.url, "filters": ["app", "zip"]},
                      {"match": {"path": "/auth"}, "upstream": UP.url, "filters": ["auth", "app"]},
                      {"match": {"path": "/v"}, "upstream": UP.url, "filters": ["v"]}]}
    s = serve(doc)
    st, _, body = req(s.port, "POST", "/zip", body=b"data" * 100)
    e = echoed(body)
    eq(st, 200, "pause, prepend, append, compress")
    eq(zlib.decompress(e["body"]), b">" + b"data" * 100 + b"!",
       "the upstream gets zlib('>' + body + '!'): each filter saw the previous one's body")
    eq((e["h"].get("x-compressed-size"), e["h"].get("x-postponed")),
       ([str(len(e["body"]))], ["1"]), "the headers of both chains")
    st, _, body = req(s.port, "POST", "/auth", body=b"data", headers={"Authorization": "ok"})
    e = echoed(body)
    eq((st, e["body"], e["h"].get("x-auth-user"), e["h"].get("x-postponed")),
       (200, b">data!", ["bob"], ["1"]), "paused in the server chain and in the route chain")
    eq(req(s.port, "POST", "/auth", body=b"data", headers={"Authorization": "no"})[:3:2],
       (403, b"forbidden\n"), "a 403 from the route chain after the server chain's pause")
    st, _, body = req(s.port, "POST", "/v", body=b'{"a": 1}')
    eq((st, body), (403, b"invalid json\n"), "validate sees the prepended body ('>{...}')")
    res = parallel(lambda i: req(s.port, "POST", "/auth", body=b"d%d" % i,
                                 headers={"Authorization": "ok"}), range(30))
    check([r[0] for r in res] == [200] * 30, "30 at once, each paused twice",
          ([r[:3:2] for r in res if r[0] != 200][:3],
           [l for l in s.log().splitlines() if "filter 'auth'" in l][-4:]))
    eq(sorted(echoed(r[2])["body"] for r in res if r[0] == 200),
       sorted(b">d%d!" % i for i in range(30)), "each with its own body")
    stop(s)
    auth.close()


def test_cli_filters():
    """wasmplug serve --filter F,config=FILE (twice: a chain in order) --upstream URL,
    and --filter with a plugin and with vm-config=FILE."""
    rust, go = pw("headers", "rust"), pw("headers", "go")
    c1 = write_config({"request": {"set": {"x-a": "1"}}, "response": {"set": {"x-r": "first"}}},
                      "cli1.json")
    c2 = write_config({"request": {"set": {"x-b": "2"}, "remove": ["x-a"]},
                       "response": {"set": {"x-r": "second"}}}, "cli2.json")
    s = serve(None, "--filter", rust + ",config=" + c1, "--filter", go + ",config=" + c2,
              "--upstream", UP.url, "--access-log", "off")
    st, hdrs, body = req(s.port, "POST", "/any/path?x=1", body=b"data")
    e = echoed(body)
    eq((st, e["path"], e["body"]), (200, "/any/path?x=1", b"data"), "the one-liner proxies")
    eq(("x-a" in e["h"], e["h"].get("x-b")), (False, ["2"]),
       "request: the first --filter, then the second (it removed what the first set)")
    eq(values(hdrs, "x-filtered-by"), ["go", "rust"], "response: the second, then the first")
    eq(values(hdrs, "x-r"), ["first"], "the first filter has the last word on the response")
    stop(s)
    # The same file twice, and with a plugin instead of --upstream.
    s = serve(hello(), "--filter", rust, "--filter", rust + ",config=" + c1, "--access-log", "off")
    st, hdrs, body = req(s.port, "GET", "/p")
    check(st == 200 and body.startswith(b"Hello from C (core)!"), "--filter with a plugin", body)
    eq(values(hdrs, "x-filtered-by"), ["rust", "rust"], "the same filter file twice: two filters")
    eq(values(hdrs, "x-r"), ["first"], "the second one's config applies")
    stop(s)
    # vm-config=FILE
    vm = os.path.join(TMP, "vm.txt")
    with open(vm, "w") as f:
        f.write(" vm text\n")
    pc = os.path.join(TMP, "pc.txt")
    with open(pc, "w") as f:
        f.write("plugin\ntext")
    s = serve(None, "--filter", "%s,config=%s,vm-config=%s" % (pw("config", "rust"), pc, vm),
              "--upstream", UP.url, "--access-log", "off")
    st, hdrs, _ = req(s.port, "GET", "/")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), (200, "vm text", "plugin text"),
       "--filter ...,config=FILE,vm-config=FILE: both configurations reach the filter")
    stop(s)
    r = subprocess.run([CLI, "serve", "--filter", rust + ",bogus=1", "--upstream", UP.url,
                        "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "is not config=FILE or vm-config=FILE" in r.stderr,
          "a bad --filter option is refused", r.stderr)


# ---- hot reload ------------------------------------------------------------------------------

class Hammer:
    """Requests in a loop from two threads (new connections and keep-alive)
    while something changes: every status and the x-version seen."""

    def __init__(self, port, path):
        self.port, self.path, self.stop_ = port, path, False
        self.results = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(ka,)) for ka in (False, True)]
        for t in self.threads:
            t.start()

    def loop(self, keepalive):
        c = None
        while not self.stop_:
            try:
                if not c:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", self.path)
                r = c.getresponse()
                r.read()
                res = (r.status, r.getheader("x-version"))
                if not keepalive or r.will_close:
                    c.close()
                    c = None
            except Exception as e:  # noqa: BLE001  (recorded as a failure)
                res = (repr(e), None)
                c = None
            with self.lock:
                self.results.append(res)

    def saw(self, version, timeout=15):
        """Waits until a hammer request was answered with `version`: on a busy
        machine (a parallel ctest) its threads may not run for a while, and a
        fixed pause could let a version go by unseen."""
        def seen():
            with self.lock:
                return any(r[1] == version for r in self.results)
        return wait_for(seen, timeout)

    def finish(self):
        self.stop_ = True
        for t in self.threads:
            t.join()
        return self.results


def test_hot_reload_config():
    """A filter's configuration changed in the config file (watched) and
    through the control API: new requests get the new behaviour, none fails;
    a configuration the filter refuses changes nothing."""
    sock = os.path.join(TMP, "filters-control.sock")

    def doc(version, **extra):
        f = {"path": pw("headers", "rust"), "config": {"response": {"set": {"x-version": version}}}}
        f.update(extra)
        return {"access_log": "off", "plugins": {"hello": {"path": hello()}},
                "filters": {"h": f}, "filter_chain": ["h"],
                "routes": [{"match": {"path": "/..."}, "plugin": "hello"}]}

    cfg = write_config(doc("1"), "reload.json")
    s = serve(cfg, "--control", "unix:" + sock)
    eq(one(req(s.port, "GET", "/")[1], "x-version"), "1", "version 1")
    ham = Hammer(s.port, "/r")
    check(ham.saw("1"), "the hammer saw version 1")
    # 1. The config file, replaced by rename.
    tmp = cfg + ".new"
    with open(tmp, "w") as f:
        json.dump(doc("2"), f)
    os.rename(tmp, cfg)
    got = wait_for(lambda: one(req(s.port, "GET", "/")[1], "x-version") == "2", timeout=15)
    check(got, "the changed config file is applied: x-version 2", s.log()[-2000:])
    check(ham.saw("2"), "the hammer saw version 2")
    # 2. The control API.
    st, body = unix_request(sock, "PUT", "/config/filters/h/config",
                            body=json.dumps({"response": {"set": {"x-version": "3"}}}))
    eq(st, 200, "PUT /config/filters/h/config: 200")
    eq(one(req(s.port, "GET", "/")[1], "x-version"), "3", "the next request sees version 3")
    check(ham.saw("3"), "the hammer saw version 3")
    # 3. A configuration the filter refuses: 422, nothing changes.
    st, body = unix_request(sock, "PUT", "/config/filters/h/config",
                            body=json.dumps({"response": {"set": {"x-version": 4}}}))
    eq(st, 422, "a configuration the filter refuses: 422")
    check(b"filters.h" in body and b"rejected" in body, "saying which filter and why", body)
    time.sleep(0.3)
    results = ham.finish()
    eq(one(req(s.port, "GET", "/")[1], "x-version"), "3", "version 3 keeps serving")
    bad = [r for r in results if r[0] != 200]
    print("  %d requests during the reloads" % len(results))
    check(len(results) > 20, "requests ran during the reloads", len(results))
    eq(bad, [], "no failed request during the reloads")
    versions = [r[1] for r in results]
    check(set(versions) == {"1", "2", "3"}, "versions 1, 2 and 3 were served", set(versions))
    # A request sees one version: never back to an older one after a newer one (per thread
    # order is not kept in results, so check the first and last only).
    eq((versions[0], versions[-1]), ("1", "3"), "first version 1, last version 3")
    st, body = unix_request(sock, "GET", "/config/filters/h/config")
    eq(json.loads(body), {"response": {"set": {"x-version": "3"}}}, "the live document")
    stop(s)


def test_control_api_filters():
    """Filters added, chained, unchained and removed through the control API;
    a filter still referenced cannot be removed; reloads are counted."""
    sock = os.path.join(TMP, "filters-ctl.sock")
    doc = {"access_log": "off", "metrics_path": "/metrics",
           "filters": {"h": {"path": pw("headers", "rust")}}, "filter_chain": ["h"],
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
    s = serve(doc, "--control", "unix:" + sock)

    def by():
        return values(req(s.port, "GET", "/")[1], "x-filtered-by")

    st, body = unix_request(sock, "DELETE", "/config/filters/h")
    eq(st, 422, "a filter in filter_chain cannot be removed")
    check(b"filter_chain[0]: must name a filter" in body, "saying where it is used", body)
    eq(by(), ["rust"], "unchanged")
    eq(unix_request(sock, "PUT", "/config/filters/g",
                    body=json.dumps({"path": pw("headers", "go")}))[0], 200, "a filter added")
    eq(by(), ["rust"], "defined but in no chain: not run")
    eq(unix_request(sock, "POST", "/config/filter_chain", body='"g"')[0], 200, "appended to the chain")
    eq(by(), ["go", "rust"], "the chain h, g: g answers first on the way back")
    eq(unix_request(sock, "PUT", "/config/routes/0/filters", body='["h", "g"]')[0], 200,
       "a route chain set")
    eq(by(), ["go", "rust", "go", "rust"], "the route's chain, then the server's")
    for path in ("/config/filter_chain", "/config/routes/0/filters", "/config/filters/h",
                 "/config/filters/g"):
        eq(unix_request(sock, "DELETE", path)[0], 200, "DELETE %s" % path)
    eq(by(), [], "no filter left")
    # The previous request leaves the gauge in the server's completion
    # callback, which may run just after its client has the response.
    for _ in range(50):
        st, _, body = req(s.port, "GET", "/metrics")
        m = parse_metrics_lenient(body.decode())
        if m.get("wasmplug_http_in_flight") == 1:
            break
        time.sleep(0.02)
    check(m.get("wasmplug_reloads_total", 0) >= 7, "7 reloads counted", m.get("wasmplug_reloads_total"))
    check(m.get("wasmplug_reload_failures_total", 0) >= 1, "the refused one too",
          m.get("wasmplug_reload_failures_total"))
    eq(m.get("wasmplug_http_in_flight"), 1, "in flight: only this scrape")
    stop(s)


def parse_metrics_lenient(text):
    """{name{labels}: value} of the samples (summaries included)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_hot_reload_filter_file():
    """A filter file replaced (rename, as deploy tools do) is reloaded like a
    plugin file: new requests get the new filter, none fails."""
    f = os.path.join(TMP, "live-filter.wasm")
    shutil.copyfile(pw("headers", "rust"), f)
    doc = {"access_log": "off", "filters": {"h": {"path": f}}, "filter_chain": ["h"],
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
    s = serve(doc, name="filter-file.json")
    eq(values(req(s.port, "GET", "/")[1], "x-filtered-by"), ["rust"], "the Rust filter")
    replace_file(pw("headers", "go"), f)
    ok = wait_for(lambda: values(req(s.port, "GET", "/")[1], "x-filtered-by") == ["go"], 15)
    check(ok, "the replaced filter file is loaded: x-filtered-by: go", s.log()[-1000:])
    stop(s)


def test_reload_rereads_filter_files():
    """A config file change reloads the filter's file and re-reads its
    config_file, even when neither path changed."""
    f = os.path.join(TMP, "filter2.wasm")
    cf = os.path.join(TMP, "filter2-config.json")
    with open(cf, "w") as fh:
        json.dump({"response": {"set": {"x-v": "1"}}}, fh)
    shutil.copyfile(pw("headers", "rust"), f)
    doc = {"access_log": "off", "filters": {"h": {"path": f, "config_file": cf}},
           "filter_chain": ["h"], "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
    cfg = write_config(doc, "filter2.json")
    s = serve(cfg)
    h = req(s.port, "GET", "/")[1]
    eq((one(h, "x-filtered-by"), one(h, "x-v")), ("rust", "1"), "config_file read at start")
    replace_file(pw("headers", "go"), f)
    with open(cf + ".t", "w") as fh:
        json.dump({"response": {"set": {"x-v": "2"}}}, fh)
    os.rename(cf + ".t", cf)
    doc["routes"][0]["name"] = "renamed"  # a real change to the config file
    with open(cfg + ".t", "w") as fh:
        json.dump(doc, fh)
    os.rename(cfg + ".t", cfg)
    check(wait_log(s, "hot reload: applied", 10), "the config file is applied", s.log()[-1000:])
    h = req(s.port, "GET", "/")[1]
    eq((one(h, "x-filtered-by"), one(h, "x-v")), ("go", "2"),
       "the new filter file and the new config_file are in use")
    stop(s)


run(globals())
