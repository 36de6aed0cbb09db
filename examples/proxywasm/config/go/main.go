// config (Go): echo the VM and plugin configurations (raw bytes) into the
// log and into response headers; "fail" makes either start fail.
// Behaviour: examples/proxywasm/README.md, section "config".
package main

import (
	"bytes"
	"errors"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

// vmConfig is the cleaned VM configuration (one per VM).
var vmConfig string

// clean trims the configuration and replaces CR and LF by spaces (the value
// goes into a header).
func clean(data []byte) string {
	data = bytes.TrimSpace(data)
	data = bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, data)
	return string(data)
}

func read(get func() ([]byte, error)) ([]byte, error) {
	data, err := get()
	if errors.Is(err, types.ErrorStatusNotFound) {
		return nil, nil
	}
	return data, err
}

type vm struct{ types.DefaultVMContext }

func (*vm) OnVMStart(int) types.OnVMStartStatus {
	data, err := read(proxywasm.GetVMConfiguration)
	if err != nil {
		proxywasm.LogErrorf("config: reading the VM configuration: %v", err)
		return types.OnVMStartStatusFailed
	}
	if string(data) == "fail" {
		proxywasm.LogError("config: vm configuration says fail")
		return types.OnVMStartStatusFailed
	}
	vmConfig = clean(data)
	return types.OnVMStartStatusOK
}

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct {
	types.DefaultPluginContext
	config string
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := read(proxywasm.GetPluginConfiguration)
	if err != nil {
		proxywasm.LogErrorf("config: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	if string(data) == "fail" {
		proxywasm.LogError("config: plugin configuration says fail")
		return types.OnPluginStartStatusFailed
	}
	p.config = clean(data)
	proxywasm.LogInfof("config: vm=%s plugin=%s", vmConfig, p.config)
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext {
	return &filter{vm: vmConfig, plugin: p.config}
}

type filter struct {
	types.DefaultHttpContext
	vm, plugin string
}

func (f *filter) OnHttpResponseHeaders(int, bool) types.Action {
	_ = proxywasm.ReplaceHttpResponseHeader("x-vm-config", f.vm)
	_ = proxywasm.ReplaceHttpResponseHeader("x-plugin-config", f.plugin)
	return types.ActionContinue
}
