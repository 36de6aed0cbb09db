// Package logger adapts a program's logger to the Wasp engine, as Wasp's
// engine/logger package does: New takes the Info, Debug, Error and Trace
// functions of your logger (hclog's methods fit).
package logger

// LogFunc logs a message with key/value pairs.
type LogFunc func(message string, params ...interface{})

// Wrapper holds the four log functions; any of them may be nil.
type Wrapper struct {
	info, debug, err, trace LogFunc
}

// New wraps the four log functions, in Wasp's order: info, debug, error, trace.
func New(info, debug, err, trace LogFunc) *Wrapper {
	return &Wrapper{info: info, debug: debug, err: err, trace: trace}
}

// Info logs at info level.
func (w *Wrapper) Info(message string, params ...interface{}) { w.call(w.info, message, params) }

// Debug logs at debug level.
func (w *Wrapper) Debug(message string, params ...interface{}) { w.call(w.debug, message, params) }

// Error logs at error level.
func (w *Wrapper) Error(message string, params ...interface{}) { w.call(w.err, message, params) }

// Trace logs at trace level.
func (w *Wrapper) Trace(message string, params ...interface{}) { w.call(w.trace, message, params) }

func (w *Wrapper) call(f LogFunc, message string, params []interface{}) {
	if w != nil && f != nil {
		f(message, params...)
	}
}
