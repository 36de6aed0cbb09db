// Command http-api is a small JSON API as a wasmplug core HTTP handler in
// Go (docs/http-abi.md): a list of items kept in the instance's memory.
//
//	GET    /api/            service name, item count, endpoints
//	GET    /api/items       every item, by id
//	POST   /api/items       create one from {"name": "...", "note": "..."} (201)
//	GET    /api/items/{id}  one item (404 if there is none)
//	DELETE /api/items/{id}  remove one (204)
//
// Errors are JSON too: {"error": "..."} with 400 (bad JSON or fields), 404,
// 405 (with an allow header), 409 (the store is full), 415 (a body that is
// not JSON).
//
// Config (manifest "config"): service_name (default "items"), shown by
// GET /api/ and in an x-service header on every response; max_items
// (default 100). Each request is logged at info level through the host.
//
// State lives in the instance: with instance reuse it persists across the
// requests that instance serves, and is gone when the instance is reset or
// replaced (after any failure, or when a pool retires it). See README.md.
//
// Build (in this directory):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o http-api-go.wasm .
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"wasmplug.dev/pdk"
)

// Item is one stored item.
type Item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Note string `json:"note,omitempty"`
}

// newItem is what POST /api/items accepts.
type newItem struct {
	Name *string `json:"name"`
	Note *string `json:"note"`
}

const (
	maxName = 100
	maxNote = 1000
)

var (
	items    = map[int]Item{}
	nextID   = 1
	served   = 0
	settings struct {
		service  string
		maxItems int
		loaded   bool
	}
)

// loadSettings reads the config once per instance.
func loadSettings() {
	if settings.loaded {
		return
	}
	settings.loaded = true
	settings.service = "items"
	if v, ok := pdk.ConfigGet("service_name"); ok && v != "" {
		settings.service = v
	}
	settings.maxItems = 100
	if v, ok := pdk.ConfigGet("max_items"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			settings.maxItems = n
		} else {
			pdk.Logf(pdk.LevelWarn, "config max_items=%q is not a count; using %d", v, settings.maxItems)
		}
	}
}

func jsonResponse(status int, v any) *pdk.Response {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = 500, []byte(`{"error":"cannot encode the response"}`)
	}
	return pdk.NewResponse(status).
		AddHeader("content-type", "application/json").
		SetBody(append(body, '\n'))
}

func jsonError(status int, format string, args ...any) *pdk.Response {
	return jsonResponse(status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func notAllowed(allow string) *pdk.Response {
	return jsonError(405, "method not allowed; use %s", allow).AddHeader("allow", allow)
}

func listItems() *pdk.Response {
	list := make([]Item, 0, len(items))
	for _, it := range items {
		list = append(list, it)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return jsonResponse(200, map[string]any{"items": list, "count": len(list)})
}

// decodeNew checks a POST body: one JSON object with a non-empty "name" and
// an optional "note", nothing else.
func decodeNew(body []byte) (Item, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in newItem
	if err := dec.Decode(&in); err != nil {
		return Item{}, "the body is not a JSON object {\"name\": string, \"note\": string}: " + err.Error()
	}
	if dec.More() {
		return Item{}, "the body has more than one JSON value"
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return Item{}, "\"name\" is required and must not be empty"
	}
	it := Item{Name: *in.Name}
	if in.Note != nil {
		it.Note = *in.Note
	}
	if utf8.RuneCountInString(it.Name) > maxName || utf8.RuneCountInString(it.Note) > maxNote {
		return Item{}, fmt.Sprintf("\"name\" is limited to %d characters and \"note\" to %d", maxName, maxNote)
	}
	return it, ""
}

func createItem(req *pdk.Request) *pdk.Response {
	if ct, ok := req.Header("content-type"); ok && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return jsonError(415, "send the item as application/json, not %s", ct)
	}
	it, problem := decodeNew(req.Body)
	if problem != "" {
		return jsonError(400, "%s", problem)
	}
	if len(items) >= settings.maxItems {
		return jsonError(409, "the store is full (max_items is %d)", settings.maxItems)
	}
	it.ID = nextID
	nextID++
	items[it.ID] = it
	return jsonResponse(201, it).AddHeader("location", "/api/items/"+strconv.Itoa(it.ID))
}

func oneItem(req *pdk.Request, idText string) *pdk.Response {
	id, err := strconv.Atoi(idText)
	it, ok := items[id]
	if err != nil || !ok {
		return jsonError(404, "no item %q", idText)
	}
	switch req.Method {
	case "GET", "HEAD":
		return jsonResponse(200, it)
	case "DELETE":
		delete(items, id)
		return pdk.NewResponse(204)
	default:
		return notAllowed("GET, DELETE")
	}
}

func route(req *pdk.Request) *pdk.Response {
	path := strings.TrimSuffix(req.Path(), "/")
	switch {
	case path == "/api":
		if req.Method != "GET" && req.Method != "HEAD" {
			return notAllowed("GET")
		}
		return jsonResponse(200, map[string]any{
			"service":           settings.service,
			"items":             len(items),
			"max_items":         settings.maxItems,
			"instance_requests": served,
			"endpoints": []string{"GET /api/items", "POST /api/items", "GET /api/items/{id}",
				"DELETE /api/items/{id}"},
		})
	case path == "/api/items":
		switch req.Method {
		case "GET", "HEAD":
			return listItems()
		case "POST":
			return createItem(req)
		default:
			return notAllowed("GET, POST")
		}
	case strings.HasPrefix(path, "/api/items/"):
		return oneItem(req, strings.TrimPrefix(path, "/api/items/"))
	default:
		return jsonError(404, "no route for %s; see GET /api/", req.Path())
	}
}

func serve(req *pdk.Request) *pdk.Response {
	loadSettings()
	served++
	resp := route(req).AddHeader("x-service", settings.service)
	pdk.Logf(pdk.LevelInfo, "%s %s -> %d", req.Method, req.PathWithQuery, resp.Status)
	return resp
}

//go:wasmexport handle
func handle(ptr, size uint32) uint32 { return pdk.HandleHTTP(ptr, size, serve) }

//go:wasmexport cabi_post_handle
func handlePost(ret uint32) { pdk.Post(ret) }

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization, from _initialize.
func main() {}
