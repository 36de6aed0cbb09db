package wasmplug

import (
	"sync/atomic"
	"testing"
)

type counter struct{ n uint32 }

func TestResources(t *testing.T) {
	e := newEngine(t)
	const host = "example:types/host"
	var drops atomic.Int32
	rt, err := e.DefineResource(host, "counter", func(obj any) {
		if _, ok := obj.(*counter); !ok {
			t.Errorf("drop got %T", obj)
		}
		drops.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DefineComponentFunc(host, "[constructor]counter", func(c *HostCall, args []any) (any, error) {
		return c.NewResource(rt, &counter{n: args[0].(uint32)})
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.DefineComponentFunc(host, "[method]counter.increment", func(c *HostCall, args []any) (any, error) {
		obj, err := c.Object(rt, args[0].(*Resource))
		if err != nil {
			return nil, err
		}
		obj.(*counter).n++
		return obj.(*counter).n, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.DefineComponentFunc(host, "round-trip", func(_ *HostCall, args []any) (any, error) {
		return args[0], nil
	}); err != nil {
		t.Fatal(err)
	}
	p := load(t, e, pluginFile(t, "types-c-component.wasm"), nil)
	i := instance(t, p)
	const res = "example:types/resources#"

	// The plugin makes, uses and drops a host counter: drop runs once.
	if got, err := i.Invoke(res+"count-with-host", 5, 3); err != nil || got != uint32(8) {
		t.Fatalf("count-with-host = %v, %v", got, err)
	}
	if drops.Load() != 1 {
		t.Fatalf("drops = %d after count-with-host, want 1", drops.Load())
	}

	// The host lends a counter: no drop, the object is updated.
	lent := &counter{n: 41}
	h, err := i.NewResource(rt, lent)
	if err != nil {
		t.Fatal(err)
	}
	for want := uint32(42); want <= 43; want++ {
		if got, err := i.Invoke(res+"bump", h); err != nil || got != want {
			t.Fatalf("bump = %v, %v; want %d", got, err, want)
		}
	}
	if obj, err := i.Object(rt, h); err != nil || obj != lent || lent.n != 43 || drops.Load() != 1 {
		t.Fatalf("lent object: %v %v n=%d drops=%d", obj, err, lent.n, drops.Load())
	}
	h.Close()
	h.Close()

	// The host gives one away: the plugin drops it.
	given, err := i.NewResource(rt, &counter{n: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := i.Invoke(res+"consume", given); err != nil || got != uint32(2) {
		t.Fatalf("consume = %v, %v", got, err)
	}
	if drops.Load() != 2 {
		t.Fatalf("drops = %d after consume, want 2", drops.Load())
	}
	_, err = i.Object(rt, given)
	wantKind(t, err, KindBadInput, ErrBadInput)
	given.Close()

	// A plugin resource: construct, call methods, lend, drop.
	v, err := i.Invoke(res+"[constructor]blob", []byte("abcde"))
	if err != nil {
		t.Fatal(err)
	}
	blob, ok := v.(*Resource)
	if !ok {
		t.Fatalf("constructor returned %T", v)
	}
	defer blob.Close()
	if got, err := i.Invoke(res+"[method]blob.size", blob); err != nil || got != uint32(5) {
		t.Fatalf("blob.size = %v, %v", got, err)
	}
	if _, err := i.Invoke(res+"[method]blob.append", blob, []byte("fg")); err != nil {
		t.Fatal(err)
	}
	if got, err := i.Invoke(res+"blob-size", blob); err != nil || got != uint32(7) {
		t.Fatalf("blob-size = %v, %v", got, err)
	}
	if err := i.DropResource(blob); err != nil {
		t.Fatal(err)
	}
	_, err = i.Invoke(res+"blob-size", blob)
	if err == nil {
		t.Fatal("a dropped blob was still usable")
	}
	wantKind(t, i.DropResource(blob), KindBadInput, ErrBadInput)

	// A Go value that is not a Resource where a handle is expected.
	_, err = i.Invoke(res+"bump", "not a handle")
	wantKind(t, err, KindBadInput, ErrBadInput)

	// Freeing the instance drops the objects the plugin still holds.
	if _, err := i.NewResource(rt, &counter{}); err != nil {
		t.Fatal(err)
	}
	before := drops.Load()
	i.Close()
	if drops.Load() <= before {
		t.Errorf("closing the instance dropped nothing (drops %d)", drops.Load())
	}
}
