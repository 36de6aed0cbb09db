// metadata (Go): read host properties at request time and return them as
// `x-prop-*` response headers. Behaviour: examples/proxywasm/README.md,
// section "metadata".
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

const missing = "missing"

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{key: "owner"} }

type plugin struct {
	types.DefaultPluginContext
	key string
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("metadata: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	if len(bytes.TrimSpace(data)) != 0 {
		var cfg struct {
			Key *string `json:"key"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil || (cfg.Key != nil && *cfg.Key == "") {
			proxywasm.LogErrorf("metadata: invalid plugin configuration")
			return types.OnPluginStartStatusFailed
		}
		if cfg.Key != nil {
			p.key = *cfg.Key
		}
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{key: p.key} }

type filter struct {
	types.DefaultHttpContext
	key   string
	props [][2]string
}

// property reads one property as a header value, "missing" on any error.
func property(path ...string) string {
	v, err := proxywasm.GetProperty(path)
	if err != nil {
		return missing
	}
	return string(v)
}

// connectionID decodes connection.id: 8 bytes are a little-endian uint64,
// printed in decimal; any other length is used as it is.
func connectionID() string {
	v, err := proxywasm.GetProperty([]string{"connection", "id"})
	if err != nil {
		return missing
	}
	if len(v) == 8 {
		return strconv.FormatUint(binary.LittleEndian.Uint64(v), 10)
	}
	return string(v)
}

func (f *filter) OnHttpRequestHeaders(int, bool) types.Action {
	f.props = [][2]string{
		{"x-prop-route-name", property("route_name")},
		{"x-prop-route-metadata", property("route_metadata", f.key)},
		{"x-prop-plugin-name", property("plugin_name")},
		{"x-prop-plugin-root-id", property("plugin_root_id")},
		{"x-prop-request-path", property("request", "path")},
		{"x-prop-request-method", property("request", "method")},
		{"x-prop-source-address", property("source", "address")},
		{"x-prop-connection-id", connectionID()},
	}
	return types.ActionContinue
}

func (f *filter) OnHttpResponseHeaders(int, bool) types.Action {
	for _, kv := range f.props {
		_ = proxywasm.ReplaceHttpResponseHeader(kv[0], kv[1])
	}
	return types.ActionContinue
}
