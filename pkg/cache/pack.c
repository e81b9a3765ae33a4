#include "cache/pack.h"

#include <string.h>

#include "util/alloc.h"

/* Chosen by counting in the objects a Notebook caches (itself, its
 * StatefulSet, Service, claim, VirtualService and pod); at most 31. The
 * code of fragments[i] is i + 1. */
#define F(s) {s, sizeof(s) - 1}
static const struct {
  const char *text;
  size_t len;
} fragments[] = {
    F("\"metadata\":{"),
    F("\"name\":\""),
    F("\"namespace\":\""),
    F("\"uid\":\""),
    F("\"resourceVersion\":\""),
    F("\"creationTimestamp\":\""),
    F("\"labels\":{"),
    F("\"annotations\":{"),
    F("\"ownerReferences\":[{\"apiVersion\":\""),
    F("\"blockOwnerDeletion\":true,\"controller\":true,\"kind\":\""),
    F("\"lastTransitionTime\":\""),
    F("\"observedGeneration\":"),
    F("\"message\":\""),
    F("\"reason\":\""),
    F("\"status\":\"True\""),
    F("\"status\":\"False\""),
    F("\"type\":\""),
    F("\"generation\":"),
    F("\"app.kubernetes.io/managed-by\":\"cubit\""),
    F("\"cubit.dev/notebook\":\""),
    F("\"conditions\":[{"),
    F("{\"apiVersion\":\""),
    F("\"kind\":\""),
    F("\"spec\":{"),
    F("\"status\":{"),
    F("\"containers\":[{"),
    F("\"resources\":{"),
    F("\"cubit.dev/applied\":\""),
    F("\"containerStatuses\":[{"),
    F("\"state\":{"),
    F("\"memory\":\""),
};
#undef F
#define NFRAGMENTS (sizeof(fragments) / sizeof(fragments[0]))
_Static_assert(NFRAGMENTS <= 31, "one byte code per fragment, 0x01 to 0x1f");

/* The code of the longest fragment at p (n bytes left), or 0. Every
 * fragment starts with '"' or '{'. */
static int fragment_at(const char *p, size_t n, size_t *flen) {
  if (*p != '"' && *p != '{') return 0;
  int best = 0;
  size_t best_len = 0;
  for (size_t i = 0; i < NFRAGMENTS; i++) {
    size_t l = fragments[i].len;
    if (l > best_len && l <= n && memcmp(p, fragments[i].text, l) == 0) {
      best = (int)i + 1;
      best_len = l;
    }
  }
  *flen = best_len;
  return best;
}

char *cache_pack(const char *json, size_t len, size_t *out_len) {
  char *out = xmalloc(len ? len : 1);
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    size_t flen;
    int code = fragment_at(json + i, len - i, &flen);
    if (code) {
      out[o++] = (char)code;
      i += flen;
    } else {
      out[o++] = json[i++];
    }
  }
  *out_len = o;
  return xrealloc(out, o ? o : 1);
}

size_t cache_unpacked_len(const char *packed, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)packed[i];
    n += c >= 1 && c <= NFRAGMENTS ? fragments[c - 1].len : 1;
  }
  return n;
}

void cache_unpack(const char *packed, size_t len, char *out) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)packed[i];
    if (c >= 1 && c <= NFRAGMENTS) {
      memcpy(out, fragments[c - 1].text, fragments[c - 1].len);
      out += fragments[c - 1].len;
    } else {
      *out++ = (char)c;
    }
  }
}
