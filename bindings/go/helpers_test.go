package wasmplug

import (
	"os"
	"path/filepath"
	"testing"
)

// envDir is a directory named by an environment variable that test.sh sets;
// a missing one fails the test (never a silent skip).
func envDir(t testing.TB, name string) string {
	t.Helper()
	d := os.Getenv(name)
	if d == "" {
		t.Fatalf("%s is not set: run the tests through bindings/go/test.sh", name)
	}
	return d
}

func fixture(t testing.TB, name string) string {
	return filepath.Join(envDir(t, "WP_FIXTURES"), name)
}

func pluginFile(t testing.TB, name string) string {
	p := filepath.Join(envDir(t, "WP_PLUGINS"), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("plugin %s: %v (build the examples first)", name, err)
	}
	return p
}

func newEngine(t testing.TB, opts ...EngineOption) *Engine {
	t.Helper()
	e, err := NewEngine(opts...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func load(t testing.TB, e *Engine, path string, m *Manifest) *Plugin {
	t.Helper()
	p, err := e.Load(path, m)
	if err != nil {
		t.Fatalf("Load %s: %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func instance(t testing.TB, p *Plugin) *Instance {
	t.Helper()
	i, err := p.NewInstance()
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	t.Cleanup(func() { i.Close() })
	return i
}

// wantKind checks that err is an *Error of kind k, through errors.As and errors.Is.
func wantKind(t testing.TB, err error, k ErrorKind, sentinel error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error, got nil", k)
	}
	var we *Error
	if !asError(err, &we) {
		t.Fatalf("want *wasmplug.Error, got %T: %v", err, err)
	}
	if we.Kind != k {
		t.Fatalf("want kind %s, got %s: %v", k, we.Kind, err)
	}
	if !isError(err, sentinel) {
		t.Fatalf("errors.Is(err, %v) is false for %v", sentinel, err)
	}
	return we
}
