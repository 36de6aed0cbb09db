package wasmplug

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type point struct {
	X int32
	Y int32
}

type label struct {
	Text  string
	At    point
	Tags  []string
	Scale *float64
}

func typesInstance(t *testing.T) (*Engine, *Instance, *[]any) {
	t.Helper()
	var mu sync.Mutex
	var seen []any
	var logs []string
	e := newEngine(t, WithLogger(func(_ LogLevel, _ string, msg string) {
		mu.Lock()
		logs = append(logs, msg)
		mu.Unlock()
	}))
	err := e.DefineComponentFunc("example:types/host", "round-trip", func(_ *HostCall, args []any) (any, error) {
		mu.Lock()
		seen = append(seen, args[0])
		mu.Unlock()
		rec := map[string]any{}
		for k, v := range args[0].(map[string]any) {
			rec[k] = v
		}
		if rec["s"] == "fail" {
			return nil, errors.New("round-trip refuses")
		}
		rec["s"] = strings.ToUpper(rec["s"].(string))
		return rec, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The counter resource is not offered: calls to it would trap.
	p := load(t, e, pluginFile(t, "types-c-component.wasm"), &Manifest{TrapMissingImports: true})
	if !p.IsComponent() {
		t.Fatal("types-c-component is not a component")
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		_ = logs
	})
	return e, instance(t, p), &seen
}

func everything() map[string]any {
	return map[string]any{
		"b": true, "v-s8": int8(-8), "v-u8": uint8(8), "v-s16": int16(-16), "v-u16": uint16(16),
		"v-s32": int32(-32), "v-u32": uint32(32), "v-s64": int64(-64), "v-u64": uint64(1 << 63),
		"v-f32": float32(1.5), "v-f64": 2.25, "c": 'ß', "s": "text",
		"l": []any{"a", "b"}, "bytes": []byte{0, 1, 255},
		"p":      map[string]any{"x": int32(1), "y": int32(-2)},
		"t":      []any{uint32(7), "seven"},
		"sh":     Variant{Case: "rect", Payload: map[string]any{"x": int32(3), "y": int32(4)}},
		"col":    "green",
		"o":      nil,
		"r":      Result{IsErr: true, Err: "blue"},
		"f":      []string{"read", "exec"},
		"nested": []any{nil, Result{Ok: Variant{Case: "empty"}}, Result{IsErr: true, Err: "bad"}},
	}
}

func TestComponentTypedValues(t *testing.T) {
	_, i, _ := typesInstance(t)
	echo := func(name string, arg any) any {
		t.Helper()
		out, err := i.Invoke("example:types/echo#"+name, arg)
		if err != nil {
			t.Fatalf("%s(%v): %v", name, arg, err)
		}
		return out
	}
	scalars := []struct {
		fn   string
		in   any
		want any
	}{
		{"echo-bool", true, true},
		{"echo-s8", -5, int8(-5)},
		{"echo-u8", 200, uint8(200)},
		{"echo-s16", int16(-300), int16(-300)},
		{"echo-u16", 60000, uint16(60000)},
		{"echo-s32", -70000, int32(-70000)},
		{"echo-u32", uint32(math.MaxUint32), uint32(math.MaxUint32)},
		{"echo-s64", int64(math.MinInt64), int64(math.MinInt64)},
		{"echo-u64", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"echo-f32", 0.5, float32(0.5)},
		{"echo-f64", math.Pi, math.Pi},
		{"echo-char", 'λ', 'λ'},
		{"echo-char", "é", 'é'},
		{"echo-string", "héllo", "héllo"},
		{"echo-bytes", []byte{1, 2, 3}, []byte{1, 2, 3}},
		{"echo-bytes", bigBytes, bigBytes},
		{"echo-list", []uint32{1, 2, 3}, []any{uint32(1), uint32(2), uint32(3)}},
		{"echo-strings", []string{"a", ""}, []any{"a", ""}},
		{"echo-point", point{X: 3, Y: -4}, map[string]any{"x": int32(3), "y": int32(-4)}},
		{"echo-tuple", []any{7, "x", 1.5}, []any{uint8(7), "x", 1.5}},
		{"echo-shape", Variant{Case: "circle", Payload: 2.0}, Variant{Case: "circle", Payload: 2.0}},
		{"echo-shape", Variant{Case: "empty"}, Variant{Case: "empty"}},
		{"echo-color", "blue", "blue"},
		{"echo-option", "some", "some"},
		{"echo-option", nil, nil},
		{"echo-result", Ok(5), Result{Ok: uint32(5)}},
		{"echo-result", Err("no"), Result{IsErr: true, Err: "no"}},
		{"echo-option-result", Ok("fine"), Result{Ok: "fine"}},
		{"echo-flags", map[string]bool{"read": true, "write": false, "exec": true}, []string{"read", "exec"}},
		{"echo-flags", []string{}, []string{}},
	}
	for _, c := range scalars {
		if got := echo(c.fn, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%#v) = %#v, want %#v", c.fn, c.in, got, c.want)
		}
	}

	// A typed result: a struct with an option field, decoded with InvokeInto.
	scale := 2.5
	in := label{Text: "here", At: point{1, 2}, Tags: []string{"x", "y"}, Scale: &scale}
	var out label
	if err := i.InvokeInto("example:types/echo#echo-label", &out, in); err != nil {
		t.Fatal(err)
	}
	if out.Text != "here" || out.At != in.At || !reflect.DeepEqual(out.Tags, in.Tags) || out.Scale == nil || *out.Scale != 2.5 {
		t.Errorf("echo-label = %+v", out)
	}
	in.Scale = nil
	if err := i.InvokeInto("example:types/echo#echo-label", &out, in); err != nil || out.Scale != nil {
		t.Errorf("echo-label with none = %+v, %v", out, err)
	}
	var many struct {
		A uint8
		B string
		C []point
	}
	if err := i.InvokeInto("example:types/echo#echo-many", &many, 9, "nine", []point{{1, 1}, {2, 2}}); err != nil {
		t.Fatal(err)
	}
	if many.A != 9 || many.B != "nine" || len(many.C) != 2 || many.C[1] != (point{2, 2}) {
		t.Errorf("echo-many = %+v", many)
	}

	// Every type at once, in and out of the plugin unchanged.
	ev := everything()
	if got := echo("echo-everything", ev); !reflect.DeepEqual(got, ev) {
		t.Errorf("echo-everything:\n got %#v\nwant %#v", got, ev)
	}
}

func TestComponentHostFunction(t *testing.T) {
	_, i, seen := typesInstance(t)
	ev := everything()
	got, err := i.Invoke("call-host", ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(*seen) != 1 || !reflect.DeepEqual((*seen)[0], ev) {
		t.Errorf("the host function got %#v", *seen)
	}
	if got.(map[string]any)["s"] != "TEXT" {
		t.Errorf("call-host returned s = %#v", got.(map[string]any)["s"])
	}
	ev["s"] = "fail"
	_, err = i.Invoke("call-host", ev)
	we := wantKind(t, err, KindHost, ErrHost)
	if !strings.Contains(we.Message, "round-trip refuses") {
		t.Errorf("message %q", we.Message)
	}
}

func TestComponentBadArgumentsAndLimits(t *testing.T) {
	_, i, _ := typesInstance(t)
	bad := []struct {
		fn   string
		args []any
		want string
	}{
		{"example:types/echo#echo-u8", []any{256}, "does not fit"},
		{"example:types/echo#echo-u8", []any{-1}, "does not fit"},
		{"example:types/echo#echo-string", []any{42}, "cannot be passed as string"},
		{"example:types/echo#echo-color", []any{"purple"}, "no case"},
		{"example:types/echo#echo-point", []any{map[string]any{"x": 1}}, "field \"y\""},
		{"example:types/echo#echo-point", []any{}, "takes 1 arguments"},
		{"example:types/echo#echo-flags", []any{[]string{"fly"}}, "no flag"},
		{"example:types/echo#echo-string", []any{"bad \xff utf8"}, ""},
	}
	for _, b := range bad {
		_, err := i.Invoke(b.fn, b.args...)
		we := wantKind(t, err, KindBadInput, ErrBadInput)
		if !strings.Contains(we.Message, b.want) {
			t.Errorf("%s(%v): message %q lacks %q", b.fn, b.args, we.Message, b.want)
		}
	}
	_, err := i.Invoke("crash")
	wantKind(t, err, KindTrap, ErrTrap)
	if err := i.Reset(); err != nil {
		t.Fatal(err)
	}
	// The counter resource was not defined: calling into it traps.
	_, err = i.Invoke("example:types/resources#count-with-host", 1, 2)
	wantKind(t, err, KindTrap, ErrTrap)
	if err := i.Reset(); err != nil {
		t.Fatal(err)
	}
	if out, err := i.Invoke("spin", 1000); err != nil || reflect.TypeOf(out) != reflect.TypeOf(uint64(0)) {
		t.Fatalf("spin(1000) = %v, %v", out, err)
	}
	if out, err := i.Invoke("nop"); err != nil || out != nil {
		t.Fatalf("nop = %v, %v", out, err)
	}
	_, err = i.Call("nop")
	if err == nil {
		t.Fatal("a numeric Call of a component export succeeded")
	}
}

func TestComponentLimits(t *testing.T) {
	e := newEngine(t)
	for _, c := range []struct {
		name     string
		m        *Manifest
		fn       string
		arg      any
		sentinel error
	}{
		{"timeout", &Manifest{TrapMissingImports: true, Timeout: 50e6}, "spin", uint64(math.MaxUint64), ErrTimeout},
		{"fuel", &Manifest{TrapMissingImports: true, Fuel: 100000}, "spin", uint64(math.MaxUint64), ErrFuel},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, e, pluginFile(t, "types-c-component.wasm"), c.m)
			i := instance(t, p)
			_, err := i.Invoke(c.fn, c.arg)
			wantKind(t, err, c.sentinel.(*Error).Kind, c.sentinel)
		})
	}
	// Memory: growth past the limit is refused, so malloc fails inside the
	// plugin, which reports how much it got.
	p := load(t, e, pluginFile(t, "types-c-component.wasm"), &Manifest{TrapMissingImports: true, MaxMemory: 4 << 20})
	i := instance(t, p)
	got, err := i.Invoke("hog", 64)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.(uint32); n >= 4 {
		t.Errorf("hog got %d MiB under a 4 MiB limit", n)
	}
	if i.MemorySize() > 4<<20 {
		t.Errorf("MemorySize %d is over the limit", i.MemorySize())
	}
}

func TestComponentLogAndContext(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	e := newEngine(t, WithLogger(func(level LogLevel, plugin, msg string) {
		mu.Lock()
		logs = append(logs, level.String()+" "+plugin+" "+msg)
		mu.Unlock()
	}))
	p := load(t, e, pluginFile(t, "types-c-component.wasm"), &Manifest{TrapMissingImports: true, Name: "types"})
	i := instance(t, p)
	if _, err := i.Invoke("say", "from the component"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(logs, "\n")
	mu.Unlock()
	if !strings.Contains(got, "info types from the component") {
		t.Errorf("log callback got %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(30 * time.Millisecond)
		cancel()
	}()
	_, err := i.InvokeContext(ctx, "spin", uint64(math.MaxUint64))
	wantKind(t, err, KindInterrupted, ErrInterrupted)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("does not unwrap to context.Canceled: %v", err)
	}
}

// 100 KiB for echo-bytes: one copy each way.
var bigBytes = func() []byte {
	b := make([]byte, 100*1024)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}()
