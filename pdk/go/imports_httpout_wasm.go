//go:build wasm

package pdk

// wasmplug.http_request (bytes ABI, src/host/http/http.h): the framed
// request at (ptr, len); the host writes the output's [ptr, len] at retptr.

//go:wasmimport wasmplug http_request
func hostHTTPRequest(in *byte, n uint32, retptr *[2]uint32)
