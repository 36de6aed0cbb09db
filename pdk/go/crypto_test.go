package pdk

import (
	"bytes"
	"testing"
)

// The crypto framing, as src/host/common/frame.h defines it.
func TestCryptoFrame(t *testing.T) {
	got := cryptoFrame([]byte("sha256"), nil, []byte{0xff})
	want := []byte{6, 0, 0, 0, 's', 'h', 'a', '2', '5', '6', 0, 0, 0, 0, 1, 0, 0, 0, 0xff}
	if !bytes.Equal(got, want) {
		t.Fatalf("cryptoFrame = %v, want %v", got, want)
	}
}

func TestCryptoResult(t *testing.T) {
	field, err := cryptoResult([]byte{0, 2, 0, 0, 0, 'o', 'k'})
	if err != nil || string(field) != "ok" {
		t.Fatalf("OK: %q, %v", field, err)
	}
	if _, err := cryptoResult([]byte("\x02key 'x' is not granted")); err == nil ||
		err.Error() != "key 'x' is not granted" {
		t.Fatalf("ERROR: %v", err)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 9, 0, 0, 0, 1}, {1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("cryptoResult(%v) did not panic", bad)
				}
			}()
			cryptoResult(bad)
		}()
	}
}
