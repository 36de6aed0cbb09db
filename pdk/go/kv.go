package pdk

import (
	"encoding/binary"
	"errors"
)

// Keyvalue buckets for core-module plugins: the host's kv_* functions of
// module "wasmplug" (src/host/keyvalue/core.c). A plugin reaches only the
// buckets its manifest grants under capabilities.keyvalue.buckets:
//
//	hits, err := pdk.KVIncrement("cache", "hits", 1)
//	if err != nil { ... } // e.g. the bucket is not granted: err says which
//
// Inputs are fields of a u32 little-endian length and the bytes; answers
// are a status byte (0 OK and fields, 1 none, 2 an error message).

// KVError is a failure the host reported: a bucket not granted, a limit,
// the backend down. Msg is the host's message.
type KVError struct{ Msg string }

func (e *KVError) Error() string { return e.Msg }

const (
	kvOK    = 0
	kvNone  = 1
	kvError = 2
)

var errKVAnswer = errors.New("keyvalue: the host's answer is malformed")

// kvCall is CallBytes, replaceable in tests.
var kvCall = CallBytes

func kvFrame(fields ...[]byte) []byte {
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// kvAnswer splits an answer into its status and (for OK) its fields.
func kvAnswer(b []byte) (status byte, fields [][]byte, err error) {
	if len(b) == 0 {
		return 0, nil, errKVAnswer
	}
	switch b[0] {
	case kvNone:
		return kvNone, nil, nil
	case kvError:
		return kvError, nil, &KVError{string(b[1:])}
	case kvOK:
	default:
		return 0, nil, errKVAnswer
	}
	for rest := b[1:]; len(rest) > 0; {
		if len(rest) < 4 {
			return 0, nil, errKVAnswer
		}
		n := binary.LittleEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return 0, nil, errKVAnswer
		}
		fields = append(fields, rest[4:4+n])
		rest = rest[4+n:]
	}
	return kvOK, fields, nil
}

func kvDo(fn BytesImport, fields ...[]byte) (byte, [][]byte, error) {
	return kvAnswer(kvCall(fn, kvFrame(fields...)))
}

// KVGet returns the value of key in bucket, and whether there is one.
func KVGet(bucket, key string) ([]byte, bool, error) {
	st, f, err := kvDo(importKVGet, []byte(bucket), []byte(key))
	if err != nil || st == kvNone {
		return nil, false, err
	}
	if len(f) != 1 {
		return nil, false, errKVAnswer
	}
	return f[0], true, nil
}

// KVSet stores value under key.
func KVSet(bucket, key string, value []byte) error {
	_, _, err := kvDo(importKVSet, []byte(bucket), []byte(key), value)
	return err
}

// KVDelete deletes key (no error when there is none).
func KVDelete(bucket, key string) error {
	_, _, err := kvDo(importKVDelete, []byte(bucket), []byte(key))
	return err
}

// KVExists reports whether key exists.
func KVExists(bucket, key string) (bool, error) {
	_, f, err := kvDo(importKVExists, []byte(bucket), []byte(key))
	if err != nil {
		return false, err
	}
	if len(f) != 1 || len(f[0]) != 1 {
		return false, errKVAnswer
	}
	return f[0][0] == 1, nil
}

// KVKeys returns a page of the bucket's keys from cursor ("" for the first
// page) and the cursor of the next page ("" when there are no more).
func KVKeys(bucket, cursor string) (keys []string, next string, err error) {
	_, f, err := kvDo(importKVKeys, []byte(bucket), []byte(cursor))
	if err != nil {
		return nil, "", err
	}
	if len(f) < 1 {
		return nil, "", errKVAnswer
	}
	keys = make([]string, 0, len(f)-1)
	for _, k := range f[1:] {
		keys = append(keys, string(k))
	}
	return keys, string(f[0]), nil
}

// KVIncrement adds delta to the integer stored at key (absent: 0; stored as
// decimal text) and returns the new value.
func KVIncrement(bucket, key string, delta int64) (int64, error) {
	d := binary.LittleEndian.AppendUint64(nil, uint64(delta))
	_, f, err := kvDo(importKVIncrement, []byte(bucket), []byte(key), d)
	if err != nil {
		return 0, err
	}
	if len(f) != 1 || len(f[0]) != 8 {
		return 0, errKVAnswer
	}
	return int64(binary.LittleEndian.Uint64(f[0])), nil
}

func kvCAS(bucket, key string, expected []byte, absent bool, value []byte) (bool, error) {
	exp := []byte{0}
	if !absent {
		exp = append([]byte{1}, expected...)
	}
	_, f, err := kvDo(importKVCAS, []byte(bucket), []byte(key), exp, value)
	if err != nil {
		return false, err
	}
	if len(f) != 1 || len(f[0]) != 1 {
		return false, errKVAnswer
	}
	return f[0][0] == 1, nil
}

// KVCompareAndSwap stores value at key if key holds expected, and says
// whether it did (false: someone else changed it first).
func KVCompareAndSwap(bucket, key string, expected, value []byte) (bool, error) {
	return kvCAS(bucket, key, expected, false, value)
}

// KVSetIfAbsent stores value at key if there is no such key yet, and says
// whether it did.
func KVSetIfAbsent(bucket, key string, value []byte) (bool, error) {
	return kvCAS(bucket, key, nil, true, value)
}
