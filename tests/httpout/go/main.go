// Command httpout-go is the Go twin of tests/httpout/guest.c: it exports
// fetch (bytes ABI), whose input "METHOD URL" (then optionally "\n" and a
// body) names one outbound request through pdk.HTTPRequest, and answers
// "status=N\nx-reply=V\n\nBODY" or "error=MESSAGE".
package main

import (
	"fmt"
	"strings"

	"wasmplug.dev/pdk"
)

//go:wasmexport fetch
func fetch(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Fetch) }

// Fetch is the export's handler.
func Fetch(in string) (string, error) {
	first, body, _ := strings.Cut(in, "\n")
	method, url, ok := strings.Cut(first, " ")
	if !ok {
		return "", fmt.Errorf("input: METHOD URL first")
	}
	headers := []pdk.OutHeader{{Name: "X-Test", Value: []byte("from-go")}}
	resp, err := pdk.HTTPRequest(method, url, headers, []byte(body))
	if err != nil {
		return "error=" + err.Error(), nil
	}
	return fmt.Sprintf("status=%d\nx-reply=%s\n\n%s", resp.Status, resp.Header("x-reply"), resp.Body), nil
}

func main() {}
