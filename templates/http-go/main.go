// Command {{name}} is an HTTP handler for `wasmplug serve`: a core module in
// Go exporting handle (wasmplug's HTTP bytes ABI) through pdk.HandleHTTP.
//
// POST and PUT answer with the request body; any other method with
//
//	Hello from {{name}}! You asked for GET /the/path?and=query
package main

import "wasmplug.dev/pdk"

func serve(req *pdk.Request) *pdk.Response {
	resp := pdk.NewResponse(200).AddHeader("content-type", "text/plain; charset=utf-8")
	switch req.Method {
	case "POST", "PUT":
		return resp.SetBody(req.Body)
	default:
		resp.WriteString("Hello from {{name}}! You asked for " + req.Method + " " +
			req.PathWithQuery + "\n")
		return resp
	}
}

//go:wasmexport handle
func handle(ptr, size uint32) uint32 { return pdk.HandleHTTP(ptr, size, serve) }

//go:wasmexport cabi_post_handle
func handlePost(ret uint32) { pdk.Post(ret) }

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization.
func main() {}
