/*
 * hash.h - a keyed hash for tables whose keys come from untrusted input
 * (manifests, filters): SipHash-1-3 under a random key, so that nobody can
 * pick keys that all land in one slot without knowing the key.
 */
#ifndef WP_UTIL_HASH_H
#define WP_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of `len` bytes under `key`. */
uint64_t wp_siphash13(const uint64_t key[2], const void *data, size_t len);

/* A fresh random key (the kernel's randomness; without it, the clock and
   addresses, which still differ between processes: enough against keys
   prepared in advance). */
void wp_hash_seed(uint64_t key[2]);

#endif
