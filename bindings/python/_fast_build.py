"""Builds wasmplug's optional compiled fast path: a cffi module in
out-of-line API mode (wasmplug._wasmplug_fast) over the installed
libwasmplug. The binding works without it (ctypes); with it, the hot calls
(numeric calls through a function handle, bytes and string calls) cost a
fraction of a ctypes call.

Two ways it is built:

- `pip install bindings/python`: setup.py hands `ffibuilder` below to
  cffi's setuptools hook (cffi_modules); the module lands in the package.
  The build is optional: without a compiler or the headers, pip installs
  the ctypes binding alone.
- from the source tree (test.sh, bench.sh):

      python3 _fast_build.py --cache-root ~/.cache/wasmplug/python-cffi

  compiles once into CACHE_ROOT/<key>/ (key: the installed headers, the
  library directory, this file and the Python version) and prints that
  directory; point WASMPLUG_PY_FAST_DIR at it. Nothing is written into the
  source tree.

The headers and the library come from $WASMPLUG_PREFIX (include/ and the
libdir of its wasmplug.pc), else from pkg-config wasmplug. The module is
linked with an rpath to that libdir.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

MODULE = "wasmplug._wasmplug_fast"

CDEF = r"""
typedef struct wpf_inst wpf_inst;
typedef struct {
    wpf_inst *inst;
    uint32_t fid;
    int np;
    int nres;
    int pk[3];
    int rk;
} wpf_func;

#define WPF_OK 0
#define WPF_BUSY 1
#define WPF_CLOSED 2
#define WPF_RANGE 3
#define WPF_ERR 4
#define WPF_NOMEM 5

wpf_inst *wpf_inst_new(uintptr_t instance);
void wpf_inst_free(wpf_inst *in);
void wpf_inst_clear(wpf_inst *in);
int wpf_try_lock(wpf_inst *in);
void wpf_lock(wpf_inst *in);
void wpf_unlock(wpf_inst *in);

int wpf_status(void);
uintptr_t wpf_take_error(void);
void *wpf_take_big(void);
void wpf_free(void *p);

int64_t wpf_call_i0(wpf_func *f);
int64_t wpf_call_i1(wpf_func *f, int64_t a);
int64_t wpf_call_i2(wpf_func *f, int64_t a, int64_t b);
int64_t wpf_call_i3(wpf_func *f, int64_t a, int64_t b, int64_t c);
double wpf_call_f0(wpf_func *f);
double wpf_call_f1(wpf_func *f, double a);
double wpf_call_f2(wpf_func *f, double a, double b);
double wpf_call_f3(wpf_func *f, double a, double b, double c);
int64_t wpf_call_bytes(wpf_func *f, const char *data, size_t n, char *buf, size_t cap,
                       int held);
int wpf_call_vals(wpf_func *f, const void *args, size_t nargs, void *res, size_t nres);
uintptr_t wpf_call_func_addr(void);
"""

SOURCE = r"""
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmplug.h"

#define WPF_OK 0
#define WPF_BUSY 1
#define WPF_CLOSED 2
#define WPF_RANGE 3
#define WPF_ERR 4
#define WPF_NOMEM 5

/* One per Python Instance: the instance's lock. Taking it free costs one
 * compare-and-swap (the call path); waiting for it (another thread's call,
 * close()) sleeps on a condition variable with the GIL released. Any
 * thread may release it. `ptr` is cleared, under the lock, when the
 * instance is closed: a call after that gets WPF_CLOSED. */
typedef struct wpf_inst {
  wp_instance *ptr;
  atomic_int busy;
  atomic_int waiters;
  pthread_mutex_t m;
  pthread_cond_t c;
} wpf_inst;

typedef struct {
  wpf_inst *inst;
  uint32_t fid;
  int np;
  int nres;
  int pk[3];
  int rk;
} wpf_func;

/* A failed call's status and error, per thread (read only when a call
 * returned the sentinel): nothing shared between threads calling the same
 * function handle. */
static _Thread_local int tls_status;
static _Thread_local wp_error *tls_err;
static _Thread_local void *tls_big;

wpf_inst *wpf_inst_new(uintptr_t instance) {
  wpf_inst *in = calloc(1, sizeof *in);
  if (!in) return NULL;
  in->ptr = (wp_instance *)instance;
  atomic_init(&in->busy, 0);
  atomic_init(&in->waiters, 0);
  pthread_mutex_init(&in->m, NULL);
  pthread_cond_init(&in->c, NULL);
  return in;
}

void wpf_inst_free(wpf_inst *in) {
  if (!in) return;
  pthread_mutex_destroy(&in->m);
  pthread_cond_destroy(&in->c);
  free(in);
}

void wpf_inst_clear(wpf_inst *in) { in->ptr = NULL; }

int wpf_try_lock(wpf_inst *in) {
  int expected = 0;
  return atomic_compare_exchange_strong(&in->busy, &expected, 1);
}

void wpf_lock(wpf_inst *in) {
  if (wpf_try_lock(in)) return;
  pthread_mutex_lock(&in->m);
  atomic_fetch_add(&in->waiters, 1);
  while (!wpf_try_lock(in)) pthread_cond_wait(&in->c, &in->m);
  atomic_fetch_sub(&in->waiters, 1);
  pthread_mutex_unlock(&in->m);
}

void wpf_unlock(wpf_inst *in) {
  atomic_store(&in->busy, 0);
  if (atomic_load(&in->waiters) > 0) {
    pthread_mutex_lock(&in->m);
    pthread_cond_broadcast(&in->c);
    pthread_mutex_unlock(&in->m);
  }
}

int wpf_status(void) { return tls_status; }

uintptr_t wpf_take_error(void) {
  wp_error *e = tls_err;
  tls_err = NULL;
  return (uintptr_t)e;
}

void *wpf_take_big(void) {
  void *p = tls_big;
  tls_big = NULL;
  return p;
}

void wpf_free(void *p) { free(p); }

uintptr_t wpf_call_func_addr(void) { return (uintptr_t)&wp_instance_call_func; }

/* A numeric call of any signature: args and res are wp_val arrays (the
 * caller's, per thread). Returns a status. */
int wpf_call_vals(wpf_func *f, const void *args, size_t nargs, void *res, size_t nres) {
  wpf_inst *in = f->inst;
  if (!wpf_try_lock(in)) return WPF_BUSY;
  if (!in->ptr) {
    wpf_unlock(in);
    return WPF_CLOSED;
  }
  wp_error *err = wp_instance_call_func(in->ptr, f->fid, (const wp_val *)args, nargs,
                                        (wp_val *)res, nres);
  wpf_unlock(in);
  if (err) {
    tls_err = err;
    return WPF_ERR;
  }
  return WPF_OK;
}

/* The calls of up to three numbers of one family (integers or floats), which
 * need no wp_val array from Python: wpf_call_vals behind them. */
#define SENT_I INT64_MIN

static int64_t call_i(wpf_func *f, int n, int64_t a, int64_t b, int64_t c) {
  int64_t v[3] = {a, b, c};
  for (int i = 0; i < n; i++) {
    if (f->pk[i] == WP_I32 && (v[i] < INT32_MIN || v[i] > (int64_t)UINT32_MAX)) {
      tls_status = WPF_RANGE;
      return SENT_I;
    }
  }
  wp_val args[3], res[1];
  for (int i = 0; i < n; i++) {
    args[i].kind = (wp_valkind)f->pk[i];
    if (f->pk[i] == WP_I32)
      args[i].of.i32 = (int32_t)(uint32_t)v[i];
    else
      args[i].of.i64 = v[i];
  }
  res[0].kind = (wp_valkind)f->rk;
  res[0].of.i64 = 0;
  if ((tls_status = wpf_call_vals(f, args, (size_t)n, res, (size_t)f->nres)) != WPF_OK)
    return SENT_I;
  if (!f->nres) return 0;
  return f->rk == WP_I32 ? (int64_t)res[0].of.i32 : res[0].of.i64;
}

int64_t wpf_call_i0(wpf_func *f) { return call_i(f, 0, 0, 0, 0); }
int64_t wpf_call_i1(wpf_func *f, int64_t a) { return call_i(f, 1, a, 0, 0); }
int64_t wpf_call_i2(wpf_func *f, int64_t a, int64_t b) { return call_i(f, 2, a, b, 0); }
int64_t wpf_call_i3(wpf_func *f, int64_t a, int64_t b, int64_t c) {
  return call_i(f, 3, a, b, c);
}

static double call_f(wpf_func *f, int n, double a, double b, double c) {
  /* An f32 argument is the double rounded, as the ctypes path does (a value
   * too large becomes an infinity). */
  double v[3] = {a, b, c};
  wp_val args[3], res[1];
  for (int i = 0; i < n; i++) {
    args[i].kind = (wp_valkind)f->pk[i];
    if (f->pk[i] == WP_F32)
      args[i].of.f32 = (float)v[i];
    else
      args[i].of.f64 = v[i];
  }
  res[0].kind = (wp_valkind)f->rk;
  res[0].of.f64 = 0;
  if ((tls_status = wpf_call_vals(f, args, (size_t)n, res, (size_t)f->nres)) != WPF_OK)
    return NAN;
  if (!f->nres) return 0;
  return f->rk == WP_F32 ? (double)res[0].of.f32 : res[0].of.f64;
}

double wpf_call_f0(wpf_func *f) { return call_f(f, 0, 0, 0, 0); }
double wpf_call_f1(wpf_func *f, double a) { return call_f(f, 1, a, 0, 0); }
double wpf_call_f2(wpf_func *f, double a, double b) { return call_f(f, 2, a, b, 0); }
double wpf_call_f3(wpf_func *f, double a, double b, double c) { return call_f(f, 3, a, b, c); }


/* Bytes in, bytes out: >= 0 is the output's length, copied into buf when it
 * fits in cap, else into memory to take with wpf_take_big (the output the
 * library returns is the instance's and valid only until its next call, so
 * it is copied before the lock is let go). < 0 is -status. With held, the
 * caller holds the lock already and keeps it. */
int64_t wpf_call_bytes(wpf_func *f, const char *data, size_t n, char *buf, size_t cap,
                       int held) {
  wpf_inst *in = f->inst;
  if (!held && !wpf_try_lock(in)) return -WPF_BUSY;
  if (!in->ptr) {
    if (!held) wpf_unlock(in);
    return -WPF_CLOSED;
  }
  const uint8_t *out = NULL;
  size_t outlen = 0;
  wp_error *err = wp_instance_call_func_bytes(in->ptr, f->fid, data, n, &out, &outlen);
  int64_t r;
  if (err) {
    tls_err = err;
    r = -WPF_ERR;
  } else if (outlen <= cap) {
    if (outlen) memcpy(buf, out, outlen);
    r = (int64_t)outlen;
  } else {
    void *big = malloc(outlen);
    if (!big) {
      r = -WPF_NOMEM;
    } else {
      memcpy(big, out, outlen);
      free(tls_big);
      tls_big = big;
      r = (int64_t)outlen;
    }
  }
  if (!held) wpf_unlock(in);
  return r;
}
"""


def _pkg_config(*args):
    try:
        return subprocess.run(["pkg-config", *args, "wasmplug"], check=True, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def find_prefix():
    """(include_dir, lib_dir) of the installed wasmplug."""
    prefix = os.environ.get("WASMPLUG_PREFIX")
    if prefix:
        pc = os.path.join(prefix, "lib", "pkgconfig")
        env_pc = os.environ.get("PKG_CONFIG_PATH")
        os.environ["PKG_CONFIG_PATH"] = pc + (":" + env_pc if env_pc else "")
        try:
            libdir = _pkg_config("--variable=libdir")
        finally:
            if env_pc is None:
                del os.environ["PKG_CONFIG_PATH"]
            else:
                os.environ["PKG_CONFIG_PATH"] = env_pc
        return (os.path.join(prefix, "include"),
                os.path.normpath(libdir or os.path.join(prefix, "lib")))
    inc = _pkg_config("--variable=includedir")
    libdir = _pkg_config("--variable=libdir")
    if inc and libdir:
        return os.path.normpath(inc), os.path.normpath(libdir)
    return "/usr/local/include", "/usr/local/lib"


def make_ffi(include_dir, lib_dir):
    from cffi import FFI
    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(MODULE, SOURCE, include_dirs=[include_dir], library_dirs=[lib_dir],
                   runtime_library_dirs=[lib_dir], libraries=["wasmplug"],
                   extra_compile_args=["-std=gnu11", "-O2"])
    return ffi


def cache_key(include_dir, lib_dir):
    import cffi
    h = hashlib.sha256()
    names = ["wasmplug.h"]
    for d, _dirs, files in os.walk(os.path.join(include_dir, "wasmplug")):
        names += [os.path.relpath(os.path.join(d, n), include_dir) for n in files]
    for name in sorted(names):
        h.update(name.encode() + b"\0")
        with open(os.path.join(include_dir, name), "rb") as f:
            h.update(f.read())
    h.update(os.path.realpath(lib_dir).encode() + b"\0")
    h.update((CDEF + SOURCE).encode())
    h.update(f"{sys.version} {sys.implementation.cache_tag} {sys.platform} "
             f"cffi {cffi.__version__}".encode())
    return h.hexdigest()[:20]


def build_cached(root):
    """Compiles into root/<key>/ unless it is there; returns that directory."""
    inc, libdir = find_prefix()
    if not os.path.isfile(os.path.join(inc, "wasmplug.h")):
        raise SystemExit(f"_fast_build: no wasmplug.h in {inc}")
    dest = os.path.join(root, cache_key(inc, libdir))
    if os.path.isfile(os.path.join(dest, "ok")):
        return dest
    os.makedirs(root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".build-", dir=root)
    try:
        make_ffi(inc, libdir).compile(tmpdir=tmp, verbose=False)
        open(os.path.join(tmp, "ok"), "w").close()
        try:
            os.rename(tmp, dest)            # atomic: a racing build loses harmlessly
        except OSError:
            if not os.path.isfile(os.path.join(dest, "ok")):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-root", required=True)
    print(build_cached(ap.parse_args().cache_root))
else:
    # For setup.py's cffi_modules = ["_fast_build.py:ffibuilder"].
    ffibuilder = make_ffi(*find_prefix())
