// validate (Go): buffer the request body, require a JSON object holding
// every configured key, answer 403 (or 413) otherwise.
// Behaviour: examples/proxywasm/README.md, section "validate".
package main

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// Bodies larger than this are refused with 413 before being parsed.
const maxBody = 1 << 20

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct {
	types.DefaultPluginContext
	required []string
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("validate: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	if len(bytes.TrimSpace(data)) != 0 {
		var cfg struct {
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			proxywasm.LogErrorf("validate: invalid plugin configuration: %v", err)
			return types.OnPluginStartStatusFailed
		}
		p.required = cfg.Required
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{required: p.required} }

type filter struct {
	types.DefaultHttpContext
	required []string
	answered bool
}

func (f *filter) reject(status uint32, body string) types.Action {
	f.answered = true
	_ = proxywasm.SendHttpResponse(status, nil, []byte(body), -1)
	return types.ActionPause
}

// check returns the 403 body for body, or "" when it passes.
func (f *filter) check(body []byte) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return "invalid json\n"
	}
	for _, key := range f.required {
		if _, ok := obj[key]; !ok {
			return "missing key: " + key + "\n"
		}
	}
	return ""
}

func (f *filter) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	if endOfStream {
		return f.reject(403, "invalid json\n")
	}
	return types.ActionContinue
}

func (f *filter) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	if f.answered {
		return types.ActionPause
	}
	if size > maxBody {
		return f.reject(413, "body too large\n")
	}
	if !endOfStream {
		return types.ActionPause
	}
	var body []byte
	if size > 0 {
		b, err := proxywasm.GetHttpRequestBody(0, size)
		if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
			proxywasm.LogWarnf("validate: reading the body: %v", err)
		}
		body = b
	}
	if reason := f.check(body); reason != "" {
		return f.reject(403, reason)
	}
	return types.ActionContinue
}
