/* pkg/http/request.c: the HTTP/1.1 request reader (http-parser plus the
 * caps). Input: the bytes a client sends, possibly several pipelined
 * requests; its first bytes also decide how it is cut into chunks.
 *
 * Properties: whole, byte by byte, or in chunks of any sizes, the stream
 * gives the same requests (method, path, query, headers, body, keep-alive)
 * and ends in the same state (complete, wanting more, or refused); every
 * request respects the caps (body, header count); a refusal's status is a
 * 4xx or 5xx. */
#include "fuzz.h"
#include "http/internal.h"

#define MAX_BODY 1024
#define MAX_HEADERS 16
#define MAX_HEADER_BYTES 512

/* Everything the handler would see of the requests, written out. */
static void record(cubit_buf *out, const http_request *r, int keep_alive, int expect_continue) {
  FUZZ_ASSERT(r->method && r->path && r->query && r->body, "a request with a NULL field");
  FUZZ_ASSERT(r->body_len <= MAX_BODY, "a body of %zu bytes (cap %d)", r->body_len, MAX_BODY);
  FUZZ_ASSERT(r->nheaders_ <= MAX_HEADERS, "%zu headers (cap %d)", r->nheaders_, MAX_HEADERS);
  FUZZ_ASSERT(r->body[r->body_len] == '\0', "the body is not NUL-terminated");
  int err = buf_appendf(out, "%s %s ? %s ka=%d ec=%d\n", r->method, r->path, r->query, keep_alive, expect_continue);
  for (size_t i = 0; i < r->nheaders_ && err == 0; i++)
    err = buf_appendf(out, "%s: %s\n", r->headers_[2 * i], r->headers_[2 * i + 1]);
  if (err == 0) err = buf_appendf(out, "body %zu\n", r->body_len);
  if (err == 0) err = buf_append(out, r->body, r->body_len);
  if (err) abort();
}

/* Reads the stream in chunks whose sizes come from 'seed' (0: whole; 1: byte
 * by byte) as the server does: after each complete request the parser is
 * reset and the rest fed again; a request that does not keep the connection
 * alive, or an error, ends it. */
static void read_stream(const uint8_t *data, size_t size, uint64_t seed, cubit_buf *out) {
  http__reqparser rp;
  http__reqparser_init(&rp, MAX_BODY, MAX_HEADERS, MAX_HEADER_BYTES);
  size_t off = 0, chunk_end = 0;
  int done = 0;
  while (!done && off < size) {
    if (off >= chunk_end) {
      size_t take = seed == 0 ? size : seed == 1 ? 1 : 1 + (size_t)(fuzz_next(&seed) % 97);
      chunk_end = off + take > size ? size : off + take;
    }
    size_t n = http__reqparser_feed(&rp, (const char *)data + off, chunk_end - off);
    FUZZ_ASSERT(n <= chunk_end - off, "consumed %zu of %zu bytes", n, chunk_end - off);
    off += n;
    switch (rp.state) {
      case HTTP_RP_COMPLETE:
        record(out, &rp.req, rp.keep_alive, rp.expect_continue);
        if (!rp.keep_alive) done = 1;
        http__reqparser_next(&rp);
        break;
      case HTTP_RP_ERROR:
        FUZZ_ASSERT(rp.error_status >= 400 && rp.error_status <= 599, "error status %d", rp.error_status);
        /* Which status an input that breaks two rules gets (a 17th header
         * with a malformed name: 431 or 400) depends on where http-parser's
         * buffer ends, so only the failure itself is compared. */
        if (buf_appends(out, "error\n")) abort();
        done = 1;
        break;
      case HTTP_RP_NEED_MORE:
        FUZZ_ASSERT(off == chunk_end, "the reader wants more but left %zu bytes of its chunk", chunk_end - off);
        break;
    }
  }
  if (!done && buf_appendf(out, "end started=%d\n", rp.started)) abort();
  http__reqparser_free(&rp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cubit_buf want, got;
  buf_init(&want, (size_t)1 << 30);
  read_stream(data, size, 0, &want);
  uint64_t seeds[3] = {1, 0x9e3779b97f4a7c15ULL, 0};
  for (size_t i = 0; i < size && i < 8; i++) seeds[2] = seeds[2] * 257 + data[i] + 2;
  static const char *const how[] = {"byte by byte", "in chunks", "in chunks from the input"};
  for (int k = 0; k < 3; k++) {
    buf_init(&got, (size_t)1 << 30);
    read_stream(data, size, seeds[k], &got);
    FUZZ_ASSERT(got.len == want.len && (want.len == 0 || memcmp(got.data, want.data, want.len) == 0),
                "read %s, the stream gives\n%.*s\n  but whole it gives\n%.*s", how[k],
                (int)(got.len > 600 ? 600 : got.len), got.data ? got.data : "", (int)(want.len > 600 ? 600 : want.len),
                want.data ? want.data : "");
    buf_free(&got);
  }
  buf_free(&want);
  return 0;
}
