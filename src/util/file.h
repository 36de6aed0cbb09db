/* file.h - reading a whole file (internal). */
#ifndef WP_UTIL_FILE_H
#define WP_UTIL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Reads all of the regular file `path` into a malloc'ed buffer, with a NUL
 * after the bytes (not counted in *len) so that text can be used as a C
 * string. A file larger than `max` bytes is refused before it is read.
 * Returns 0, or an errno for the caller to word its own message:
 *
 *   from open(2) or fstat(2)   ENOENT, ENOTDIR, EACCES, ...
 *   EISDIR                     `path` is a directory
 *   EINVAL                     `path` is not a regular file (FIFO, device,
 *                              socket): their size is unknown and reading
 *                              them may block or never end
 *   EFBIG                      the file is larger than `max`; nothing read
 *   ENOMEM                     no memory for the buffer
 *   EIO                        reading failed or the file got shorter
 *
 * *size is the file's size once it is known (0 before), so that an EFBIG
 * or EIO can be worded with it. *out and *len are set only on success.
 */
int wp_file_read(const char *path, uint64_t max, uint8_t **out, size_t *len, uint64_t *size);

/*
 * What fstat(2) says about a file's identity and last change. On a local
 * file system every change to the contents, the times or the links of a
 * file sets its ctime to the clock's time then, and ctime cannot be set any
 * other way: the stamp changes whenever the file does, as long as the change
 * comes later than one tick of the file system's timestamps after ctime.
 */
typedef struct wp_file_stamp {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
  int64_t seen_ns; /* CLOCK_REALTIME just before the file was opened */
} wp_file_stamp;

/* Same file, same size, same times (seen_ns is not compared). */
bool wp_file_stamp_equal(const wp_file_stamp *a, const wp_file_stamp *b);

/*
 * As wp_file_read, and *stamp is the stamp of the file read (fstat on the
 * descriptor read, before reading). *steady is true when a second fstat
 * after the last byte was read found the same stamp: nothing changed the
 * file while it was read, as far as its stamp can tell (see above).
 */
int wp_file_read_stamped(const char *path, uint64_t max, uint8_t **out, size_t *len, uint64_t *size,
                         wp_file_stamp *stamp, bool *steady);

/*
 * As wp_file_read for anything that can be read to its end (a pipe, a
 * process substitution): reads until EOF, EFBIG past `max` bytes. Opening a
 * FIFO waits for a writer: use it only for the caller's own files.
 */
int wp_file_read_stream(const char *path, uint64_t max, uint8_t **out, size_t *len);

#endif
