// Command bench times the two calls of `make bench-bindings` through the Go
// binding, as bench/bindings/c_baseline.c does from C: add(i, 1) of
// numeric.wat through a handle found once, and echo of echo.wat with 32
// bytes. Prints {"row": NAME, "ns": [...]} lines.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wasmplug.dev/go/wasmplug"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wasmplug-bench-go:", err)
	os.Exit(1)
}

func row(name string, ns []float64) {
	s := make([]string, len(ns))
	for i, v := range ns {
		s[i] = fmt.Sprintf("%.2f", v)
	}
	fmt.Printf("{\"row\": \"%s\", \"ns\": [%s]}\n", name, strings.Join(s, ", "))
}

func main() {
	batch := flag.Int("batch", 200000, "calls per repetition")
	reps := flag.Int("reps", 11, "repetitions")
	flag.Parse()
	fixtures := os.Getenv("WP_FIXTURES")
	if fixtures == "" || *batch < 1 || *reps < 1 {
		fail(fmt.Errorf("needs WP_FIXTURES, --batch N >= 1 and --reps R >= 1"))
	}
	e, err := wasmplug.NewEngine()
	if err != nil {
		fail(err)
	}
	defer e.Close()
	open := func(file, fn string) (*wasmplug.Instance, *wasmplug.Func) {
		p, err := e.Load(filepath.Join(fixtures, file), nil)
		if err != nil {
			fail(err)
		}
		i, err := p.NewInstance()
		if err != nil {
			fail(err)
		}
		f, err := p.Func(fn)
		if err != nil {
			fail(err)
		}
		return i, f
	}
	numInst, add := open("numeric.wat", "add")
	echoInst, echo := open("echo.wat", "echo")

	ns := make([]float64, *reps)
	res := make([]wasmplug.Value, 1)
	numeric := func(n int) {
		for i := 0; i < n; i++ {
			if err := numInst.CallFuncTo(add, res, wasmplug.ValueI32(int32(i)), wasmplug.ValueI32(1)); err != nil {
				fail(err)
			}
			if res[0].I32() != int32(i)+1 {
				fail(fmt.Errorf("add(%d, 1) = %d", i, res[0].I32()))
			}
		}
	}
	numeric(*batch / 10)
	for r := range ns {
		t0 := time.Now()
		numeric(*batch)
		ns[r] = float64(time.Since(t0).Nanoseconds()) / float64(*batch)
	}
	row("numeric_call", ns)

	in := []byte(strings.Repeat("x", 32))
	echoes := func(n int) {
		for i := 0; i < n; i++ {
			out, err := echoInst.CallFuncBytes(echo, in)
			if err != nil {
				fail(err)
			}
			if len(out) != len(in) {
				fail(fmt.Errorf("echo returned %d bytes", len(out)))
			}
		}
	}
	echoes(*batch / 10)
	for r := range ns {
		t0 := time.Now()
		echoes(*batch)
		ns[r] = float64(time.Since(t0).Nanoseconds()) / float64(*batch)
	}
	row("bytes_echo_32B", ns)
	numInst.Close()
	echoInst.Close()
}
