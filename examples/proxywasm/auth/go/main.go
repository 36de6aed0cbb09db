// auth (Go): every request waits for an HTTP call to an auth cluster; 200
// lets it through with `x-auth-user`, anything else is refused.
// Behaviour: examples/proxywasm/README.md, section "auth".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type config struct {
	Cluster   string `json:"cluster"`
	Path      string `json:"path"`
	TimeoutMs uint32 `json:"timeout_ms"`
}

func parseConfig(data []byte) (*config, error) {
	cfg := &config{Cluster: "auth", Path: "/check", TimeoutMs: 1000}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, err
	}
	if cfg.Cluster == "" || cfg.Path == "" {
		return nil, errors.New("empty cluster or path")
	}
	return cfg, nil
}

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct {
	types.DefaultPluginContext
	cfg *config
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("auth: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	cfg, err := parseConfig(data)
	if err != nil {
		proxywasm.LogErrorf("auth: invalid plugin configuration: %v", err)
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

func unavailable() {
	_ = proxywasm.SendHttpResponse(503, nil, []byte("auth unavailable\n"), -1)
}

func (f *filter) OnHttpRequestHeaders(int, bool) types.Action {
	// The client must not be able to choose its own user.
	_ = proxywasm.RemoveHttpRequestHeader("x-auth-user")
	headers := [][2]string{{":method", "GET"}, {":path", f.cfg.Path}, {":authority", f.cfg.Cluster}}
	if v, err := proxywasm.GetHttpRequestHeader("authorization"); err == nil {
		headers = append(headers, [2]string{"authorization", v})
	}
	_, err := proxywasm.DispatchHttpCall(f.cfg.Cluster, headers, nil, nil, f.cfg.TimeoutMs, f.onAnswer)
	if err != nil {
		proxywasm.LogWarnf("auth: dispatch to %s failed: %v", f.cfg.Cluster, err)
		unavailable()
	}
	return types.ActionPause
}

func (f *filter) onAnswer(numHeaders, bodySize, _ int) {
	if numHeaders == 0 {
		proxywasm.LogWarnf("auth: call to %s failed", f.cfg.Cluster)
		unavailable()
		return
	}
	status := ""
	if headers, err := proxywasm.GetHttpCallResponseHeaders(); err == nil {
		for _, kv := range headers {
			if kv[0] == ":status" {
				status = kv[1]
				break
			}
		}
	}
	if status != "200" {
		_ = proxywasm.SendHttpResponse(403, nil, []byte("forbidden\n"), -1)
		return
	}
	var user []byte
	if bodySize > 0 {
		user, _ = proxywasm.GetHttpCallResponseBody(0, bodySize)
	}
	_ = proxywasm.ReplaceHttpRequestHeader("x-auth-user", strings.TrimSpace(string(user)))
	_ = proxywasm.ResumeHttpRequest()
}
