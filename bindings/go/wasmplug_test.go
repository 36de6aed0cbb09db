package wasmplug

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var asError = func(err error, target **Error) bool { return errors.As(err, target) }
var isError = errors.Is

func TestNumericCalls(t *testing.T) {
	e := newEngine(t)
	p := load(t, e, fixture(t, "numeric.wat"), nil)
	i := instance(t, p)

	res, err := i.Call("add", ValueI32(2), ValueI32(40))
	if err != nil || len(res) != 1 || res[0].Kind() != I32 || res[0].I32() != 42 {
		t.Fatalf("add(2, 40) = %v, %v", res, err)
	}
	res, err = i.Call("add64", ValueI64(1<<40), ValueI64(-5))
	if err != nil || res[0].I64() != 1<<40-5 {
		t.Fatalf("add64 = %v, %v", res, err)
	}
	res, err = i.Call("mulf32", ValueF32(1.5), ValueF32(4))
	if err != nil || res[0].F32() != 6 {
		t.Fatalf("mulf32 = %v, %v", res, err)
	}
	res, err = i.Call("divf64", ValueF64(1), ValueF64(8))
	if err != nil || res[0].F64() != 0.125 {
		t.Fatalf("divf64 = %v, %v", res, err)
	}
	res, err = i.Call("pair", ValueI32(-7))
	if err != nil || len(res) != 2 || res[0].I32() != -7 || res[1].Kind() != I64 || res[1].I64() != -7 {
		t.Fatalf("pair = %v, %v", res, err)
	}
	if res, err = i.Call("nothing"); err != nil || len(res) != 0 {
		t.Fatalf("nothing = %v, %v", res, err)
	}

	// A handle, found once, and the allocation-free path.
	f, err := p.Func("add")
	if err != nil {
		t.Fatal(err)
	}
	params, results, ok := f.Signature()
	if !ok || fmt.Sprint(params, results) != "[i32 i32] [i32]" {
		t.Fatalf("Signature = %v %v %v", params, results, ok)
	}
	out := make([]Value, 1)
	for k := int32(0); k < 100; k++ {
		if err := i.CallFuncTo(f, out, ValueI32(k), ValueI32(1)); err != nil || out[0].I32() != k+1 {
			t.Fatalf("add(%d, 1) = %v, %v", k, out[0], err)
		}
	}
	allocs := testing.AllocsPerRun(200, func() { _ = i.CallFuncTo(f, out, ValueI32(3), ValueI32(4)) })
	if allocs != 0 {
		t.Errorf("CallFuncTo allocates %v times per call", allocs)
	}
}

func TestBadInput(t *testing.T) {
	e := newEngine(t)
	_, err := e.Load("/nonexistent/nothing.wasm", nil)
	we := wantKind(t, err, KindNotFound, ErrNotFound)
	if !strings.Contains(we.Message, "nothing.wasm") {
		t.Errorf("message does not name the file: %q", we.Message)
	}
	_, err = e.LoadBytes("junk", []byte("\x00asm\x01\x00\x00\x00garbage"), nil)
	wantKind(t, err, KindLoad, ErrLoad)
	_, err = e.LoadBytes("empty", nil, nil)
	wantKind(t, err, KindLoad, ErrLoad)

	p := load(t, e, fixture(t, "numeric.wat"), nil)
	i := instance(t, p)
	_, err = i.Call("no_such_export", ValueI32(1))
	we = wantKind(t, err, KindNotFound, ErrNotFound)
	if !strings.Contains(we.Message, "add") {
		t.Errorf("not-found message does not list the exports: %q", we.Message)
	}
	_, err = p.Func("missing")
	wantKind(t, err, KindNotFound, ErrNotFound)
	_, err = i.Call("add", ValueI64(1), ValueI32(2))
	wantKind(t, err, KindBadInput, ErrBadInput)
	_, err = i.Call("add", ValueI32(1))
	wantKind(t, err, KindBadInput, ErrBadInput)
	// add has the bytes signature, but the module lacks the bytes ABI's exports.
	_, err = i.CallBytes("add", []byte("x"))
	wantKind(t, err, KindABI, ErrABI)
	_, err = e.Load(fixture(t, "numeric.wat"), &Manifest{JSON: []byte(`{"nope": 1}`)})
	wantKind(t, err, KindBadInput, ErrBadInput)
	// Not the same as another kind.
	if errors.Is(err, ErrTimeout) {
		t.Error("a bad-input error matches ErrTimeout")
	}
}

func TestLoadBytes(t *testing.T) {
	e := newEngine(t)
	b, err := os.ReadFile(fixture(t, "numeric.wat"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.LoadBytes("numeric-from-bytes", b, &Manifest{Name: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Name() != "mine" || len(p.SHA256()) != 64 || p.IsComponent() {
		t.Errorf("name %q sha %q component %v", p.Name(), p.SHA256(), p.IsComponent())
	}
	i, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	if res, err := i.Call("add", ValueI32(20), ValueI32(22)); err != nil || res[0].I32() != 42 {
		t.Fatalf("add = %v, %v", res, err)
	}
	found := false
	for _, x := range p.Exports() {
		if x.Name == "add" && x.Func && strings.Contains(x.Type, "i32") {
			found = true
		}
	}
	if !found {
		t.Errorf("Exports lacks add: %+v", p.Exports())
	}
}

func TestBytesStringAndLog(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	e := newEngine(t, WithLogger(func(level LogLevel, plugin, msg string) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf("%s %s %s", level, plugin, msg))
		mu.Unlock()
	}))
	p := load(t, e, fixture(t, "echo.wat"), nil)
	i := instance(t, p)
	in := []byte("0123456789abcdef0123456789abcdef")
	out, err := i.CallBytes("echo", in)
	if err != nil || string(out) != string(in) {
		t.Fatalf("echo = %q, %v", out, err)
	}
	// The output is a copy: the next call does not change it.
	if _, err := i.CallBytes("echo", []byte("other")); err != nil || string(out) != string(in) {
		t.Fatalf("output changed under a later call: %q, %v", out, err)
	}
	if out, err := i.CallBytes("echo", nil); err != nil || len(out) != 0 {
		t.Fatalf("empty echo = %q, %v", out, err)
	}
	_, err = i.CallBytes("fail", []byte("x"))
	we := wantKind(t, err, KindPlugin, ErrPlugin)
	if !strings.Contains(we.Message, "bad things") {
		t.Errorf("plugin error message %q", we.Message)
	}
	_, err = i.CallBytes("bad_output", []byte("x"))
	wantKind(t, err, KindABI, ErrABI)

	hello := load(t, e, pluginFile(t, "hello-c.wasm"), &Manifest{Config: map[string]string{"greeting": "Howdy"}})
	h := instance(t, hello)
	s, err := h.CallString("greet", "world")
	if err != nil || s != "Howdy, world!" {
		t.Fatalf("greet = %q, %v", s, err)
	}
	_, err = h.CallString("greet", "a\x00b")
	wantKind(t, err, KindBadInput, ErrBadInput)

	e.Log(LogWarn, "host-side", "logged from Go")
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(logs, "\n")
	if !strings.Contains(joined, "info echo.wat echoing") || !strings.Contains(joined, "info hello-c.wasm greeting world") ||
		!strings.Contains(joined, "warn host-side logged from Go") {
		t.Errorf("log callback got:\n%s", joined)
	}
}

func TestHostFunctions(t *testing.T) {
	e := newEngine(t)
	var nops atomic.Int32
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.DefineFunc("test", "add", []ValKind{I32, I32}, []ValKind{I32},
		func(c *HostCall, args []Value) ([]Value, error) {
			if c.PluginName() != "host.wat" {
				return nil, fmt.Errorf("plugin name %q", c.PluginName())
			}
			return []Value{ValueI32(args[0].I32()*100 + args[1].I32())}, nil
		}))
	must(e.DefineFunc("test", "scale", []ValKind{I64, F64}, []ValKind{F64},
		func(_ *HostCall, args []Value) ([]Value, error) {
			return []Value{ValueF64(float64(args[0].I64()) * args[1].F64())}, nil
		}))
	must(e.DefineBytes("test", "upper", func(_ *HostCall, in []byte) ([]byte, error) {
		return []byte(strings.ToUpper(string(in))), nil
	}))
	must(e.DefineFunc("test", "fail", []ValKind{I32}, []ValKind{I32},
		func(_ *HostCall, args []Value) ([]Value, error) {
			switch args[0].I32() {
			case 0:
				return []Value{ValueI32(7)}, nil
			case 1:
				return nil, fmt.Errorf("refused %d on purpose", args[0].I32())
			case 2:
				panic("host function panics")
			default:
				return []Value{ValueI64(1)}, nil // the wrong type
			}
		}))
	must(e.DefineFunc("test", "nop", nil, nil, func(*HostCall, []Value) ([]Value, error) {
		nops.Add(1)
		return nil, nil
	}))
	p := load(t, e, fixture(t, "host.wat"), nil)
	i := instance(t, p)

	if r, err := i.Call("call_add", ValueI32(4), ValueI32(2)); err != nil || r[0].I32() != 402 {
		t.Fatalf("call_add = %v, %v", r, err)
	}
	if r, err := i.Call("call_scale", ValueI64(3), ValueF64(0.5)); err != nil || r[0].F64() != 1.5 {
		t.Fatalf("call_scale = %v, %v", r, err)
	}
	if out, err := i.CallString("shout", "quiet please"); err != nil || out != "QUIET PLEASE" {
		t.Fatalf("shout = %q, %v", out, err)
	}
	if _, err := i.Call("call_nop", ValueI32(5)); err != nil || nops.Load() != 5 {
		t.Fatalf("call_nop: %v, nops %d", err, nops.Load())
	}
	if r, err := i.Call("call_fail", ValueI32(0)); err != nil || r[0].I32() != 7 {
		t.Fatalf("call_fail(0) = %v, %v", r, err)
	}
	for arg, want := range map[int32]string{1: "refused 1 on purpose", 2: "host function panics", 3: "result 0 is i64"} {
		i2 := instance(t, p)
		_, err := i2.Call("call_fail", ValueI32(arg))
		we := wantKind(t, err, KindHost, ErrHost)
		if !strings.Contains(we.Message, want) {
			t.Errorf("call_fail(%d): message %q lacks %q", arg, we.Message, want)
		}
	}
	// The instance still works after a host function failed in another one.
	if r, err := i.Call("call_add", ValueI32(1), ValueI32(1)); err != nil || r[0].I32() != 101 {
		t.Fatalf("call_add after failures = %v, %v", r, err)
	}
}

func TestCallbackPlugin(t *testing.T) {
	for _, name := range []string{"callback-c.wasm", "callback-go.wasm"} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t)
			if err := e.DefineString("plugin", "call_me", func(_ *HostCall, in string) (string, error) {
				if in == "fail" {
					return "", errors.New("call_me refuses")
				}
				return "Hello " + in, nil
			}); err != nil {
				t.Fatal(err)
			}
			p := load(t, e, pluginFile(t, name), nil)
			i := instance(t, p)
			if out, err := i.CallString("callback", ""); err != nil || out != "Hello Nic" {
				t.Fatalf("callback = %q, %v", out, err)
			}
			if out, err := i.CallString("callback", "Ada"); err != nil || out != "Hello Ada" {
				t.Fatalf("callback(Ada) = %q, %v", out, err)
			}
			i2 := instance(t, p)
			_, err := i2.CallString("callback", "fail")
			if err == nil || !strings.Contains(err.Error(), "call_me refuses") {
				t.Fatalf("failing host function: %v", err)
			}
			if !errors.Is(err, ErrHost) && !errors.Is(err, ErrTrap) && !errors.Is(err, ErrPlugin) {
				t.Fatalf("failing host function has kind %v", err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	e := newEngine(t)
	cases := []struct {
		name     string
		m        *Manifest
		export   string
		kind     ErrorKind
		sentinel error
	}{
		{"timeout", &Manifest{Timeout: 50 * time.Millisecond}, "spin", KindTimeout, ErrTimeout},
		{"fuel", &Manifest{Fuel: 100000}, "spin", KindFuel, ErrFuel},
		{"memory", &Manifest{MaxMemory: 1 << 20}, "bomb", KindMemoryLimit, ErrMemoryLimit},
		{"trap", nil, "trap", KindTrap, ErrTrap},
		{"stack", nil, "recurse", KindTrap, ErrTrap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, e, fixture(t, "numeric.wat"), c.m)
			i := instance(t, p)
			var args []Value
			if c.export == "recurse" {
				args = []Value{ValueI32(0)}
			}
			start := time.Now()
			_, err := i.Call(c.export, args...)
			wantKind(t, err, c.kind, c.sentinel)
			if c.name == "timeout" && time.Since(start) > 5*time.Second {
				t.Errorf("timeout took %v", time.Since(start))
			}
			if c.name == "fuel" && i.FuelUsed() == 0 {
				t.Errorf("FuelUsed is 0 after running out of fuel")
			}
			// Reset brings the instance back.
			if err := i.Reset(); err != nil {
				t.Fatal(err)
			}
			if r, err := i.Call("add", ValueI32(1), ValueI32(2)); err != nil || r[0].I32() != 3 {
				t.Fatalf("after reset: %v, %v", r, err)
			}
		})
	}
	// A memory limit refuses growth before it fails a call.
	p := load(t, e, fixture(t, "numeric.wat"), &Manifest{MaxMemory: 1 << 20})
	i := instance(t, p)
	if r, err := i.Call("grow", ValueI32(100)); err != nil || r[0].I32() != -1 {
		t.Fatalf("grow past the limit = %v, %v", r, err)
	}
	if i.MemorySize() != 65536 {
		t.Errorf("MemorySize = %d", i.MemorySize())
	}
}

func TestContextAndInterrupt(t *testing.T) {
	e := newEngine(t)
	p := load(t, e, fixture(t, "numeric.wat"), nil)
	i := instance(t, p)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := i.CallContext(ctx, "spin")
	wantKind(t, err, KindInterrupted, ErrInterrupted)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("interrupted call does not unwrap to the context's error: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	// A context that is already done stops the call before it starts.
	_, err = i.CallContext(ctx, "add", ValueI32(1), ValueI32(1))
	wantKind(t, err, KindInterrupted, ErrInterrupted)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not unwrap: %v", err)
	}
	// A live context changes nothing.
	if err := i.Reset(); err != nil {
		t.Fatal(err)
	}
	r, err := i.CallContext(context.Background(), "add", ValueI32(1), ValueI32(1))
	if err != nil || r[0].I32() != 2 {
		t.Fatalf("add with a background context = %v, %v", r, err)
	}
	live, stop := context.WithCancel(context.Background())
	r, err = i.CallContext(live, "add", ValueI32(2), ValueI32(2))
	stop()
	if err != nil || r[0].I32() != 4 {
		t.Fatalf("add with a live context = %v, %v", r, err)
	}

	// Interrupt from another goroutine.
	i2 := instance(t, p)
	go func() {
		time.Sleep(30 * time.Millisecond)
		i2.Interrupt()
	}()
	_, err = i2.Call("spin")
	wantKind(t, err, KindInterrupted, ErrInterrupted)
	if errors.Is(err, context.Canceled) {
		t.Error("a plain interrupt unwraps to context.Canceled")
	}
}

func TestPoolConcurrent(t *testing.T) {
	e := newEngine(t)
	p := load(t, e, fixture(t, "numeric.wat"), nil)

	// Fresh instances: count() is always 1.
	fresh, err := p.NewPool(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 25; k++ {
				err := fresh.Do(func(i *Instance) error {
					r, err := i.Call("count")
					if err == nil && r[0].I32() != 1 {
						err = fmt.Errorf("fresh instance counted %d", r[0].I32())
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := fresh.Take(); !errors.Is(err, ErrBadInput) {
		t.Errorf("Take after Close: %v", err)
	}

	// Reused instances keep their state; a failed call discards one.
	reuse, err := p.NewPool(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer reuse.Close()
	for want := int32(1); want <= 3; want++ {
		i, err := reuse.Take()
		if err != nil {
			t.Fatal(err)
		}
		r, err := i.Call("count")
		if err != nil || r[0].I32() != want {
			t.Fatalf("count = %v, %v; want %d", r, err, want)
		}
		if err := reuse.Release(i); err != nil {
			t.Fatal(err)
		}
	}
	if reuse.Idle() != 1 {
		t.Errorf("Idle = %d", reuse.Idle())
	}
	i, _ := reuse.Take()
	if err := reuse.Close(); !errors.Is(err, ErrBadInput) {
		t.Errorf("Close with a taken instance: %v", err)
	}
	_, err = i.Call("trap")
	wantKind(t, err, KindTrap, ErrTrap)
	i.Close()
	i.Close()
	i, _ = reuse.Take()
	if r, err := i.Call("count"); err != nil || r[0].I32() != 1 {
		t.Fatalf("after a failed call the pool handed out the old instance: %v, %v", r, err)
	}
	i.Close()
}

func TestSeparateInstancesConcurrent(t *testing.T) {
	e := newEngine(t, WithLogger(func(LogLevel, string, string) {}))
	var calls atomic.Int64
	if err := e.DefineString("plugin", "call_me", func(_ *HostCall, in string) (string, error) {
		calls.Add(1)
		return "Hello " + in, nil
	}); err != nil {
		t.Fatal(err)
	}
	p := load(t, e, pluginFile(t, "callback-c.wasm"), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			i, err := p.NewInstance()
			if err != nil {
				errs <- err
				return
			}
			defer i.Close()
			for k := 0; k < 50; k++ {
				name := fmt.Sprintf("g%d-%d", g, k)
				out, err := i.CallString("callback", name)
				if err != nil || out != "Hello "+name {
					errs <- fmt.Errorf("callback(%s) = %q, %v", name, out, err)
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
	if calls.Load() != 400 {
		t.Errorf("host function ran %d times, want 400", calls.Load())
	}
}

func TestCloseAndLeaks(t *testing.T) {
	base := registered()
	e, err := NewEngine(WithLogger(func(LogLevel, string, string) {}))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DefineFunc("test", "nop", nil, nil, func(*HostCall, []Value) ([]Value, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	p, err := e.Load(fixture(t, "numeric.wat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	i, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	if registered() != base+2 {
		t.Fatalf("registered %d, want %d", registered(), base+2)
	}
	// Close in any order, twice; the instance keeps the plugin and engine alive in C.
	e.Close()
	e.Close()
	p.Close()
	p.Close()
	if r, err := i.Call("add", ValueI32(1), ValueI32(1)); err != nil || r[0].I32() != 2 {
		t.Fatalf("instance after closing its plugin and engine: %v, %v", r, err)
	}
	i.Close()
	i.Close()
	if registered() != base {
		t.Errorf("after closing everything %d callbacks stay registered, want %d", registered(), base)
	}
	_, err = i.Call("add", ValueI32(1), ValueI32(1))
	wantKind(t, err, KindBadInput, ErrBadInput)
	_, err = p.NewInstance()
	wantKind(t, err, KindBadInput, ErrBadInput)
	_, err = e.Load(fixture(t, "numeric.wat"), nil)
	wantKind(t, err, KindBadInput, ErrBadInput)

	// Finalizers: instances dropped without Close are freed by the GC, and
	// with them the C engine, whose host function is then unregistered.
	e2, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.DefineFunc("test", "nop", nil, nil, func(*HostCall, []Value) ([]Value, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	p2, err := e2.Load(fixture(t, "numeric.wat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 20; k++ {
		if _, err := p2.NewInstance(); err != nil {
			t.Fatal(err)
		}
	}
	p2.Close()
	e2.Close()
	if registered() != base+1 {
		t.Fatalf("live instances should keep the engine's host function: %d registered, want %d", registered(), base+1)
	}
	for k := 0; k < 100 && registered() != base; k++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if registered() != base {
		t.Errorf("instances dropped without Close were not freed: %d callbacks registered, want %d", registered(), base)
	}
}
