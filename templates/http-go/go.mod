module {{name}}

go 1.24

require wasmplug.dev/pdk v0.0.0-00010101000000-000000000000

// The Go PDK, vendored by `wasmplug new` from the installed copy
// (`wasmplug tools path go-pdk`).
replace wasmplug.dev/pdk => ./wasmplug-pdk
