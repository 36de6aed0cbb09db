package pdk

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestEncodeHTTPRequest(t *testing.T) {
	got := encodeHTTPRequest("POST", "http://a/b", []OutHeader{{"X-A", []byte("1")}}, []byte("hi"))
	var want []byte
	for _, f := range [][]byte{[]byte("POST"), []byte("http://a/b"),
		binary.LittleEndian.AppendUint64(nil, 1), []byte("X-A"), []byte("1"), []byte("hi")} {
		want = binary.LittleEndian.AppendUint32(want, uint32(len(f)))
		want = append(want, f...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDecodeHTTPResponse(t *testing.T) {
	out := []byte{0}
	for _, f := range [][]byte{binary.LittleEndian.AppendUint64(nil, 201),
		binary.LittleEndian.AppendUint64(nil, 1), []byte("Content-Type"), []byte("text/plain"),
		[]byte("body")} {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	r, err := decodeHTTPResponse(out)
	if err != nil || r.Status != 201 || string(r.Header("content-type")) != "text/plain" ||
		string(r.Body) != "body" {
		t.Fatalf("got %+v, %v", r, err)
	}
	if _, err := decodeHTTPResponse(out[:len(out)-1]); err != errMalformed {
		t.Fatalf("a cut answer: %v", err)
	}
	if _, err := decodeHTTPResponse(append([]byte{2}, "not allowed"...)); err == nil ||
		err.Error() != "not allowed" {
		t.Fatalf("an error answer: %v", err)
	}
}
