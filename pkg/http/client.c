#include "http/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

#define HTTP_GET_DEFAULT_TIMEOUT_MS 5000L
#define HTTP_GET_DEFAULT_MAX_BODY ((size_t)1 << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
  curl_global_init(CURL_GLOBAL_ALL);
}

typedef struct sink {
  cubit_buf body;
  int rc; /* why the write callback refused, if it did */
} sink;

static size_t collect(char *p, size_t size, size_t n, void *arg) {
  sink *s = arg;
  int rc = buf_append(&s->body, p, size * n);
  if (rc) {
    s->rc = rc;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  return size * n;
}

static int transport_code(CURLcode cc) {
  switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return CUBIT_ETIMEOUT;
    case CURLE_OUT_OF_MEMORY: return CUBIT_ENOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return CUBIT_EINVAL;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: return CUBIT_ETLS;
    default: return CUBIT_ECONNECT;
  }
}

static int is_http_url(const char *url) {
  return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

int http_get(const char *url, const http_get_opts *opts, http_get_result *out) {
  memset(out, 0, sizeof(*out));
  if (url == NULL || !is_http_url(url)) {
    snprintf(out->error, sizeof(out->error), "not an http(s) URL: %s", url ? url : "(null)");
    return CUBIT_EINVAL;
  }
  pthread_once(&curl_once, curl_init_once);
  long timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : HTTP_GET_DEFAULT_TIMEOUT_MS;
  long connect_timeout = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : timeout;
  size_t max_body = opts && opts->max_body ? opts->max_body : HTTP_GET_DEFAULT_MAX_BODY;
  CURL *easy = curl_easy_init();
  if (easy == NULL) {
    snprintf(out->error, sizeof(out->error), "cannot create a curl handle");
    return CUBIT_ENOMEM;
  }
  sink s = {.rc = 0};
  buf_init(&s.body, max_body);
  struct curl_slist *headers = NULL;
  int rc = 0;
  if (opts && opts->accept) {
    char line[256];
    snprintf(line, sizeof(line), "Accept: %s", opts->accept);
    headers = curl_slist_append(NULL, line);
    if (headers == NULL) {
      rc = CUBIT_ENOMEM;
      goto out;
    }
  }
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);        /* called from worker threads */
  curl_easy_setopt(easy, CURLOPT_PROXY, "");           /* pods are reached directly */
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "cubit-manager");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &s);
  if (headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  CURLcode cc = curl_easy_perform(easy);
  if (cc != CURLE_OK) {
    if (cc == CURLE_WRITE_ERROR && s.rc) {
      rc = s.rc;
      if (rc == CUBIT_ETOOBIG) snprintf(out->error, sizeof(out->error), "response body over %zu bytes", max_body);
      else snprintf(out->error, sizeof(out->error), "out of memory reading the response");
    } else {
      rc = transport_code(cc);
      snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(cc));
    }
    goto out;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
  out->body_len = s.body.len;
  out->body = buf_detach(&s.body);
  if (out->body == NULL) {
    out->body_len = 0;
    snprintf(out->error, sizeof(out->error), "out of memory reading the response");
    rc = CUBIT_ENOMEM;
  }
out:
  curl_slist_free_all(headers);
  buf_free(&s.body);
  curl_easy_cleanup(easy);
  return rc;
}

void http_get_result_free(http_get_result *r) {
  if (r == NULL) return;
  free(r->body);
  r->body = NULL;
  r->body_len = 0;
}
