#include "util/json.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/time.h"

/* Walks 'path' one key at a time. With create set, missing or non-object
 * steps become empty objects. */
static json_t *walk(json_t *root, const char *path, int create) {
  json_t *cur = root;
  const char *p = path;
  char key[256];
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof(key)) return NULL;
    memcpy(key, p, n);
    key[n] = '\0';
    if (!json_is_object(cur)) return NULL;
    json_t *next = json_object_get(cur, key);
    if (create && !json_is_object(next)) {
      next = json_object();
      json_object_set_new(cur, key, next);
    }
    cur = next;
    p = dot ? dot + 1 : p + n;
  }
  return cur;
}

json_t *js_get(const json_t *root, const char *path) {
  return walk((json_t *)root, path, 0);
}

const char *js_str(const json_t *root, const char *path) {
  return json_string_value(js_get(root, path));
}

json_int_t js_int(const json_t *root, const char *path, json_int_t def) {
  json_t *v = js_get(root, path);
  return json_is_integer(v) ? json_integer_value(v) : def;
}

int js_bool(const json_t *root, const char *path, int def) {
  json_t *v = js_get(root, path);
  return json_is_boolean(v) ? json_is_true(v) : def;
}

json_t *js_ensure_obj(json_t *root, const char *path) {
  if (!json_is_object(root)) return NULL;
  return walk(root, path, 1);
}

int js_set(json_t *root, const char *path, json_t *value) {
  if (!json_is_object(root)) {
    json_decref(value);
    return CUBIT_EINVAL;
  }
  const char *dot = strrchr(path, '.');
  json_t *parent = root;
  const char *key = path;
  if (dot) {
    char *ppath = xstrndup(path, (size_t)(dot - path));
    parent = walk(root, ppath, 1);
    free(ppath);
    key = dot + 1;
  }
  if (parent == NULL) {
    json_decref(value);
    return CUBIT_EINVAL;
  }
  json_object_set_new(parent, key, value);
  return 0;
}

int js_set_str(json_t *root, const char *path, const char *s) {
  return js_set(root, path, json_string(s));
}

char *js_dump(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (s == NULL) abort();
  return s;
}

/* v as merging it onto nothing leaves it: an object's keys holding null
 * dropped, at every depth outside arrays. */
static json_t *without_nulls(const json_t *v) {
  if (!json_is_object(v)) return json_deep_copy(v);
  json_t *out = json_object();
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)v, k, x) {
    if (!json_is_null(x)) json_object_set_new(out, k, without_nulls(x));
  }
  return out;
}

json_t *js_merge_diff(const json_t *from, const json_t *to) {
  if (!json_is_object(to) || !json_is_object(from))
    return from && json_equal((json_t *)from, (json_t *)to) ? NULL : without_nulls(to);
  json_t *patch = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)to, k, v) {
    json_t *old = json_object_get(from, k), *d;
    if (json_is_null(v)) d = old ? json_null() : NULL;
    else if (!old) d = without_nulls(v);
    else d = js_merge_diff(old, v);
    if (d) json_object_set_new(patch, k, d);
  }
  json_object_foreach((json_t *)from, k, v) {
    if (!json_object_get(to, k)) json_object_set_new(patch, k, json_null());
  }
  if (json_object_size(patch) == 0) {
    json_decref(patch);
    return NULL;
  }
  return patch;
}

void js_digest(const json_t *v, char *out, int nhex) {
  char *text = js_dump(v);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) != 1) abort();
  free(text);
  if (nhex > 64) nhex = 64;
  for (int i = 0; i < nhex / 2; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  out[nhex & ~1] = '\0';
}

int64_t js_time(const json_t *root, const char *path) {
  return time_epoch_of(js_str(root, path));
}

void js_set_time(json_t *root, const char *path, int64_t t) {
  if (t <= 0) {
    const char *dot = strrchr(path, '.');
    if (dot == NULL) {
      json_object_del(root, path);
    } else {
      char *parent = xstrndup(path, (size_t)(dot - path));
      json_object_del(js_get(root, parent), dot + 1);
      free(parent);
    }
    return;
  }
  char text[32];
  time_format_rfc3339(t, text);
  js_set_str(root, path, text);
}

json_t *js_named(const json_t *array, const char *name) {
  size_t i;
  json_t *v;
  json_array_foreach(array, i, v) {
    const char *n = js_str(v, "name");
    if (n && name && strcmp(n, name) == 0) return v;
  }
  return NULL;
}

json_t *js_controller_ref(const json_t *o) {
  json_t *refs = js_get(o, "metadata.ownerReferences");
  size_t i;
  json_t *ref;
  json_array_foreach(refs, i, ref) {
    if (json_is_true(json_object_get(ref, "controller"))) return ref;
  }
  return NULL;
}

char *js_pack(const json_t *v, size_t *len) {
  size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
  char *text = xmalloc(n ? n : 1);
  if (json_dumpb(v, text, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) abort(); /* the same value dumps to the same size */
  *len = n;
  return text;
}

json_t *js_unpack(const char *text, size_t len) {
  json_error_t err;
  json_t *v = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);
  if (v == NULL) {
    fprintf(stderr, "cubit: cannot decode packed JSON (%s): out of memory\n", err.text);
    abort();
  }
  return v;
}
