module wasmplug.dev/tests/kvgo

go 1.24

require wasmplug.dev/pdk v0.0.0-00010101000000-000000000000

replace wasmplug.dev/pdk => ../../../pdk/go
