package pdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Header is one HTTP header field. Names are tokens (lower-case when they
// came through wasmplug serve); values are bytes without CR, LF or NUL, held
// in a string (they need not be UTF-8).
type Header struct {
	Name, Value string
}

// Request is one HTTP request, as the host encodes it (docs/http-abi.md).
// It is the handler's to keep: nothing in it points into host-owned memory.
type Request struct {
	Method        string // "GET", "POST", ...
	Scheme        string // "http", "https", or "" when the host gave none
	Authority     string // host[:port], or ""
	PathWithQuery string // starts with '/', e.g. "/api/items?limit=3"
	Headers       []Header
	Body          []byte
}

// Header returns the value of the first header named name (ASCII
// case-insensitive), and whether there is one.
func (r *Request) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Path is PathWithQuery without the query.
func (r *Request) Path() string {
	p, _, _ := strings.Cut(r.PathWithQuery, "?")
	return p
}

// Query is the raw query after '?' ("" when there is none).
func (r *Request) Query() string {
	_, q, _ := strings.Cut(r.PathWithQuery, "?")
	return q
}

// Response is what an HTTP handler answers. The host accepts a Status of
// 100-599, header names that are tokens and values without CR, LF or NUL;
// anything else fails the request (the server answers 500).
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// NewResponse returns an empty response with this status.
func NewResponse(status int) *Response { return &Response{Status: status} }

// Text returns a response with this status, a text/plain content type and
// body.
func Text(status int, body string) *Response {
	return NewResponse(status).
		AddHeader("content-type", "text/plain; charset=utf-8").
		SetBody([]byte(body))
}

// AddHeader adds a header field (a repeated name adds another field).
func (r *Response) AddHeader(name, value string) *Response {
	r.Headers = append(r.Headers, Header{name, value})
	return r
}

// SetHeader replaces every field named name (case-insensitive) by one.
func (r *Response) SetHeader(name, value string) *Response {
	kept := r.Headers[:0]
	for _, h := range r.Headers {
		if !strings.EqualFold(h.Name, name) {
			kept = append(kept, h)
		}
	}
	r.Headers = append(kept, Header{name, value})
	return r
}

// SetBody sets the body (used as is, not copied).
func (r *Response) SetBody(b []byte) *Response {
	r.Body = b
	return r
}

// Write appends to the body, so a Response is an io.Writer (fmt.Fprintf,
// json.NewEncoder...).
func (r *Response) Write(p []byte) (int, error) {
	r.Body = append(r.Body, p...)
	return len(p), nil
}

// WriteString appends s to the body.
func (r *Response) WriteString(s string) (int, error) {
	r.Body = append(r.Body, s...)
	return len(s), nil
}

var errBadRequestBlock = errors.New("pdk: the input of 'handle' is not a WPH1 request block")

// block reads the fields of a WPH1 block, checking every length.
type block struct {
	data []byte
	bad  bool
}

func (b *block) u32() uint32 {
	if b.bad || len(b.data) < 4 {
		b.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(b.data)
	b.data = b.data[4:]
	return v
}

func (b *block) bytes() []byte {
	n := b.u32()
	if b.bad || uint64(n) > uint64(len(b.data)) {
		b.bad = true
		return nil
	}
	s := b.data[:n:n]
	b.data = b.data[n:]
	return s
}

// ParseRequest decodes a WPH1 request block (docs/http-abi.md). The body
// shares in's memory; everything else is copied.
func ParseRequest(in []byte) (*Request, error) {
	if len(in) < 4 || string(in[:4]) != "WPH1" {
		return nil, errBadRequestBlock
	}
	b := &block{data: in[4:]}
	r := &Request{
		Method:        string(b.bytes()),
		Scheme:        string(b.bytes()),
		Authority:     string(b.bytes()),
		PathWithQuery: string(b.bytes()),
	}
	n := b.u32()
	if b.bad || uint64(n) > uint64(len(b.data))/8 {
		return nil, errBadRequestBlock
	}
	r.Headers = make([]Header, 0, n)
	for i := uint32(0); i < n && !b.bad; i++ {
		name := b.bytes()
		value := b.bytes()
		r.Headers = append(r.Headers, Header{string(name), string(value)})
	}
	r.Body = b.bytes()
	if b.bad || len(b.data) != 0 {
		return nil, errBadRequestBlock
	}
	return r, nil
}

// Encode returns the WPR1 block of the response (docs/http-abi.md). It
// fails for a status outside 100-599 or a field longer than 4 GiB; the host
// checks the header names and values.
func (r *Response) Encode() ([]byte, error) {
	if r.Status < 100 || r.Status > 599 {
		return nil, fmt.Errorf("pdk: HTTP status %d is not 100-599", r.Status)
	}
	size := uint64(4 + 4 + 4 + 4 + len(r.Body))
	for _, h := range r.Headers {
		size += 8 + uint64(len(h.Name)) + uint64(len(h.Value))
	}
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("pdk: the response encodes to %d bytes, over 4 GiB", size)
	}
	out := make([]byte, 0, size)
	out = append(out, "WPR1"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(r.Status))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(r.Headers)))
	for _, h := range r.Headers {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(h.Name)))
		out = append(out, h.Name...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(h.Value)))
		out = append(out, h.Value...)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(r.Body)))
	return append(out, r.Body...), nil
}

// HTTPHandler answers one request. Returning nil fails the request, as a
// panic does (the caller gets WP_ERR_PLUGIN, the server answers 500).
type HTTPHandler func(req *Request) *Response

// HandleHTTP implements the core HTTP handler export `handle`
// (docs/http-abi.md) around fn, on top of [Handle]:
//
//	//go:wasmexport handle
//	func handle(ptr, size uint32) uint32 { return pdk.HandleHTTP(ptr, size, serve) }
//
// A cabi_post_handle export calling [Post] is optional, as for [Handle].
func HandleHTTP(ptr, size uint32, fn HTTPHandler) uint32 {
	return Handle(ptr, size, func(in []byte) ([]byte, error) {
		req, err := ParseRequest(in)
		if err != nil {
			return nil, err
		}
		resp := fn(req)
		if resp == nil {
			return nil, errors.New("pdk: the HTTP handler returned no response")
		}
		return resp.Encode()
	})
}
