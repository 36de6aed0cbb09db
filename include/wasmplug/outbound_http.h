/*
 * wasmplug/outbound_http.h - the "http" capability: outbound HTTP(S)
 * requests from plugins to the hosts their manifest allows, nothing else.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 *
 * wp_engine_new registers it (src/host/http/). An embedder has nothing to
 * call: a plugin's manifest grants it, and this header says what the grant
 * means and holds its defaults and limits.
 *
 * The manifest section (wasmplug/capability.h), checked when the plugin
 * loads; a mistake fails the load with WP_ERR_BAD_INPUT naming the field:
 *
 *   "capabilities": {"http": {
 *     "allowed_hosts": ["https://api.example.com", "http://10.0.0.7:8080"],
 *     "max_response_size": "4MiB", "timeout_ms": 10000, "max_redirects": 5}}
 *
 * - allowed_hosts: entries "scheme://host[:port]" and nothing more (no
 *   user, path, query or trailing slash):
 *   - scheme: "http" or "https", matched exactly;
 *   - host: a name or an IP literal (IPv6 in brackets), matched without
 *     regard to case. A host "*.example.com" (after the scheme, as any
 *     host) matches names of one or more labels under example.com
 *     (a.example.com, a.b.example.com), never example.com itself and never
 *     an IP literal: an IP literal matches only an entry naming it;
 *   - port: absent for the scheme's default (80, 443), a number from 1 to
 *     65535, or "*" for any port.
 *   No section, or an empty list: nothing is granted.
 * - max_response_size: the most bytes a response may have, its header
 *   lines and its body counted together (each response of a redirect chain
 *   on its own): a number of bytes from 1, or a string such as "65536",
 *   "64 KiB" or "4MiB" (units B; K, M, G, KB, MB, GB: powers of 1000; KiB,
 *   MiB, GiB: powers of 1024). Default WP_HTTPOUT_DEFAULT_MAX_RESPONSE_SIZE.
 *   For components it also caps the request body.
 * - timeout_ms: milliseconds, from 1, for the whole exchange: connecting,
 *   sending, every redirect and the last response's body. Default
 *   WP_HTTPOUT_DEFAULT_TIMEOUT_MS.
 * - max_redirects: 0 to WP_HTTPOUT_MAX_REDIRECTS_LIMIT. Default
 *   WP_HTTPOUT_DEFAULT_MAX_REDIRECTS. A response that would redirect once
 *   more fails the request (with 0, the first redirect does).
 * Any other field fails the load.
 *
 * What every request goes through, whichever kind of plugin sends it:
 * - Its URL must be an absolute http or https URL without a user or
 *   password, whose scheme, host and port an entry of allowed_hosts
 *   matches; else it is refused before anything is sent. Proxies from the
 *   environment are not used.
 * - The method is an HTTP token of at most WP_HTTPOUT_MAX_METHOD_LEN
 *   characters, sent as given. Header names are tokens and values hold no
 *   CR, LF or NUL. The host sets Host, Content-Length, Transfer-Encoding,
 *   Connection, Upgrade, Keep-Alive, TE, Trailer, Expect,
 *   Proxy-Authorization and Proxy-Connection itself: a core module's
 *   request carrying one is refused. (A component's wasi:http/types
 *   refuses most of them when the guest sets them, as Wasmtime does; its
 *   Content-Length is replaced by the host's; TE, Trailer or Expect fail
 *   the request.)
 * - Redirects (301, 302, 303, 307, 308 with a Location) are followed by the
 *   host, not handed to the plugin: each target is checked against
 *   allowed_hosts before anything is sent to it (one outside the list
 *   fails the request). A 303 (but for HEAD), and a 301 or 302 after a
 *   POST, become a GET without a body. Authorization and Cookie go only to
 *   the scheme, host and port of the first URL.
 * - The answer is the last response: its status, its headers (values
 *   without surrounding blanks; names as the server spelled them, which
 *   wasi:http lower-cases) and its body (chunked framing removed, a
 *   Content-Encoding left as it came).
 *
 * Components: `wasi:http/outgoing-handler` (0.2.x, with wasi:http/types),
 * linked for every component that imports wasi:http. `handle` sends the
 * request as above, to the scheme, authority and path-with-query the guest
 * set (https when it set no scheme). A refusal is the `error-code` the
 * guest's future resolves to:
 *   HTTP-request-denied       not granted, or a URL or redirect target
 *                             outside allowed_hosts (or not http/https, or
 *                             with a user or password)
 *   HTTP-request-body-size    a request body over max_response_size
 *   HTTP-response-body-size   a response over max_response_size
 *   connection-timeout        timeout_ms passed
 *   connection-refused        the host name did not resolve, or the
 *                             connection failed
 *   internal-error(message)   anything else (a header the host sets, a bad
 *                             method, more redirects than max_redirects...),
 *                             the message naming the plugin and the cause
 * The component's wait for the response is bounded by its call's deadline,
 * as every wasi:io wait is.
 *
 * Core modules: `wasmplug.http_request`, a bytes function (docs/abi.md)
 * whose input and output are framed: a field is a u32 little-endian length
 * then that many bytes; a count or status is a field of 8 bytes (u64
 * little-endian); text is UTF-8 without NUL.
 *   input:  method (text), URL (text), header count, then for each header
 *           its name (text) and value, then the body
 *   output: one status byte, then
 *           0 (OK):    status, header count, then for each header its name
 *                      and value, then the body
 *           2 (ERROR): a UTF-8 message, unframed, naming the plugin and why:
 *                      not granted (naming capabilities.http), a URL or
 *                      redirect target refused, a bad method or header,
 *                      more redirects than max_redirects, a response over
 *                      max_response_size, a timeout, a failed connection
 * An ERROR is the plugin's to handle; its call goes on. The exchange ends at
 * timeout_ms or at the call's deadline (limits.timeout_ms) if that is
 * nearer, and when the call is interrupted (wp_instance_interrupt: the
 * call then fails with WP_ERR_INTERRUPTED). A malformed input (a field
 * missing, cut short or left over, text that is not UTF-8 or holds a NUL, a
 * header count the rest cannot hold) is the plugin's bug: its call fails
 * with WP_ERR_ABI. Guest helpers: pdk/c/wasmplug_http_out.h,
 * pdk/go/httpout.go.
 */
#ifndef WASMPLUG_OUTBOUND_HTTP_H
#define WASMPLUG_OUTBOUND_HTTP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Nothing here is a function; the pragmas keep the headers' one form. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** capabilities.http.max_response_size when the section does not set it: 4 MiB. */
#define WP_HTTPOUT_DEFAULT_MAX_RESPONSE_SIZE (4u << 20)
/** capabilities.http.timeout_ms when the section does not set it. */
#define WP_HTTPOUT_DEFAULT_TIMEOUT_MS 10000u
/** capabilities.http.max_redirects when the section does not set it. */
#define WP_HTTPOUT_DEFAULT_MAX_REDIRECTS 5u
/** The most capabilities.http.max_redirects may be. */
#define WP_HTTPOUT_MAX_REDIRECTS_LIMIT 100u
/** The longest request method, in bytes. */
#define WP_HTTPOUT_MAX_METHOD_LEN 32u

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_OUTBOUND_HTTP_H */
