/*
 * accesslog.c - one JSON line per request, to stderr or a file (opened
 * O_APPEND), written with a single write(2) so that lines from the worker
 * threads never interleave.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

wp_error *accesslog_open(wp_server *srv) {
  const char *where = srv->settings.access_log;
  srv->log_fd = -1;
  srv->log_close = false;
  if (strcmp(where, "off") == 0) return NULL;
  if (strcmp(where, "stderr") == 0) {
    srv->log_fd = STDERR_FILENO;
    return NULL;
  }
  if (strcmp(where, "stdout") == 0) {
    srv->log_fd = STDOUT_FILENO;
    return NULL;
  }
  int fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return wp_error_new(WP_ERR_IO, "access log %s: %s", where, strerror(errno));
  srv->log_fd = fd;
  srv->log_close = true;
  return NULL;
}

void accesslog_close(wp_server *srv) {
  if (srv->log_close) close(srv->log_fd);
  srv->log_fd = -1;
  srv->log_close = false;
}

/* Appends `s` as a JSON string body (without quotes), at most `max` input bytes. */
static size_t esc(char *out, size_t cap, size_t n, const char *s, size_t max) {
  for (size_t i = 0; s && s[i] && i < max && n + 8 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20 || c >= 0x7f) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  return n;
}

void accesslog_write(wp_server *srv, const char *remote, const char *method, const char *path,
                     const char *route, int status, uint64_t bytes_in, uint64_t bytes_out,
                     uint64_t duration_us, const char *plugin, const char *instances,
                     const char *upstream, const char *error) {
  if (srv->log_fd < 0) return;
  char line[28672]; /* room for every field at its cap, escaped 6x */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(line, sizeof line, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
  n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ\",\"remote\":\"", ts.tv_nsec / 1000000);
  n = esc(line, sizeof line, n, remote, 64);
  n += (size_t)snprintf(line + n, sizeof line - n, "\",\"method\":\"");
  n = esc(line, sizeof line, n, method, 32);
  n += (size_t)snprintf(line + n, sizeof line - n, "\",\"path\":\"");
  n = esc(line, sizeof line, n, path, 1024);
  n += (size_t)snprintf(line + n, sizeof line - n, "\",\"route\":");
  if (route) {
    line[n++] = '"';
    n = esc(line, sizeof line, n, route, 256);
    line[n++] = '"';
  } else {
    n += (size_t)snprintf(line + n, sizeof line - n, "null");
  }
  n += (size_t)snprintf(line + n, sizeof line - n,
                        ",\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration_us\":%llu,"
                        "\"plugin\":",
                        status, (unsigned long long)bytes_in, (unsigned long long)bytes_out,
                        (unsigned long long)duration_us);
  if (plugin) {
    line[n++] = '"';
    n = esc(line, sizeof line, n, plugin, 128);
    line[n++] = '"';
  } else {
    n += (size_t)snprintf(line + n, sizeof line - n, "null");
  }
  if (instances)
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"instances\":\"%s\"", instances);
  if (upstream) {
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"upstream\":\"");
    n = esc(line, sizeof line, n, upstream, 1024);
    line[n++] = '"';
  }
  if (error) {
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"error\":\"");
    n = esc(line, sizeof line, n, error, 1024);
    line[n++] = '"';
  }
  n += (size_t)snprintf(line + n, sizeof line - n, "}\n");
  if (n >= sizeof line) n = sizeof line - 1;
  ssize_t w;
  do w = write(srv->log_fd, line, n);
  while (w < 0 && errno == EINTR);
}
