package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// LogLevel is the level of a message a plugin logs.
type LogLevel int

// The log levels.
const (
	LogTrace LogLevel = C.WP_LOG_TRACE
	LogDebug LogLevel = C.WP_LOG_DEBUG
	LogInfo  LogLevel = C.WP_LOG_INFO
	LogWarn  LogLevel = C.WP_LOG_WARN
	LogError LogLevel = C.WP_LOG_ERROR
)

// String is "trace", "debug", "info", "warn" or "error".
func (l LogLevel) String() string { return C.GoString(C.wp_log_level_name(C.wp_log_level(l))) }

// LogFunc receives what plugins log (wasmplug.log, wasi:logging). It is called
// on the thread running the plugin, possibly from several goroutines at once,
// so it must be safe for concurrent use. A panic in it is recovered and the
// message dropped.
type LogFunc func(level LogLevel, plugin, message string)

// EngineOption configures NewEngine.
type EngineOption func(*engineConfig)

type engineConfig struct {
	cacheDir       *string
	pooling        *uint32
	maxMemory      uint64
	maxModuleSize  uint64
	maxFunctions   uint32
	instTimeout    *time.Duration
	tick           time.Duration
	log            LogFunc
	poolTableElems uint32
	poolInstSize   uint64
}

// WithCacheDir sets where compiled plugins are cached; "" turns the cache off.
// Default: ~/.cache/wasmplug/compiled.
func WithCacheDir(dir string) EngineOption { return func(c *engineConfig) { c.cacheDir = &dir } }

// WithPooling reserves room for up to n live instances up front (fast
// instantiation); 0 turns pooling off. Default: 256.
func WithPooling(n uint32) EngineOption { return func(c *engineConfig) { c.pooling = &n } }

// WithMaxMemory caps the memory of every instance, in bytes. Default: 1 GiB.
func WithMaxMemory(bytes uint64) EngineOption { return func(c *engineConfig) { c.maxMemory = bytes } }

// WithMaxModuleSize caps the size of a plugin's bytes. Default: 128 MiB.
func WithMaxModuleSize(bytes uint64) EngineOption {
	return func(c *engineConfig) { c.maxModuleSize = bytes }
}

// WithMaxFunctions caps the functions a plugin may have. Default: 100000.
func WithMaxFunctions(n uint32) EngineOption { return func(c *engineConfig) { c.maxFunctions = n } }

// WithPoolLimits sets the pooled instances' table elements and runtime state
// size (0 keeps a default).
func WithPoolLimits(tableElements uint32, instanceBytes uint64) EngineOption {
	return func(c *engineConfig) { c.poolTableElems, c.poolInstSize = tableElements, instanceBytes }
}

// WithInstantiateTimeout bounds making an instance when the manifest sets no
// timeout; 0: no limit. Default: 10 s.
func WithInstantiateTimeout(d time.Duration) EngineOption {
	return func(c *engineConfig) { c.instTimeout = &d }
}

// WithTick sets how often the timer checks timeouts and interrupts. Default: 1 ms.
func WithTick(d time.Duration) EngineOption { return func(c *engineConfig) { c.tick = d } }

// WithLogger sends what plugins log to fn. Default: nowhere.
func WithLogger(fn LogFunc) EngineOption { return func(c *engineConfig) { c.log = fn } }

// Engine compiles and runs plugins; one per process is usual. Safe for
// concurrent use.
type Engine struct {
	closeOnce
	ptr     *C.wp_engine
	logID   uintptr
	cleanup runtime.Cleanup
}

// NewEngine makes an engine (and its timer thread).
func NewEngine(opts ...EngineOption) (*Engine, error) {
	var c engineConfig
	for _, o := range opts {
		o(&c)
	}
	cfg := C.wp_engine_config_new()
	if cfg == nil {
		return nil, errorf(KindNoMemory, "wasmplug: out of memory")
	}
	defer C.wp_engine_config_free(cfg)
	if c.cacheDir != nil {
		if *c.cacheDir == "" {
			C.wp_engine_config_set_cache_dir(cfg, nil)
		} else {
			d := cstr(*c.cacheDir)
			C.wp_engine_config_set_cache_dir(cfg, d)
			cfree(d)
		}
	}
	if c.pooling != nil {
		C.wp_engine_config_set_pooling(cfg, C.uint32_t(*c.pooling))
	}
	if c.maxMemory != 0 {
		C.wp_engine_config_set_max_memory(cfg, C.uint64_t(c.maxMemory))
	}
	C.wp_engine_config_set_max_module_size(cfg, C.uint64_t(c.maxModuleSize))
	C.wp_engine_config_set_max_functions(cfg, C.uint32_t(c.maxFunctions))
	C.wp_engine_config_set_pool_table_elements(cfg, C.uint32_t(c.poolTableElems))
	C.wp_engine_config_set_pool_instance_size(cfg, C.uint64_t(c.poolInstSize))
	if c.instTimeout != nil {
		C.wp_engine_config_set_instantiate_timeout_ms(cfg, C.uint32_t(c.instTimeout.Milliseconds()))
	}
	if c.tick > 0 {
		C.wp_engine_config_set_tick_us(cfg, C.uint32_t(c.tick.Microseconds()))
	}
	e := &Engine{}
	if c.log != nil {
		e.logID = register(c.log)
		C.wpgo_config_set_log(cfg, C.uintptr_t(e.logID))
	}
	if err := takeError(C.wp_engine_new(cfg, &e.ptr)); err != nil {
		if e.logID != 0 {
			unregister(e.logID)
		}
		return nil, err
	}
	e.cleanup = runtime.AddCleanup(e, freeEngine, engineRes{e.ptr, e.logID})
	return e, nil
}

type engineRes struct {
	ptr   *C.wp_engine
	logID uintptr
}

func freeEngine(r engineRes) {
	C.wp_engine_free(r.ptr)
	// The C engine lives on while plugins made from it do; their log
	// messages are dropped from now on (the id no longer resolves).
	if r.logID != 0 {
		unregister(r.logID)
	}
}

// Close drops the engine. Plugins already loaded keep working (the C engine
// lives until the last of them is closed), but they no longer log to the
// engine's LogFunc. A second Close does nothing.
func (e *Engine) Close() error {
	if !e.begin() {
		return nil
	}
	e.cleanup.Stop()
	freeEngine(engineRes{e.ptr, e.logID})
	return nil
}

func (e *Engine) check() error {
	if e == nil || e.isClosed() {
		return errClosed("engine")
	}
	return nil
}

//export wpgoLog
func wpgoLog(id C.uintptr_t, level C.int, plugin *C.char, msg *C.char, n C.size_t) {
	fn, _ := lookup(uintptr(id)).(LogFunc)
	if fn == nil {
		return
	}
	defer func() { _ = recover() }()
	fn(LogLevel(level), C.GoString(plugin), C.GoStringN(msg, C.int(n)))
}

// Log hands a message to the engine's LogFunc as if plugin had logged it.
func (e *Engine) Log(level LogLevel, plugin, message string) {
	if e.check() != nil {
		return
	}
	p := cstr(plugin)
	defer cfree(p)
	var m *C.char = emptyC
	if len(message) > 0 {
		m = (*C.char)(unsafe.Pointer(unsafe.StringData(message)))
	}
	C.wp_engine_log(e.ptr, C.wp_log_level(level), p, m, C.size_t(len(message)))
	runtime.KeepAlive(message)
	runtime.KeepAlive(e)
}
