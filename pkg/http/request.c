/* The request reader: http-parser does the HTTP grammar, this file keeps
 * what the handler needs (method, target, headers, body) and enforces the
 * caps while the bytes arrive, so an oversized request is refused before it
 * is buffered: the body cap is decided per request once the headers name
 * the route, and a body the route does not take costs nothing. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

static http__reqparser *rp_of(http_parser *p) {
  return p->data;
}

static int fail(http__reqparser *rp, int status) {
  if (rp->error_status == 0) rp->error_status = status;
  return -1;
}

static int fail_buf(http__reqparser *rp, int err, int toobig_status) {
  return fail(rp, err == CUBIT_ETOOBIG ? toobig_status : 500);
}

static int count_header_bytes(http__reqparser *rp, size_t n, int status) {
  if (n > rp->max_header_bytes || rp->header_bytes > rp->max_header_bytes - n) return fail(rp, status);
  rp->header_bytes += n;
  return 0;
}

static int on_message_begin(http_parser *p) {
  http__reqparser *rp = rp_of(p);
  rp->started = 1;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  http__reqparser *rp = rp_of(p);
  if (count_header_bytes(rp, n, 414)) return -1;
  int err = buf_append(&rp->url, at, n);
  return err ? fail_buf(rp, err, 414) : 0;
}

/* Ends the value being stored: NUL-terminates it and trims trailing blanks
 * (http-parser already skipped the leading ones). */
static int end_value(http__reqparser *rp) {
  int err = buf_append(&rp->fields, "", 1);
  if (err) return fail_buf(rp, err, 431);
  char *v = rp->fields.data + rp->offsets[2 * (rp->nfields - 1) + 1];
  size_t len = strlen(v);
  while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) v[--len] = '\0';
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  http__reqparser *rp = rp_of(p);
  if (count_header_bytes(rp, n, 431)) return -1;
  if (rp->headers_done) return 0; /* a chunked body's trailer: counted, not kept */
  int err;
  if (rp->nfields == 0 || rp->in_value) {
    if (rp->nfields > 0 && end_value(rp)) return -1;
    if (rp->nfields == rp->max_headers) return fail(rp, 431);
    if (rp->offsets == NULL) {
      rp->offsets = malloc(2 * rp->max_headers * sizeof(*rp->offsets));
      if (rp->offsets == NULL) return fail(rp, 500);
    }
    rp->offsets[2 * rp->nfields] = rp->fields.len;
    rp->offsets[2 * rp->nfields + 1] = 0;
    rp->nfields++;
    rp->in_value = 0;
  }
  err = buf_append(&rp->fields, at, n);
  return err ? fail_buf(rp, err, 431) : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  http__reqparser *rp = rp_of(p);
  if (count_header_bytes(rp, n, 431)) return -1;
  if (rp->headers_done) return 0;
  int err;
  if (!rp->in_value) {
    err = buf_append(&rp->fields, "", 1); /* ends the name */
    if (err) return fail_buf(rp, err, 431);
    rp->offsets[2 * (rp->nfields - 1) + 1] = rp->fields.len;
    rp->in_value = 1;
  }
  err = buf_append(&rp->fields, at, n);
  return err ? fail_buf(rp, err, 431) : 0;
}

/* Splits the request target into path and query. */
static int parse_target(http__reqparser *rp) {
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (rp->url.len == 0 || http_parser_parse_url(rp->url.data, rp->url.len, 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH)))
    return fail(rp, 400);
  const char *path = rp->url.data + u.field_data[UF_PATH].off;
  size_t path_len = u.field_data[UF_PATH].len;
  const char *query = "";
  size_t query_len = 0;
  if (u.field_set & (1 << UF_QUERY)) {
    query = rp->url.data + u.field_data[UF_QUERY].off;
    query_len = u.field_data[UF_QUERY].len;
  }
  int err = buf_append(&rp->target, path, path_len);
  if (!err) err = buf_append(&rp->target, "", 1);
  if (!err) err = buf_append(&rp->target, query, query_len);
  return err ? fail(rp, 500) : 0;
}

static int on_headers_complete(http_parser *p) {
  http__reqparser *rp = rp_of(p);
  if (rp->nfields > 0 && !rp->in_value) {
    /* the last field had no value callback: an empty value */
    if (on_header_value(p, "", 0)) return -1;
  }
  if (rp->nfields > 0 && end_value(rp)) return -1;
  rp->headers_done = 1;
  if (parse_target(rp)) return -1;

  rp->headers = malloc((2 * rp->nfields + 1) * sizeof(*rp->headers));
  if (rp->headers == NULL) return fail(rp, 500);
  for (size_t i = 0; i < 2 * rp->nfields; i++) rp->headers[i] = rp->fields.data + rp->offsets[i];
  rp->headers[2 * rp->nfields] = NULL;
  rp->req.headers_ = rp->headers;
  rp->req.nheaders_ = rp->nfields;

  /* http-parser decodes chunked only; any other coding (gzip, ...) would
   * reach the handler still encoded */
  const char *te = http_request_header(&rp->req, "Transfer-Encoding");
  if (te && strcasecmp(te, "chunked") != 0) return fail(rp, 501);
  int chunked = (p->flags & F_CHUNKED) != 0;
  int has_length = (p->flags & F_CONTENTLENGTH) != 0;
  if (rp->limit) {
    /* the request line and headers are known: the route decides */
    rp->req.method = http_method_str((enum http_method)p->method);
    rp->req.path = rp->target.data;
    rp->req.query = rp->target.data + strlen(rp->target.data) + 1;
    size_t max = 0;
    int status = rp->limit(rp->limit_arg, &rp->req, chunked || (has_length && p->content_length > 0), &max);
    if (status) return fail(rp, status);
    rp->max_body = max;
    buf_init(&rp->body, max); /* empty: the body starts after this callback */
  }
  if (has_length && p->content_length > rp->max_body) return fail(rp, 413);
  if (!chunked && !has_length &&
      (p->method == HTTP_POST || p->method == HTTP_PUT || p->method == HTTP_PATCH))
    return fail(rp, 411);
  const char *expect = http_request_header(&rp->req, "Expect");
  if (expect && strcasecmp(expect, "100-continue") == 0 && (chunked || (has_length && p->content_length > 0)))
    rp->expect_continue = 1;
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  http__reqparser *rp = rp_of(p);
  if (n > rp->max_body || rp->body.len > rp->max_body - n) return fail(rp, 413);
  http__body_budget *b = rp->budget;
  if (b && (n > b->max || atomic_load(&b->used) > b->max - n)) return fail(rp, 503);
  int err = buf_append(&rp->body, at, n);
  if (err) return fail_buf(rp, err, 413);
  if (b) {
    size_t used = atomic_fetch_add(&b->used, n) + n;
    if (used > atomic_load(&b->peak)) atomic_store(&b->peak, used);
    rp->charged += n;
  }
  return 0;
}

static int on_message_complete(http_parser *p) {
  http__reqparser *rp = rp_of(p);
  http_request *r = &rp->req;
  r->method = http_method_str((enum http_method)p->method);
  r->path = rp->target.data;
  r->query = rp->target.data + strlen(rp->target.data) + 1;
  r->body = rp->body.data ? rp->body.data : "";
  r->body_len = rp->body.len;
  /* after an upgrade request the stream is in another protocol */
  rp->keep_alive = http_should_keep_alive(p) && !p->upgrade;
  rp->state = HTTP_RP_COMPLETE;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings rp_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void reset_message(http__reqparser *rp) {
  rp->state = HTTP_RP_NEED_MORE;
  rp->error_status = 0;
  rp->started = 0;
  rp->headers_done = 0;
  rp->expect_continue = 0;
  rp->keep_alive = 0;
  rp->header_bytes = 0;
  rp->nfields = 0;
  rp->in_value = 0;
  buf_free(&rp->url);
  buf_free(&rp->fields);
  buf_free(&rp->target);
  http__reqparser_release_body(rp);
  free(rp->headers);
  rp->headers = NULL;
  memset(&rp->req, 0, sizeof(rp->req));
}

void http__reqparser_init(http__reqparser *rp, size_t max_body, size_t max_headers,
                          size_t max_header_bytes) {
  memset(rp, 0, sizeof(*rp));
  http_parser_init(&rp->parser, HTTP_REQUEST);
  rp->parser.data = rp;
  rp->max_body = max_body;
  rp->max_headers = max_headers;
  rp->max_header_bytes = max_header_bytes;
  buf_init(&rp->url, max_header_bytes);
  buf_init(&rp->fields, max_header_bytes + 2 * max_headers); /* room for the NULs */
  buf_init(&rp->target, max_header_bytes + 1);
  buf_init(&rp->body, max_body);
  rp->state = HTTP_RP_NEED_MORE;
}

void http__reqparser_release_body(http__reqparser *rp) {
  buf_free(&rp->body);
  if (rp->budget) atomic_fetch_sub(&rp->budget->used, rp->charged);
  rp->charged = 0;
  rp->req.body = "";
  rp->req.body_len = 0;
}

void http__reqparser_set_limit(http__reqparser *rp, http__rp_limit_fn fn, void *arg, http__body_budget *budget) {
  rp->limit = fn;
  rp->limit_arg = arg;
  rp->budget = budget;
}

void http__reqparser_free(http__reqparser *rp) {
  reset_message(rp);
  free(rp->offsets);
  rp->offsets = NULL;
}

static int status_of_errno(enum http_errno e) {
  switch (e) {
    case HPE_HEADER_OVERFLOW: return 431;
    default: return 400;
  }
}

size_t http__reqparser_feed(http__reqparser *rp, const char *data, size_t len) {
  if (rp->state != HTTP_RP_NEED_MORE || len == 0) return 0;
  size_t n = http_parser_execute(&rp->parser, &rp_settings, data, len);
  if (rp->state == HTTP_RP_COMPLETE) return n;
  enum http_errno e = HTTP_PARSER_ERRNO(&rp->parser);
  if (e != HPE_OK) {
    rp->state = HTTP_RP_ERROR;
    if (rp->error_status == 0) rp->error_status = status_of_errno(e);
  }
  return n;
}

void http__reqparser_next(http__reqparser *rp) {
  reset_message(rp);
  http_parser_pause(&rp->parser, 0);
}

const char *http_request_header(const http_request *r, const char *name) {
  for (size_t i = 0; i < r->nheaders_; i++)
    if (strcasecmp(r->headers_[2 * i], name) == 0) return r->headers_[2 * i + 1];
  return NULL;
}
