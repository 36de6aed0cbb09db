// headers (Go): set/remove request and response headers from the plugin
// configuration, and always add `x-filtered-by: go` to the response.
// Behaviour: examples/proxywasm/README.md, section "headers".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{cfg: &config{}} }

// rules are the edits for one header map: set (sorted by name), then remove.
type rules struct {
	set    [][2]string
	remove []string
}

type config struct{ request, response rules }

type rulesJSON struct {
	Set    map[string]string `json:"set"`
	Remove []string          `json:"remove"`
}

func (r *rulesJSON) rules() rules {
	var out rules
	if r == nil {
		return out
	}
	for name, value := range r.Set {
		out.set = append(out.set, [2]string{strings.ToLower(name), value})
	}
	sort.Slice(out.set, func(i, j int) bool { return out.set[i][0] < out.set[j][0] })
	for _, name := range r.Remove {
		out.remove = append(out.remove, strings.ToLower(name))
	}
	return out
}

func parseConfig(data []byte) (*config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &config{}, nil
	}
	var raw struct {
		Request  *rulesJSON `json:"request"`
		Response *rulesJSON `json:"response"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	return &config{request: raw.Request.rules(), response: raw.Response.rules()}, nil
}

type plugin struct {
	types.DefaultPluginContext
	cfg *config
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("headers: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	cfg, err := parseConfig(data)
	if err != nil {
		proxywasm.LogErrorf("headers: invalid plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{cfg: p.cfg} }

type filter struct {
	types.DefaultHttpContext
	cfg *config
}

func (f *filter) OnHttpRequestHeaders(int, bool) types.Action {
	for _, kv := range f.cfg.request.set {
		_ = proxywasm.ReplaceHttpRequestHeader(kv[0], kv[1])
	}
	for _, name := range f.cfg.request.remove {
		_ = proxywasm.RemoveHttpRequestHeader(name)
	}
	return types.ActionContinue
}

func (f *filter) OnHttpResponseHeaders(int, bool) types.Action {
	for _, kv := range f.cfg.response.set {
		_ = proxywasm.ReplaceHttpResponseHeader(kv[0], kv[1])
	}
	for _, name := range f.cfg.response.remove {
		_ = proxywasm.RemoveHttpResponseHeader(name)
	}
	_ = proxywasm.AddHttpResponseHeader("x-filtered-by", "go")
	return types.ActionContinue
}
