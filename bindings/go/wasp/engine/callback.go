package engine

import (
	"fmt"
	"reflect"
	"sync"

	"wasmplug.dev/go/wasmplug"
	"wasmplug.dev/go/wasmplug/wasp/engine/logger"
)

// callback is one AddCallback: the C engine gets a single host function per
// (namespace, name), which calls whatever Go function was added last.
type callback struct {
	ns, name string
	mu       sync.RWMutex // guards fn and log: AddCallback may replace them during calls
	fn       reflect.Value
	log      *logger.Wrapper
	kind     string // "string", "bytes" or "numeric"
	params   []wasmplug.ValKind
	results  []wasmplug.ValKind
}

var errType = reflect.TypeOf((*error)(nil)).Elem()

// AddCallback makes the Go function f callable by Wasm modules as import
// (namespace, name). Supported shapes: func(string) string, func([]byte)
// []byte, func() string / []byte (bytes functions), and functions of Go
// numbers (int32, int64, float32, float64, uint32, uint64, int, uint) to at
// most one number; each may return a trailing error, which fails the
// plugin's call. An unsupported f is logged at error level and ignored, as
// Wasp's AddCallback returns nothing.
func (w *Wasm) AddCallback(namespace string, name string, f interface{}) {
	if err := w.addCallback(namespace, name, f); err != nil {
		w.log.Error("Unable to add callback", "namespace", namespace, "name", name, "error", err)
	}
}

func (w *Wasm) addCallback(ns, name string, f interface{}) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.engErr != nil {
		return w.engErr
	}
	cb, err := newCallback(ns, name, f)
	if err != nil {
		return err
	}
	cb.log = w.log
	key := ns + "\x00" + name
	if old := w.callbacks[key]; old != nil {
		if old.kind != cb.kind || fmt.Sprint(old.params, old.results) != fmt.Sprint(cb.params, cb.results) {
			return fmt.Errorf("callback %s.%s is already defined with another signature", ns, name)
		}
		old.mu.Lock()
		old.fn, old.log = cb.fn, w.log
		old.mu.Unlock()
		return nil
	}
	switch cb.kind {
	case "string":
		err = w.eng.DefineString(ns, name, func(_ *wasmplug.HostCall, in string) (string, error) {
			out, err := cb.call([]reflect.Value{reflect.ValueOf(in)})
			if err != nil {
				return "", err
			}
			return out.String(), nil
		})
	case "bytes":
		err = w.eng.DefineBytes(ns, name, func(_ *wasmplug.HostCall, in []byte) ([]byte, error) {
			out, err := cb.call([]reflect.Value{reflect.ValueOf(append([]byte(nil), in...))})
			if err != nil {
				return nil, err
			}
			if out.Kind() == reflect.String {
				return []byte(out.String()), nil
			}
			return out.Bytes(), nil
		})
	default:
		err = w.eng.DefineFunc(ns, name, cb.params, cb.results, cb.numeric)
	}
	if err != nil {
		return err
	}
	w.callbacks[key] = cb
	return nil
}

func newCallback(ns, name string, f interface{}) (*callback, error) {
	fv := reflect.ValueOf(f)
	if fv.Kind() != reflect.Func || fv.IsNil() {
		return nil, fmt.Errorf("callback %s.%s must be a function, not %T", ns, name, f)
	}
	t := fv.Type()
	nout := t.NumOut()
	if nout > 0 && t.Out(nout-1) == errType {
		nout--
	}
	cb := &callback{ns: ns, name: name, fn: fv}
	isText := func(x reflect.Type) bool {
		return x.Kind() == reflect.String || x.Kind() == reflect.Slice && x.Elem().Kind() == reflect.Uint8
	}
	if nout == 1 && isText(t.Out(0)) && t.NumIn() <= 1 && !t.IsVariadic() {
		cb.kind = "bytes"
		if t.NumIn() == 1 {
			if !isText(t.In(0)) {
				return nil, fmt.Errorf("callback %s.%s: parameter %s must be string or []byte", ns, name, t.In(0))
			}
			if t.In(0).Kind() == reflect.String && t.Out(0).Kind() == reflect.String {
				cb.kind = "string"
			}
		}
		return cb, nil
	}
	cb.kind = "numeric"
	for n := 0; n < t.NumIn(); n++ {
		k, ok := numKind(t.In(n))
		if !ok {
			return nil, fmt.Errorf("callback %s.%s: parameter %d is a %s; callbacks take numbers or one string/[]byte", ns, name, n, t.In(n))
		}
		cb.params = append(cb.params, k)
	}
	if nout > 1 {
		return nil, fmt.Errorf("callback %s.%s returns %d values; at most one (and an error) is supported", ns, name, nout)
	}
	if nout == 1 {
		k, ok := numKind(t.Out(0))
		if !ok {
			return nil, fmt.Errorf("callback %s.%s: result is a %s", ns, name, t.Out(0))
		}
		cb.results = append(cb.results, k)
	}
	return cb, nil
}

func numKind(t reflect.Type) (wasmplug.ValKind, bool) {
	switch t.Kind() {
	case reflect.Int32, reflect.Uint32, reflect.Int8, reflect.Int16, reflect.Uint8, reflect.Uint16, reflect.Bool:
		return wasmplug.I32, true
	case reflect.Int64, reflect.Uint64, reflect.Int, reflect.Uint:
		return wasmplug.I64, true
	case reflect.Float32:
		return wasmplug.F32, true
	case reflect.Float64:
		return wasmplug.F64, true
	}
	return 0, false
}

// call runs the Go function; the first result (if any) and its error.
func (cb *callback) call(in []reflect.Value) (reflect.Value, error) {
	cb.mu.RLock()
	fn, log := cb.fn, cb.log
	cb.mu.RUnlock()
	t := fn.Type()
	if t.NumIn() == 0 {
		in = nil
	} else if t.In(0).Kind() != in[0].Kind() {
		if t.In(0).Kind() == reflect.String {
			in[0] = reflect.ValueOf(string(in[0].Bytes()))
		} else {
			in[0] = reflect.ValueOf([]byte(in[0].String()))
		}
	}
	log.Debug("Callback called", "namespace", cb.ns, "name", cb.name, "args", in)
	out := fn.Call(in)
	log.Debug("Called callback function", "out", out)
	if n := len(out); n > 0 && t.Out(n-1) == errType {
		if e := out[n-1]; !e.IsNil() {
			return reflect.Value{}, e.Interface().(error)
		}
		out = out[:n-1]
	}
	if len(out) == 0 {
		return reflect.Value{}, nil
	}
	return out[0], nil
}

func (cb *callback) numeric(_ *wasmplug.HostCall, args []wasmplug.Value) ([]wasmplug.Value, error) {
	cb.mu.RLock()
	t := cb.fn.Type()
	cb.mu.RUnlock()
	in := make([]reflect.Value, len(args))
	for n, a := range args {
		v := reflect.New(t.In(n)).Elem()
		switch x := a.Any().(type) {
		case int32:
			if v.Kind() == reflect.Bool {
				v.SetBool(x != 0)
			} else if v.CanUint() {
				v.SetUint(uint64(uint32(x)))
			} else {
				v.SetInt(int64(x))
			}
		case int64:
			if v.CanUint() {
				v.SetUint(uint64(x))
			} else {
				v.SetInt(x)
			}
		case float32:
			v.SetFloat(float64(x))
		case float64:
			v.SetFloat(x)
		}
		in[n] = v
	}
	out, err := cb.call(in)
	if err != nil {
		return nil, err
	}
	if len(cb.results) == 0 {
		return nil, nil
	}
	switch cb.results[0] {
	case wasmplug.I32:
		switch {
		case out.Kind() == reflect.Bool:
			if out.Bool() {
				return []wasmplug.Value{wasmplug.ValueI32(1)}, nil
			}
			return []wasmplug.Value{wasmplug.ValueI32(0)}, nil
		case out.CanUint():
			return []wasmplug.Value{wasmplug.ValueI32(int32(uint32(out.Uint())))}, nil
		}
		return []wasmplug.Value{wasmplug.ValueI32(int32(out.Int()))}, nil
	case wasmplug.I64:
		if out.CanUint() {
			return []wasmplug.Value{wasmplug.ValueI64(int64(out.Uint()))}, nil
		}
		return []wasmplug.Value{wasmplug.ValueI64(out.Int())}, nil
	case wasmplug.F32:
		return []wasmplug.Value{wasmplug.ValueF32(float32(out.Float()))}, nil
	}
	return []wasmplug.Value{wasmplug.ValueF64(out.Float())}, nil
}
