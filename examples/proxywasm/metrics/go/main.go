// metrics (Go): a counter, a per-tenant counter defined on first use, a
// histogram of request body sizes and a gauge of requests in flight.
// Behaviour: examples/proxywasm/README.md, section "metrics".
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type metrics struct {
	requestsTotal    proxywasm.MetricCounter
	activeRequests   proxywasm.MetricGauge
	requestBodyBytes proxywasm.MetricHistogram
	// requests_by_<tenant>, defined on first use.
	byTenant map[string]proxywasm.MetricCounter
}

func (m *metrics) tenantCounter(tenant string) proxywasm.MetricCounter {
	c, ok := m.byTenant[tenant]
	if !ok {
		c = proxywasm.DefineCounterMetric("requests_by_" + tenant)
		m.byTenant[tenant] = c
	}
	return c
}

// tenantName is the x-tenant value as a metric name part: ASCII letters
// lower-cased, digits, '-' and '_' kept, anything else '_', at most 64
// bytes; "none" when the header is missing or empty.
func tenantName(v string, err error) string {
	if err != nil || v == "" {
		return "none"
	}
	if len(v) > 64 {
		v = v[:64]
	}
	b := []byte(v)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c >= 'A' && c <= 'Z':
			b[i] = c + ('a' - 'A')
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

type plugin struct {
	types.DefaultPluginContext
	m *metrics
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	p.m = &metrics{
		requestsTotal:    proxywasm.DefineCounterMetric("requests_total"),
		activeRequests:   proxywasm.DefineGaugeMetric("active_requests"),
		requestBodyBytes: proxywasm.DefineHistogramMetric("request_body_bytes"),
		byTenant:         map[string]proxywasm.MetricCounter{},
	}
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{m: p.m} }

type filter struct {
	types.DefaultHttpContext
	m         *metrics
	active    bool
	bodyBytes uint64
}

func (f *filter) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	f.m.requestsTotal.Increment(1)
	f.m.tenantCounter(tenantName(proxywasm.GetHttpRequestHeader("x-tenant"))).Increment(1)
	if !f.active {
		f.active = true
		f.m.activeRequests.Add(1)
	}
	if endOfStream {
		f.m.requestBodyBytes.Record(0)
	}
	return types.ActionContinue
}

func (f *filter) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	f.bodyBytes += uint64(size)
	if endOfStream {
		f.m.requestBodyBytes.Record(f.bodyBytes)
	}
	return types.ActionContinue
}

// OnHttpStreamDone runs at proxy_on_log (the Go SDK's proxy_on_done does
// not reach HTTP contexts).
func (f *filter) OnHttpStreamDone() {
	if f.active {
		f.active = false
		f.m.activeRequests.Add(-1)
	}
}
