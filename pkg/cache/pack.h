/* The store's text, shorter: compact JSON with the keys and fragments every
 * Kubernetes object repeats ("metadata":{, "lastTransitionTime":", ...)
 * each replaced by one byte between 0x01 and 0x1f. Compact JSON never holds
 * such a byte (JSON escapes control characters inside strings and has no
 * whitespace outside them), so unpacking is exact whatever the text: each
 * of those bytes expands back to its fragment, every other byte stays.
 *
 * A third of a Notebook's cached text goes (bench_store, docs/runtime.md);
 * unpacking is one pass before the decode a read does anyway. */
#ifndef CUBIT_CACHE_PACK_H
#define CUBIT_CACHE_PACK_H

#include <stddef.h>

/* Packs json[0..len) (compact JSON) into a new block of *out_len bytes;
 * caller frees. */
char *cache_pack(const char *json, size_t len, size_t *out_len);
/* The length of packed[0..len) unpacked. */
size_t cache_unpacked_len(const char *packed, size_t len);
/* Unpacks packed[0..len) into out, which holds cache_unpacked_len bytes. */
void cache_unpack(const char *packed, size_t len, char *out);

#endif
