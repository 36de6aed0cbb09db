/*
 * cache.c - compile a plugin, or load its compiled code from the disk cache.
 *
 * Entries are <cache_dir>/<sha256 of the plugin>-<hash of the engine config>.cwasm,
 * written to a temporary name and renamed, so readers never see half a file.
 * Wasmtime also checks on load that an entry matches the engine exactly;
 * an entry it rejects (other version, corrupt) is compiled again and replaced.
 *
 * Threat model. An entry is native code that the host maps executable and
 * runs with no further checks: whoever can write an entry, or the directory
 * that holds it, runs code as the host. Entry names are predictable (the
 * sha256 of a public plugin), so another local user who can create files in
 * the directory, or swap one in, can plant code. Hence, on every load:
 *   - the directory is opened once and checked through that descriptor: a
 *     directory owned by the user running the host (geteuid) with no group
 *     or other write bit, else the load fails with WP_ERR_IO saying what is
 *     wrong and how to fix it. The error kind is IO, not BAD_INPUT, because
 *     the fault is the state of the file system (it may be the default
 *     directory, which the caller never passed, and a chmod by someone else
 *     can cause it), not an argument;
 *   - a symbolic link given as the directory is followed: what is trusted is
 *     the directory actually opened, and entries are then only reached
 *     relative to that descriptor (openat, renameat), so renaming or swapping
 *     the path afterwards changes nothing;
 *   - an entry must be a regular file (not a symbolic link: O_NOFOLLOW) owned
 *     by us and not writable by group or others. One that is not was never
 *     written by this library (it writes 0600 files), so someone else put it
 *     there, e.g. while the directory was open to others. It is refused with
 *     the same kind of error naming the file, rather than silently replaced,
 *     so that the planting is noticed;
 *   - temporary files are created with O_EXCL|O_NOFOLLOW, mode 0600: an
 *     existing name (a leftover, another thread, a planted symlink) is never
 *     opened, the next name is tried instead.
 * Checks run per load (a few system calls next to a deserialization), so a
 * directory whose permissions change after the engine was made is caught.
 * Failing to create or write the cache is not an error: it only costs a
 * compilation next time.
 *
 * The index. Hashing the plugin file was most of a cached load (the 2.6 MB
 * Go hello: about 1.3 of 1.6 ms). So <cache_dir>/<sha256 of device, inode, path>.index
 * records, per plugin file, the sha256 its bytes had and the stamp it had
 * then: size, mtime and ctime to the nanosecond (util/file.h). A load whose
 * file has that stamp takes the sha256 from the record instead of hashing.
 * Why a matching stamp means the same bytes:
 *   - every change to a file's contents sets its ctime to the time of the
 *     change, and ctime cannot be set back (utimensat sets it too); a file
 *     replaced by another (rename, delete and create) is another inode, or a
 *     reused one with a new ctime. So only a file whose ctime is more than
 *     WP_CACHE_INDEX_SETTLE_NS older than the read is recorded or looked up:
 *     a later change then stamps a ctime the record cannot have, even on a
 *     file system with coarse timestamps;
 *   - the stamp is that of the descriptor read (fstat, not stat of the path:
 *     a symbolic link or a rename between the two changes nothing), taken
 *     before and again after the bytes are read; a file changed while read
 *     (the stamps differ) is hashed and not recorded;
 *   - what it cannot see: a writer through a shared mapping that keeps
 *     writing to a page already dirty (the kernel stamps the first write
 *     only), a clock set back by more than the settle time, a file system
 *     whose ctime is not kept (some network or FUSE ones). Whoever writes the
 *     file chooses its code anyway; the code run is always what the file held
 *     when it was hashed. A pinned plugin ("sha256" in its manifest) never
 *     uses the index: its bytes are hashed on every load;
 *   - records are strict: every field and the path must be the expected
 *     ones, and a sha256 of the record ends it, so a damaged or foreign
 *     record is no answer (the bytes are hashed, the record replaced). A
 *     record naming code the cache does not have costs a hash, and what is
 *     compiled is filed under the sha256 of the bytes, never the record's.
 *     Records live in the checked directory, are written like entries
 *     (0600, O_EXCL|O_NOFOLLOW, renamed) and read with the same checks: one
 *     we did not write is refused as an entry is. Whoever could write a
 *     record could write an entry, that is native code: the index asks for
 *     no more trust than the cache already does.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "plugin/plugin.h"

/* Temporary names tried before giving up on writing an entry. */
#define WP_CACHE_TMP_TRIES 16

/* Room for an entry's name: 64 + 1 + 16 hex digits and ".cwasm". */
#define WP_CACHE_NAME_MAX 96

/* An index record's "sha256 HEX\ncheck HEX\n". */
#define WP_CACHE_INDEX_TAIL (7 + 64 + 1 + 6 + 64 + 1)

/* mkdir -p with mode 0700 for the directories it creates. */
static bool make_dirs(const char *dir) {
  char path[4096];
  if (strlen(dir) >= sizeof path) return false;
  strcpy(path, dir);
  for (char *s = path + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return false;
    *s = '/';
  }
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* Why `st` may not be trusted with native code, or NULL if it may: ours
   and not writable by group or others. Writes the detail into `why`. */
static const char *untrusted(const struct stat *st, char *why, size_t cap) {
  if (st->st_uid != geteuid()) {
    snprintf(why, cap, "is owned by uid %lu, not by the user running the host (uid %lu)",
             (unsigned long)st->st_uid, (unsigned long)geteuid());
    return why;
  }
  if (st->st_mode & (S_IWGRP | S_IWOTH)) {
    snprintf(why, cap, "is writable by %s (mode %04o)",
             (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others"
             : (st->st_mode & S_IWGRP)                          ? "its group"
                                                                : "others",
             (unsigned)(st->st_mode & 07777));
    return why;
  }
  return NULL;
}

/* The directory failed the check: `why` says how, the fix depends on it. */
static wp_error *refuse_dir(const wp_plugin *p, const struct stat *st, const char *why) {
  const char *dir = p->engine->cache_dir;
  char fix[4200] = "";
  if (st && st->st_uid == geteuid()) snprintf(fix, sizeof fix, "run chmod go-w '%s', or ", dir);
  return wp_error_new(WP_ERR_IO,
                      WP_PLUGIN_FMT
                      ": refusing to use the compile cache '%s': it %s, and it "
                      "holds native code that the host runs. To fix it, %spick a directory "
                      "that only this user can write with wp_engine_config_set_cache_dir "
                      "(NULL turns the cache off)",
                      p->name, dir, why, fix);
}

/*
 * Opens the cache directory, creating it (0700) if it does not exist, and
 * checks it. *fd is -1 with no error when there is no usable cache (it cannot
 * be created or opened): loading then just compiles.
 */
static wp_error *open_cache_dir(const wp_plugin *p, int *fd) {
  const char *dir = p->engine->cache_dir;
  *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0 && errno == ENOENT && make_dirs(dir))
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0) return NULL;
  struct stat st;
  char why[160];
  bool stat_ok = fstat(*fd, &st) == 0;
  const char *bad = stat_ok ? untrusted(&st, why, sizeof why) : "cannot be examined (fstat failed)";
  if (!bad) return NULL;
  close(*fd);
  *fd = -1;
  return refuse_dir(p, stat_ok ? &st : NULL, bad);
}

static void entry_name(const wp_plugin *p, char *buf, size_t cap) {
  snprintf(buf, cap, "%s-%s.cwasm", p->sha256_hex, p->flavor->cache_key);
}

static wp_error *refuse_entry(const wp_plugin *p, const char *name, const char *why) {
  const char *dir = p->engine->cache_dir;
  return wp_error_new(WP_ERR_IO,
                      WP_PLUGIN_FMT
                      ": refusing compile cache entry '%s/%s': it %s, so this "
                      "library did not write it and it may hold planted native code. Remove "
                      "it (rm '%s/%s') and check who else could write '%s'",
                      p->name, dir, name, why, dir, name, dir);
}

/*
 * Opens the plugin's entry for reading and checks it. *fd is -1 with no error
 * when there is no entry (or it cannot be read: it is compiled and replaced).
 */
static wp_error *open_entry(const wp_plugin *p, int dirfd, const char *name, int *fd) {
  /* O_NONBLOCK: a FIFO in place of an entry must not hang the load; it is
     refused below as not a regular file. */
  *fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0) return errno == ELOOP ? refuse_entry(p, name, "is a symbolic link") : NULL;
  struct stat st;
  char why[160];
  const char *bad = fstat(*fd, &st) != 0   ? "cannot be examined (fstat failed)"
                    : !S_ISREG(st.st_mode) ? "is not a regular file"
                                           : untrusted(&st, why, sizeof why);
  if (!bad) return NULL;
  close(*fd);
  *fd = -1;
  return refuse_entry(p, name, bad);
}

/*
 * Deserializes the checked, open entry. Wasmtime reads a path, so it is given
 * the descriptor's /proc/self/fd name: the very file that was checked, which
 * Wasmtime then maps instead of copying. Where /proc is missing this fails
 * like a stale entry would: safe, but the plugin is compiled (and the entry
 * rewritten) on every load.
 */
static bool load_entry(wp_plugin *p, int fd, wasmtime_module_t **module,
                       wasmtime_component_t **component) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  wasm_engine_t *engine = p->flavor->engine;
  wasmtime_error_t *werr = component ? wasmtime_component_deserialize_file(engine, path, component)
                                     : wasmtime_module_deserialize_file(engine, path, module);
  if (werr) wasmtime_error_delete(werr);
  return werr == NULL;
}

static bool write_all(int fd, const uint8_t *data, size_t len) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= (size_t)n;
  }
  return true;
}

/*
 * Creates a new temporary file for `name` in the directory: <name>.<pid>.<n>.tmp
 * for the first n in 0..WP_CACHE_TMP_TRIES-1 that does not exist yet. The pid
 * keeps processes apart, n threads of one process and leftovers of a crashed
 * one; the directory is private, so names need not be unguessable. Returns
 * the descriptor (-1 if none could be made) and the name in `tmp`.
 */
static int create_temp(int dirfd, const char *name, char *tmp, size_t cap) {
  for (int n = 0; n < WP_CACHE_TMP_TRIES; n++) {
    snprintf(tmp, cap, "%s.%ld.%d.tmp", name, (long)getpid(), n);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

/* Best effort: a cache that cannot be written only costs a recompile later. */
static void store_entry(int dirfd, const char *name, const wasmtime_module_t *module,
                        const wasmtime_component_t *component) {
  wasm_byte_vec_t blob;
  wasmtime_error_t *werr = component ? wasmtime_component_serialize(component, &blob)
                                     : wasmtime_module_serialize(module, &blob);
  if (werr) {
    wasmtime_error_delete(werr);
    return;
  }
  char tmp[WP_CACHE_NAME_MAX + 48];
  int fd = create_temp(dirfd, name, tmp, sizeof tmp);
  if (fd >= 0) {
    bool ok = write_all(fd, (const uint8_t *)blob.data, blob.size);
    ok = (close(fd) == 0) && ok;
    if (!ok || renameat(dirfd, tmp, dirfd, name) != 0) unlinkat(dirfd, tmp, 0);
  }
  wasm_byte_vec_delete(&blob);
}

/* ---- the index: a plugin file's sha256 without hashing it again ---------- */

static bool settled(const wp_file_stamp *st) {
  return st->ctime_ns <= st->seen_ns - WP_CACHE_INDEX_SETTLE_NS;
}

/* The key, hashed into the index's name: the same path to the same file. */
void wp_cache_index_name(const char *path, const wp_file_stamp *st, char *buf, size_t cap) {
  char key[WP_CACHE_INDEX_MAX], hex[65];
  int n = snprintf(key, sizeof key, "dev %ju\nino %ju\npath ", (uintmax_t)st->dev,
                   (uintmax_t)st->ino);
  size_t plen = strlen(path), klen = (size_t)n + plen;
  if (klen > sizeof key) klen = sizeof key; /* such a path is never indexed (record below) */
  memcpy(key + n, path, klen - (size_t)n);
  wp_sha256_hex((const uint8_t *)key, klen, hex);
  snprintf(buf, cap, "%s.index", hex);
}

/* The record up to "sha256 ": everything the stamp and path say. Returns its
   length, 0 when it does not fit. */
static size_t record_head(const char *path, const wp_file_stamp *st, char *buf, size_t cap) {
  int n = snprintf(buf, cap,
                   "wasmplug index 1\ndev %ju\nino %ju\nsize %ju\nmtime %jd\nctime %jd\npath ",
                   (uintmax_t)st->dev, (uintmax_t)st->ino, (uintmax_t)st->size,
                   (intmax_t)st->mtime_ns, (intmax_t)st->ctime_ns);
  size_t plen = strlen(path);
  if (n < 0 || (size_t)n + plen + 1 + WP_CACHE_INDEX_TAIL > cap) return 0;
  memcpy(buf + n, path, plen);
  buf[n + plen] = '\n';
  return (size_t)n + plen + 1;
}

/* "sha256 HEX\ncheck HEX\n" after the head at buf[0..head): the check is the
   sha256 of everything before it, so a damaged record is told from a good one. */
static void record_tail(char *buf, size_t head, const char sha[65]) {
  char *t = buf + head, check[65];
  memcpy(t, "sha256 ", 7);
  memcpy(t + 7, sha, 64);
  t[71] = '\n';
  wp_sha256_hex((const uint8_t *)buf, head + 72, check);
  memcpy(t + 72, "check ", 6);
  memcpy(t + 78, check, 64);
  t[142] = '\n';
}

size_t wp_cache_index_record(const char *path, const wp_file_stamp *st, const char sha[65],
                             char *buf, size_t cap) {
  size_t head = record_head(path, st, buf, cap);
  if (head) record_tail(buf, head, sha);
  return head ? head + WP_CACHE_INDEX_TAIL : 0;
}

static bool is_lower_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

/* Reads up to cap bytes (all of a regular file no larger); returns the count. */
static size_t read_some(int fd, char *buf, size_t cap) {
  size_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  return got;
}

/* True when the index file open as fd is the record for this stamp and path,
   with the sha256 it names copied into sha. Anything else (another stamp, a
   damaged or foreign record) is no answer: the bytes are hashed. */
static bool read_record(int fd, const char *path, const wp_file_stamp *st, char sha[65]) {
  char want[WP_CACHE_INDEX_MAX], got[WP_CACHE_INDEX_MAX + 1];
  size_t head = record_head(path, st, want, sizeof want);
  size_t n = read_some(fd, got, sizeof got);
  if (!head || n != head + WP_CACHE_INDEX_TAIL || memcmp(got, want, head) != 0 ||
      memcmp(got + head, "sha256 ", 7) != 0 || !is_lower_hex(got + head + 7, 64))
    return false;
  memcpy(sha, got + head + 7, 64);
  sha[64] = '\0';
  record_tail(want, head, sha);
  return memcmp(got, want, n) == 0;
}

/* Whether the stamp of p's file may stand for its bytes (see plugin.h). */
static bool indexable(const wp_plugin *p) {
  const wp_plugin_file *f = p->file;
  return f && f->steady && settled(&f->stamp) && p->engine->cache_dir;
}

wp_error *wp_cache_index_find(wp_plugin *p) {
  if (!indexable(p)) return NULL;
  int dirfd, fd;
  wp_error *err = open_cache_dir(p, &dirfd);
  if (err || dirfd < 0) return err;
  char name[WP_CACHE_NAME_MAX];
  wp_cache_index_name(p->file->path, &p->file->stamp, name, sizeof name);
  err = open_entry(p, dirfd, name, &fd);
  if (!err && fd >= 0) {
    p->sha256_indexed = read_record(fd, p->file->path, &p->file->stamp, p->sha256_hex);
    if (!p->sha256_indexed) p->sha256_hex[0] = '\0';
    close(fd);
  }
  close(dirfd);
  return err;
}

/* Best effort, like entries: without an index the next load hashes. */
void wp_cache_index_store(wp_plugin *p) {
  char rec[WP_CACHE_INDEX_MAX], name[WP_CACHE_NAME_MAX], tmp[WP_CACHE_NAME_MAX + 48];
  size_t len = indexable(p) ? wp_cache_index_record(p->file->path, &p->file->stamp, p->sha256_hex,
                                                    rec, sizeof rec)
                            : 0;
  int dirfd = -1;
  wp_error *err = len ? open_cache_dir(p, &dirfd) : NULL;
  wp_error_free(err);
  if (dirfd < 0) return;
  wp_cache_index_name(p->file->path, &p->file->stamp, name, sizeof name);
  int fd = create_temp(dirfd, name, tmp, sizeof tmp);
  if (fd >= 0) {
    bool ok = write_all(fd, (const uint8_t *)rec, len);
    ok = (close(fd) == 0) && ok;
    if (!ok || renameat(dirfd, tmp, dirfd, name) != 0) unlinkat(dirfd, tmp, 0);
  }
  close(dirfd);
}

/* The index named no usable entry: what gets compiled is filed under, and
   reported with, the sha256 of the bytes themselves, not the index's word. */
static void unindex(wp_plugin *p) {
  if (!p->sha256_indexed) return;
  wp_sha256_hex(p->file->bytes, p->file->len, p->sha256_hex);
  p->sha256_indexed = false;
}

/* Compiles the bytes (no cache involved). */
static wp_error *compile(wp_plugin *p, const uint8_t *wasm, size_t len, wasmtime_module_t **module,
                         wasmtime_component_t **component) {
  wasm_engine_t *engine = p->flavor->engine;
  wasmtime_error_t *werr = component ? wasmtime_component_new(engine, wasm, len, component)
                                     : wasmtime_module_new(engine, wasm, len, module);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_LOAD, werr, WP_PLUGIN_FMT ": not a valid WebAssembly %s",
                                  p->name, component ? "component" : "module");
  return NULL;
}

/* Loads the entry for p's sha256 if there is a good one (p->cached); `name`
   is its name. A damaged entry (Wasmtime rejects it) is removed. */
static wp_error *load_cached(wp_plugin *p, int dirfd, char name[WP_CACHE_NAME_MAX],
                             wasmtime_module_t **module, wasmtime_component_t **component) {
  entry_name(p, name, WP_CACHE_NAME_MAX);
  int fd;
  wp_error *err = open_entry(p, dirfd, name, &fd);
  if (!err && fd >= 0) {
    p->cached = load_entry(p, fd, module, component);
    close(fd);
    /* Rejected by Wasmtime (another version, damaged): compile and replace. */
    if (!p->cached) unlinkat(dirfd, name, 0);
  }
  return err;
}

wp_error *wp_cache_compile(struct wp_plugin *p, const uint8_t *wasm, size_t len,
                           wasmtime_module_t **module, wasmtime_component_t **component) {
  int dirfd = -1;
  wp_error *err = p->engine->cache_dir ? open_cache_dir(p, &dirfd) : NULL;
  if (!err && dirfd < 0) unindex(p);
  if (err || dirfd < 0) return err ? err : compile(p, wasm, len, module, component);

  char name[WP_CACHE_NAME_MAX];
  err = load_cached(p, dirfd, name, module, component);
  if (!err && !p->cached && p->sha256_indexed) {
    unindex(p);
    err = load_cached(p, dirfd, name, module, component);
  }
  if (!err && !p->cached) {
    err = compile(p, wasm, len, module, component);
    if (!err) store_entry(dirfd, name, module ? *module : NULL, component ? *component : NULL);
  }
  close(dirfd);
  return err;
}
