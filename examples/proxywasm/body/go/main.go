// body (Go): buffer the whole request (and optionally response) body, read
// it back in chunks of at most 1024 bytes, then append, prepend or replace
// text in it. Behaviour: examples/proxywasm/README.md, section "body".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

const chunk = 1024

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type config struct {
	Mode         string `json:"mode"`
	Text         string `json:"text"`
	RequireBody  bool   `json:"require_body"`
	ResponseMode string `json:"response_mode"`
	ResponseText string `json:"response_text"`
}

func validMode(m string) bool {
	return m == "" || m == "append" || m == "prepend" || m == "replace"
}

func parseConfig(data []byte) (*config, error) {
	cfg := &config{}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, err
	}
	if !validMode(cfg.Mode) || !validMode(cfg.ResponseMode) {
		return nil, fmt.Errorf("bad mode %q or response_mode %q", cfg.Mode, cfg.ResponseMode)
	}
	return cfg, nil
}

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{cfg: &config{}} }

type plugin struct {
	types.DefaultPluginContext
	cfg *config
}

func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogErrorf("body: reading the plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	cfg, err := parseConfig(data)
	if err != nil {
		proxywasm.LogErrorf("body: invalid plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &filter{cfg: p.cfg} }

// readChunked reads size bytes through get(start, max) in chunks of at most
// 1024 bytes at increasing offsets; it returns how many bytes were read.
func readChunked(size int, get func(start, max int) ([]byte, error)) int {
	read := 0
	for read < size {
		b, err := get(read, min(chunk, size-read))
		if err != nil || len(b) == 0 {
			break
		}
		read += len(b)
	}
	return read
}

// apply edits a body with the SDK's helpers: append = (MaxInt32, 0),
// prepend = (0, 0), replace = (0, MaxInt32) in set_buffer_bytes terms.
func apply(mode, text string, appendFn, prependFn, replaceFn func([]byte) error) {
	var err error
	switch mode {
	case "append":
		err = appendFn([]byte(text))
	case "prepend":
		err = prependFn([]byte(text))
	case "replace":
		err = replaceFn([]byte(text))
	}
	if err != nil {
		proxywasm.LogWarnf("body: %s failed: %v", mode, err)
	}
}

type filter struct {
	types.DefaultHttpContext
	cfg *config
}

func reject() types.Action {
	_ = proxywasm.SendHttpResponse(400, nil, []byte("body required\n"), -1)
	return types.ActionPause
}

func (f *filter) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	if endOfStream {
		if f.cfg.RequireBody {
			return reject()
		}
		return types.ActionContinue
	}
	if f.cfg.Mode != "" {
		_ = proxywasm.RemoveHttpRequestHeader("content-length")
	}
	return types.ActionContinue
}

func (f *filter) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	if !endOfStream {
		return types.ActionPause
	}
	read := readChunked(size, proxywasm.GetHttpRequestBody)
	proxywasm.LogInfof("body: request body %d bytes", read)
	if size == 0 && f.cfg.RequireBody {
		return reject()
	}
	apply(f.cfg.Mode, f.cfg.Text, proxywasm.AppendHttpRequestBody,
		proxywasm.PrependHttpRequestBody, proxywasm.ReplaceHttpRequestBody)
	return types.ActionContinue
}

func (f *filter) OnHttpResponseHeaders(_ int, endOfStream bool) types.Action {
	if !endOfStream && f.cfg.ResponseMode != "" {
		_ = proxywasm.RemoveHttpResponseHeader("content-length")
	}
	return types.ActionContinue
}

func (f *filter) OnHttpResponseBody(size int, endOfStream bool) types.Action {
	if f.cfg.ResponseMode == "" {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	read := readChunked(size, proxywasm.GetHttpResponseBody)
	proxywasm.LogInfof("body: response body %d bytes", read)
	apply(f.cfg.ResponseMode, f.cfg.ResponseText, proxywasm.AppendHttpResponseBody,
		proxywasm.PrependHttpResponseBody, proxywasm.ReplaceHttpResponseBody)
	return types.ActionContinue
}
