package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"fmt"
)

// ErrorKind says what kind of failure an Error reports (wp_error_kind).
type ErrorKind int

// The error kinds, as libwasmplug defines them.
const (
	KindLoad        ErrorKind = C.WP_ERR_LOAD         // the bytes are not a valid plugin
	KindLink        ErrorKind = C.WP_ERR_LINK         // an import is missing or has the wrong type
	KindTrap        ErrorKind = C.WP_ERR_TRAP         // the plugin trapped
	KindTimeout     ErrorKind = C.WP_ERR_TIMEOUT      // the call ran past its time limit
	KindInterrupted ErrorKind = C.WP_ERR_INTERRUPTED  // Interrupt (or a cancelled context) stopped the call
	KindFuel        ErrorKind = C.WP_ERR_FUEL         // the call used up its fuel
	KindMemoryLimit ErrorKind = C.WP_ERR_MEMORY_LIMIT // the plugin failed after reaching its memory limit
	KindBadInput    ErrorKind = C.WP_ERR_BAD_INPUT    // the caller passed something wrong
	KindABI         ErrorKind = C.WP_ERR_ABI          // the plugin broke the calling convention
	KindHost        ErrorKind = C.WP_ERR_HOST         // a host function reported a failure
	KindPlugin      ErrorKind = C.WP_ERR_PLUGIN       // the plugin reported a failure
	KindIO          ErrorKind = C.WP_ERR_IO           // reading or writing a file failed
	KindNotFound    ErrorKind = C.WP_ERR_NOT_FOUND    // no such export, file or function
	KindBusy        ErrorKind = C.WP_ERR_BUSY         // no free instance slot: retry later
	KindNoMemory    ErrorKind = C.WP_ERR_NO_MEMORY    // the host ran out of memory
)

// String is the library's short name for the kind: "load", "trap", "timeout"...
func (k ErrorKind) String() string {
	if n := C.wp_error_kind_name(C.wp_error_kind(k)); n != nil {
		return C.GoString(n)
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failure reported by libwasmplug (or by this binding, with the
// same kinds). Get one with errors.As; test a kind with errors.Is against the
// sentinels below, which match any Error of their kind.
type Error struct {
	Kind      ErrorKind
	Message   string // names the plugin, what failed and how to fix it
	Backtrace string // the wasm backtrace, innermost frame first, or ""
	cause     error  // e.g. the context error that interrupted a call
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "wasmplug: " + e.Kind.String()
	}
	return e.Message
}

// Is makes errors.Is(err, ErrTimeout) true for every timeout: a sentinel (an
// Error without a message) matches any Error of its kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Kind == e.Kind
}

// Unwrap returns the cause, if any: a call stopped by its context unwraps to
// context.Canceled or context.DeadlineExceeded.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels for errors.Is, one per kind.
var (
	ErrLoad        = &Error{Kind: KindLoad}
	ErrLink        = &Error{Kind: KindLink}
	ErrTrap        = &Error{Kind: KindTrap}
	ErrTimeout     = &Error{Kind: KindTimeout}
	ErrInterrupted = &Error{Kind: KindInterrupted}
	ErrFuel        = &Error{Kind: KindFuel}
	ErrMemoryLimit = &Error{Kind: KindMemoryLimit}
	ErrBadInput    = &Error{Kind: KindBadInput}
	ErrABI         = &Error{Kind: KindABI}
	ErrHost        = &Error{Kind: KindHost}
	ErrPlugin      = &Error{Kind: KindPlugin}
	ErrIO          = &Error{Kind: KindIO}
	ErrNotFound    = &Error{Kind: KindNotFound}
	ErrBusy        = &Error{Kind: KindBusy}
	ErrNoMemory    = &Error{Kind: KindNoMemory}
)

// takeError turns a wp_error into an *Error and frees it; nil stays nil.
func takeError(e *C.wp_error) error {
	if e == nil {
		return nil
	}
	err := &Error{
		Kind:    ErrorKind(C.wp_error_get_kind(e)),
		Message: C.GoString(C.wp_error_get_message(e)),
	}
	if bt := C.wp_error_get_backtrace(e); bt != nil {
		err.Backtrace = C.GoString(bt)
	}
	C.wp_error_free(e)
	return err
}

func errorf(kind ErrorKind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

var errClosed = func(what string) error { return errorf(KindBadInput, "wasmplug: %s is closed", what) }
