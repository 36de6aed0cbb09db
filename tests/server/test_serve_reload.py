"""wasmplug serve: hot reload. The handler file is replaced 200 times while a
load generator (wrk) runs: no request may fail, and both versions must have
answered. A broken replacement leaves the old handler serving; a changed
config file is applied; a broken config file is not."""
import json
import threading

from serve_lib import *

SWAPS = int(os.environ.get("WASMPLUG_RELOAD_SWAPS", "200"))


def versions():
    """Two versions of one handler: 200 and 201."""
    with open(fixture("http_echo.wat")) as f:
        text = f.read()
    a, b = os.path.join(TMP, "v1.wat"), os.path.join(TMP, "v2.wat")
    with open(a, "w") as f:
        f.write(text)
    with open(b, "w") as f:
        f.write(text.replace("(i32.const 200)", "(i32.const 201)"))
    return a, b


def test_swaps_under_load():
    v1, v2 = versions()
    live = os.path.join(TMP, "handler.wat")
    replace_file(v1, live)
    with Server(live, "--access-log", "off", "--workers", "2") as s:
        # wrk runs a fixed time covering all swaps (interrupting it would
        # count its open reads as errors).
        duration = int(SWAPS * 0.13) + 4
        wrk = subprocess.Popen(["wrk", "-t1", "-c4", "-d%ds" % duration, s.url("/x")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = set()
        stop = False

        def sample():
            while not stop:
                try:
                    seen.add(get(s.port, "/s", timeout=10)[0])
                except Exception as e:  # a failed request fails the test below
                    seen.add(repr(e))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        for i in range(SWAPS):
            replace_file(v2 if i % 2 == 0 else v1, live)
            time.sleep(0.12)  # past the 50 ms debounce, so each swap is applied
        stop = True
        sampler.join()
        out = wrk.communicate(timeout=duration + 60)[0]
        reqs = re.search(r"(\d+) requests in", out)
        check(reqs and int(reqs.group(1)) > SWAPS, "wrk ran requests through the swaps", out)
        check("Non-2xx" not in out, "no request failed during %d swaps (wrk)" % SWAPS, out)
        check("Socket errors" not in out, "no socket errors during the swaps (wrk)", out)
        eq(seen, {200, 201}, "both versions answered, nothing else")
        reloads = s.log().count("hot reload: plugins reloaded")
        check(reloads >= SWAPS // 2, "the swaps were reloads (%d logged)" % reloads)


def test_broken_replacement_keeps_old():
    v1, _ = versions()
    live = os.path.join(TMP, "handler2.wat")
    replace_file(v1, live)
    with Server(live, "--access-log", "off") as s:
        eq(get(s.port, "/")[0], 200, "serving v1")
        broken = os.path.join(TMP, "broken.wat")
        with open(broken, "w") as f:
            f.write("(module (func $oops")
        replace_file(broken, live)
        time.sleep(0.5)
        for _ in range(5):
            eq(get(s.port, "/")[0], 200, "a broken replacement leaves the old handler serving")
        check("previous version keeps serving" in s.log(), "the failure is logged with why",
              s.log()[-500:])
        replace_file(v1.replace("v1", "v2"), live)
        time.sleep(0.5)
        eq(get(s.port, "/")[0], 201, "a good replacement after it is applied")


def test_config_file_change():
    v1, v2 = versions()
    doc = {"access_log": "off", "plugins": {"a": {"path": v1}, "b": {"path": v2}},
           "routes": [{"match": {"path": "/r"}, "plugin": "a"}]}
    path = write_config(doc, "reload.json")
    with Server(path) as s:  # --listen overrides the file's listen, which stays watched
        eq(get(s.port, "/r")[0], 200, "route to a")
        doc["routes"][0]["plugin"] = "b"
        doc["routes"].append({"match": {"path": "/new"}, "plugin": "a"})
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f)
        os.rename(path + ".tmp", path)
        time.sleep(0.6)
        eq(get(s.port, "/r")[0], 201, "a changed config file is applied")
        eq(get(s.port, "/new")[0], 200, "including new routes")
        with open(path, "w") as f:
            f.write('{"routes": [{"match": {"path": "/r"}, "plugin": "nope"}]}')
        time.sleep(0.6)
        eq(get(s.port, "/r")[0], 201, "a bad config file changes nothing")
        check("keeping the running config" in s.log(), "and says why", s.log()[-400:])


run_tests(globals())
