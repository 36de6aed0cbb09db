package pdk

import (
	"errors"
	"strings"
	"testing"
)

type name string

func TestRunConvertsBetweenBytesAndStrings(t *testing.T) {
	in := []byte("world")
	out, err := run(func(s string) (string, error) { return "Hello, " + s + "!", nil }, in)
	if err != nil || string(out) != "Hello, world!" {
		t.Fatalf("string handler: got %q, %v", out, err)
	}
	out, err = run(func(b []byte) (string, error) { return strings.ToUpper(string(b)), nil }, in)
	if err != nil || string(out) != "WORLD" {
		t.Fatalf("bytes -> string handler: got %q, %v", out, err)
	}
	out, err = run(func(n name) ([]byte, error) { return []byte(n + "?"), nil }, in)
	if err != nil || string(out) != "world?" {
		t.Fatalf("defined string type: got %q, %v", out, err)
	}
	out, err = run(Handler(func(b []byte) ([]byte, error) { return b, nil }), in)
	if err != nil || &out[0] != &in[0] {
		t.Fatalf("a []byte handler's output must not be copied: got %q, %v", out, err)
	}
}

func TestRunReportsErrorsAndPanics(t *testing.T) {
	out, err := run(func(string) (string, error) { return "dropped", errors.New("no name") }, nil)
	if err == nil || err.Error() != "no name" || out != nil {
		t.Fatalf("error: got %q, %v", out, err)
	}
	out, err = run(func(string) (string, error) { panic("boom") }, nil)
	if err == nil || err.Error() != "panic: boom" || out != nil {
		t.Fatalf("panic: got %q, %v", out, err)
	}
	var nilMap map[string]int
	_, err = run(func([]byte) ([]byte, error) { nilMap["x"] = 1; return nil, nil }, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "panic: assignment to entry in nil map") {
		t.Fatalf("runtime panic: got %v", err)
	}
}

func TestErrorMessageIsNeverEmpty(t *testing.T) {
	if got := errorMessage(errors.New("bad input")); got != "bad input" {
		t.Fatalf("got %q", got)
	}
	if got := errorMessage(errors.New("")); got != "*errors.errorString with an empty message" {
		t.Fatalf("got %q", got)
	}
}
