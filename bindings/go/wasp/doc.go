// Package wasp is the home of a compatibility layer for programs written
// against Wasp (github.com/nicholasjackson/wasp), the Go plugin system the
// wasmplug project started from. Change the imports
//
//	github.com/nicholasjackson/wasp/engine        -> wasmplug.dev/go/wasmplug/wasp/engine
//	github.com/nicholasjackson/wasp/engine/logger -> wasmplug.dev/go/wasmplug/wasp/engine/logger
//
// and the program runs on libwasmplug: see the engine package for what
// carries over and what differs.
package wasp
