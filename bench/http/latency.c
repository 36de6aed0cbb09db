/*
 * latency.c - wasmplug-bench-latency: the unloaded latency of several HTTP
 * servers measured side by side, one request at a time.
 *
 *   wasmplug-bench-latency [--duration S] [--warmup S] [--path PATH]
 *                          [--header "name: value"]... HOST:PORT...
 *
 * One keep-alive connection per server. The client sends GET PATH to each
 * server in turn (a round), waits for the whole answer, and records the
 * time from the first byte sent to the last byte read; each round starts
 * at a different server, so none is always first. Interleaving request by
 * request is the point: whatever the machine does (another process, a
 * frequency change) lands on every server alike, so small differences
 * between them (a filter's few microseconds) are not lost in the drift
 * between runs made one after another, which on a shared 2-vCPU machine is
 * larger than the differences.
 *
 * Output, one JSON object on stdout: rounds, and per server (in the order
 * given) n, p50_us, p99_us, mean_us and diff_us_median (the median over
 * rounds of its time minus the first server's in the same round). Any
 * answer but a 200 with a Content-Length, or a closed connection, is an
 * error (exit status 1, a message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TARGETS 16

typedef struct target {
  const char *addr;
  int fd;
  uint32_t *ns; /* one latency per round, saturated at UINT32_MAX */
} target;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "wasmplug-bench-latency: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static int connect_to(const char *addr) {
  char host[256];
  const char *colon = strrchr(addr, ':');
  if (!colon || (size_t)(colon - addr) >= sizeof host) die("bad address '%s'%s", addr, "");
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = '\0';
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) die("cannot resolve '%s'%s", addr, "");
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
    die("cannot connect to %s: %s", addr, strerror(errno));
  freeaddrinfo(ai);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Sends the request and reads the whole answer (headers and Content-Length bytes). */
static void exchange(target *t, const char *req, size_t req_len) {
  static char buf[1 << 16];
  for (size_t sent = 0; sent < req_len;) {
    ssize_t n = write(t->fd, req + sent, req_len - sent);
    if (n <= 0) die("%s: write failed: %s", t->addr, strerror(errno));
    sent += (size_t)n;
  }
  size_t have = 0, head = 0, need = 0;
  for (;;) {
    if (have == sizeof buf) die("%s: an answer over %s bytes", t->addr, "65536");
    ssize_t n = read(t->fd, buf + have, sizeof buf - have);
    if (n <= 0) die("%s: the connection closed: %s", t->addr, n ? strerror(errno) : "EOF");
    have += (size_t)n;
    if (!head) {
      char *end = memmem(buf, have, "\r\n\r\n", 4);
      if (!end) continue;
      head = (size_t)(end - buf) + 4;
      if (have < 12 || memcmp(buf + 9, "200", 3) != 0) die("%s: not a 200: %.12s", t->addr, buf);
      char *cl = NULL;
      for (char *p = buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        if (*p == '\n') p++;
        if (strncasecmp(p, "content-length:", 15) == 0) cl = p + 15;
      }
      if (!cl) die("%s: an answer without Content-Length%s", t->addr, "");
      need = head + strtoul(cl, NULL, 10);
    }
    if (have >= need) {
      if (have > need) die("%s: more bytes than one answer%s", t->addr, "");
      return;
    }
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* The value at quantile q of a sorted array (nearest rank). */
static double at_quantile(const uint32_t *v, size_t n, double q) {
  size_t i = (size_t)(q * (double)(n - 1) + 0.5);
  return v[i];
}

int main(int argc, char **argv) {
  double duration = 5, warmup = 1;
  const char *path = "/hello";
  char headers[4096] = "";
  target t[MAX_TARGETS];
  size_t nt = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) duration = atof(argv[++i]);
    else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) warmup = atof(argv[++i]);
    else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc) path = argv[++i];
    else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc) {
      size_t len = strlen(headers);
      snprintf(headers + len, sizeof headers - len, "%s\r\n", argv[++i]);
    } else if (argv[i][0] != '-' && nt < MAX_TARGETS) {
      t[nt++] = (target){.addr = argv[i]};
    } else {
      fprintf(stderr,
              "usage: %s [--duration S] [--warmup S] [--path PATH] "
              "[--header 'name: value']... HOST:PORT...\n",
              argv[0]);
      return 2;
    }
  }
  if (!nt) die("no server given%s%s", "", "");
  char req[8192];
  for (size_t i = 0; i < nt; i++) t[i].fd = connect_to(t[i].addr);

  size_t cap = 1 << 16, rounds = 0;
  for (size_t i = 0; i < nt; i++)
    if (!(t[i].ns = malloc(cap * sizeof *t[i].ns))) die("out of memory%s%s", "", "");
  uint64_t start = now_ns(), warm_end = start + (uint64_t)(warmup * 1e9),
           end = warm_end + (uint64_t)(duration * 1e9);
  for (uint64_t r = 0;; r++) {
    uint64_t now = now_ns();
    if (now >= end) break;
    bool measured = now >= warm_end;
    if (measured && rounds == cap) {
      cap *= 2;
      for (size_t i = 0; i < nt; i++)
        if (!(t[i].ns = realloc(t[i].ns, cap * sizeof *t[i].ns))) die("out of memory%s%s", "", "");
    }
    for (size_t k = 0; k < nt; k++) {
      target *x = &t[(r + k) % nt];
      int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, x->addr,
                         headers);
      uint64_t t0 = now_ns();
      exchange(x, req, (size_t)len);
      uint64_t d = now_ns() - t0;
      if (measured) x->ns[rounds] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
    if (measured) rounds++;
  }
  if (!rounds) die("no round in the time given%s%s", "", "");

  int64_t *diff = malloc(rounds * sizeof *diff);
  uint32_t *sorted = malloc(rounds * sizeof *sorted);
  if (!diff || !sorted) die("out of memory%s%s", "", "");
  printf("{\"rounds\": %zu, \"servers\": [", rounds);
  for (size_t i = 0; i < nt; i++) {
    double sum = 0;
    for (size_t r = 0; r < rounds; r++) {
      diff[r] = (int64_t)t[i].ns[r] - (int64_t)t[0].ns[r];
      sum += t[i].ns[r];
    }
    memcpy(sorted, t[i].ns, rounds * sizeof *sorted);
    qsort(sorted, rounds, sizeof *sorted, cmp_u32);
    qsort(diff, rounds, sizeof *diff, cmp_i64);
    printf("%s{\"addr\": \"%s\", \"n\": %zu, \"p50_us\": %.3f, \"p99_us\": %.3f, "
           "\"mean_us\": %.3f, \"diff_us_median\": %.3f}",
           i ? ", " : "", t[i].addr, rounds, at_quantile(sorted, rounds, 0.5) / 1e3,
           at_quantile(sorted, rounds, 0.99) / 1e3, sum / (double)rounds / 1e3,
           (double)diff[rounds / 2] / 1e3);
  }
  printf("]}\n");
  for (size_t i = 0; i < nt; i++) {
    close(t[i].fd);
    free(t[i].ns);
  }
  free(diff);
  free(sorted);
  return 0;
}
