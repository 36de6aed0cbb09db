// Package engine is Wasp's engine API on libwasmplug: New, RegisterPlugin,
// GetInstance, CallFunction and AddCallback keep Wasp's names, signatures
// and behaviour, so a Wasp host switches by changing its imports.
//
// What differs, because plugins follow wasmplug's ABI rather than Wasp's:
//
//   - Strings and byte slices travel through wasmplug's bytes ABI: a function
//     called with one string or []byte argument (or none) must be a bytes
//     export of the plugin (WP_EXPORT_BYTES in C, the Go PDK's exports...),
//     and its output lands in *string or *[]byte. Wasp passed pointers to
//     numeric functions instead; mixing strings and numbers in one call is
//     refused with an error saying so.
//   - Numeric functions take Go numbers converted to the export's declared
//     types (int32, int64, float32, float64; any Go integer or float that
//     fits); the output may be *int32, *int64, *float32, *float64, *int,
//     *float64 or nil.
//   - Callbacks: func(string) string and func([]byte) []byte (optionally
//     returning a trailing error, which fails the plugin's call cleanly) are
//     bytes host functions; functions of Go numbers are numeric host
//     functions. Wasp's func() string style (no input) is served as a bytes
//     function ignoring its input.
//   - libwasmplug links host functions when a plugin loads: a plugin whose
//     callbacks are not added yet is loaded again, with them, by GetInstance.
//   - PluginConfig.Volumes maps host directories to guest paths (granted
//     writable); GetInstance's volume, when not empty, is a host directory
//     granted to that instance's plugin at /volume.
//   - Errors carry wasmplug's kinds: errors.Is(err, wasmplug.ErrTimeout)...
//   - Wasp's engine-level CallFunction calls into an instance of the plugin
//     registered last, kept between calls.
package engine

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"wasmplug.dev/go/wasmplug"
	"wasmplug.dev/go/wasmplug/wasp/engine/logger"
)

// PluginConfig defines configuration for the plugin environment.
type PluginConfig struct {
	// Environment variables that are available to the module instance.
	Environment map[string]string
	// Volumes are writable directories: host path -> guest path.
	Volumes map[string]string
	// Config is read by the plugin with wasmplug's config_get (an addition).
	Config map[string]string
}

// Wasm is the plugin engine.
type Wasm struct {
	log *logger.Wrapper

	mu        sync.Mutex
	eng       *wasmplug.Engine
	engErr    error
	plugins   map[string]*plugin
	last      string
	callbacks map[string]*callback // "ns\x00name"
	shared    *Instance
}

type plugin struct {
	name, path string
	config     *PluginConfig
	p          *wasmplug.Plugin
	loadErr    error
	generation int // callbacks generation it was loaded with
}

// New creates the plugin engine; log may be nil.
func New(log *logger.Wrapper) *Wasm {
	w := &Wasm{log: log, plugins: map[string]*plugin{}, callbacks: map[string]*callback{}}
	w.eng, w.engErr = wasmplug.NewEngine(wasmplug.WithLogger(w.pluginLog))
	return w
}

func (w *Wasm) pluginLog(level wasmplug.LogLevel, plugin, msg string) {
	switch level {
	case wasmplug.LogTrace:
		w.log.Trace(msg, "plugin", plugin)
	case wasmplug.LogDebug:
		w.log.Debug(msg, "plugin", plugin)
	case wasmplug.LogInfo, wasmplug.LogWarn:
		w.log.Info(msg, "plugin", plugin)
	default:
		w.log.Error(msg, "plugin", plugin)
	}
}

// Close frees the engine and every plugin (an addition to Wasp's API).
func (w *Wasm) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shared != nil {
		w.shared.Remove()
		w.shared = nil
	}
	for _, p := range w.plugins {
		if p.p != nil {
			p.p.Close()
		}
	}
	w.plugins = map[string]*plugin{}
	if w.eng != nil {
		return w.eng.Close()
	}
	return nil
}

func (w *Wasm) generation() int { return len(w.callbacks) }

// RegisterPlugin registers and compiles the Wasm module at path under name.
// config may be nil.
func (w *Wasm) RegisterPlugin(name, path string, config *PluginConfig) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.engErr != nil {
		return w.engErr
	}
	p := &plugin{name: name, path: path, config: config}
	if old := w.plugins[name]; old != nil && old.p != nil {
		old.p.Close()
	}
	w.plugins[name] = p
	w.last = name
	if err := w.load(p); err != nil {
		// A plugin importing callbacks that are not added yet links later,
		// at GetInstance, as in Wasp.
		if errors.Is(err, wasmplug.ErrLink) {
			p.loadErr = err
			return nil
		}
		delete(w.plugins, name)
		return err
	}
	return nil
}

func (w *Wasm) manifest(p *plugin, volume string) *wasmplug.Manifest {
	m := &wasmplug.Manifest{Name: p.name}
	if c := p.config; c != nil {
		m.Env = c.Environment
		m.Config = c.Config
		for host, guest := range c.Volumes {
			m.Dirs = append(m.Dirs, wasmplug.Dir{Host: host, Guest: guest, Writable: true})
		}
	}
	if volume != "" {
		m.Dirs = append(m.Dirs, wasmplug.Dir{Host: volume, Guest: "/volume", Writable: true})
	}
	return m
}

func (w *Wasm) load(p *plugin) error {
	pl, err := w.eng.Load(p.path, w.manifest(p, ""))
	if err != nil {
		w.log.Error("Unable to load plugin", "name", p.name, "path", p.path, "error", err)
		return err
	}
	if p.p != nil {
		p.p.Close()
	}
	p.p, p.loadErr, p.generation = pl, nil, w.generation()
	w.log.Debug("Registered plugin", "name", p.name, "path", p.path)
	return nil
}

// Instance is an independently sandboxed environment with its own memory.
type Instance struct {
	inst   *wasmplug.Instance
	plugin *wasmplug.Plugin // owned when the instance has its own (volume)
	log    *logger.Wrapper
	name   string
}

// GetInstance returns a new instance of the named plugin. volume, when not
// empty, is a host directory granted to the instance at /volume.
func (w *Wasm) GetInstance(name string, volume string) (*Instance, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.getInstance(name, volume)
}

func (w *Wasm) getInstance(name, volume string) (*Instance, error) {
	p := w.plugins[name]
	if p == nil {
		return nil, fmt.Errorf("plugin %s is not registered", name)
	}
	if p.p == nil {
		if err := w.load(p); err != nil {
			return nil, err
		}
	}
	pl := p.p
	var own *wasmplug.Plugin
	if volume != "" {
		var err error
		if own, err = w.eng.Load(p.path, w.manifest(p, volume)); err != nil {
			return nil, err
		}
		pl = own
	}
	inst, err := pl.NewInstance()
	if err != nil {
		if own != nil {
			own.Close()
		}
		return nil, err
	}
	return &Instance{inst: inst, plugin: own, log: w.log, name: name}, nil
}

// Remove the instance and clean up its resources.
func (i *Instance) Remove() error {
	if i == nil {
		return nil
	}
	err := i.inst.Close()
	if i.plugin != nil {
		i.plugin.Close()
	}
	return err
}

// CallFunction calls the registered plugin's function (the one registered
// last) on an instance the engine keeps: Wasp's engine-level call.
func (w *Wasm) CallFunction(name string, outputParam interface{}, inputParams ...interface{}) error {
	w.mu.Lock()
	if w.shared == nil {
		if w.last == "" {
			w.mu.Unlock()
			return fmt.Errorf("no plugin is registered")
		}
		inst, err := w.getInstance(w.last, "")
		if err != nil {
			w.mu.Unlock()
			return err
		}
		w.shared = inst
	}
	inst := w.shared
	defer w.mu.Unlock()
	return inst.CallFunction(name, outputParam, inputParams...)
}

// FunctionNotFoundError is returned when the module has no such export.
type FunctionNotFoundError struct {
	Name string
	Err  error
}

func (f FunctionNotFoundError) Error() string {
	return fmt.Sprintf("function %s, does not exist in plugin: %s", f.Name, f.Err)
}

func (f FunctionNotFoundError) Unwrap() error { return f.Err }

// CallFunction calls the function name exported by the module. Strings and
// byte slices go through wasmplug's bytes ABI; numbers are converted to the
// export's types. The result is stored in outputParam: *string, *[]byte, a
// pointer to a Go number, or nil to drop it.
func (i *Instance) CallFunction(name string, outputParam interface{}, inputParams ...interface{}) error {
	f, err := i.inst.Plugin().Func(name)
	if err != nil {
		return FunctionNotFoundError{name, err}
	}
	t := time.Now()
	i.log.Debug("Calling function", "name", name, "outputParam", outputParam, "inputParam", inputParams)
	if f.IsBytes() && textArgs(inputParams) {
		err = i.callBytes(f, outputParam, inputParams)
	} else {
		err = i.callNumeric(f, outputParam, inputParams)
	}
	if err != nil {
		i.log.Error("Calling function failed", "name", name, "error", err)
		return err
	}
	i.log.Debug("Called function", "name", name, "outputParam", outputParam, "time taken", time.Since(t))
	return nil
}

// textArgs reports whether the arguments suit a bytes call: none, or one
// string or []byte. (A core export (i32, i32) -> i32 in a plugin with
// cabi_realloc is both a bytes and a numeric function; numbers pick the latter.)
func textArgs(in []interface{}) bool {
	if len(in) == 0 {
		return true
	}
	if len(in) > 1 {
		return false
	}
	switch in[0].(type) {
	case string, []byte:
		return true
	}
	return false
}

func (i *Instance) callBytes(f *wasmplug.Func, out interface{}, in []interface{}) error {
	var input []byte
	switch len(in) {
	case 0:
	case 1:
		switch x := in[0].(type) {
		case string:
			input = []byte(x)
		case []byte:
			input = x
		default:
			return fmt.Errorf("function %s takes one string or []byte, not %T", f.Name(), in[0])
		}
	default:
		return fmt.Errorf("function %s takes one string or []byte, got %d arguments", f.Name(), len(in))
	}
	res, err := i.inst.CallFuncBytes(f, input)
	if err != nil {
		return err
	}
	switch o := out.(type) {
	case *string:
		*o = string(res)
	case *[]byte:
		*o = res
	case nil:
	default:
		return fmt.Errorf("output parameter of %s can be *string or *[]byte, not %T", f.Name(), out)
	}
	return nil
}

func (i *Instance) callNumeric(f *wasmplug.Func, out interface{}, in []interface{}) error {
	params, results, ok := f.Signature()
	if !ok {
		return fmt.Errorf("function %s is neither a bytes function nor numeric: %s", f.Name(), f.Type())
	}
	if len(in) != len(params) {
		return fmt.Errorf("function %s takes %d parameters (%s), got %d", f.Name(), len(params), f.Type(), len(in))
	}
	args := make([]wasmplug.Value, len(in))
	for n, p := range in {
		v, err := toValue(p, params[n])
		if err != nil {
			return fmt.Errorf("function %s, parameter %d: %w", f.Name(), n, err)
		}
		args[n] = v
	}
	res, err := i.inst.CallFunc(f, args...)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(results) == 0 {
		return fmt.Errorf("function %s returns nothing", f.Name())
	}
	return fromValue(res[0], out)
}

func toValue(p interface{}, k wasmplug.ValKind) (wasmplug.Value, error) {
	v := reflect.ValueOf(p)
	var i int64
	var f float64
	isFloat := false
	switch {
	case v.CanInt():
		i, f = v.Int(), float64(v.Int())
	case v.CanUint():
		i, f = int64(v.Uint()), float64(v.Uint())
	case v.CanFloat():
		f, isFloat = v.Float(), true
	default:
		return wasmplug.Value{}, fmt.Errorf("a %T cannot be passed as %s (strings and []byte go to bytes functions)", p, k)
	}
	switch k {
	case wasmplug.I32:
		if isFloat || int64(int32(i)) != i && int64(uint32(i)) != i {
			return wasmplug.Value{}, fmt.Errorf("%v does not fit in i32", p)
		}
		return wasmplug.ValueI32(int32(i)), nil
	case wasmplug.I64:
		if isFloat {
			return wasmplug.Value{}, fmt.Errorf("%v is not an integer", p)
		}
		return wasmplug.ValueI64(i), nil
	case wasmplug.F32:
		return wasmplug.ValueF32(float32(f)), nil
	default:
		return wasmplug.ValueF64(f), nil
	}
}

func fromValue(v wasmplug.Value, out interface{}) error {
	o := reflect.ValueOf(out)
	if o.Kind() != reflect.Pointer || o.IsNil() {
		return fmt.Errorf("output parameter must be a pointer, not %T", out)
	}
	e := o.Elem()
	switch x := v.Any().(type) {
	case int32:
		return setNumber(e, int64(x), float64(x), false)
	case int64:
		return setNumber(e, x, float64(x), false)
	case float32:
		return setNumber(e, 0, float64(x), true)
	case float64:
		return setNumber(e, 0, x, true)
	}
	return fmt.Errorf("unknown result %v", v)
}

func setNumber(e reflect.Value, i int64, f float64, isFloat bool) error {
	switch {
	case e.CanInt() && !isFloat && !e.OverflowInt(i):
		e.SetInt(i)
	case e.CanUint() && !isFloat && i >= 0 && !e.OverflowUint(uint64(i)):
		e.SetUint(uint64(i))
	case e.CanFloat():
		e.SetFloat(f)
	case e.Kind() == reflect.Interface:
		if isFloat {
			e.Set(reflect.ValueOf(f))
		} else {
			e.Set(reflect.ValueOf(i))
		}
	default:
		return fmt.Errorf("output parameter %s cannot hold the result", e.Type())
	}
	return nil
}
