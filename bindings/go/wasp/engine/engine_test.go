package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"wasmplug.dev/go/wasmplug"
	"wasmplug.dev/go/wasmplug/wasp/engine/logger"
)

func pluginPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("WP_PLUGINS")
	if dir == "" {
		t.Fatal("WP_PLUGINS is not set: run the tests through bindings/go/test.sh")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("plugin %s: %v", name, err)
	}
	return p
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("WP_FIXTURES")
	if dir == "" {
		t.Fatal("WP_FIXTURES is not set: run the tests through bindings/go/test.sh")
	}
	return filepath.Join(dir, name)
}

// recorder is a logger that keeps what it is given, as hclog would print it.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) fn(level string) logger.LogFunc {
	return func(msg string, params ...interface{}) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lines = append(r.lines, fmt.Sprintf("[%s] %s %v", level, msg, params))
	}
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func newWasm(t *testing.T) (*Wasm, *recorder) {
	rec := &recorder{}
	e := New(logger.New(rec.fn("INFO"), rec.fn("DEBUG"), rec.fn("ERROR"), rec.fn("TRACE")))
	t.Cleanup(func() { e.Close() })
	return e, rec
}

func callMe(in string) string { return fmt.Sprintf("Hello %s", in) }

// The seed's Basic Usage, with the repository's example plugins.
func TestBasicUsage(t *testing.T) {
	for _, name := range []string{"hello-c.wasm", "hello-go.wasm"} {
		t.Run(name, func(t *testing.T) {
			e, rec := newWasm(t)
			if err := e.RegisterPlugin("myplugin", pluginPath(t, name), nil); err != nil {
				t.Fatal(err)
			}
			i, err := e.GetInstance("myplugin", "")
			if err != nil {
				t.Fatal(err)
			}
			defer i.Remove()
			var outString string
			if err := i.CallFunction("greet", &outString, "Wasp"); err != nil {
				t.Fatal(err)
			}
			if outString != "Hello, Wasp!" {
				t.Errorf("greet = %q", outString)
			}
			var outData []byte
			if err := i.CallFunction("greet", &outData, []byte("bytes")); err != nil || string(outData) != "Hello, bytes!" {
				t.Errorf("greet([]byte) = %q, %v", outData, err)
			}
			// The engine-level call of the seed.
			if err := e.CallFunction("greet", &outString, "engine"); err != nil || outString != "Hello, engine!" {
				t.Errorf("engine CallFunction = %q, %v", outString, err)
			}
			// The plugin's log line reaches the wrapped logger.
			if !strings.Contains(rec.text(), "greeting Wasp") {
				t.Errorf("logger got:\n%s", rec.text())
			}
			if !strings.Contains(rec.text(), "[DEBUG] Called function") {
				t.Errorf("no debug line for the call:\n%s", rec.text())
			}
		})
	}
}

func TestPluginConfig(t *testing.T) {
	e, _ := newWasm(t)
	err := e.RegisterPlugin("hello", pluginPath(t, "hello-c.wasm"), &PluginConfig{Config: map[string]string{"greeting": "Howdy"}})
	if err != nil {
		t.Fatal(err)
	}
	i, err := e.GetInstance("hello", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Remove()
	var out string
	if err := i.CallFunction("greet", &out, "partner"); err != nil || out != "Howdy, partner!" {
		t.Errorf("greet = %q, %v", out, err)
	}
}

// The seed's Callbacks section: AddCallback("plugin", "call_me", callMe).
func TestCallbacks(t *testing.T) {
	for _, name := range []string{"callback-c.wasm", "callback-go.wasm"} {
		t.Run(name, func(t *testing.T) {
			e, rec := newWasm(t)
			e.AddCallback("plugin", "call_me", callMe)
			if err := e.RegisterPlugin("cb", pluginPath(t, name), nil); err != nil {
				t.Fatal(err)
			}
			i, err := e.GetInstance("cb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer i.Remove()
			var out string
			if err := i.CallFunction("callback", &out); err != nil || out != "Hello Nic" {
				t.Fatalf("callback = %q, %v", out, err)
			}
			if !strings.Contains(rec.text(), "[DEBUG] Called callback function [out [Hello Nic]]") {
				t.Errorf("no debug line for the callback:\n%s", rec.text())
			}
		})
	}
}

// Wasp links callbacks per instance, so adding one after RegisterPlugin works.
func TestCallbackAddedAfterRegister(t *testing.T) {
	e, _ := newWasm(t)
	if err := e.RegisterPlugin("cb", pluginPath(t, "callback-c.wasm"), nil); err != nil {
		t.Fatal(err)
	}
	e.AddCallback("plugin", "call_me", func(in []byte) ([]byte, error) {
		if string(in) == "nobody" {
			return nil, errors.New("call_me: nobody to greet")
		}
		return append([]byte("Hi "), in...), nil
	})
	i, err := e.GetInstance("cb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Remove()
	var out []byte
	if err := i.CallFunction("callback", &out, "Ada"); err != nil || string(out) != "Hi Ada" {
		t.Fatalf("callback = %q, %v", out, err)
	}
	i2, err := e.GetInstance("cb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i2.Remove()
	err = i2.CallFunction("callback", &out, "nobody")
	if err == nil || !strings.Contains(err.Error(), "nobody to greet") {
		t.Fatalf("failing callback: %v", err)
	}
	// Adding it again replaces the Go function.
	e.AddCallback("plugin", "call_me", func(in []byte) ([]byte, error) { return []byte("replaced"), nil })
	i3, err := e.GetInstance("cb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i3.Remove()
	if err := i3.CallFunction("callback", &out, "x"); err != nil || string(out) != "replaced" {
		t.Fatalf("replaced callback = %q, %v", out, err)
	}
}

func TestNumbers(t *testing.T) {
	e, _ := newWasm(t)
	e.AddCallback("test", "add", func(a, b int32) int32 { return a*10 + b })
	e.AddCallback("test", "scale", func(a int64, f float64) float64 { return float64(a) * f })
	e.AddCallback("test", "upper", func(s string) string { return strings.ToUpper(s) })
	e.AddCallback("test", "fail", func(n int32) (int32, error) {
		if n != 0 {
			return 0, fmt.Errorf("fail(%d)", n)
		}
		return 1, nil
	})
	e.AddCallback("test", "nop", func() {})
	if err := e.RegisterPlugin("num", fixture(t, "numeric.wat"), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterPlugin("host", fixture(t, "host.wat"), nil); err != nil {
		t.Fatal(err)
	}
	i, err := e.GetInstance("num", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Remove()
	var sum int32
	if err := i.CallFunction("add", &sum, 3, 2); err != nil || sum != 5 {
		t.Fatalf("add = %d, %v", sum, err)
	}
	var big int64
	if err := i.CallFunction("add64", &big, int64(1)<<40, 1); err != nil || big != 1<<40+1 {
		t.Fatalf("add64 = %d, %v", big, err)
	}
	var f float64
	if err := i.CallFunction("divf64", &f, 1, 4); err != nil || f != 0.25 {
		t.Fatalf("divf64 = %v, %v", f, err)
	}
	if err := i.CallFunction("nothing", nil); err != nil {
		t.Fatal(err)
	}
	if err := i.CallFunction("add", &sum, "3", 2); err == nil {
		t.Error("a string passed to a numeric function was accepted")
	}
	err = i.CallFunction("nope", &sum)
	var nf FunctionNotFoundError
	if !errors.As(err, &nf) || nf.Name != "nope" || !errors.Is(err, wasmplug.ErrNotFound) {
		t.Errorf("unknown function: %v", err)
	}
	if err := i.CallFunction("trap", nil); !errors.Is(err, wasmplug.ErrTrap) {
		t.Errorf("trap: %v", err)
	}

	h, err := e.GetInstance("host", "")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Remove()
	if err := h.CallFunction("call_add", &sum, 4, 2); err != nil || sum != 42 {
		t.Fatalf("call_add = %d, %v", sum, err)
	}
	if err := h.CallFunction("call_scale", &f, 3, 0.5); err != nil || f != 1.5 {
		t.Fatalf("call_scale = %v, %v", f, err)
	}
	var s string
	if err := h.CallFunction("shout", &s, "loud"); err != nil || s != "LOUD" {
		t.Fatalf("shout = %q, %v", s, err)
	}
	err = h.CallFunction("call_fail", &sum, 3)
	if !errors.Is(err, wasmplug.ErrHost) || !strings.Contains(err.Error(), "fail(3)") {
		t.Fatalf("call_fail = %v", err)
	}
}

func TestErrors(t *testing.T) {
	e, rec := newWasm(t)
	err := e.RegisterPlugin("x", "/nonexistent/x.wasm", nil)
	if !errors.Is(err, wasmplug.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	if !strings.Contains(rec.text(), "[ERROR] Unable to load plugin") {
		t.Errorf("no error logged:\n%s", rec.text())
	}
	if _, err := e.GetInstance("x", ""); err == nil {
		t.Error("GetInstance of an unregistered plugin succeeded")
	}
	// A callback that needs host functions nobody added fails at GetInstance.
	if err := e.RegisterPlugin("cb", pluginPath(t, "callback-c.wasm"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.GetInstance("cb", ""); !errors.Is(err, wasmplug.ErrLink) {
		t.Errorf("missing callback: %v", err)
	}
	e.AddCallback("plugin", "bad", func(m map[string]int) {})
	if !strings.Contains(rec.text(), "Unable to add callback") {
		t.Errorf("unsupported callback not reported:\n%s", rec.text())
	}
}

func TestConcurrentInstances(t *testing.T) {
	e, _ := newWasm(t)
	e.AddCallback("plugin", "call_me", callMe)
	if err := e.RegisterPlugin("cb", pluginPath(t, "callback-c.wasm"), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			i, err := e.GetInstance("cb", "")
			if err != nil {
				errs <- err
				return
			}
			defer i.Remove()
			for k := 0; k < 20; k++ {
				var out string
				name := fmt.Sprintf("n%d.%d", g, k)
				if err := i.CallFunction("callback", &out, name); err != nil || out != "Hello "+name {
					errs <- fmt.Errorf("%s: %q %v", name, out, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Replacing a callback while plugins call it is safe (run with -race).
func TestReplaceCallbackDuringCalls(t *testing.T) {
	e, _ := newWasm(t)
	e.AddCallback("plugin", "call_me", callMe)
	if err := e.RegisterPlugin("cb", pluginPath(t, "callback-c.wasm"), nil); err != nil {
		t.Fatal(err)
	}
	i, err := e.GetInstance("cb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Remove()
	done := make(chan error)
	go func() {
		for k := 0; k < 200; k++ {
			var out string
			if err := i.CallFunction("callback", &out, "x"); err != nil || (out != "Hello x" && out != "Bye x") {
				done <- fmt.Errorf("callback = %q, %v", out, err)
				return
			}
		}
		done <- nil
	}()
	for k := 0; k < 50; k++ {
		e.AddCallback("plugin", "call_me", func(in string) string { return "Bye " + in })
		e.AddCallback("plugin", "call_me", callMe)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
