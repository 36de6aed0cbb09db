/*
 * file.c - one way to read a whole file: sized by fstat, capped before any
 * byte is read, refused unless it is a regular file.
 */
#define _POSIX_C_SOURCE 200809L
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Reads exactly `n` bytes, retrying short reads and EINTR; EIO if the file
   ends first (it shrank since fstat) or read fails. */
static int read_all(int fd, uint8_t *buf, size_t n) {
  size_t got = 0;

  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return EIO;
    got += (size_t)r;
  }
  return 0;
}

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void stamp_of(const struct stat *st, wp_file_stamp *out) {
  out->dev = (uint64_t)st->st_dev;
  out->ino = (uint64_t)st->st_ino;
  out->size = (uint64_t)st->st_size;
  out->mtime_ns = ns_of(st->st_mtim);
  out->ctime_ns = ns_of(st->st_ctim);
}

bool wp_file_stamp_equal(const wp_file_stamp *a, const wp_file_stamp *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
         a->ctime_ns == b->ctime_ns;
}

/* The stamp of the regular file open as `fd`, or an errno (see file.h). */
static int regular_stamp(int fd, wp_file_stamp *stamp) {
  struct stat st;

  if (fstat(fd, &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EINVAL;
  stamp_of(&st, stamp);
  return 0;
}

int wp_file_read(const char *path, uint64_t max, uint8_t **out, size_t *len, uint64_t *size) {
  wp_file_stamp stamp;
  bool steady;
  return wp_file_read_stamped(path, max, out, len, size, &stamp, &steady);
}

int wp_file_read_stamped(const char *path, uint64_t max, uint8_t **out, size_t *len, uint64_t *size,
                         wp_file_stamp *stamp, bool *steady) {
  struct timespec now;
  uint8_t *buf = NULL;
  wp_file_stamp after;

  *size = 0;
  *steady = false;
  /* Before the open: whatever changes the file from here on stamps it at
     this time or later. */
  if (clock_gettime(CLOCK_REALTIME, &now) != 0) now.tv_sec = now.tv_nsec = 0;
  stamp->seen_ns = ns_of(now);
  /* O_NONBLOCK: opening a FIFO nobody writes to would otherwise wait
     forever before fstat could refuse it; it changes nothing for the
     regular files that are read. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
  if (fd < 0) return errno;
  rc = regular_stamp(fd, stamp);
  if (!rc) *size = stamp->size;
  if (!rc && *size > max) rc = EFBIG;
  if (!rc && *size >= SIZE_MAX) rc = ENOMEM; /* no room for the NUL */
  if (!rc && !(buf = malloc((size_t)*size + 1))) rc = ENOMEM;
  if (!rc) rc = read_all(fd, buf, (size_t)*size);
  if (!rc) *steady = regular_stamp(fd, &after) == 0 && wp_file_stamp_equal(stamp, &after);
  close(fd);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[*size] = '\0';
  *out = buf;
  *len = (size_t)*size;
  return 0;
}

int wp_file_read_stream(const char *path, uint64_t max, uint8_t **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
  if (fd < 0) return errno;
  size_t n = 0, cap = 4096;
  uint8_t *buf = malloc(cap), *grown;
  while (buf && !rc) {
    if (n + 1 >= cap) {
      if (!(grown = realloc(buf, cap * 2))) break;
      buf = grown;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = EIO;
    else if (r == 0) break;
    else if ((n += (size_t)r) > max) rc = EFBIG;
  }
  close(fd);
  if (!buf || (!rc && n + 1 >= cap)) rc = rc ? rc : ENOMEM;
  if (rc) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}
