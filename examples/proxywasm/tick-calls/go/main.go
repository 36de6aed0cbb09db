// tick-calls (Go): on every tick, an HTTP call to each configured cluster;
// each answer is logged. Behaviour: examples/proxywasm/README.md, section
// "tick-calls".
package main

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

const callTimeoutMs = 1000

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type config struct {
	PeriodMs *uint32  `json:"period_ms"`
	Clusters []string `json:"clusters"`
	Path     *string  `json:"path"`
}

// vmConfig is the VM configuration, the fallback when a plugin has none.
var vmConfig []byte

type vm struct{ types.DefaultVMContext }

func (*vm) OnVMStart(int) types.OnVMStartStatus {
	data, err := proxywasm.GetVMConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("tick-calls: reading the VM configuration: %v", err)
		return types.OnVMStartStatusFailed
	}
	vmConfig = append([]byte(nil), data...)
	return types.OnVMStartStatusOK
}

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct {
	types.DefaultPluginContext
	clusters []string
	path     string
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("tick-calls: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	if len(bytes.TrimSpace(data)) == 0 {
		data = vmConfig
	}
	var cfg config
	if len(bytes.TrimSpace(data)) != 0 {
		if err := json.Unmarshal(data, &cfg); err != nil {
			proxywasm.LogErrorf("tick-calls: invalid configuration: %v", err)
			return types.OnPluginStartStatusFailed
		}
	}
	period := uint32(200)
	if cfg.PeriodMs != nil {
		period = *cfg.PeriodMs
	}
	p.path = "/status"
	if cfg.Path != nil {
		p.path = *cfg.Path
	}
	p.clusters = cfg.Clusters
	if err := proxywasm.SetTickPeriodMilliSeconds(period); err != nil {
		proxywasm.LogErrorf("tick-calls: set_tick_period_milliseconds: %v", err)
		return types.OnPluginStartStatusFailed
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) OnTick() {
	for _, cluster := range p.clusters {
		cluster := cluster
		headers := [][2]string{{":method", "GET"}, {":path", p.path}, {":authority", cluster}}
		_, err := proxywasm.DispatchHttpCall(cluster, headers, nil, nil, callTimeoutMs,
			func(numHeaders, _, _ int) { logAnswer(cluster, numHeaders) })
		if err != nil {
			proxywasm.LogWarnf("tick-calls: %s dispatch failed: %v", cluster, err)
		}
	}
}

func logAnswer(cluster string, numHeaders int) {
	status := "failed"
	if numHeaders > 0 {
		if s, err := proxywasm.GetHttpCallResponseHeaders(); err == nil {
			for _, kv := range s {
				if kv[0] == ":status" {
					status = kv[1]
					break
				}
			}
		}
	}
	proxywasm.LogInfof("tick-calls: %s status=%s", cluster, status)
}
