/*
 * hash.c - SipHash-1-3 and its random keys (hash.h).
 */
#define _GNU_SOURCE
#include "util/hash.h"

#include <sys/random.h>
#include <time.h>

static uint64_t rotl(uint64_t x, int b) { return x << b | x >> (64 - b); }

static void sip_round(uint64_t v[4]) {
  v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
  v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
  v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
  v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

uint64_t wp_siphash13(const uint64_t key[2], const void *data, size_t len) {
  uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
                   key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL};
  const unsigned char *u = data;
  uint64_t m;
  size_t i, j;
  for (i = 0; i + 8 <= len; i += 8) {
    for (m = 0, j = 0; j < 8; j++) m |= (uint64_t)u[i + j] << (8 * j);
    v[3] ^= m, sip_round(v), v[0] ^= m;
  }
  for (m = (uint64_t)len << 56, j = 0; i + j < len; j++) m |= (uint64_t)u[i + j] << (8 * j);
  v[3] ^= m, sip_round(v), v[0] ^= m;
  v[2] ^= 0xff;
  sip_round(v), sip_round(v), sip_round(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void wp_hash_seed(uint64_t key[2]) {
  if (getrandom(key, 2 * sizeof *key, GRND_NONBLOCK) == (ssize_t)(2 * sizeof *key)) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  key[0] = (uint64_t)(uintptr_t)key ^ (uint64_t)ts.tv_nsec << 21;
  key[1] = (uint64_t)ts.tv_sec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&ts;
}
