package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Plugin is a loaded and compiled plugin: a core module or a component.
// Safe for concurrent use; make Instances (or a Pool) to call it.
type Plugin struct {
	closeOnce
	ptr     *C.wp_plugin
	name    string
	cleanup runtime.Cleanup

	mu    sync.Mutex
	funcs map[string]*Func
}

// Func is a handle on an exported function, found once with Plugin.Func and
// valid for every instance of its plugin: calls through it skip the name
// lookup.
type Func struct {
	plugin  *Plugin
	id      C.wp_func_id
	name    string
	results int
	params  []ValKind // core numeric exports
	resultK []ValKind
	numeric bool
}

// Name is the export's name.
func (f *Func) Name() string { return f.name }

// Export describes one export (or import) of a plugin.
type Export struct {
	Module string // imports: the module; components: the interface ("" at the top level)
	Name   string
	Type   string // e.g. "func (i32, i32) -> i32", or WIT for components
	Func   bool   // a function
}

// Load loads, checks and compiles the plugin at path (.wasm or .wat) under
// the manifest m (nil: deny everything, engine limits).
func (e *Engine) Load(path string, m *Manifest) (*Plugin, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	cm, err := m.build()
	if err != nil {
		return nil, err
	}
	defer C.wp_manifest_free(cm)
	p := cstr(path)
	defer cfree(p)
	var out *C.wp_plugin
	err = takeError(C.wp_plugin_load(e.ptr, p, cm, &out))
	runtime.KeepAlive(e)
	if err != nil {
		return nil, err
	}
	return newPlugin(out), nil
}

// LoadBytes is Load from bytes (binary or text); name names it in messages.
func (e *Engine) LoadBytes(name string, wasm []byte, m *Manifest) (*Plugin, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	cm, err := m.build()
	if err != nil {
		return nil, err
	}
	defer C.wp_manifest_free(cm)
	n := cstr(name)
	defer cfree(n)
	var data unsafe.Pointer = unsafe.Pointer(emptyC)
	if len(wasm) > 0 {
		data = unsafe.Pointer(&wasm[0])
	}
	var out *C.wp_plugin
	err = takeError(C.wp_plugin_load_bytes(e.ptr, n, data, C.size_t(len(wasm)), cm, &out))
	runtime.KeepAlive(wasm)
	runtime.KeepAlive(e)
	if err != nil {
		return nil, err
	}
	return newPlugin(out), nil
}

func newPlugin(ptr *C.wp_plugin) *Plugin {
	p := &Plugin{ptr: ptr, name: C.GoString(C.wp_plugin_get_name(ptr)), funcs: map[string]*Func{}}
	p.cleanup = runtime.AddCleanup(p, func(ptr *C.wp_plugin) { C.wp_plugin_free(ptr) }, ptr)
	return p
}

// Close drops the plugin. Instances and pools made from it keep it alive in
// C until they are closed too. A second Close does nothing.
func (p *Plugin) Close() error {
	if !p.begin() {
		return nil
	}
	p.cleanup.Stop()
	C.wp_plugin_free(p.ptr)
	return nil
}

func (p *Plugin) check() error {
	if p == nil || p.isClosed() {
		return errClosed("plugin")
	}
	return nil
}

// Name is the plugin's name (from the manifest or the file name).
func (p *Plugin) Name() string { return p.name }

// SHA256 is the sha256 of the plugin's bytes, in hex.
func (p *Plugin) SHA256() string {
	if p.check() != nil {
		return ""
	}
	defer runtime.KeepAlive(p)
	return C.GoString(C.wp_plugin_get_sha256(p.ptr))
}

// IsComponent reports whether the plugin is a component (else a core module).
func (p *Plugin) IsComponent() bool {
	if p.check() != nil {
		return false
	}
	defer runtime.KeepAlive(p)
	return bool(C.wp_plugin_is_component(p.ptr))
}

// Exports lists the plugin's exports; functions inside a component's
// interfaces have Module set to the interface.
func (p *Plugin) Exports() []Export {
	if p.check() != nil {
		return nil
	}
	defer runtime.KeepAlive(p)
	n := C.wp_plugin_export_count(p.ptr)
	out := make([]Export, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, exportOf(C.wp_plugin_get_export(p.ptr, i)))
	}
	return out
}

// Imports lists the plugin's imports.
func (p *Plugin) Imports() []Export {
	if p.check() != nil {
		return nil
	}
	defer runtime.KeepAlive(p)
	n := C.wp_plugin_import_count(p.ptr)
	out := make([]Export, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, exportOf(C.wp_plugin_get_import(p.ptr, i)))
	}
	return out
}

func exportOf(info *C.wp_extern_info) Export {
	e := Export{Name: C.GoString(info.name), Func: info.kind == C.WP_EXTERN_FUNC}
	if info.module != nil {
		e.Module = C.GoString(info.module)
	}
	if info._type != nil {
		e.Type = C.GoString(info._type)
	}
	return e
}

// Func finds an exported function ("INTERFACE#FUNC" for a function in a
// component's exported interface); KindNotFound lists the exports there are.
func (p *Plugin) Func(name string) (*Func, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.fn(name)
}

// fn is Func without the closed check: instances keep their plugin alive in
// C after the Go Plugin is closed.
func (p *Plugin) fn(name string) (*Func, error) {
	p.mu.Lock()
	f := p.funcs[name]
	p.mu.Unlock()
	if f != nil {
		return f, nil
	}
	n := cstr(name)
	defer cfree(n)
	var id C.wp_func_id
	if err := takeError(C.wp_plugin_find_func(p.ptr, n, &id)); err != nil {
		return nil, err
	}
	f = &Func{plugin: p, id: id, name: name, results: -1}
	if !C.wp_plugin_is_component(p.ptr) {
		p.coreSignature(f)
	}
	runtime.KeepAlive(p)
	p.mu.Lock()
	p.funcs[name] = f
	p.mu.Unlock()
	return f, nil
}

// coreSignature fills in the types of a core module's numeric export.
func (p *Plugin) coreSignature(f *Func) {
	n := C.wp_plugin_export_count(p.ptr)
	for i := C.size_t(0); i < n; i++ {
		info := C.wp_plugin_get_export(p.ptr, i)
		if info.kind != C.WP_EXTERN_FUNC || !info.numeric || C.GoString(info.name) != f.name {
			continue
		}
		f.numeric = true
		f.results = int(info.nresults)
		for _, k := range unsafe.Slice(info.params, int(info.nparams)) {
			f.params = append(f.params, ValKind(k))
		}
		for _, k := range unsafe.Slice(info.results, int(info.nresults)) {
			f.resultK = append(f.resultK, ValKind(k))
		}
		return
	}
}

// Signature is a core module export's parameter and result types; ok is
// false for component functions and exports with non-numeric types.
func (f *Func) Signature() (params, results []ValKind, ok bool) {
	return append([]ValKind(nil), f.params...), append([]ValKind(nil), f.resultK...), f.numeric
}

// IsBytes reports whether f can be called with CallBytes / CallString.
func (f *Func) IsBytes() bool {
	if f.plugin.check() != nil {
		return false
	}
	defer runtime.KeepAlive(f.plugin)
	return bool(C.wp_plugin_is_bytes_func(f.plugin.ptr, f.id))
}

// Type is the function's type as text: WIT for components ("func(name:
// string) -> string"), else the core type.
func (f *Func) Type() string {
	if f.plugin.check() != nil {
		return ""
	}
	defer runtime.KeepAlive(f.plugin)
	if ft := C.wp_plugin_get_functype(f.plugin.ptr, f.id); ft != nil {
		return C.GoString(C.wp_functype_to_string(ft))
	}
	for _, e := range f.plugin.Exports() {
		if e.Name == f.name {
			return e.Type
		}
	}
	return ""
}
