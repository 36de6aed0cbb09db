package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"os"
	"path/filepath"
	"time"
	"unsafe"
)

// Stdio says where a plugin's stdout or stderr goes.
type Stdio int

// Where output goes.
const (
	StdioDiscard Stdio = C.WP_STDIO_DISCARD // default: writes succeed and go nowhere
	StdioInherit Stdio = C.WP_STDIO_INHERIT // the host process's own stream
	StdioCapture Stdio = C.WP_STDIO_CAPTURE // kept in the instance: Instance.Stdout / Stderr
)

// Dir grants a host directory to the plugin.
type Dir struct {
	Host, Guest string
	Writable    bool
}

// Manifest says what a plugin may do and how far it may go. Everything is
// denied by default; zero limits mean the engine's. JSON, when set, is read
// first (the manifest's JSON form, see wasmplug/manifest.h) and the other
// fields are applied on top of it.
type Manifest struct {
	JSON    []byte // a JSON manifest, or nil
	BaseDir string // resolves relative paths in JSON

	Name      string
	SHA256    string        // pins the sha256 (64 hex digits) of the loaded bytes
	Timeout   time.Duration // wall-clock limit per call (ms resolution)
	MaxMemory uint64        // bytes, all memories together
	Fuel      uint64        // about one unit per wasm instruction

	Config map[string]string // read by the plugin with config_get
	Env    map[string]string
	Args   []string
	Dirs   []Dir
	Stdin  []byte
	Stdout Stdio
	Stderr Stdio

	// Capabilities sets capability sections by name, as JSON text.
	Capabilities map[string]string
	// TrapMissingImports lets a component load with imports the host does not
	// provide; calling one traps (components only).
	TrapMissingImports bool
}

// LoadManifest reads a JSON manifest file; its relative paths resolve
// against the file's directory.
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf(KindIO, "wasmplug: manifest %q: %v", path, err)
	}
	m := &Manifest{JSON: b, BaseDir: filepath.Dir(path)}
	// Parse once now so that errors come from here.
	cm, err := m.build()
	if err != nil {
		return nil, err
	}
	C.wp_manifest_free(cm)
	return m, nil
}

// build makes the C manifest; the caller frees it.
func (m *Manifest) build() (*C.wp_manifest, error) {
	var cm *C.wp_manifest
	if m == nil {
		return nil, nil
	}
	if len(m.JSON) > 0 {
		var base *C.char
		if m.BaseDir != "" {
			base = cstr(m.BaseDir)
			defer cfree(base)
		}
		js := C.CBytes(m.JSON)
		defer C.free(js)
		if err := takeError(C.wp_manifest_parse((*C.char)(js), C.size_t(len(m.JSON)), base, &cm)); err != nil {
			return nil, err
		}
	} else {
		cm = C.wp_manifest_new()
		if cm == nil {
			return nil, errorf(KindNoMemory, "wasmplug: out of memory")
		}
	}
	if err := m.apply(cm); err != nil {
		C.wp_manifest_free(cm)
		return nil, err
	}
	return cm, nil
}

func (m *Manifest) apply(cm *C.wp_manifest) error {
	set := func(f func(a, b *C.char) *C.wp_error, a, b string) error {
		ca, cb := cstr(a), cstr(b)
		defer cfree(ca)
		defer cfree(cb)
		return takeError(f(ca, cb))
	}
	if m.Name != "" {
		if err := set(func(a, _ *C.char) *C.wp_error { return C.wp_manifest_set_name(cm, a) }, m.Name, ""); err != nil {
			return err
		}
	}
	if m.SHA256 != "" {
		if err := set(func(a, _ *C.char) *C.wp_error { return C.wp_manifest_set_sha256(cm, a) }, m.SHA256, ""); err != nil {
			return err
		}
	}
	if m.Timeout > 0 {
		ms := m.Timeout.Milliseconds()
		if ms < 1 {
			ms = 1
		}
		C.wp_manifest_set_timeout_ms(cm, C.uint32_t(ms))
	}
	if m.MaxMemory > 0 {
		C.wp_manifest_set_max_memory(cm, C.uint64_t(m.MaxMemory))
	}
	if m.Fuel > 0 {
		C.wp_manifest_set_fuel(cm, C.uint64_t(m.Fuel))
	}
	for k, v := range m.Config {
		if err := set(func(a, b *C.char) *C.wp_error { return C.wp_manifest_set_config(cm, a, b) }, k, v); err != nil {
			return err
		}
	}
	for k, v := range m.Env {
		if err := set(func(a, b *C.char) *C.wp_error { return C.wp_manifest_set_env(cm, a, b) }, k, v); err != nil {
			return err
		}
	}
	for _, a := range m.Args {
		if err := set(func(a, _ *C.char) *C.wp_error { return C.wp_manifest_add_arg(cm, a) }, a, ""); err != nil {
			return err
		}
	}
	for _, d := range m.Dirs {
		w := C.bool(d.Writable)
		if err := set(func(a, b *C.char) *C.wp_error { return C.wp_manifest_allow_dir(cm, a, b, w) }, d.Host, d.Guest); err != nil {
			return err
		}
	}
	if m.Stdin != nil {
		p := C.CBytes(m.Stdin)
		err := takeError(C.wp_manifest_set_stdin(cm, p, C.size_t(len(m.Stdin))))
		C.free(p)
		if err != nil {
			return err
		}
	}
	if m.Stdout != StdioDiscard {
		C.wp_manifest_set_stdout(cm, C.wp_stdio_mode(m.Stdout), nil, nil)
	}
	if m.Stderr != StdioDiscard {
		C.wp_manifest_set_stderr(cm, C.wp_stdio_mode(m.Stderr), nil, nil)
	}
	for k, v := range m.Capabilities {
		if err := set(func(a, b *C.char) *C.wp_error { return C.wp_manifest_set_capability(cm, a, b) }, k, v); err != nil {
			return err
		}
	}
	if m.TrapMissingImports {
		C.wp_manifest_set_trap_missing_imports(cm, true)
	}
	return nil
}

var _ = unsafe.Pointer(nil)
