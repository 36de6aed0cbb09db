/*
 * framing.c - how a request says its body is framed (RFC 9112, section 6).
 *
 * A request two readers could split differently is refused and its
 * connection closed. With two Content-Length headers libmicrohttpd reads the
 * first while a proxy in front may read the last, and the bytes in between
 * would reach the server as a request the proxy never saw (request
 * smuggling). Both Transfer-Encoding and Content-Length, or more than one
 * Content-Length, is 400, as nginx answers; a transfer coding other than
 * chunked is 501, which the RFC asks for instead of waiting for a body that
 * cannot be framed.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "framing.h"

typedef struct framing {
  unsigned content_lengths, transfer_encodings;
  bool chunked_only; /* every Transfer-Encoding is exactly "chunked" */
} framing;

static enum MHD_Result count(void *cls, enum MHD_ValueKind kind, const char *key,
                             const char *value) {
  (void)kind;
  framing *f = cls;
  if (strcasecmp(key, "content-length") == 0) {
    f->content_lengths++;
  } else if (strcasecmp(key, "transfer-encoding") == 0) {
    f->transfer_encodings++;
    if (!value || strcasecmp(value, "chunked") != 0) f->chunked_only = false;
  }
  return MHD_YES;
}

static enum MHD_Result refuse(struct MHD_Connection *c, int status, const char *text) {
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                           MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "content-type", "text/plain; charset=utf-8");
  MHD_add_response_header(r, "connection", "close");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

bool srv_framing_refused(struct MHD_Connection *c, int *status, enum MHD_Result *ret) {
  framing f = {0, 0, true};
  const char *why;
  MHD_get_connection_values(c, MHD_HEADER_KIND, count, &f);
  if (f.content_lengths > 1) {
    *status = 400;
    why = "bad request: more than one Content-Length\n";
  } else if (f.transfer_encodings && f.content_lengths) {
    *status = 400;
    why = "bad request: both Transfer-Encoding and Content-Length\n";
  } else if (f.transfer_encodings && (f.transfer_encodings > 1 || !f.chunked_only)) {
    *status = 501;
    why = "501 Not Implemented: the only transfer coding served is chunked\n";
  } else {
    return false;
  }
  *ret = refuse(c, *status, why);
  return true;
}
