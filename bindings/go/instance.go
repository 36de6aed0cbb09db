package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"context"
	"runtime"
	"strings"
	"unsafe"
)

// Instance is a sandbox made from a plugin: its own memory, WASI context and
// limits. It runs one call at a time: do not share one between goroutines
// without a lock (use one per goroutine, or a Pool). After a call fails with
// a trap, timeout or limit, Reset it (or Close it; a pooled instance is
// discarded by the pool).
type Instance struct {
	closeOnce
	ptr     *C.wp_instance
	scratch *C.wpgo_scratch
	plugin  *Plugin
	pool    *Pool
	cleanup runtime.Cleanup
}

func newScratch() *C.wpgo_scratch {
	return (*C.wpgo_scratch)(C.calloc(1, C.sizeof_wpgo_scratch))
}

type instRes struct {
	ptr     *C.wp_instance
	scratch *C.wpgo_scratch
	pool    *Pool
}

func freeInstance(r instRes) {
	if r.pool != nil {
		r.pool.release(r.ptr)
	} else {
		C.wp_instance_free(r.ptr)
	}
	C.free(unsafe.Pointer(r.scratch))
}

// NewInstance makes an instance of the plugin (running its _initialize).
func (p *Plugin) NewInstance() (*Instance, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var out *C.wp_instance
	err := takeError(C.wp_instance_new(p.ptr, &out))
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	i := &Instance{ptr: out, plugin: p, scratch: newScratch()}
	i.cleanup = runtime.AddCleanup(i, freeInstance, instRes{out, i.scratch, nil})
	return i, nil
}

// Close frees the instance, or gives it back to its pool if it came from
// one. A second Close does nothing. Do not Close while a call runs.
func (i *Instance) Close() error {
	if !i.begin() {
		return nil
	}
	i.cleanup.Stop()
	freeInstance(instRes{i.ptr, i.scratch, i.pool})
	return nil
}

func (i *Instance) check() error {
	if i == nil || i.isClosed() {
		return errClosed("instance")
	}
	return nil
}

// Plugin is the plugin this instance runs.
func (i *Instance) Plugin() *Plugin { return i.plugin }

// Reset throws the instance's state away and instantiates the plugin afresh.
func (i *Instance) Reset() error {
	if err := i.check(); err != nil {
		return err
	}
	defer runtime.KeepAlive(i)
	return takeError(C.wp_instance_reset(i.ptr))
}

// Interrupt stops the call running on the instance within about one timer
// tick (it fails with KindInterrupted); a request made while no call runs
// stops the next call. Safe to call from any goroutine while the instance is
// open.
func (i *Instance) Interrupt() {
	if i.check() != nil {
		return
	}
	C.wp_instance_interrupt(i.ptr)
	runtime.KeepAlive(i)
}

// FuelUsed is the fuel the last call used (0 when the plugin is not metered).
func (i *Instance) FuelUsed() uint64 {
	if i.check() != nil {
		return 0
	}
	defer runtime.KeepAlive(i)
	return uint64(C.wp_instance_get_fuel_used(i.ptr))
}

// MemorySize is the current size of the instance's linear memories, in bytes.
func (i *Instance) MemorySize() uint64 {
	if i.check() != nil {
		return 0
	}
	defer runtime.KeepAlive(i)
	return uint64(C.wp_instance_get_memory_size(i.ptr))
}

// Stdout is what the plugin wrote to stdout under StdioCapture (a copy).
func (i *Instance) Stdout() []byte {
	if i.check() != nil {
		return nil
	}
	defer runtime.KeepAlive(i)
	var n C.size_t
	p := C.wp_instance_get_stdout(i.ptr, &n)
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// Stderr is what the plugin wrote to stderr under StdioCapture (a copy).
func (i *Instance) Stderr() []byte {
	if i.check() != nil {
		return nil
	}
	defer runtime.KeepAlive(i)
	var n C.size_t
	p := C.wp_instance_get_stderr(i.ptr, &n)
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// Run runs a WASI command's _start and returns its exit code.
func (i *Instance) Run() (int, error) {
	if err := i.check(); err != nil {
		return 0, err
	}
	defer runtime.KeepAlive(i)
	var code C.int
	err := takeError(C.wp_instance_run(i.ptr, &code))
	return int(code), err
}

// Call calls a numeric export of a core module with args and returns its
// results.
func (i *Instance) Call(name string, args ...Value) ([]Value, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	f, err := i.plugin.fn(name)
	if err != nil {
		return nil, err
	}
	return i.CallFunc(f, args...)
}

// CallFunc is Call through a handle.
func (i *Instance) CallFunc(f *Func, args ...Value) ([]Value, error) {
	n := f.results
	if n < 0 {
		n = 0
	}
	res := make([]Value, n)
	if err := i.CallFuncTo(f, res, args...); err != nil {
		return nil, err
	}
	return res, nil
}

// CallFuncTo is CallFunc writing the results into results, whose length must
// be the export's result count: the fast path, with no allocation.
func (i *Instance) CallFuncTo(f *Func, results []Value, args ...Value) error {
	if err := i.check(); err != nil {
		return err
	}
	if f.plugin.ptr != i.plugin.ptr {
		return errorf(KindBadInput, "wasmplug: function %q belongs to plugin %q, not %q",
			f.name, f.plugin.name, i.plugin.name)
	}
	// Arguments and results travel through C memory (see wpgo_scratch).
	vals := unsafe.Slice((*Value)(unsafe.Pointer(&i.scratch.vals[0])), 2*C.WPGO_SCRATCH_VALS)
	a, r := vals[:C.WPGO_SCRATCH_VALS:C.WPGO_SCRATCH_VALS], vals[C.WPGO_SCRATCH_VALS:]
	if len(args) > len(a) || len(results) > len(r) {
		big := (*Value)(C.calloc(C.size_t(len(args)+len(results)+1), C.sizeof_wp_val))
		defer C.free(unsafe.Pointer(big))
		all := unsafe.Slice(big, len(args)+len(results)+1)
		a, r = all[:len(args)], all[len(args):]
	}
	copy(a, args)
	e := C.wp_instance_call_func(i.ptr, f.id, (*C.wp_val)(unsafe.Pointer(&a[0])), C.size_t(len(args)),
		(*C.wp_val)(unsafe.Pointer(&r[0])), C.size_t(len(results)))
	runtime.KeepAlive(i)
	if e != nil {
		return takeError(e)
	}
	copy(results, r)
	return nil
}

// CallBytes calls a bytes export (core module bytes ABI, or a component
// function from list<u8>/string to list<u8>/string) and returns a copy of
// its output.
func (i *Instance) CallBytes(name string, in []byte) ([]byte, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	f, err := i.plugin.fn(name)
	if err != nil {
		return nil, err
	}
	return i.CallFuncBytes(f, in)
}

// CallFuncBytes is CallBytes through a handle.
func (i *Instance) CallFuncBytes(f *Func, in []byte) ([]byte, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	if f.plugin.ptr != i.plugin.ptr {
		return nil, errorf(KindBadInput, "wasmplug: function %q belongs to plugin %q, not %q",
			f.name, f.plugin.name, i.plugin.name)
	}
	var p unsafe.Pointer = unsafe.Pointer(emptyC)
	if len(in) > 0 {
		p = unsafe.Pointer(&in[0])
	}
	e := C.wp_instance_call_func_bytes(i.ptr, f.id, p, C.size_t(len(in)), &i.scratch.out, &i.scratch.out_len)
	runtime.KeepAlive(in)
	if e != nil {
		runtime.KeepAlive(i)
		return nil, takeError(e)
	}
	res := C.GoBytes(unsafe.Pointer(i.scratch.out), C.int(i.scratch.out_len))
	runtime.KeepAlive(i)
	return res, nil
}

// CallString calls a bytes export with UTF-8 text and returns its UTF-8
// output. Input that is not UTF-8 (or holds a NUL byte) is KindBadInput;
// output that is not UTF-8 is KindABI.
func (i *Instance) CallString(name, in string) (string, error) {
	if err := i.check(); err != nil {
		return "", err
	}
	if strings.IndexByte(in, 0) >= 0 {
		return "", errorf(KindBadInput, "wasmplug: CallString %q: input holds a NUL byte (use CallBytes)", name)
	}
	n, s := cstr(name), cstr(in)
	defer cfree(n)
	defer cfree(s)
	e := C.wp_instance_call_string(i.ptr, n, s, (**C.char)(unsafe.Pointer(&i.scratch.out)))
	defer runtime.KeepAlive(i)
	if e != nil {
		return "", takeError(e)
	}
	return C.GoString((*C.char)(unsafe.Pointer(i.scratch.out))), nil
}

// withContext runs call with ctx's cancellation mapped to Interrupt. A call
// stopped that way fails with KindInterrupted and unwraps to ctx.Err().
func (i *Instance) withContext(ctx context.Context, call func() error) error {
	if ctx.Done() == nil {
		return call()
	}
	if err := ctx.Err(); err != nil {
		return &Error{Kind: KindInterrupted, Message: "wasmplug: " + err.Error() + " before the call", cause: err}
	}
	if err := i.check(); err != nil {
		return err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.wp_instance_interrupt(i.ptr)
		close(fired)
	})
	err := call()
	if !stop() {
		<-fired
		if e, ok := err.(*Error); ok && e.Kind == KindInterrupted {
			e.cause = ctx.Err()
		} else {
			// The context fired as the call ended on its own: its request
			// must not stop the instance's next call.
			C.wp_instance_cancel_interrupt(i.ptr)
		}
	}
	return err
}

// CallContext is Call stopped (KindInterrupted, unwrapping to ctx.Err())
// when ctx is done.
func (i *Instance) CallContext(ctx context.Context, name string, args ...Value) (res []Value, err error) {
	err = i.withContext(ctx, func() error {
		var e error
		res, e = i.Call(name, args...)
		return e
	})
	return res, err
}

// CallBytesContext is CallBytes stopped when ctx is done.
func (i *Instance) CallBytesContext(ctx context.Context, name string, in []byte) (out []byte, err error) {
	err = i.withContext(ctx, func() error {
		var e error
		out, e = i.CallBytes(name, in)
		return e
	})
	return out, err
}

// CallStringContext is CallString stopped when ctx is done.
func (i *Instance) CallStringContext(ctx context.Context, name, in string) (out string, err error) {
	err = i.withContext(ctx, func() error {
		var e error
		out, e = i.CallString(name, in)
		return e
	})
	return out, err
}
