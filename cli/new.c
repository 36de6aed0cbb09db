/*
 * new.c - `wasmplug new TEMPLATE NAME`: a ready-to-build plugin project from
 * one of the installed templates (share/wasmplug/templates/TEMPLATE/).
 *
 * Every file of the template is copied with `{{name}}` replaced by NAME, in
 * its contents and its file name, keeping the executable bit. The template's
 * own `template.conf` is not copied; it holds
 *   description = one line for `wasmplug new --list`
 *   copy = ROOT/PATH DEST     vendors an installed file or directory, as is
 * where ROOT is one of the names of `wasmplug tools path` (wit, go-pdk,
 * as-pdk, include, wasi-http-wit, templates), so projects carry their WIT and PDK
 * with them. Files several templates share live in templates/_shared/ (not
 * a template: its name cannot be one) and are copied in the same way.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug new TEMPLATE NAME [--dir DIR]\n"
    "       wasmplug new --list\n"
    "\n"
    "Makes a plugin project from a template in DIR (default: ./NAME), which\n"
    "must not exist or be empty. NAME: letters, digits, '-' and '_', starting\n"
    "with a letter. Then: cd DIR && make && make test (see its README.md).\n";

enum { MAX_NAME = 64 };

static bool valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in DIR, without "." and ".."; NULL on failure. */
static char **list_dir(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (!d) return NULL;
  size_t n = 0, cap = 16;
  char **v = malloc(cap * sizeof *v);
  struct dirent *e;
  while (v && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      char **nv = realloc(v, (cap *= 2) * sizeof *v);
      if (!nv) break;
      v = nv;
    }
    if (!(v[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (!v) return NULL;
  qsort(v, n, sizeof *v, cmp_str);
  *count = n;
  return v;
}

static void free_list(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* The value of `key = value` in a template's template.conf, malloc'ed. */
static char *conf_get(const char *tdir, const char *key) {
  char path[PATH_MAX + 32], line[1024];
  snprintf(path, sizeof path, "%s/template.conf", tdir);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *val = NULL;
  size_t klen = strlen(key);
  while (!val && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, key, klen) != 0) continue;
    const char *p = line + klen;
    while (*p == ' ') p++;
    if (*p++ != '=') continue;
    while (*p == ' ') p++;
    val = strdup(p);
  }
  fclose(f);
  return val;
}

static int list_templates(const char *root, FILE *out) {
  size_t n;
  char **v = list_dir(root, &n);
  if (!v) {
    fprintf(stderr, "wasmplug new: cannot read the templates in %s: %s\n", root, strerror(errno));
    return CLI_PLUGIN_FAILED;
  }
  for (size_t i = 0; i < n; i++) {
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%s/%s", root, v[i]);
    char *desc = conf_get(tdir, "description");
    if (desc) fprintf(out, "  %-14s %s\n", v[i], desc);
    free(desc);
  }
  free_list(v, n);
  return CLI_OK;
}

/* S with every "{{name}}" replaced by NAME, malloc'ed. */
static char *substitute(const char *s, size_t len, const char *name, size_t *out_len) {
  static const char key[] = "{{name}}";
  size_t klen = sizeof key - 1, nlen = strlen(name), count = 0;
  for (size_t i = 0; i + klen <= len; i++)
    if (memcmp(s + i, key, klen) == 0) count++, i += klen - 1;
  size_t total = len + count * nlen; /* nlen <= MAX_NAME: no wrap */
  char *out = malloc(total + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    if (i + klen <= len && memcmp(s + i, key, klen) == 0) {
      memcpy(out + o, name, nlen);
      o += nlen, i += klen;
    } else {
      out[o++] = s[i++];
    }
  }
  out[o] = '\0';
  *out_len = o;
  return out;
}

static bool write_file(const char *path, const char *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      close(fd);
      return false;
    }
    off += (size_t)w;
  }
  return close(fd) == 0;
}

static bool fail_path(const char *what, const char *path) {
  fprintf(stderr, "wasmplug new: %s %s: %s\n", what, path, strerror(errno));
  return false;
}

/* Copies SRC (a file or directory) to DST; NAME non-NULL: substitute it. */
static bool copy_tree(const char *src, const char *dst, const char *name) {
  struct stat st;
  if (stat(src, &st) != 0) return fail_path("cannot read", src);
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(dst, 0755) != 0 && errno != EEXIST) return fail_path("cannot create", dst);
    size_t n;
    char **v = list_dir(src, &n);
    if (!v) return fail_path("cannot read", src);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
      if (name && strcmp(v[i], "template.conf") == 0) continue;
      char *fname = v[i];
      size_t flen;
      char *sub = name ? substitute(v[i], strlen(v[i]), name, &flen) : NULL;
      if (sub) fname = sub;
      char s[PATH_MAX], d[PATH_MAX];
      int a = snprintf(s, sizeof s, "%s/%s", src, v[i]);
      int b = snprintf(d, sizeof d, "%s/%s", dst, fname);
      if (a < 0 || b < 0 || (size_t)a >= sizeof s || (size_t)b >= sizeof d) {
        fprintf(stderr, "wasmplug new: path too long under %s\n", dst);
        ok = false;
      } else {
        ok = copy_tree(s, d, name);
      }
      free(sub);
    }
    free_list(v, n);
    return ok;
  }
  if (!S_ISREG(st.st_mode)) return true; /* nothing else belongs in a template */
  char *data;
  size_t len;
  if (!cli_read_file(src, &data, &len)) return fail_path("cannot read", src);
  char *out = data;
  size_t out_len = len;
  if (name && !(out = substitute(data, len, name, &out_len))) {
    free(data);
    fputs("wasmplug new: out of memory\n", stderr);
    return false;
  }
  mode_t mode = (st.st_mode & 0111) ? 0755 : 0644;
  bool ok = write_file(dst, out, out_len, mode);
  if (!ok) fail_path("cannot write", dst);
  if (out != data) free(out);
  free(data);
  return ok;
}

/* Runs the template's `copy = ROOT/PATH DEST` lines. */
static bool vendor(const char *tdir, const char *dest) {
  char path[PATH_MAX + 32], line[1024];
  snprintf(path, sizeof path, "%s/template.conf", tdir);
  FILE *f = fopen(path, "r");
  if (!f) return true;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) {
    char root[64], rel[512], to[512];
    if (sscanf(line, " copy = %63[^/ ]/%511s %511s", root, rel, to) != 3) {
      if (sscanf(line, " copy = %63s %511s", root, to) != 2) continue;
      rel[0] = '\0';
    }
    char base[PATH_MAX], s[PATH_MAX * 2], d[PATH_MAX * 2];
    if (strstr(rel, "..") || strstr(to, "..") || to[0] == '/' ||
        !cli_share_path(root, base, sizeof base) || !base[0]) {
      fprintf(stderr, "wasmplug new: the template's '%s' is not installed with this wasmplug\n",
              root);
      ok = false;
      break;
    }
    snprintf(s, sizeof s, "%s%s%s", base, rel[0] ? "/" : "", rel);
    snprintf(d, sizeof d, "%s/%s", dest, to);
    /* The parents of DEST, e.g. wit/deps/ for wit/deps/wasmplug. */
    for (char *p = d + strlen(dest) + 1; (p = strchr(p, '/')); p++) {
      *p = '\0';
      if (mkdir(d, 0755) != 0 && errno != EEXIST) ok = fail_path("cannot create", d);
      *p = '/';
    }
    ok = ok && copy_tree(s, d, NULL);
  }
  fclose(f);
  return ok;
}

/* True when DIR may be written: absent, or an empty directory. */
static bool dest_free(const char *dir) {
  struct stat st;
  if (lstat(dir, &st) != 0) return errno == ENOENT;
  if (!S_ISDIR(st.st_mode)) return false;
  size_t n;
  char **v = list_dir(dir, &n);
  if (!v) return false;
  free_list(v, n);
  return n == 0;
}

int cmd_new(int argc, char **argv) {
  const char *pos[2] = {0}, *dir = NULL;
  size_t npos = 0;
  bool list = false;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return CLI_OK;
    } else if (strcmp(argv[i], "--list") == 0) {
      list = true;
    } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (argv[i][0] == '-' || npos == 2) {
      fprintf(stderr, "wasmplug new: unexpected argument '%s'\n%s", argv[i], usage);
      return CLI_USAGE;
    } else {
      pos[npos++] = argv[i];
    }
  }
  char root[PATH_MAX];
  if (!cli_share_path("templates", root, sizeof root)) {
    fputs("wasmplug new: cannot find the templates directory\n", stderr);
    return CLI_PLUGIN_FAILED;
  }
  if (list) return list_templates(root, stdout);
  if (npos != 2) {
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *tmpl = pos[0], *name = pos[1];
  char tdir[PATH_MAX + 8];
  struct stat st;
  snprintf(tdir, sizeof tdir, "%s/%s", root, tmpl);
  if (!valid_name(tmpl) || stat(tdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "wasmplug new: no template '%s'; the templates are:\n", tmpl);
    list_templates(root, stderr);
    return CLI_USAGE;
  }
  if (!valid_name(name)) {
    fprintf(stderr,
            "wasmplug new: bad project name '%s': use up to %d letters, digits, '-' and '_', "
            "starting with a letter\n",
            name, MAX_NAME);
    return CLI_USAGE;
  }
  if (!dir) dir = name;
  if (!dest_free(dir)) {
    fprintf(stderr,
            "wasmplug new: '%s' already exists and is not an empty directory; choose another "
            "NAME or --dir\n",
            dir);
    return CLI_PLUGIN_FAILED;
  }
  if (!copy_tree(tdir, dir, name) || !vendor(tdir, dir)) return CLI_PLUGIN_FAILED;
  printf("created %s from template '%s'; next: cd %s && make && make test\n", dir, tmpl, dir);
  return CLI_OK;
}
