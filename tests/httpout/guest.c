/*
 * A core plugin that makes one outbound HTTP request (tests/httpout): the
 * input says which,
 *
 *   METHOD URL\n
 *   Name: value\n ...      (request headers, optional)
 *   \n
 *   body
 *
 * and the output says what came back:
 *
 *   status=200\nx-reply=<the response's X-Reply header>\n\n<body>
 *   error=<the host's message>
 */
#include <stdio.h>

#include "wasmplug_http_out.h"

static char *line(const char **at, const char *end) {
  const char *nl = memchr(*at, '\n', (size_t)(end - *at));
  const char *stop = nl ? nl : end;
  char *s = malloc((size_t)(stop - *at) + 1);
  if (!s) __builtin_trap();
  memcpy(s, *at, (size_t)(stop - *at));
  s[stop - *at] = '\0';
  *at = nl ? nl + 1 : end;
  return s;
}

static void fetch(const uint8_t *in, size_t len) {
  const char *at = (const char *)in, *end = at + len;
  char *first = line(&at, end);
  char *space = strchr(first, ' ');
  if (!space) {
    wp_error("input: METHOD URL first");
    return;
  }
  *space = '\0';
  wp_http_out_header headers[8];
  char *lines[8];
  size_t n = 0;
  while (at < end && *at != '\n' && n < 8) {
    lines[n] = line(&at, end);
    char *colon = strchr(lines[n], ':');
    if (!colon) break;
    *colon = '\0';
    const char *v = colon + 1 + (colon[1] == ' ');
    headers[n] = (wp_http_out_header){lines[n], v, strlen(v)};
    n++;
  }
  if (at < end && *at == '\n') at++;
  wp_http_out_response r;
  if (wp_http_out_request(first, space + 1, headers, n, at, (size_t)(end - at), &r) != 0) {
    size_t m = strlen(r.error) + 8;
    char *out = malloc(m);
    snprintf(out, m, "error=%s", r.error);
    wp_output_str(out);
    free(out);
  } else {
    const wp_http_out_field *reply = wp_http_out_header_get(&r, "x-reply");
    char head[256];
    int k = snprintf(head, sizeof head, "status=%u\nx-reply=%.*s\n\n", (unsigned)r.status,
                     reply ? (int)reply->value_len : 0, reply ? (const char *)reply->value : "");
    uint8_t *out = malloc((size_t)k + r.body_len);
    memcpy(out, head, (size_t)k);
    if (r.body_len) memcpy(out + k, r.body, r.body_len);
    wp_output_take(out, (size_t)k + r.body_len);
  }
  wp_http_out_response_free(&r);
  for (size_t i = 0; i < n; i++) free(lines[i]);
  free(first);
}
WP_EXPORT_BYTES(fetch, fetch)
