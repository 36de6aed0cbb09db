package wasmplug

import (
	"errors"
	"testing"
	"time"
)

// A JSON manifest, and process isolation through it: the plugin runs in a
// worker process ($WASMPLUG_WORKER, the installed wasmplug), and its limits
// and host functions work across the process boundary.
func TestJSONManifestAndProcessIsolation(t *testing.T) {
	envDir(t, "WASMPLUG_WORKER")
	e := newEngine(t)
	if err := e.DefineString("plugin", "call_me", func(_ *HostCall, in string) (string, error) {
		if in == "fail" {
			return "", errors.New("isolated call_me refuses")
		}
		return "Hello " + in, nil
	}); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{JSON: []byte(`{"isolation": "process", "limits": {"timeout_ms": 2000}}`)}
	p := load(t, e, pluginFile(t, "callback-c.wasm"), m)
	i := instance(t, p)
	if out, err := i.CallString("callback", "Isolde"); err != nil || out != "Hello Isolde" {
		t.Fatalf("isolated callback = %q, %v", out, err)
	}
	i2 := instance(t, p)
	_, err := i2.CallString("callback", "fail")
	if err == nil || !errors.Is(err, ErrHost) && !errors.Is(err, ErrPlugin) && !errors.Is(err, ErrTrap) {
		t.Fatalf("failing host function across processes: %v", err)
	}

	spin := load(t, e, fixture(t, "numeric.wat"), &Manifest{JSON: []byte(`{"isolation": "process"}`), Timeout: 100 * time.Millisecond})
	s := instance(t, spin)
	if r, err := s.Call("add", ValueI32(2), ValueI32(3)); err != nil || r[0].I32() != 5 {
		t.Fatalf("isolated add = %v, %v", r, err)
	}
	_, err = s.Call("spin")
	wantKind(t, err, KindTimeout, ErrTimeout)
}
