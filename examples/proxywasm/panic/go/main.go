// panic (Go): fails on purpose. `x-panic` panics, `x-loop` never returns,
// anything else gets `x-panic-filter: ok`.
// Behaviour: examples/proxywasm/README.md, section "panic".
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &filter{} })
}

type filter struct{ types.DefaultHttpContext }

func (*filter) OnHttpRequestHeaders(int, bool) types.Action {
	if _, err := proxywasm.GetHttpRequestHeader("x-panic"); err == nil {
		panic("boom")
	}
	if _, err := proxywasm.GetHttpRequestHeader("x-loop"); err == nil {
		for {
		}
	}
	return types.ActionContinue
}

func (*filter) OnHttpResponseHeaders(int, bool) types.Action {
	_ = proxywasm.ReplaceHttpResponseHeader("x-panic-filter", "ok")
	return types.ActionContinue
}
