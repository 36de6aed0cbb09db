//go:build !wasm

package pdk

// Stand-ins so that packages importing pdk still build (and go vet, gopls and
// go test work) on the development machine. Plugins only run as wasm.

const notWasm = "wasmplug.dev/pdk: host functions exist only in a wasm plugin (GOOS=wasip1 GOARCH=wasm)"

func hostLog(level int32, msg string)             { panic(notWasm) }
func hostConfigGet(key string, retptr *[3]uint32) { panic(notWasm) }
func hostError(msg string)                        { panic(notWasm) }
