// Command http-hello is the smallest HTTP handler in Go: a core module
// exporting `handle` (docs/http-abi.md) through pdk.HandleHTTP.
//
// Every hello handler of this project answers the same way: status 200,
// "content-type: text/plain; charset=utf-8" and "x-wasmplug-example: go-core";
// for POST and PUT the body is the request body, byte for byte; for any
// other method it is
//
//	Hello from Go (core)! You asked for GET /the/path?and=query
//
// with the request's method and path+query. This one also answers a request
// header "x-echo" with the same header and value.
//
// Build (in this directory):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o http-hello-go.wasm .
package main

import "wasmplug.dev/pdk"

func serve(req *pdk.Request) *pdk.Response {
	resp := pdk.NewResponse(200).
		AddHeader("content-type", "text/plain; charset=utf-8").
		AddHeader("x-wasmplug-example", "go-core")
	if echo, ok := req.Header("x-echo"); ok {
		resp.AddHeader("x-echo", echo)
	}
	switch req.Method {
	case "POST", "PUT":
		return resp.SetBody(req.Body)
	default:
		resp.WriteString("Hello from Go (core)! You asked for " + req.Method + " " +
			req.PathWithQuery + "\n")
		return resp
	}
}

//go:wasmexport handle
func handle(ptr, size uint32) uint32 { return pdk.HandleHTTP(ptr, size, serve) }

//go:wasmexport cabi_post_handle
func handlePost(ret uint32) { pdk.Post(ret) }

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization, from _initialize.
func main() {}
