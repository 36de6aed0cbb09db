module wasmplug.dev/pdk

go 1.24
