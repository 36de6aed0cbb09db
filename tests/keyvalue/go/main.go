// Command kvgo is the Go guest of test_keyvalue: the export "kv" runs the
// little language of kv_core.c through the Go PDK's keyvalue helpers
// (pdk/go/kv.go) and answers in the same text.
package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"wasmplug.dev/pdk"
)

//go:wasmexport kv
func kv(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, run) }

func answer(text string, err error) ([]byte, error) {
	var kerr *pdk.KVError
	if errors.As(err, &kerr) {
		return []byte("err:" + kerr.Msg), nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(text), nil
}

func arg(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func run(in []byte) ([]byte, error) {
	f := strings.SplitN(string(in), "\n", 5)
	b, k := arg(f, 1), arg(f, 2)
	switch f[0] {
	case "get":
		v, found, err := pdk.KVGet(b, k)
		if err == nil && !found {
			return []byte("none"), nil
		}
		return answer("ok:"+string(v), err)
	case "set":
		return answer("ok", pdk.KVSet(b, k, []byte(arg(f, 3))))
	case "delete":
		return answer("ok", pdk.KVDelete(b, k))
	case "exists":
		x, err := pdk.KVExists(b, k)
		if x {
			return answer("ok:1", err)
		}
		return answer("ok:0", err)
	case "keys":
		keys, next, err := pdk.KVKeys(b, k)
		return answer(fmt.Sprintf("ok:%d|%s|%s", len(keys), next, strings.Join(keys, ",")), err)
	case "incr", "count":
		n, _ := strconv.ParseInt(arg(f, 3), 10, 64)
		times, delta := int64(1), n
		if f[0] == "count" {
			times, delta = n, 1
		}
		var v int64
		var err error
		for i := int64(0); i < times && err == nil; i++ {
			v, err = pdk.KVIncrement(b, k, delta)
		}
		return answer(fmt.Sprintf("ok:%d", v), err)
	case "cas":
		exp, nv := arg(f, 3), []byte(arg(f, 4))
		var swapped bool
		var err error
		if exp == "<absent>" {
			swapped, err = pdk.KVSetIfAbsent(b, k, nv)
		} else {
			swapped, err = pdk.KVCompareAndSwap(b, k, []byte(exp), nv)
		}
		if swapped {
			return answer("ok:1", err)
		}
		return answer("ok:0", err)
	}
	return nil, fmt.Errorf("kv: unknown op %q", f[0])
}

func main() {}
