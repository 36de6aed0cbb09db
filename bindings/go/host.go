package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"time"
	"unicode/utf8"
	"unsafe"
)

// HostCall is the context of one call from a plugin into a host function.
// It is valid only during the callback.
type HostCall struct {
	ptr *C.wp_host_call
}

// PluginName is the name of the plugin making the call.
func (c *HostCall) PluginName() string {
	inst := C.wp_host_call_get_instance(c.ptr)
	return C.GoString(C.wp_plugin_get_name(C.wp_instance_get_plugin(inst)))
}

// TimeLeft is the time left before the plugin call's deadline; ok is false
// when the call has none. A host function that waits should wait no longer.
func (c *HostCall) TimeLeft() (left time.Duration, ok bool) {
	ms := C.wp_host_call_time_left_ms(c.ptr)
	if ms == C.UINT64_MAX {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// Interrupted reports whether the plugin's instance was interrupted during
// this call: a host function that waits should give up and return an error.
func (c *HostCall) Interrupted() bool { return bool(C.wp_host_call_interrupted(c.ptr)) }

// HostFunc is a numeric host function: it gets the plugin's arguments (typed
// as declared) and returns one value per declared result, or an error that
// fails the plugin's call with KindHost and the error's message.
type HostFunc func(call *HostCall, args []Value) ([]Value, error)

// HostBytesFunc is a bytes-to-bytes host function. `in` is only valid during
// the call (copy it to keep it).
type HostBytesFunc func(call *HostCall, in []byte) ([]byte, error)

// HostStringFunc is a string-to-string host function (UTF-8 both ways).
type HostStringFunc func(call *HostCall, in string) (string, error)

// HostComponentFunc is a host function for a component import: args and the
// result are the Go forms of WIT values (see Instance.Invoke).
type HostComponentFunc func(call *HostCall, args []any) (any, error)

type hostFunc struct {
	fn       HostFunc
	params   []ValKind
	results  []ValKind
	typeName string
}

type hostBytes struct {
	bytes HostBytesFunc
	str   HostStringFunc
}

type hostComponent struct {
	fn          HostComponentFunc
	iface, name string
}

// DefineFunc offers a numeric host function to plugins as import
// (module, name). Define host functions before loading the plugins that
// import them.
func (e *Engine) DefineFunc(module, name string, params, results []ValKind, fn HostFunc) error {
	if err := e.check(); err != nil {
		return err
	}
	if fn == nil {
		return errorf(KindBadInput, "wasmplug: DefineFunc %s.%s: nil function", module, name)
	}
	h := &hostFunc{fn: fn, params: append([]ValKind(nil), params...),
		results: append([]ValKind(nil), results...), typeName: module + "." + name}
	id := register(h)
	m, n := cstr(module), cstr(name)
	defer cfree(m)
	defer cfree(n)
	pk := make([]C.wp_valkind, len(params)+1)
	for i, k := range params {
		pk[i] = C.wp_valkind(k)
	}
	rk := make([]C.wp_valkind, len(results)+1)
	for i, k := range results {
		rk[i] = C.wp_valkind(k)
	}
	err := takeError(C.wpgo_define_func(e.ptr, m, n, &pk[0], C.size_t(len(params)), &rk[0],
		C.size_t(len(results)), C.uintptr_t(id)))
	runtime.KeepAlive(e)
	return err
}

// DefineBytes offers a bytes-to-bytes host function as import (module, name)
// (the guest ABI is in wasmplug/host.h).
func (e *Engine) DefineBytes(module, name string, fn HostBytesFunc) error {
	if fn == nil {
		return errorf(KindBadInput, "wasmplug: DefineBytes %s.%s: nil function", module, name)
	}
	return e.defineBytes(module, name, &hostBytes{bytes: fn}, false)
}

// DefineString offers a string-to-string host function as import (module,
// name): the plugin's input is checked to be UTF-8 before fn runs.
func (e *Engine) DefineString(module, name string, fn HostStringFunc) error {
	if fn == nil {
		return errorf(KindBadInput, "wasmplug: DefineString %s.%s: nil function", module, name)
	}
	return e.defineBytes(module, name, &hostBytes{str: fn}, true)
}

func (e *Engine) defineBytes(module, name string, h *hostBytes, isString bool) error {
	if err := e.check(); err != nil {
		return err
	}
	id := register(h)
	m, n := cstr(module), cstr(name)
	defer cfree(m)
	defer cfree(n)
	s := C.int(0)
	if isString {
		s = 1
	}
	err := takeError(C.wpgo_define_bytes(e.ptr, m, n, s, C.uintptr_t(id)))
	runtime.KeepAlive(e)
	return err
}

// DefineComponentFunc offers fn to components importing `name` from
// interface `iface` ("example:types/host"; "" for the world's top level).
func (e *Engine) DefineComponentFunc(iface, name string, fn HostComponentFunc) error {
	if err := e.check(); err != nil {
		return err
	}
	if fn == nil {
		return errorf(KindBadInput, "wasmplug: DefineComponentFunc %s#%s: nil function", iface, name)
	}
	id := register(&hostComponent{fn: fn, iface: iface, name: name})
	var ci *C.char
	if iface != "" {
		ci = cstr(iface)
		defer cfree(ci)
	}
	n := cstr(name)
	defer cfree(n)
	err := takeError(C.wpgo_define_component(e.ptr, ci, n, C.uintptr_t(id)))
	runtime.KeepAlive(e)
	return err
}

// hostError turns a Go error (or a recovered panic) into the wp_error that
// fails the plugin's call.
func hostError(err error) *C.wp_error {
	msg := err.Error()
	if msg == "" {
		msg = "host function failed"
	}
	p := unsafe.StringData(msg)
	e := C.wpgo_error(C.WP_ERR_HOST, (*C.char)(unsafe.Pointer(p)), C.size_t(len(msg)))
	runtime.KeepAlive(msg)
	return e
}

func recovered(r any, what string) error {
	return fmt.Errorf("%s panicked: %v", what, r)
}

//export wpgoHostFunc
func wpgoHostFunc(id C.uintptr_t, call *C.wp_host_call, args *C.wp_val, nargs C.size_t,
	results *C.wp_val, nresults C.size_t) (ret *C.wp_error) {
	h, _ := lookup(uintptr(id)).(*hostFunc)
	if h == nil {
		return hostError(fmt.Errorf("host function is gone"))
	}
	defer func() {
		if r := recover(); r != nil {
			ret = hostError(recovered(r, h.typeName))
		}
	}()
	in := make([]Value, int(nargs))
	if nargs > 0 {
		copy(in, unsafe.Slice((*Value)(unsafe.Pointer(args)), int(nargs)))
	}
	out, err := h.fn(&HostCall{call}, in)
	if err != nil {
		return hostError(err)
	}
	if len(out) != int(nresults) {
		return hostError(fmt.Errorf("%s returned %d results, its signature declares %d",
			h.typeName, len(out), int(nresults)))
	}
	if nresults > 0 {
		dst := unsafe.Slice((*Value)(unsafe.Pointer(results)), int(nresults))
		for i, v := range out {
			if v.Kind() != h.results[i] {
				return hostError(fmt.Errorf("%s: result %d is %s, its signature declares %s",
					h.typeName, i, v.Kind(), h.results[i]))
			}
			dst[i] = v
		}
	}
	return nil
}

//export wpgoHostBytes
func wpgoHostBytes(id C.uintptr_t, call *C.wp_host_call, in *C.uint8_t, n C.size_t) (ret *C.wp_error) {
	h, _ := lookup(uintptr(id)).(*hostBytes)
	if h == nil {
		return hostError(fmt.Errorf("host function is gone"))
	}
	defer func() {
		if r := recover(); r != nil {
			ret = hostError(recovered(r, "host function"))
		}
	}()
	var input []byte
	if n > 0 {
		input = unsafe.Slice((*byte)(unsafe.Pointer(in)), int(n))
	}
	hc := &HostCall{call}
	var out []byte
	if h.str != nil {
		s, err := h.str(hc, string(input))
		if err != nil {
			return hostError(err)
		}
		if !utf8.ValidString(s) {
			return hostError(fmt.Errorf("string host function returned invalid UTF-8"))
		}
		if len(s) > 0 {
			out = unsafe.Slice(unsafe.StringData(s), len(s))
		}
	} else {
		var err error
		if out, err = h.bytes(hc, input); err != nil {
			return hostError(err)
		}
	}
	var p unsafe.Pointer = unsafe.Pointer(emptyC)
	if len(out) > 0 {
		p = unsafe.Pointer(&out[0])
	}
	e := C.wp_host_call_set_output(call, p, C.size_t(len(out)))
	runtime.KeepAlive(out)
	return e
}

//export wpgoHostComponent
func wpgoHostComponent(id C.uintptr_t, call *C.wp_host_call, args **C.wp_value, nargs C.size_t,
	result **C.wp_value) (ret *C.wp_error) {
	h, _ := lookup(uintptr(id)).(*hostComponent)
	if h == nil {
		return hostError(fmt.Errorf("host function is gone"))
	}
	what := h.iface + "#" + h.name
	defer func() {
		if r := recover(); r != nil {
			ret = hostError(recovered(r, what))
		}
	}()
	ft := C.wp_host_call_get_functype(call)
	in := make([]any, int(nargs))
	argv := unsafe.Slice(args, int(nargs))
	for i := range in {
		var t *C.wp_type
		if ft != nil && C.size_t(i) < C.wp_functype_param_count(ft) {
			t = C.wp_functype_param_type(ft, C.size_t(i))
		}
		in[i] = fromValue(argv[i], t)
	}
	out, err := h.fn(&HostCall{call}, in)
	if err != nil {
		return hostError(err)
	}
	var rt *C.wp_type
	if ft != nil {
		rt = C.wp_functype_result(ft)
	}
	if rt == nil {
		if out != nil {
			return hostError(fmt.Errorf("%s has no result, but the host function returned %T", what, out))
		}
		return nil
	}
	v, err := toValue(out, rt, "result")
	if err != nil {
		return hostError(fmt.Errorf("%s: %v", what, err))
	}
	// A handle made for the result went to the plugin: forget ours.
	if r, ok := out.(*Resource); ok {
		r.Close()
	}
	*result = v
	return nil
}
