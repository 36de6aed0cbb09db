package pdk

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func str(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// requestBlock builds a WPH1 block the way the host does (docs/http-abi.md).
func requestBlock(method, scheme, authority, path string, headers []Header, body string) []byte {
	b := []byte("WPH1")
	for _, s := range []string{method, scheme, authority, path} {
		b = str(b, s)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(headers)))
	for _, h := range headers {
		b = str(str(b, h.Name), h.Value)
	}
	return str(b, body)
}

func TestParseRequest(t *testing.T) {
	hs := []Header{{"accept", "*/*"}, {"x-bin", "\x00\xff"}, {"X-Echo", "abc"}}
	in := requestBlock("POST", "https", "example.com", "/a/b?c=d", hs, "body\x00")
	r, err := ParseRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.Scheme != "https" || r.Authority != "example.com" ||
		r.PathWithQuery != "/a/b?c=d" || r.Path() != "/a/b" || r.Query() != "c=d" ||
		string(r.Body) != "body\x00" || len(r.Headers) != 3 || r.Headers[1] != hs[1] {
		t.Fatalf("parsed %+v", r)
	}
	if v, ok := r.Header("x-echo"); !ok || v != "abc" {
		t.Fatalf("x-echo: %q %v", v, ok)
	}
	if _, ok := r.Header("missing"); ok {
		t.Fatal("found a header that is not there")
	}
	// Every truncation, and a trailing byte, is refused.
	for n := 0; n < len(in); n++ {
		if _, err := ParseRequest(in[:n]); err == nil {
			t.Fatalf("accepted the block cut at %d of %d bytes", n, len(in))
		}
	}
	if _, err := ParseRequest(append(append([]byte{}, in...), 0)); err == nil {
		t.Fatal("accepted a trailing byte")
	}
	// A header count that cannot fit.
	bad := requestBlock("GET", "", "", "/", nil, "")
	binary.LittleEndian.PutUint32(bad[len(bad)-8:], 0xffffffff)
	if _, err := ParseRequest(bad); err == nil {
		t.Fatal("accepted 2^32-1 headers")
	}
}

func TestEncodeResponse(t *testing.T) {
	r := Text(201, "hi").AddHeader("x-a", "1").SetHeader("X-A", "2")
	out, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("WPR1")
	want = binary.LittleEndian.AppendUint32(want, 201)
	want = binary.LittleEndian.AppendUint32(want, 2)
	want = str(str(want, "content-type"), "text/plain; charset=utf-8")
	want = str(str(want, "X-A"), "2")
	want = str(want, "hi")
	if !bytes.Equal(out, want) {
		t.Fatalf("encoded\n%q\nwant\n%q", out, want)
	}
	for _, status := range []int{0, 99, 600} {
		if _, err := NewResponse(status).Encode(); err == nil {
			t.Fatalf("status %d encoded", status)
		}
	}
}
