/*
 * count_words.c - a C plugin whose export name is not a C identifier
 * (issue 10): "count-words" returns the number of words (runs of bytes other
 * than space, tab, CR and LF) in its input, in decimal. It also exports
 * "count_bytes" with the plain macro, so both kinds of name sit in one module,
 * and "pending_output" (below) for the test to see the post call.
 */
#include "wasmplug_pdk.h"

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Writes `n` in decimal as the output, without stdio (no WASI imports). */
static void output_number(size_t n) {
  char digits[24];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  wp_output(digits + i, sizeof digits - i);
}

static void count_words(const uint8_t *in, size_t len) {
  size_t words = 0;
  for (size_t i = 0; i < len; i++) {
    if (!is_space(in[i]) && (i == 0 || is_space(in[i - 1]))) words++;
  }
  output_number(words);
}
WP_EXPORT_BYTES_AS("count-words", count_words)

static void do_count_bytes(const uint8_t *in, size_t len) {
  (void)in;
  output_number(len);
}
WP_EXPORT_BYTES(count_bytes, do_count_bytes)

/* Length of the output "count-words" still holds: 0 once the host has called
   "cabi_post_count-words" (which frees it). Reads the macro's return area,
   which is not API: a test's view of the post call. */
__attribute__((export_name("pending_output"))) uint32_t pending_output(void) {
  return wp__ret_as_count_words[1];
}
