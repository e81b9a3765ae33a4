#include "webhooks/admission.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

/* The decoding is total: any body (not JSON, not an object, fields of the
 * wrong type, missing, huge, nested) ends in 0 with every field below of
 * the type the header promises, or CUBIT_EINVAL with a reason naming the
 * field. Absent optional fields take their zero value; a field present with
 * the wrong type is refused, never read as absent, so a handler cannot be
 * steered by a value it does not see. The API server never sends a review
 * that fails here: a failure means a client that is not the API server. */

#define FAIL(...) (snprintf(errbuf, errlen, __VA_ARGS__), CUBIT_EINVAL)

/* parent[key] when it is a string (or absent/null: def). */
static int get_str(const json_t *parent, const char *key, const char *where, const char *def, const char **out,
                   char *errbuf, size_t errlen) {
  json_t *v = json_object_get(parent, key);
  if (v == NULL || json_is_null(v)) {
    *out = def;
    return 0;
  }
  if (!json_is_string(v)) return FAIL("%s.%s: want a string", where, key);
  *out = json_string_value(v);
  return 0;
}

/* parent[key] when it is an object (or absent/null: NULL). */
static int get_obj(const json_t *parent, const char *key, const char *where, json_t **out, char *errbuf,
                   size_t errlen) {
  json_t *v = json_object_get(parent, key);
  *out = NULL;
  if (v == NULL || json_is_null(v)) return 0;
  if (!json_is_object(v)) return FAIL("%s.%s: want an object", where, key);
  *out = v;
  return 0;
}

static int check_strings(const json_t *arr, const char *where, char *errbuf, size_t errlen) {
  size_t i;
  json_t *v;
  if (!json_is_array(arr)) return FAIL("%s: want an array of strings", where);
  json_array_foreach(arr, i, v) if (!json_is_string(v)) return FAIL("%s[%zu]: want a string", where, i);
  return 0;
}

/* A map of strings (labels, annotations) when present. */
static int check_string_map(const json_t *parent, const char *key, const char *where, char *errbuf, size_t errlen) {
  json_t *m = json_object_get(parent, key);
  if (m == NULL || json_is_null(m)) return 0;
  if (!json_is_object(m)) return FAIL("%s.%s: want a map of strings", where, key);
  const char *k;
  json_t *v;
  json_object_foreach(m, k, v) if (!json_is_string(v)) return FAIL("%s.%s[%s]: want a string", where, key, k);
  return 0;
}

/* What every handler reads of an object's metadata has the type the API
 * gives it: strings, maps of strings, owner references. */
static int check_object(const json_t *obj, const char *where, char *errbuf, size_t errlen) {
  json_t *meta;
  const char *s;
  char at[80];
  int rc = get_str(obj, "apiVersion", where, "", &s, errbuf, errlen);
  if (!rc) rc = get_str(obj, "kind", where, "", &s, errbuf, errlen);
  if (!rc) rc = get_obj(obj, "metadata", where, &meta, errbuf, errlen);
  if (rc || meta == NULL) return rc;
  snprintf(at, sizeof(at), "%s.metadata", where);
  static const char *const strs[] = {"name", "generateName", "namespace", "uid", "resourceVersion",
                                     "creationTimestamp", "deletionTimestamp"};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && !rc; i++) rc = get_str(meta, strs[i], at, "", &s, errbuf, errlen);
  if (!rc) rc = check_string_map(meta, "labels", at, errbuf, errlen);
  if (!rc) rc = check_string_map(meta, "annotations", at, errbuf, errlen);
  json_t *v = json_object_get(meta, "generation");
  if (!rc && v && !json_is_null(v) && !json_is_integer(v)) rc = FAIL("%s.generation: want an integer", at);
  v = json_object_get(meta, "finalizers");
  if (!rc && v && !json_is_null(v)) {
    char fat[96];
    snprintf(fat, sizeof(fat), "%s.finalizers", at);
    rc = check_strings(v, fat, errbuf, errlen);
  }
  v = json_object_get(meta, "ownerReferences");
  if (rc || v == NULL || json_is_null(v)) return rc;
  if (!json_is_array(v)) return FAIL("%s.ownerReferences: want an array", at);
  size_t i;
  json_t *ref;
  json_array_foreach(v, i, ref) {
    char rat[128];
    snprintf(rat, sizeof(rat), "%s.ownerReferences[%zu]", at, i);
    if (!json_is_object(ref)) return FAIL("%s: want an object", rat);
    static const char *const rstrs[] = {"apiVersion", "kind", "name", "uid"};
    for (size_t k = 0; k < 4; k++)
      if (get_str(ref, rstrs[k], rat, "", &s, errbuf, errlen)) return CUBIT_EINVAL;
    json_t *b = json_object_get(ref, "controller");
    if (b && !json_is_null(b) && !json_is_boolean(b)) return FAIL("%s.controller: want a boolean", rat);
  }
  return 0;
}

int adm_request_parse(const char *body, size_t len, adm_request *out, char *errbuf, size_t errlen) {
  memset(out, 0, sizeof(*out));
  json_error_t jerr;
  /* Duplicate keys are refused: two readers of one body must not see two
   * different requests. */
  json_t *review = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (review == NULL) {
    snprintf(errbuf, errlen, "body is not JSON: %s (line %d)", jerr.text, jerr.line);
    return CUBIT_EINVAL;
  }
  int rc = CUBIT_EINVAL;
  if (!json_is_object(review)) {
    rc = FAIL("want an admission.k8s.io/v1 AdmissionReview object, got a JSON %s",
         json_is_array(review) ? "array" : "value");
    goto fail;
  }
  const char *api = js_str(review, "apiVersion"), *kind = js_str(review, "kind");
  if (api == NULL || strcmp(api, "admission.k8s.io/v1") != 0 || kind == NULL ||
      strcmp(kind, "AdmissionReview") != 0) {
    rc = FAIL("want an admission.k8s.io/v1 AdmissionReview, got apiVersion %.64s kind %.64s", api ? api : "(none)",
         kind ? kind : "(none)");
    goto fail;
  }
  json_t *req = json_object_get(review, "request");
  if (!json_is_object(req)) {
    rc = FAIL("AdmissionReview without request");
    goto fail;
  }
  if (get_str(req, "uid", "request", "", &out->uid, errbuf, errlen)) goto fail;
  if (out->uid[0] == '\0') {
    rc = FAIL("AdmissionReview without request.uid");
    goto fail;
  }
  json_t *k = NULL, *res = NULL, *user = NULL;
  if (get_obj(req, "kind", "request", &k, errbuf, errlen) || get_obj(req, "resource", "request", &res, errbuf, errlen) ||
      get_obj(req, "userInfo", "request", &user, errbuf, errlen) ||
      get_str(k, "group", "request.kind", "", &out->group, errbuf, errlen) ||
      get_str(k, "version", "request.kind", "", &out->version, errbuf, errlen) ||
      get_str(k, "kind", "request.kind", "", &out->kind, errbuf, errlen) ||
      get_str(res, "resource", "request.resource", "", &out->resource, errbuf, errlen) ||
      get_str(req, "subResource", "request", "", &out->subresource, errbuf, errlen) ||
      get_str(req, "namespace", "request", "", &out->namespace, errbuf, errlen) ||
      get_str(req, "name", "request", "", &out->name, errbuf, errlen) ||
      get_str(req, "operation", "request", "", &out->operation, errbuf, errlen) ||
      get_str(user, "username", "request.userInfo", "", &out->username, errbuf, errlen))
    goto fail;
  static const char *const ops[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
  int op = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(out->operation, ops[i]) == 0) op = i;
  if (op < 0) {
    rc = FAIL("request.operation: want CREATE, UPDATE, DELETE or CONNECT, got \"%.32s\"", out->operation);
    goto fail;
  }
  out->groups = json_object_get(user, "groups");
  if (json_is_null(out->groups)) out->groups = NULL;
  if (out->groups && check_strings(out->groups, "request.userInfo.groups", errbuf, errlen)) goto fail;
  json_t *extra = json_object_get(user, "extra");
  if (extra && !json_is_null(extra)) {
    if (!json_is_object(extra)) {
      rc = FAIL("request.userInfo.extra: want a map of string arrays");
      goto fail;
    }
    const char *key;
    json_t *vals;
    json_object_foreach(extra, key, vals) if (check_strings(vals, "request.userInfo.extra", errbuf, errlen)) goto fail;
  }
  if (get_obj(req, "object", "request", &out->object, errbuf, errlen) ||
      get_obj(req, "oldObject", "request", &out->old_object, errbuf, errlen))
    goto fail;
  /* Handlers of CREATE and UPDATE judge the object; UPDATE compares with
   * the old one. */
  if ((op == 0 || op == 1) && out->object == NULL) {
    rc = FAIL("request.object: %s needs the object", out->operation);
    goto fail;
  }
  if (op == 1 && out->old_object == NULL) {
    rc = FAIL("request.oldObject: UPDATE needs the old object");
    goto fail;
  }
  if ((out->object && check_object(out->object, "request.object", errbuf, errlen)) ||
      (out->old_object && check_object(out->old_object, "request.oldObject", errbuf, errlen)))
    goto fail;
  json_t *dry = json_object_get(req, "dryRun");
  if (dry && !json_is_null(dry) && !json_is_boolean(dry)) {
    rc = FAIL("request.dryRun: want a boolean");
    goto fail;
  }
  out->dry_run = json_is_true(dry);
  out->review = review;
  return 0;

fail:
  json_decref(review);
  memset(out, 0, sizeof(*out));
  return rc;
}

void adm_request_free(adm_request *r) {
  json_decref(r->review);
  memset(r, 0, sizeof(*r));
}

void adm_response_init(adm_response *r) {
  memset(r, 0, sizeof(*r));
  r->allowed = 1;
}

void adm_response_free(adm_response *r) {
  json_decref(r->patch);
  json_decref(r->warnings);
  r->patch = r->warnings = NULL;
}

void adm_deny(adm_response *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof(r->message), fmt, ap);
  va_end(ap);
  r->allowed = 0;
  r->code = code;
  snprintf(r->reason, sizeof(r->reason), "%s", code == 403 ? "Forbidden" : code == 422 ? "Invalid" : "BadRequest");
  /* A denied request is not mutated. */
  json_decref(r->patch);
  r->patch = NULL;
}

void adm_warn(adm_response *r, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (r->warnings == NULL) r->warnings = json_array();
  json_array_append_new(r->warnings, json_string(msg));
}

void adm_patch(adm_response *r, const char *op, const char *path, json_t *value) {
  if (r->patch == NULL) r->patch = json_array();
  json_t *o = json_pack("{s:s, s:s}", "op", op, "path", path);
  if (value) json_object_set_new(o, "value", value);
  json_array_append_new(r->patch, o);
}

char *adm_pointer_escape(const char *key) {
  size_t n = 0;
  for (const char *p = key; *p; p++) n += (*p == '~' || *p == '/') ? 2 : 1;
  char *out = xmalloc(n + 1), *q = out;
  for (const char *p = key; *p; p++) {
    if (*p == '~') {
      *q++ = '~';
      *q++ = '0';
    } else if (*p == '/') {
      *q++ = '~';
      *q++ = '1';
    } else {
      *q++ = *p;
    }
  }
  *q = '\0';
  return out;
}

char *adm_response_json(const adm_request *req, const adm_response *resp) {
  json_t *r = json_pack("{s:s, s:b}", "uid", req->uid ? req->uid : "", "allowed", resp->allowed);
  if (!resp->allowed) {
    json_object_set_new(r, "status", json_pack("{s:i, s:s, s:s}", "code", resp->code ? resp->code : 403, "reason",
                                               resp->reason[0] ? resp->reason : "Forbidden", "message",
                                               resp->message));
  }
  if (resp->allowed && resp->patch && json_array_size(resp->patch) > 0) {
    char *patch = js_dump(resp->patch);
    size_t plen = strlen(patch);
    char *b64 = xmalloc(4 * ((plen + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)patch, (int)plen);
    json_object_set_new(r, "patchType", json_string("JSONPatch"));
    json_object_set_new(r, "patch", json_string(b64));
    free(b64);
    free(patch);
  }
  if (resp->warnings) json_object_set(r, "warnings", resp->warnings);
  json_t *review = json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
                             "response", r);
  char *s = js_dump(review);
  json_decref(review);
  return s;
}
