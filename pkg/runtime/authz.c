#include "runtime/authz.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

#define LOGGER "authz"

static const kube_resource tokenreviews = {"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", 0};
static const kube_resource subjectaccessreviews = {"authorization.k8s.io", "v1", "subjectaccessreviews",
                                                   "SubjectAccessReview", 0};

/* One cached decision. The key is hex(SHA-256(token)) " " verb " " path. */
typedef struct entry {
  char *key;
  int status;
  char user[256];
  char reason[512];
  int64_t expires;
  UT_hash_handle hh;
} entry;

struct rt_authz {
  kube_client *client;
  rt_authz_options o;
  pthread_mutex_t mu; /* guards cache, n and inflight */
  entry *cache;
  size_t n;
  int inflight;
};

rt_authz *rt_authz_new(kube_client *c, const rt_authz_options *o) {
  rt_authz *a = xcalloc(1, sizeof(*a));
  a->client = c;
  if (o) a->o = *o;
  if (a->o.allow_ttl_s <= 0) a->o.allow_ttl_s = 60;
  if (a->o.deny_ttl_s <= 0) a->o.deny_ttl_s = 10;
  if (a->o.max_entries == 0) a->o.max_entries = 1024;
  if (a->o.max_inflight <= 0) a->o.max_inflight = 2;
  pthread_mutex_init(&a->mu, NULL);
  return a;
}

static void entry_free(entry *e) {
  free(e->key);
  free(e);
}

void rt_authz_free(rt_authz *a) {
  if (a == NULL) return;
  entry *e, *tmp;
  HASH_ITER(hh, a->cache, e, tmp) {
    HASH_DEL(a->cache, e);
    entry_free(e);
  }
  pthread_mutex_destroy(&a->mu);
  free(a);
}

/* ---- pure parts ---- */

int rt__authz_bearer(const char *header, char *out, size_t outlen) {
  if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) return -1;
  const char *t = header + 6;
  while (*t == ' ' || *t == '\t') t++;
  size_t n = strlen(t);
  while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t')) n--;
  if (n == 0 || n >= outlen) return -1;
  for (size_t i = 0; i < n; i++)
    if (!isgraph((unsigned char)t[i])) return -1; /* one token, printable */
  memcpy(out, t, n);
  out[n] = '\0';
  return 0;
}

const char *rt__authz_verb(const char *method) {
  static const char *const map[][2] = {{"GET", "get"},     {"HEAD", "get"},   {"POST", "post"},
                                       {"PUT", "put"},     {"PATCH", "patch"}, {"DELETE", "delete"}};
  for (size_t i = 0; method && i < sizeof(map) / sizeof(map[0]); i++)
    if (strcmp(method, map[i][0]) == 0) return map[i][1];
  return NULL;
}

int rt__authz_token_user(const json_t *review, json_t **user, char *reason, size_t reasonlen) {
  *user = NULL;
  const json_t *u = js_get(review, "status.user");
  const char *name = js_str(u, "username");
  if (!js_bool(review, "status.authenticated", 0) || name == NULL || name[0] == '\0') {
    const char *why = js_str(review, "status.error");
    snprintf(reason, reasonlen, "%s", why && *why ? why : "the token is not valid");
    return -1;
  }
  json_t *out = json_pack("{s:s}", "username", name);
  const char *uid = js_str(u, "uid");
  if (uid) json_object_set_new(out, "uid", json_string(uid));
  json_t *groups = json_object_get(u, "groups");
  if (json_is_array(groups)) json_object_set(out, "groups", groups);
  json_t *extra = json_object_get(u, "extra");
  if (json_is_object(extra)) json_object_set(out, "extra", extra);
  *user = out;
  return 0;
}

json_t *rt__authz_sar(const json_t *user, const char *verb, const char *path) {
  json_t *spec = json_pack("{s:s, s:{s:s, s:s}}", "user", js_str(user, "username"), "nonResourceAttributes", "path",
                           path, "verb", verb);
  const char *uid = js_str(user, "uid");
  if (uid) json_object_set_new(spec, "uid", json_string(uid));
  json_t *v = json_object_get(user, "groups");
  if (v) json_object_set(spec, "groups", v);
  v = json_object_get(user, "extra");
  if (v) json_object_set(spec, "extra", v);
  return json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1", "kind", "SubjectAccessReview", "spec",
                   spec);
}

int rt__authz_allowed(const json_t *review, char *reason, size_t reasonlen) {
  if (js_bool(review, "status.allowed", 0) && !js_bool(review, "status.denied", 0)) return 1;
  const char *why = js_str(review, "status.reason");
  const char *err = js_str(review, "status.evaluationError");
  snprintf(reason, reasonlen, "%s%s%s", why && *why ? why : "no rule allows it", err && *err ? ": " : "",
           err && *err ? err : "");
  return 0;
}

/* ---- the cache ---- */

static char *cache_key(const char *token, const char *verb, const char *path) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL);
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned i = 0; i < mdlen; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return xasprintf("%s %s %s", hex, verb, path);
}

static int cache_get(rt_authz *a, const char *key, int64_t now, rt_authz_result *out) {
  pthread_mutex_lock(&a->mu);
  entry *e;
  HASH_FIND_STR(a->cache, key, e);
  int hit = e && e->expires > now;
  if (hit) {
    out->status = e->status;
    snprintf(out->user, sizeof(out->user), "%s", e->user);
    snprintf(out->reason, sizeof(out->reason), "%s", e->reason);
    out->cached = 1;
  }
  pthread_mutex_unlock(&a->mu);
  return hit;
}

static void cache_put(rt_authz *a, const char *key, const rt_authz_result *r, int64_t now) {
  int ttl = r->status == 200 ? a->o.allow_ttl_s : a->o.deny_ttl_s;
  pthread_mutex_lock(&a->mu);
  entry *e, *tmp;
  HASH_FIND_STR(a->cache, key, e);
  if (e == NULL && a->n >= a->o.max_entries) {
    /* full: the expired ones go, else the one that expires first */
    entry *soonest = NULL;
    HASH_ITER(hh, a->cache, e, tmp) {
      if (e->expires <= now) {
        HASH_DEL(a->cache, e);
        entry_free(e);
        a->n--;
      } else if (soonest == NULL || e->expires < soonest->expires) {
        soonest = e;
      }
    }
    if (a->n >= a->o.max_entries && soonest) {
      HASH_DEL(a->cache, soonest);
      entry_free(soonest);
      a->n--;
    }
    e = NULL;
  }
  if (e == NULL) {
    e = xcalloc(1, sizeof(*e));
    e->key = xstrdup(key);
    HASH_ADD_KEYPTR(hh, a->cache, e->key, strlen(e->key), e);
    a->n++;
  }
  e->status = r->status;
  snprintf(e->user, sizeof(e->user), "%s", r->user);
  snprintf(e->reason, sizeof(e->reason), "%s", r->reason);
  e->expires = now + ttl;
  pthread_mutex_unlock(&a->mu);
}

/* ---- the reviews ---- */

static void decide(rt_authz *a, const char *token, const char *verb, const char *path, rt_authz_result *out) {
  kube_status st;
  json_t *tr = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "authentication.k8s.io/v1", "kind", "TokenReview",
                         "spec", "token", token);
  json_t *resp = NULL;
  int rc = kube_create(a->client, &tokenreviews, NULL, tr, &resp, &st);
  json_decref(tr);
  if (rc) {
    out->status = 503;
    snprintf(out->reason, sizeof(out->reason), "TokenReview failed: %s: %.400s", cubit_strerror(rc), st.message);
    log_error(LOGGER, "cannot review a token", "error=%s message=\"%s\"", cubit_strerror(rc), st.message);
    return;
  }
  json_t *user = NULL;
  if (rt__authz_token_user(resp, &user, out->reason, sizeof(out->reason))) {
    json_decref(resp);
    out->status = 401;
    return;
  }
  json_decref(resp);
  snprintf(out->user, sizeof(out->user), "%s", js_str(user, "username"));
  json_t *sar = rt__authz_sar(user, verb, path);
  json_decref(user);
  resp = NULL;
  rc = kube_create(a->client, &subjectaccessreviews, NULL, sar, &resp, &st);
  json_decref(sar);
  if (rc) {
    out->status = 503;
    snprintf(out->reason, sizeof(out->reason), "SubjectAccessReview failed: %s: %.400s", cubit_strerror(rc), st.message);
    log_error(LOGGER, "cannot review an access", "user=%s error=%s message=\"%s\"", out->user, cubit_strerror(rc),
              st.message);
    return;
  }
  char why[256] = "";
  if (rt__authz_allowed(resp, why, sizeof(why))) {
    out->status = 200;
  } else {
    out->status = 403;
    snprintf(out->reason, sizeof(out->reason), "user \"%.200s\" may not %s %.100s: %.150s", out->user, verb, path, why);
  }
  json_decref(resp);
}

int rt_authz_check(rt_authz *a, const char *authorization, const char *method, const char *path, int64_t now,
                   rt_authz_result *out) {
  memset(out, 0, sizeof(*out));
  const char *verb = rt__authz_verb(method);
  size_t cap = authorization ? strlen(authorization) + 1 : 1;
  char *token = xmalloc(cap);
  if (verb == NULL) {
    out->status = 403;
    snprintf(out->reason, sizeof(out->reason), "method %.16s has no verb", method ? method : "");
  } else if (rt__authz_bearer(authorization, token, cap)) {
    out->status = 401;
    snprintf(out->reason, sizeof(out->reason), "%s", authorization ? "want \"Authorization: Bearer <token>\""
                                                                     : "no Authorization header");
  } else {
    char *key = cache_key(token, verb, path);
    if (!cache_get(a, key, now, out)) {
      pthread_mutex_lock(&a->mu);
      int go = a->inflight < a->o.max_inflight;
      if (go) a->inflight++;
      pthread_mutex_unlock(&a->mu);
      if (go) {
        decide(a, token, verb, path, out);
        pthread_mutex_lock(&a->mu);
        a->inflight--;
        pthread_mutex_unlock(&a->mu);
        if (out->status != 503) cache_put(a, key, out, now);
      } else {
        out->status = 503;
        snprintf(out->reason, sizeof(out->reason), "%d token reviews already under way; retry", a->o.max_inflight);
      }
    }
    free(key);
  }
  /* the token is a credential: it leaves no copy behind */
  OPENSSL_cleanse(token, cap);
  free(token);
  return out->status;
}

void rt__authz_remember(rt_authz *a, const char *token, const char *method, const char *path, int status,
                        int64_t now) {
  rt_authz_result r = {.status = status};
  char *key = cache_key(token, rt__authz_verb(method), path);
  cache_put(a, key, &r, now);
  free(key);
}

int rt__authz_cached(rt_authz *a, const char *token, const char *method, const char *path, int64_t now) {
  rt_authz_result r = {0};
  char *key = cache_key(token, rt__authz_verb(method), path);
  int hit = cache_get(a, key, now, &r);
  free(key);
  return hit ? r.status : 0;
}
