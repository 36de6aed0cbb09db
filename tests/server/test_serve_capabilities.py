"""wasmplug serve: plugins and routes grant capabilities through their
manifests. A section is checked when the configuration loads: a bad one or
one for a capability the server does not have is refused with the
capability's own message (at start, and through the control API without
touching what runs); a route's capabilities.NAME replaces the plugin's."""
import json

from serve_lib import *


def doc(plugin_caps=None, route_caps=None):
    plugin = {"path": fixture("http_echo.wat")}
    if plugin_caps is not None:
        plugin["manifest"] = {"capabilities": plugin_caps}
    route = {"match": {"path": "/echo"}, "plugin": "echo"}
    if route_caps is not None:
        route["manifest"] = {"capabilities": route_caps}
    return {"access_log": "off", "workers": 1, "plugins": {"echo": plugin}, "routes": [route]}


def refused(d, needle, what):
    s = Server(write_config(d, "refused.json"))
    try:
        s.start(timeout=60)
    except RuntimeError as e:
        check(needle in str(e), what, str(e)[-600:])
        return
    s.stop()
    check(False, what, "the server started")


def test_granted():
    caps = {"http": {"allowed_hosts": ["https://api.example.com"]}, "logging": {"level": "warn"},
            "crypto": {}}
    with Server(write_config(doc(caps, {"logging": {"level": "error"}}))) as s:
        st, _, body = request(s.port, "POST", "/echo", body=b"granted")
        eq(st, 200, "a plugin with grants serves")
        check(body.endswith(b"granted"), "its answer (the request echoed)", body[-40:])


def test_refused_at_start():
    refused(doc({"logging": {"level": "loud"}}), "capabilities.logging.level must be one of",
            "a bad section on the plugin is refused with the capability's message")
    refused(doc(None, {"http": {"allowed_hosts": ["ftp://x"]}}), "capabilities.http.allowed_hosts",
            "a bad section on the route is refused")
    refused(doc({"nope": {}}), "grants capability 'nope', which this engine does not have",
            "an unknown capability is refused, named")
    # The route's section replaces the plugin's whole: a good plugin section
    # does not mend a bad route one.
    refused(doc({"logging": {"level": "warn"}}, {"logging": {"level": 3}}),
            "capabilities.logging.level", "the route's section is the one checked")


def test_refused_by_control_api():
    sock = os.path.join(tempfile.mkdtemp(dir=TMP), "control.sock")
    with Server(write_config(doc({"logging": {"level": "warn"}})), "--control", "unix:" + sock) as s:
        bad = json.dumps(doc({"http": {"allowed_hosts": "https://x"}}))
        st, body = unix_request(sock, "PUT", "/config", body=bad)
        check(400 <= st < 500, "a bad grant through the control API is refused (%d)" % st,
              body[:300])
        check(b"capabilities.http" in body, "the answer names the section", body[:300])
        st, _, _ = request(s.port, "POST", "/echo", body=b"x")
        eq(st, 200, "the running configuration still serves")


if __name__ == "__main__":
    run_tests(globals())
