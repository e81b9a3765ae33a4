/* Reading activity from what each IDE says about itself, and the two
 * clocks that stop a notebook: idleness and the lease. Pure functions over
 * recorded response bodies (test/unit/fixtures/notebook/). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "util/time.h"

/* Jupyter Server: GET <base>/api/status answers
 *   {"connections": 0, "kernels": 1, "last_activity": "2026-11-22T07:58:43.723459Z", "started": "..."}
 * where last_activity moves with API requests, kernel and terminal activity. */
static int jupyter_last(const json_t *o, int64_t *last, char *err, size_t errlen) {
  const char *s = json_string_value(json_object_get(o, "last_activity"));
  if (s == NULL) {
    snprintf(err, errlen, "no last_activity in the response");
    return CUBIT_EINVAL;
  }
  if (time_parse_rfc3339(s, last)) {
    snprintf(err, errlen, "last_activity \"%.64s\" is not an RFC 3339 time", s);
    return CUBIT_EINVAL;
  }
  return 0;
}

/* code-server: GET /healthz answers {"status":"alive"|"expired","lastHeartbeat":<epoch ms>};
 * the heartbeat moves with every request but /healthz itself, at most once a
 * minute, and 0 means no request yet. */
static int code_server_last(const json_t *o, int64_t *last, char *err, size_t errlen) {
  json_t *v = json_object_get(o, "lastHeartbeat");
  if (!json_is_integer(v) && !json_is_real(v)) {
    snprintf(err, errlen, "no numeric lastHeartbeat in the response");
    return CUBIT_EINVAL;
  }
  double ms = json_number_value(v);
  if (ms < 0) {
    snprintf(err, errlen, "lastHeartbeat is negative");
    return CUBIT_EINVAL;
  }
  *last = (int64_t)(ms / 1000.0);
  return 0;
}

/* A generic JSON answer: lastActivity as RFC 3339 or epoch seconds. */
static int generic_last(const json_t *o, int64_t *last, char *err, size_t errlen) {
  json_t *v = json_object_get(o, "lastActivity");
  if (json_is_string(v)) {
    if (time_parse_rfc3339(json_string_value(v), last) == 0) return 0;
    snprintf(err, errlen, "lastActivity \"%.64s\" is not an RFC 3339 time", json_string_value(v));
    return CUBIT_EINVAL;
  }
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    *last = json_integer_value(v);
    return 0;
  }
  if (json_object_get(o, "last_activity")) return jupyter_last(o, last, err, errlen);
  if (json_object_get(o, "lastHeartbeat")) return code_server_last(o, last, err, errlen);
  snprintf(err, errlen, "no lastActivity, last_activity or lastHeartbeat in the response");
  return CUBIT_EINVAL;
}

/* Posit Workbench's /health-check (server-health-check-enabled=1) answers
 * lines "name: value", one of them "idle-seconds: N". */
static int rstudio_last(const char *body, size_t len, int64_t now, int64_t *last, char *err, size_t errlen) {
  static const char key[] = "idle-seconds:";
  const char *p = body, *end = body + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) eol = end;
    while (p < eol && (*p == ' ' || *p == '\t')) p++;
    if ((size_t)(eol - p) > sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
      const char *q = p + sizeof(key) - 1;
      while (q < eol && (*q == ' ' || *q == '\t')) q++;
      int64_t n = 0;
      int digits = 0;
      while (q < eol && isdigit((unsigned char)*q) && digits < 18) {
        n = n * 10 + (*q - '0');
        q++;
        digits++;
      }
      while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
      if (digits == 0 || q != eol) {
        snprintf(err, errlen, "idle-seconds is not a whole number of seconds");
        return CUBIT_EINVAL;
      }
      *last = now - n;
      return 0;
    }
    p = eol + 1;
  }
  snprintf(err, errlen, "no idle-seconds line in the response");
  return CUBIT_EINVAL;
}

int notebook_activity_parse(notebook_probe_type type, const char *body, size_t len, int64_t now, int64_t *last,
                            char *err, size_t errlen) {
  *last = 0;
  if (body == NULL) len = 0;
  if (type == NB_PROBE_RSTUDIO) return rstudio_last(body, len, now, last, err, errlen);
  json_error_t jerr;
  json_t *o = len ? json_loadb(body, len, 0, &jerr) : NULL;
  if (!json_is_object(o)) {
    json_decref(o);
    /* A generic endpoint may speak Posit's text format too. */
    if ((type == NB_PROBE_HTTP || type == NB_PROBE_AUTO) && len &&
        rstudio_last(body, len, now, last, err, errlen) == 0)
      return 0;
    snprintf(err, errlen, "the response is not a JSON object");
    return CUBIT_EINVAL;
  }
  int rc;
  switch (type) {
    case NB_PROBE_JUPYTER: rc = jupyter_last(o, last, err, errlen); break;
    case NB_PROBE_CODE_SERVER: rc = code_server_last(o, last, err, errlen); break;
    default: rc = generic_last(o, last, err, errlen); break;
  }
  json_decref(o);
  return rc;
}

int notebook_cull_due(int64_t last_activity, int64_t idle_seconds, int64_t now, int64_t *next_s) {
  int64_t idle = now - last_activity;
  if (idle >= idle_seconds) {
    *next_s = 0;
    return 1;
  }
  *next_s = idle_seconds - (idle < 0 ? 0 : idle);
  return 0;
}

notebook_lease_state notebook_lease_check(int64_t renewed_at, int64_t ttl_s, int64_t warning_s, int64_t warned_at,
                                          int64_t now, int64_t *expires_at, int64_t *next_s) {
  *expires_at = renewed_at + ttl_s;
  if (now >= *expires_at) {
    *next_s = 0;
    return NB_LEASE_EXPIRED;
  }
  int64_t warn_at = *expires_at - warning_s;
  /* A warning belongs to this lease only if it came after its renewal. */
  int warned = warned_at >= renewed_at && warned_at > 0;
  if (warning_s > 0 && now >= warn_at && !warned) {
    *next_s = *expires_at - now;
    return NB_LEASE_WARN;
  }
  *next_s = (warning_s > 0 && !warned && now < warn_at) ? warn_at - now : *expires_at - now;
  return NB_LEASE_OK;
}
