/*
 * foreign.c - foreign functions (proxy_call_foreign_function): the
 * embedder's, by name, and the built-in "compress" and "uncompress" (zlib,
 * as Envoy offers them).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "engine/error.h"
#include "proxywasm/abi.h"
#include "proxywasm/pw.h"
#include "util/buf.h"

struct wp_pw_foreign_call {
  wp_buf out;
};

#define PW_FOREIGN_MAX_RESULT (64u << 20)

wp_error *wp_pw_foreign_set_result(wp_pw_foreign_call *call, const void *data, size_t len) {
  if (!call) return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_foreign_set_result: call is required");
  if (len > PW_FOREIGN_MAX_RESULT)
    return wp_error_new(WP_ERR_BAD_INPUT, "a foreign function's result is limited to 64 MiB");
  call->out.len = 0;
  if (!wp_buf_reserve(&call->out, len + 1)) return wp_error_no_memory();
  if (len) memcpy(call->out.data, data, len);
  call->out.len = len;
  return NULL;
}

static void free_one(pw_foreign *f) {
  if (f->free_user_data) f->free_user_data(f->user_data);
  free(f->name);
  free(f);
}

wp_error *wp_pw_host_add_foreign_function(wp_pw_host *h, const char *name, wp_pw_foreign_fn fn,
                                          void *user_data, void (*free_user_data)(void *)) {
  if (!h || !name || !*name || !fn)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_pw_host_add_foreign_function: host, a name and fn are required");
  pw_foreign *f = calloc(1, sizeof *f);
  if (!f || !(f->name = strdup(name))) {
    free(f);
    return wp_error_no_memory();
  }
  f->fn = fn;
  f->user_data = user_data;
  f->free_user_data = free_user_data;
  pthread_mutex_lock(&h->lock);
  for (pw_foreign **at = &h->foreign; *at; at = &(*at)->next) {
    if (strcmp((*at)->name, name) != 0) continue;
    pw_foreign *old = *at;
    *at = old->next;
    free_one(old);
    break;
  }
  f->next = h->foreign;
  h->foreign = f;
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

void pw_foreign_free_all(wp_pw_host *h) {
  while (h->foreign) {
    pw_foreign *f = h->foreign;
    h->foreign = f->next;
    free_one(f);
  }
}

/*
 * Foreign functions are registered before filters run and only replaced by
 * the embedder; the lookup copies what it needs under the lock, and the call
 * runs outside it so that a slow function does not hold up the others.
 */
int pw_foreign_call(wp_pw_host *h, const wp_pw_plugin *p, const char *name, size_t name_len,
                    const uint8_t *args, size_t len, uint8_t **out, size_t *out_len) {
  wp_pw_foreign_fn fn = NULL;
  void *user = NULL;
  pthread_mutex_lock(&h->lock);
  for (pw_foreign *f = h->foreign; f; f = f->next)
    if (strlen(f->name) == name_len && memcmp(f->name, name, name_len) == 0) {
      fn = f->fn;
      user = f->user_data;
      break;
    }
  pthread_mutex_unlock(&h->lock);
  if (!fn) return PW_NOT_FOUND;
  wp_pw_foreign_call call = {0};
  wp_error *err = fn(user, &call, args, len);
  if (err) {
    pw_logf(h, p, WP_LOG_WARN, "foreign function '%.*s' failed: %s", (int)name_len, name,
            wp_error_get_message(err));
    wp_error_free(err);
    wp_buf_free(&call.out);
    return PW_INTERNAL_FAILURE;
  }
  *out = call.out.data;
  *out_len = call.out.len;
  return PW_OK;
}

/* ---- zlib ------------------------------------------------------------------------- */

static wp_error *zcompress(void *user, wp_pw_foreign_call *call, const uint8_t *args, size_t len) {
  (void)user;
  uLongf cap = compressBound((uLong)len);
  if (!wp_buf_reserve(&call->out, cap + 1)) return wp_error_no_memory();
  if (compress2(call->out.data, &cap, args, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK)
    return wp_error_new(WP_ERR_HOST, "compress: zlib failed");
  call->out.len = cap;
  return NULL;
}

/* Inflates in steps, never past the result cap: a small input may claim a huge output. */
static wp_error *zuncompress(void *user, wp_pw_foreign_call *call, const uint8_t *args,
                             size_t len) {
  (void)user;
  z_stream z = {0};
  if (inflateInit(&z) != Z_OK) return wp_error_new(WP_ERR_HOST, "uncompress: zlib failed");
  z.next_in = (Bytef *)args;
  z.avail_in = (uInt)len;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (call->out.len + 65536 > PW_FOREIGN_MAX_RESULT) break;
    if (!wp_buf_reserve(&call->out, call->out.len + 65536 + 1)) break;
    z.next_out = call->out.data + call->out.len;
    z.avail_out = 65536;
    rc = inflate(&z, Z_NO_FLUSH);
    call->out.len = (size_t)(z.next_out - call->out.data);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    return wp_error_new(WP_ERR_BAD_INPUT, "uncompress: not a complete zlib stream, or over 64 MiB");
  return NULL;
}

wp_error *pw_foreign_add_builtins(wp_pw_host *h) {
  wp_error *err = wp_pw_host_add_foreign_function(h, "compress", zcompress, NULL, NULL);
  if (!err) err = wp_pw_host_add_foreign_function(h, "uncompress", zuncompress, NULL, NULL);
  return err;
}
