module wasmplug.dev/bench/peers/hello

go 1.24
