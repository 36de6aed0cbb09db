//go:build !wasm

package pdk

func hostHTTPRequest(in *byte, n uint32, retptr *[2]uint32) { panic(notWasm) }
