/*
 * replay.c - a stand-in for libFuzzer's driver, for builds without it (the
 * default compiler, `make test`, `make sanitize`): runs a harness's
 * LLVMFuzzerTestOneInput over a seed corpus and then over deterministic
 * mutations of it. No coverage feedback, so it finds far less than `make
 * fuzz`; it is the smoke test that keeps the harnesses and the seeds
 * working, and it replays a crash file given as an argument.
 *
 *   fuzz_NAME [-runs=N] [-seed=S] [-keep=FILE] FILE_OR_DIR...
 *
 * -runs: mutations after the files (default 0); -seed: the mutation PRNG's
 * seed (default 1); -keep: each input is written there before it runs, so a
 * crash leaves the input that caused it behind (the file is removed when
 * every input passed). Flags libFuzzer has and this driver does not are
 * ignored, so the same command line works with both.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_INPUT (1u << 20) /* longer files are cut, as libFuzzer's -max_len would */
#define MAX_MUTATED 4096     /* mutations grow an input to at most this */

typedef struct input {
  uint8_t *data;
  size_t size;
} input;

typedef struct corpus {
  input *items;
  size_t n, cap;
} corpus;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "replay: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(2);
}

static void add_file(corpus *c, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  uint8_t *buf = malloc(MAX_INPUT);
  if (!buf) die("out of memory", NULL);
  size_t n = fread(buf, 1, MAX_INPUT, f);
  fclose(f);
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 64;
    c->items = realloc(c->items, c->cap * sizeof *c->items);
    if (!c->items) die("out of memory", NULL);
  }
  c->items[c->n++] = (input){buf, n};
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a file, or every file in a directory (sorted, so runs repeat). */
static void add_path(corpus *c, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) die("no such file or directory", path);
  if (!S_ISDIR(st.st_mode)) {
    add_file(c, path);
    return;
  }
  DIR *d = opendir(path);
  if (!d) die("cannot read directory", path);
  char **names = NULL;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    names = realloc(names, (n + 1) * sizeof *names);
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    if (!names || !(names[n] = malloc(len))) die("out of memory", NULL);
    snprintf(names[n++], len, "%s/%s", path, e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    add_file(c, names[i]);
    free(names[i]);
  }
  free(names);
}

/* xorshift64*: small, fast, and the same sequence everywhere. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static size_t below(uint64_t *s, size_t n) { return n ? (size_t)(next_random(s) % n) : 0; }

/* Values that sit on the edges host code compares against. */
static const uint32_t interesting[] = {
    0,      1,      4,       7,          8,          0x7f,       0x80,       0xff,      0x100,
    0xfff8, 0xfffc, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffc, 0xffffffff};

/* One random edit of buf[0..*size) (capacity MAX_MUTATED). */
static void mutate_once(uint8_t *buf, size_t *size, const corpus *c, uint64_t *s) {
  size_t n = *size, at = below(s, n + 1);
  switch (below(s, 7)) {
  case 0: /* flip a bit */
    if (n) buf[at % n] ^= (uint8_t)(1u << below(s, 8));
    break;
  case 1: /* a random byte */
    if (n) buf[at % n] = (uint8_t)next_random(s);
    break;
  case 2: /* insert a byte */
    if (n < MAX_MUTATED) {
      memmove(buf + at + 1, buf + at, n - at);
      buf[at] = (uint8_t)next_random(s);
      *size = n + 1;
    }
    break;
  case 3: /* delete a run */
    if (n) {
      size_t len = 1 + below(s, n - at % n < 8 ? n - at % n : 8);
      at %= n;
      memmove(buf + at, buf + at + len, n - at - len);
      *size = n - len;
    }
    break;
  case 4: /* an interesting 32-bit value, little-endian */
    if (n >= 4) {
      uint32_t v = interesting[below(s, sizeof interesting / sizeof *interesting)];
      memcpy(buf + below(s, n - 3), &v, 4);
    }
    break;
  case 5: /* splice in a slice of another corpus entry */
    if (c->n) {
      const input *o = &c->items[below(s, c->n)];
      size_t from = below(s, o->size), len = below(s, o->size - from + 1);
      if (len > MAX_MUTATED - n) len = MAX_MUTATED - n;
      memmove(buf + at + len, buf + at, n - at);
      memcpy(buf + at, o->data + from, len);
      *size = n + len;
    }
    break;
  default: /* duplicate a run in place */
    if (n && n < MAX_MUTATED) {
      at %= n;
      size_t len = 1 + below(s, n - at);
      if (len > MAX_MUTATED - n) len = MAX_MUTATED - n;
      memmove(buf + at + len, buf + at, n - at);
      *size = n + len;
    }
    break;
  }
}

/* The -keep file, open for the whole run: rewritten in place for each input
   (truncating and closing it each time would make some file systems flush
   it to disk every time, which costs more than the inputs themselves). */
static int keep_fd = -1;

static void keep_input(const uint8_t *data, size_t size) {
  if (keep_fd < 0) return;
  if (pwrite(keep_fd, data, size, 0) != (ssize_t)size || ftruncate(keep_fd, (off_t)size) != 0)
    die("cannot write the -keep file", strerror(errno));
}

static void run(const uint8_t *data, size_t size) {
  keep_input(data, size);
  /* A copy of exactly `size` bytes, so that AddressSanitizer sees reads past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) die("out of memory", NULL);
  memcpy(copy, data, size);
  LLVMFuzzerTestOneInput(copy, size);
  free(copy);
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  unsigned long long runs = 0, seed = 1;
  const char *keep = NULL;
  corpus c = {0};
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "-runs=", 6) == 0) runs = strtoull(argv[i] + 6, NULL, 10);
    else if (strncmp(argv[i], "-seed=", 6) == 0) seed = strtoull(argv[i] + 6, NULL, 10);
    else if (strncmp(argv[i], "-keep=", 6) == 0) keep = argv[i] + 6;
    else if (argv[i][0] != '-') add_path(&c, argv[i]);
  }
  if (c.n == 0 && runs) die("mutations need at least one input file", NULL);
  if (keep) {
    keep_fd = open(keep, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (keep_fd < 0) die("cannot create the -keep file", keep);
    fprintf(stderr, "replay: each input is written to %s first; after a crash it is the culprit\n",
            keep);
  }

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (size_t i = 0; i < c.n; i++) run(c.items[i].data, c.items[i].size);
  uint64_t state = seed ? seed : 1;
  uint8_t *buf = malloc(MAX_MUTATED);
  if (!buf) die("out of memory", NULL);
  for (unsigned long long r = 0; r < runs; r++) {
    const input *base = &c.items[below(&state, c.n)];
    size_t size = base->size < MAX_MUTATED ? base->size : MAX_MUTATED;
    memcpy(buf, base->data, size);
    for (size_t k = 1 + below(&state, 4); k > 0; k--) mutate_once(buf, &size, &c, &state);
    run(buf, size);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (keep) {
    close(keep_fd);
    remove(keep);
  }
  printf("replay: %zu files and %llu mutations (seed %llu) passed in %.2f s\n", c.n, runs, seed,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  free(buf);
  for (size_t i = 0; i < c.n; i++) free(c.items[i].data);
  free(c.items);
  return 0;
}
