// Command example is examples/host/host.c in Go: a complete program
// embedding wasmplug.
//
//	go run ./example PLUGIN EXPORT [INPUT]
//
// Loads PLUGIN, offers it the host function plugin.call_me(name) -> string
// (which the callback examples import), prints what the plugin logs, calls
// the bytes export EXPORT with INPUT and prints the result.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"wasmplug.dev/go/wasmplug"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: %s PLUGIN EXPORT [INPUT]\n", os.Args[0])
		os.Exit(2)
	}
	path, export, input := os.Args[1], os.Args[2], ""
	if len(os.Args) > 3 {
		input = os.Args[3]
	}
	if err := run(path, export, input); err != nil {
		var we *wasmplug.Error
		if errors.As(err, &we) {
			fmt.Fprintf(os.Stderr, "error (%s): %s\n", we.Kind, we.Message)
			if we.Backtrace != "" {
				fmt.Fprintln(os.Stderr, we.Backtrace)
			}
		} else {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

func run(path, export, input string) error {
	// One engine per process; plugin logs go to stderr.
	engine, err := wasmplug.NewEngine(wasmplug.WithLogger(func(level wasmplug.LogLevel, plugin, msg string) {
		fmt.Fprintf(os.Stderr, "  [%s] %s: %s\n", level, plugin, msg)
	}))
	if err != nil {
		return err
	}
	defer engine.Close()

	// Host functions are defined before the plugins that import them load.
	// plugin.call_me answers "Hello <name>" (the Wasp seed's example).
	err = engine.DefineString("plugin", "call_me", func(_ *wasmplug.HostCall, name string) (string, error) {
		if len(name) > 200 {
			return "", errors.New("call_me: name longer than 200 bytes")
		}
		return "Hello " + name, nil
	})
	if err != nil {
		return err
	}

	// Deny by default, plus a time and memory limit.
	plugin, err := engine.Load(path, &wasmplug.Manifest{Timeout: time.Second, MaxMemory: 64 << 20})
	if err != nil {
		return err
	}
	defer plugin.Close()
	inst, err := plugin.NewInstance()
	if err != nil {
		return err
	}
	defer inst.Close()
	out, err := inst.CallString(export, input)
	if err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}
