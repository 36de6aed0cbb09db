/*
 * fuzz.h - what the harnesses share. A failed check prints what was expected
 * and aborts, which libFuzzer (and the replay driver's -keep file) turns into
 * a saved crash input. assert() is not used: release builds compile it out.
 */
#ifndef WP_FUZZ_H
#define WP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wasmplug.h"

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* The harness entry points (libFuzzer's, or replay.c's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A copy of data[0..size) with a NUL after it; the caller frees it. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  FUZZ_CHECK(s != NULL, "out of memory");
  for (size_t i = 0; i < size; i++) s[i] = (char)data[i];
  s[size] = '\0';
  return s;
}

/* The message of an error, checked to be non-empty. */
static inline const char *fuzz_message(const wp_error *err) {
  const char *msg = wp_error_get_message(err);
  FUZZ_CHECK(msg && msg[0], "an error without a message (kind %s)",
             wp_error_kind_name(wp_error_get_kind(err)));
  return msg;
}

#endif
