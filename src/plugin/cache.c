/*
 * cache.c - compile a plugin, or load its compiled code from the disk cache.
 *
 * Entries are <cache_dir>/<sha256 of the plugin>-<hash of the engine config>.cwasm,
 * written to a temporary name and renamed, so readers never see half a file.
 * Wasmtime also checks on load that an entry matches the engine exactly;
 * an entry it rejects (other version, corrupt) is compiled again and replaced.
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

static void entry_path(const wp_plugin *p, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s-%s.cwasm", p->engine->cache_dir, p->sha256_hex, p->flavor->cache_key);
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

/* Best effort: a cache that cannot be written only costs a recompile later. */
static void store_entry(const wp_plugin *p, const char *path, const wasmtime_component_t *component) {
  if (!make_dirs(p->engine->cache_dir)) return;
  wasm_byte_vec_t blob;
  wasmtime_error_t *werr = component ? wasmtime_component_serialize(component, &blob)
                                     : wasmtime_module_serialize(p->module, &blob);
  if (werr) {
    wasmtime_error_delete(werr);
    return;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    bool ok = write_all(fd, (const uint8_t *)blob.data, blob.size);
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
  }
  wasm_byte_vec_delete(&blob);
}

wp_error *wp_cache_compile(struct wp_plugin *p, const uint8_t *wasm, size_t len,
                           wasmtime_component_t **component) {
  char path[4096];
  wasm_engine_t *engine = p->flavor->engine;
  if (p->engine->cache_dir) {
    entry_path(p, path, sizeof path);
    if (access(path, R_OK) == 0) {
      wasmtime_error_t *werr = component ? wasmtime_component_deserialize_file(engine, path, component)
                                         : wasmtime_module_deserialize_file(engine, path, &p->module);
      if (!werr) {
        p->cached = true;
        return NULL;
      }
      wasmtime_error_delete(werr);
      unlink(path);
    }
  }
  wasmtime_error_t *werr = component ? wasmtime_component_new(engine, wasm, len, component)
                                     : wasmtime_module_new(engine, wasm, len, &p->module);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_LOAD, werr, WP_PLUGIN_FMT ": not a valid WebAssembly %s", p->name,
                                  component ? "component" : "module");
  if (p->engine->cache_dir) store_entry(p, path, component ? *component : NULL);
  return NULL;
}
