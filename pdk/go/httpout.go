package pdk

import (
	"encoding/binary"
	"errors"
	"strings"
	"unsafe"
)

// Outbound HTTP (the "http" capability): requests from the plugin to the
// hosts its manifest allows,
//
//	"capabilities": {"http": {"allowed_hosts": ["https://api.example.com"]}}
//
// through the host function wasmplug.http_request. The host follows
// redirects (each checked against the allowlist), cuts responses over
// max_response_size and stops requests after timeout_ms; any refusal or
// failure comes back as an error carrying the host's message.

// OutHeader is a header of an outbound request or its response.
type OutHeader struct {
	Name  string
	Value []byte
}

// OutResponse is the response to an outbound request.
type OutResponse struct {
	Status  int
	Headers []OutHeader
	Body    []byte
}

// Header returns the first header named name (any case), or nil.
func (r *OutResponse) Header(name string) []byte {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return nil
}

// httpRet is http_request's return area: a global, so the garbage collector
// never moves it while the host writes there.
var httpRet [2]uint32

// HTTPRequest sends a request and returns its response, or the host's reason
// for not giving one (not granted, host not allowed, redirect refused,
// response too big, timeout, connection failed).
func HTTPRequest(method, url string, headers []OutHeader, body []byte) (*OutResponse, error) {
	in := encodeHTTPRequest(method, url, headers, body)
	httpRet = [2]uint32{}
	hostHTTPRequest(unsafe.SliceData(in), uint32(len(in)), &httpRet)
	return decodeHTTPResponse(take(httpRet[0], httpRet[1]))
}

// HTTPGet is HTTPRequest("GET", url, nil, nil).
func HTTPGet(url string) (*OutResponse, error) { return HTTPRequest("GET", url, nil, nil) }

func putField(b []byte, field []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(field)))
	return append(b, field...)
}

func putU64(b []byte, v uint64) []byte {
	return putField(b, binary.LittleEndian.AppendUint64(nil, v))
}

// encodeHTTPRequest frames a request: method, url, u64 header count,
// (name, value) pairs, body.
func encodeHTTPRequest(method, url string, headers []OutHeader, body []byte) []byte {
	b := make([]byte, 0, 64+len(url)+len(body))
	b = putField(b, []byte(method))
	b = putField(b, []byte(url))
	b = putU64(b, uint64(len(headers)))
	for _, h := range headers {
		b = putField(b, []byte(h.Name))
		b = putField(b, h.Value)
	}
	return putField(b, body)
}

var errMalformed = errors.New("wasmplug: malformed answer from http_request")

type frameReader []byte

func (r *frameReader) field() ([]byte, bool) {
	if len(*r) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(*r)
	if uint64(len(*r)-4) < uint64(n) {
		return nil, false
	}
	f := (*r)[4 : 4+n]
	*r = (*r)[4+n:]
	return f, true
}

func (r *frameReader) u64() (uint64, bool) {
	f, ok := r.field()
	if !ok || len(f) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(f), true
}

// decodeHTTPResponse reads the host's answer: status byte 0 then u64
// status, u64 count, (name, value) pairs, body; or 2 then a message.
func decodeHTTPResponse(out []byte) (*OutResponse, error) {
	if len(out) == 0 {
		return nil, errMalformed
	}
	if out[0] != 0 {
		return nil, errors.New(string(out[1:]))
	}
	r := frameReader(out[1:])
	status, ok1 := r.u64()
	count, ok2 := r.u64()
	if !ok1 || !ok2 || count > uint64(len(r))/8 {
		return nil, errMalformed
	}
	resp := &OutResponse{Status: int(status), Headers: make([]OutHeader, 0, count)}
	for i := uint64(0); i < count; i++ {
		name, ok1 := r.field()
		value, ok2 := r.field()
		if !ok1 || !ok2 {
			return nil, errMalformed
		}
		resp.Headers = append(resp.Headers, OutHeader{string(name), value})
	}
	body, ok := r.field()
	if !ok || len(r) != 0 {
		return nil, errMalformed
	}
	resp.Body = body
	return resp, nil
}
