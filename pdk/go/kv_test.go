package pdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// fakeKV answers like the host's kv_* functions, from an in-memory map,
// after checking the frame it was given.
type fakeKV struct {
	t    *testing.T
	data map[string][]byte
}

func fields(t *testing.T, in []byte) [][]byte {
	var out [][]byte
	for len(in) > 0 {
		n := binary.LittleEndian.Uint32(in)
		out = append(out, in[4:4+n])
		in = in[4+n:]
	}
	return out
}

func ok(fs ...[]byte) []byte { return append([]byte{kvOK}, kvFrame(fs...)...) }

func (f *fakeKV) call(fn BytesImport, in []byte) []byte {
	a := fields(f.t, in)
	if string(a[0]) != "cache" {
		return append([]byte{kvError}, "bucket '"+string(a[0])+"' is not granted"...)
	}
	k := string(a[1])
	switch {
	case len(a) == 2 && k == "missing":
		return []byte{kvNone}
	case len(a) == 2:
		return ok(f.data[k])
	case len(a) == 3 && len(a[2]) == 8:
		return ok(binary.LittleEndian.AppendUint64(nil, binary.LittleEndian.Uint64(a[2])+1))
	case len(a) == 3:
		f.data[k] = a[2]
		return ok()
	default: // cas: expected tag + bytes, value
		swapped := a[2][0] == 1 && bytes.Equal(f.data[k], a[2][1:])
		if swapped {
			f.data[k] = a[3]
		}
		b := byte(0)
		if swapped {
			b = 1
		}
		return ok([]byte{b})
	}
}

func TestKV(t *testing.T) {
	f := &fakeKV{t, map[string][]byte{"k": []byte("v")}}
	kvCall = f.call
	defer func() { kvCall = CallBytes }()
	v, found, err := KVGet("cache", "k")
	if err != nil || !found || string(v) != "v" {
		t.Fatalf("get: %q %v %v", v, found, err)
	}
	if _, found, err = KVGet("cache", "missing"); err != nil || found {
		t.Fatalf("get missing: %v %v", found, err)
	}
	_, _, err = KVGet("other", "k")
	var kerr *KVError
	if !errors.As(err, &kerr) || kerr.Msg != "bucket 'other' is not granted" {
		t.Fatalf("not granted: %v", err)
	}
	if err = KVSet("cache", "n", []byte("x")); err != nil || string(f.data["n"]) != "x" {
		t.Fatalf("set: %v", err)
	}
	if n, err := KVIncrement("cache", "n", 41); err != nil || n != 42 {
		t.Fatalf("increment: %d %v", n, err)
	}
	if sw, err := KVCompareAndSwap("cache", "n", []byte("x"), []byte("y")); err != nil || !sw {
		t.Fatalf("cas: %v %v", sw, err)
	}
	if sw, err := KVCompareAndSwap("cache", "n", []byte("x"), []byte("z")); err != nil || sw {
		t.Fatalf("cas conflict: %v %v", sw, err)
	}
}

func TestKVAnswerMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {9}, {kvOK, 1, 0}, {kvOK, 5, 0, 0, 0, 'a'}} {
		if _, _, err := kvAnswer(b); err != errKVAnswer {
			t.Errorf("%v: %v", b, err)
		}
	}
	st, fs, err := kvAnswer(ok([]byte("a"), nil))
	if err != nil || st != kvOK || len(fs) != 2 || string(fs[0]) != "a" || len(fs[1]) != 0 {
		t.Errorf("ok: %v %v %v", st, fs, err)
	}
}
