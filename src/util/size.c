/* size.c - printing byte sizes for messages. */
#include "util/size.h"

#include <stdio.h>

const char *wp_format_size(uint64_t bytes, char *buf, size_t cap) {
  static const struct {
    unsigned shift;
    const char *unit;
  } units[] = {{30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    uint64_t one = 1ull << units[i].shift;
    if (bytes >= one && bytes % one == 0) {
      snprintf(buf, cap, "%llu %s", (unsigned long long)(bytes >> units[i].shift), units[i].unit);
      return buf;
    }
  }
  snprintf(buf, cap, "%llu bytes", (unsigned long long)bytes);
  return buf;
}
