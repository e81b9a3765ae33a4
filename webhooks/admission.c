#include "webhooks/admission.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

static const char *str_or(const json_t *o, const char *path, const char *def) {
  const char *s = js_str(o, path);
  return s ? s : def;
}

int adm_request_parse(const char *body, size_t len, adm_request *out, char *errbuf, size_t errlen) {
  memset(out, 0, sizeof(*out));
  json_error_t jerr;
  json_t *review = json_loadb(body, len, 0, &jerr);
  if (review == NULL) {
    snprintf(errbuf, errlen, "body is not JSON: %s (line %d)", jerr.text, jerr.line);
    return CUBIT_EINVAL;
  }
  const char *api = js_str(review, "apiVersion"), *kind = js_str(review, "kind");
  if (api == NULL || strcmp(api, "admission.k8s.io/v1") != 0 || kind == NULL ||
      strcmp(kind, "AdmissionReview") != 0) {
    snprintf(errbuf, errlen, "want an admission.k8s.io/v1 AdmissionReview, got apiVersion %s kind %s",
             api ? api : "(none)", kind ? kind : "(none)");
    json_decref(review);
    return CUBIT_EINVAL;
  }
  json_t *req = json_object_get(review, "request");
  if (!json_is_object(req) || js_str(req, "uid") == NULL) {
    snprintf(errbuf, errlen, "AdmissionReview without request.uid");
    json_decref(review);
    return CUBIT_EINVAL;
  }
  out->review = review;
  out->uid = js_str(req, "uid");
  out->group = str_or(req, "kind.group", "");
  out->version = str_or(req, "kind.version", "");
  out->kind = str_or(req, "kind.kind", "");
  out->resource = str_or(req, "resource.resource", "");
  out->subresource = str_or(req, "subResource", "");
  out->namespace = str_or(req, "namespace", "");
  out->name = str_or(req, "name", "");
  out->operation = str_or(req, "operation", "");
  out->username = str_or(req, "userInfo.username", "");
  out->groups = js_get(req, "userInfo.groups");
  out->object = json_is_object(json_object_get(req, "object")) ? json_object_get(req, "object") : NULL;
  out->old_object = json_is_object(json_object_get(req, "oldObject")) ? json_object_get(req, "oldObject") : NULL;
  out->dry_run = js_bool(req, "dryRun", 0);
  return 0;
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
