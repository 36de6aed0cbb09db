// Package wasmplug embeds libwasmplug, a WebAssembly plugin host, in Go
// programs.
//
// An Engine loads Plugins (core modules or components, from a file or from
// bytes) under a Manifest that grants what each may do and limits how far it
// may go. Calls run in an Instance (a sandbox with its own memory) or in one
// taken from a Pool. Failures are *Error values with a Kind; compare them with
// errors.Is against the sentinels (ErrTimeout, ErrFuel, ...) or get the kind
// with errors.As.
//
// Every type with a Close method holds C resources: Close releases them (a
// second Close does nothing); a finalizer releases them too when a value is
// garbage collected without Close, but do not rely on it for timely release.
// Engine, Plugin, Func and Pool are safe for concurrent use; an Instance runs
// one call at a time (use one per goroutine, or a Pool).
package wasmplug

/*
#cgo pkg-config: wasmplug
#cgo noescape wp_value_new_string_n
#cgo noescape wp_value_new_bytes
#cgo noescape wp_host_call_set_output
#cgo noescape wpgo_error
#cgo nocallback wp_value_new_string_n
#cgo nocallback wp_value_new_bytes
#cgo nocallback wp_host_call_set_output
#cgo nocallback wpgo_error
#include "wpgo.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// registry maps the integer ids handed to C as user data to Go values
// (callbacks). C only ever sees the id, never a Go pointer. A lookup of an id
// that was released finds nothing instead of crashing, so a late callback
// (say, a log message while an engine shuts down) is simply dropped.
var registry struct {
	sync.RWMutex
	next  uintptr
	items map[uintptr]any
}

func register(v any) uintptr {
	registry.Lock()
	defer registry.Unlock()
	if registry.items == nil {
		registry.items = map[uintptr]any{}
	}
	registry.next++
	registry.items[registry.next] = v
	return registry.next
}

func lookup(id uintptr) any {
	registry.RLock()
	defer registry.RUnlock()
	return registry.items[id]
}

func unregister(id uintptr) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.items, id)
}

// registered reports how many callbacks are registered (for leak tests).
func registered() int {
	registry.RLock()
	defer registry.RUnlock()
	return len(registry.items)
}

//export wpgoRelease
func wpgoRelease(id C.uintptr_t) { unregister(uintptr(id)) }

// cstr makes a NUL-terminated C copy of s; free it with C.free.
func cstr(s string) *C.char { return C.CString(s) }

// cfree frees a C allocation made here.
func cfree(p *C.char) { C.free(unsafe.Pointer(p)) }

// closeOnce is the idempotent-close latch every handle type embeds.
type closeOnce struct{ closed atomic.Bool }

// begin reports whether this is the first Close.
func (c *closeOnce) begin() bool { return c.closed.CompareAndSwap(false, true) }

// isClosed reports whether Close ran.
func (c *closeOnce) isClosed() bool { return c.closed.Load() }

// emptyC is a valid pointer for zero-length inputs.
var emptyC = C.CString("")
