module wasmplug.dev/go/wasmplug

go 1.24
