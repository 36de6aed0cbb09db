// counter (Go): a request counter in shared data, incremented with
// compare-and-swap; the value written for a request goes back to the client
// in `x-count`. Behaviour: examples/proxywasm/README.md, section "counter".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

const maxAttempts = 100

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{key: "counter"} }

type plugin struct {
	types.DefaultPluginContext
	key string
}

func parseKey(data []byte) (string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return "counter", nil
	}
	var raw struct {
		Key *string `json:"key"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return "", err
	}
	if raw.Key == nil {
		return "counter", nil
	}
	if *raw.Key == "" {
		return "", errors.New("empty key")
	}
	return *raw.Key, nil
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("counter: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	key, err := parseKey(data)
	if err != nil {
		proxywasm.LogErrorf("counter: invalid plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	p.key = key
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{key: p.key} }

type filter struct {
	types.DefaultHttpContext
	key   string
	count string
}

// increment does get + increment + set with the CAS token, retried on CAS
// mismatch; it returns the value written, or "conflict".
func (f *filter) increment() string {
	for i := 0; i < maxAttempts; i++ {
		value, cas, err := proxywasm.GetSharedData(f.key)
		if err != nil {
			value, cas = nil, 0 // missing key: start from 0, unconditional set
		}
		n, perr := strconv.ParseUint(strings.TrimSpace(string(value)), 10, 64)
		if perr != nil {
			n = 0
		}
		next := strconv.FormatUint(n+1, 10)
		err = proxywasm.SetSharedData(f.key, []byte(next), cas)
		if err == nil {
			return next
		}
		if !errors.Is(err, types.ErrorStatusCasMismatch) {
			proxywasm.LogWarnf("counter: set_shared_data: %v", err)
			return "conflict"
		}
	}
	proxywasm.LogWarnf("counter: gave up after %d CAS mismatches", maxAttempts)
	return "conflict"
}

func (f *filter) OnHttpRequestHeaders(int, bool) types.Action {
	f.count = f.increment()
	return types.ActionContinue
}

func (f *filter) OnHttpResponseHeaders(int, bool) types.Action {
	count := f.count
	if count == "" {
		count = "conflict"
	}
	_ = proxywasm.ReplaceHttpResponseHeader("x-count", count)
	return types.ActionContinue
}
