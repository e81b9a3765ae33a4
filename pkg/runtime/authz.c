/* TokenReview and SubjectAccessReview with a bounded cache (authz.h). */
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

/* One cached answer. The key is "t" hex(SHA-256(token)) for a token, "a"
 * hex(SHA-256(user, attributes)) for an access decision. */
typedef struct entry {
  char key[2 * EVP_MAX_MD_SIZE + 2];
  int yes;      /* authenticated / allowed */
  json_t *user; /* a token's user when yes (owned) */
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
  json_decref(e->user);
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

int rt_authz_bearer(const char *header, char *out, size_t outlen) {
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
  if (json_is_array(groups)) json_object_set_new(out, "groups", json_deep_copy(groups));
  json_t *extra = json_object_get(u, "extra");
  if (json_is_object(extra)) json_object_set_new(out, "extra", json_deep_copy(extra));
  *user = out;
  return 0;
}

static void set_str(json_t *o, const char *key, const char *v) {
  if (v && *v) json_object_set_new(o, key, json_string(v));
}

json_t *rt__authz_sar(const json_t *user, const rt_access *access) {
  json_t *spec = json_object();
  set_str(spec, "user", js_str(user, "username"));
  set_str(spec, "uid", js_str(user, "uid"));
  json_t *v = json_object_get(user, "groups");
  if (json_is_array(v)) json_object_set_new(spec, "groups", json_deep_copy(v));
  v = json_object_get(user, "extra");
  if (json_is_object(v)) json_object_set_new(spec, "extra", json_deep_copy(v));
  json_t *attrs = json_pack("{s:s}", "verb", access->verb ? access->verb : "");
  if (access->resource) {
    json_object_set_new(attrs, "group", json_string(access->group ? access->group : ""));
    json_object_set_new(attrs, "resource", json_string(access->resource));
    set_str(attrs, "subresource", access->subresource);
    set_str(attrs, "namespace", access->ns);
    set_str(attrs, "name", access->name);
    json_object_set_new(spec, "resourceAttributes", attrs);
  } else {
    json_object_set_new(attrs, "path", json_string(access->path ? access->path : ""));
    json_object_set_new(spec, "nonResourceAttributes", attrs);
  }
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

/* key = tag + hex(SHA-256(data)) */
static void digest_key(char tag, const char *data, size_t len, char key[2 * EVP_MAX_MD_SIZE + 2]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
  key[0] = tag;
  for (unsigned i = 0; i < mdlen; i++) snprintf(key + 1 + 2 * i, 3, "%02x", md[i]);
  key[1 + 2 * mdlen] = '\0';
}

static void token_key(const char *token, char key[2 * EVP_MAX_MD_SIZE + 2]) { digest_key('t', token, strlen(token), key); }

/* The user (canonical JSON, sorted keys) and each attribute, separated by a
 * byte no name holds, so different questions never share a key. */
static void access_key(const json_t *user, const rt_access *x, char key[2 * EVP_MAX_MD_SIZE + 2]) {
  char *u = json_dumps(user, JSON_COMPACT | JSON_SORT_KEYS);
  char *text = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d", u ? u : "", x->verb ? x->verb : "",
                         x->group ? x->group : "", x->resource ? x->resource : "", x->subresource ? x->subresource : "",
                         x->ns ? x->ns : "", x->name ? x->name : "", x->path ? x->path : "", x->resource != NULL);
  digest_key('a', text, strlen(text), key);
  free(text);
  free(u);
}

/* 1/0 the cached answer (*user a new reference when asked and yes, reason
 * copied), -1 none. */
static int cache_get(rt_authz *a, const char *key, int64_t now, json_t **user, char *reason, size_t reasonlen) {
  pthread_mutex_lock(&a->mu);
  entry *e;
  HASH_FIND_STR(a->cache, key, e);
  int ans = -1;
  if (e && e->expires > now) {
    ans = e->yes;
    if (user && e->user) *user = json_deep_copy(e->user); /* jansson's counts are not for sharing across threads */
    if (reason) snprintf(reason, reasonlen, "%s", e->reason);
  }
  pthread_mutex_unlock(&a->mu);
  return ans;
}

/* Remembers an answer; 'user' is copied. */
static void cache_put(rt_authz *a, const char *key, int yes, const json_t *user, const char *reason, int64_t now) {
  int ttl = yes ? a->o.allow_ttl_s : a->o.deny_ttl_s;
  json_t *copy = user ? json_deep_copy(user) : NULL;
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
    snprintf(e->key, sizeof(e->key), "%s", key);
    HASH_ADD_STR(a->cache, key, e);
    a->n++;
  }
  json_decref(e->user);
  e->user = copy;
  e->yes = yes;
  snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
  e->expires = now + ttl;
  pthread_mutex_unlock(&a->mu);
}

/* Takes one of the max_inflight review slots; 0 (reason set) when none is free. */
static int slot_take(rt_authz *a, char *reason, size_t reasonlen) {
  pthread_mutex_lock(&a->mu);
  int go = a->inflight < a->o.max_inflight;
  if (go) a->inflight++;
  pthread_mutex_unlock(&a->mu);
  if (!go) snprintf(reason, reasonlen, "%d reviews already under way; retry", a->o.max_inflight);
  return go;
}

static void slot_give(rt_authz *a) {
  pthread_mutex_lock(&a->mu);
  a->inflight--;
  pthread_mutex_unlock(&a->mu);
}

/* ---- the reviews ---- */

int rt_authz_authenticate(rt_authz *a, const char *token, int64_t now, json_t **user, char *reason,
                          size_t reasonlen) {
  *user = NULL;
  if (reasonlen) reason[0] = '\0';
  char key[2 * EVP_MAX_MD_SIZE + 2];
  token_key(token, key);
  int ans = cache_get(a, key, now, user, reason, reasonlen);
  if (ans >= 0) return ans;
  if (!slot_take(a, reason, reasonlen)) return CUBIT_ETOOMANYREQUESTS;
  kube_status st;
  memset(&st, 0, sizeof(st));
  json_t *tr = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "authentication.k8s.io/v1", "kind", "TokenReview",
                         "spec", "token", token);
  json_t *resp = NULL;
  int rc = kube_create(a->client, &tokenreviews, NULL, tr, &resp, &st);
  json_decref(tr);
  slot_give(a);
  if (rc) {
    snprintf(reason, reasonlen, "TokenReview failed: %s: %.400s", cubit_strerror(rc), st.message);
    log_error(LOGGER, "cannot review a token", "error=%s message=\"%s\"", cubit_strerror(rc), st.message);
    return rc < 0 ? rc : CUBIT_ESERVER;
  }
  ans = rt__authz_token_user(resp, user, reason, reasonlen) == 0;
  json_decref(resp);
  cache_put(a, key, ans, *user, reason, now);
  return ans;
}

int rt_authz_review(rt_authz *a, const json_t *user, const rt_access *access, int64_t now, char *reason,
                    size_t reasonlen) {
  if (reasonlen) reason[0] = '\0';
  char key[2 * EVP_MAX_MD_SIZE + 2];
  access_key(user, access, key);
  int ans = a->o.uncached_access ? -1 : cache_get(a, key, now, NULL, reason, reasonlen);
  if (ans >= 0) return ans;
  if (!slot_take(a, reason, reasonlen)) return CUBIT_ETOOMANYREQUESTS;
  kube_status st;
  memset(&st, 0, sizeof(st));
  json_t *sar = rt__authz_sar(user, access);
  json_t *resp = NULL;
  int rc = kube_create(a->client, &subjectaccessreviews, NULL, sar, &resp, &st);
  json_decref(sar);
  slot_give(a);
  if (rc) {
    snprintf(reason, reasonlen, "SubjectAccessReview failed: %s: %.400s", cubit_strerror(rc), st.message);
    log_error(LOGGER, "cannot review an access", "user=%s error=%s message=\"%s\"", js_str(user, "username"),
              cubit_strerror(rc), st.message);
    return rc < 0 ? rc : CUBIT_ESERVER;
  }
  ans = rt__authz_allowed(resp, reason, reasonlen);
  json_decref(resp);
  if (!a->o.uncached_access) cache_put(a, key, ans, NULL, reason, now);
  return ans;
}

int rt_authz_check(rt_authz *a, const char *authorization, const char *method, const char *path, int64_t now,
                   rt_authz_result *out) {
  memset(out, 0, sizeof(*out));
  const char *verb = rt__authz_verb(method);
  size_t cap = authorization ? strlen(authorization) + 1 : 1;
  char *token = xmalloc(cap);
  json_t *user = NULL;
  if (verb == NULL) {
    out->status = 403;
    snprintf(out->reason, sizeof(out->reason), "method %.16s has no verb", method ? method : "");
    goto out;
  }
  if (rt_authz_bearer(authorization, token, cap)) {
    out->status = 401;
    snprintf(out->reason, sizeof(out->reason), "%s", authorization ? "want \"Authorization: Bearer <token>\""
                                                                     : "no Authorization header");
    goto out;
  }
  int misses = 0;
  char key[2 * EVP_MAX_MD_SIZE + 2];
  token_key(token, key);
  misses += cache_get(a, key, now, NULL, NULL, 0) < 0;
  int rc = rt_authz_authenticate(a, token, now, &user, out->reason, sizeof(out->reason));
  if (rc != 1) {
    out->status = rc == 0 ? 401 : 503;
    out->cached = !misses;
    goto out;
  }
  snprintf(out->user, sizeof(out->user), "%s", js_str(user, "username"));
  rt_access x = {.verb = verb, .path = path};
  access_key(user, &x, key);
  misses += a->o.uncached_access || cache_get(a, key, now, NULL, NULL, 0) < 0;
  char why[256] = "";
  rc = rt_authz_review(a, user, &x, now, why, sizeof(why));
  out->cached = !misses;
  if (rc == 1) {
    out->status = 200;
  } else if (rc == 0) {
    out->status = 403;
    snprintf(out->reason, sizeof(out->reason), "user \"%.200s\" may not %s %.100s: %.150s", out->user, verb, path, why);
  } else {
    out->status = 503;
    snprintf(out->reason, sizeof(out->reason), "%s", why);
  }
out:
  json_decref(user);
  /* the token is a credential: it leaves no copy behind */
  OPENSSL_cleanse(token, cap);
  free(token);
  return out->status;
}

void rt__authz_remember_token(rt_authz *a, const char *token, const json_t *user, int64_t now) {
  char key[2 * EVP_MAX_MD_SIZE + 2];
  token_key(token, key);
  cache_put(a, key, user != NULL, user, user ? "" : "the token is not valid", now);
}

void rt__authz_remember_access(rt_authz *a, const json_t *user, const rt_access *access, int allowed, int64_t now) {
  char key[2 * EVP_MAX_MD_SIZE + 2];
  access_key(user, access, key);
  cache_put(a, key, allowed, NULL, allowed ? "" : "no rule allows it", now);
}

int rt__authz_cached_token(rt_authz *a, const char *token, int64_t now) {
  char key[2 * EVP_MAX_MD_SIZE + 2];
  token_key(token, key);
  return cache_get(a, key, now, NULL, NULL, 0);
}

int rt__authz_cached_access(rt_authz *a, const json_t *user, const rt_access *access, int64_t now) {
  char key[2 * EVP_MAX_MD_SIZE + 2];
  access_key(user, access, key);
  return cache_get(a, key, now, NULL, NULL, 0);
}
