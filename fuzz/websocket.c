/* pkg/kube/websocket.c and the channel layer of pkg/kube/portforward.c:
 * what an API server (or anything posing as one) sends back on a
 * port-forward stream. Input: the server's bytes; its first bytes also
 * decide how it is cut into pieces.
 *
 * Properties: whole, byte by byte, or in pieces of any sizes, the bytes
 * give the same messages and the same result (kube_ws_feed keeps no state
 * that depends on how the bytes came); no data message is over the cap and
 * no control frame over 125 bytes; nothing is handed on after a close
 * frame; every binary message goes through the port-forward channel layer
 * without a crash, and the data it hands on is never more than the message
 * carried. The same bytes as the head of a handshake answer are parsed too
 * (no crash, a status in 0 or 100..599). */
#include "fuzz.h"
#include "kube/portforward.h"
#include "kube/websocket.h"

#define CAP 300

typedef struct msgs {
  cubit_buf all; /* opcode byte, 4 length bytes, payload, per message */
  int closed;
  kube_pf_demux demux;
  size_t data_out;
} msgs;

static int count_data(const char *data, size_t len, void *arg) {
  msgs *m = arg;
  m->data_out += len;
  return 0;
}

static int collect(void *arg, kube_ws_opcode op, const uint8_t *data, size_t len) {
  msgs *m = arg;
  FUZZ_ASSERT(!m->closed, "a message after the close frame");
  FUZZ_ASSERT(len <= CAP, "a message of %zu bytes (cap %d)", len, CAP);
  if (op & 0x8) FUZZ_ASSERT(len <= 125, "a control frame of %zu bytes", len);
  if (op == KUBE_WS_CLOSE) m->closed = 1;
  uint8_t h[5] = {(uint8_t)op, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  if (buf_append(&m->all, h, 5) || buf_append(&m->all, data, len)) abort();
  if (op == KUBE_WS_BINARY) {
    char err[256];
    size_t before = m->data_out;
    int rc = kube_pf_demux_message(&m->demux, data, len, count_data, m, err, sizeof(err));
    FUZZ_ASSERT(rc == 0 || rc == CUBIT_EINVAL, "demux result %d", rc);
    /* At most the message less its channel byte. */
    FUZZ_ASSERT(m->data_out - before + 1 <= (len ? len : 1), "%zu data bytes out of a %zu-byte message",
                m->data_out - before, len);
  }
  if (op == KUBE_WS_CLOSE) {
    int code;
    const char *reason;
    size_t rlen;
    if (kube_ws_close_parse(data, len, &code, &reason, &rlen) == 0)
      FUZZ_ASSERT(rlen + (len ? 2 : 0) == len, "close reason of %zu bytes in %zu", rlen, len);
  }
  return 0;
}

/* Feeds data in pieces whose sizes come from seed (0: whole; 1: byte by
 * byte). */
static int feed(const uint8_t *data, size_t size, uint64_t seed, msgs *out) {
  kube_ws_decoder d;
  kube_ws_decoder_init(&d, CAP);
  memset(out, 0, sizeof(*out));
  buf_init(&out->all, (size_t)1 << 30);
  kube_pf_demux_init(&out->demux, 8888);
  char err[256];
  int rc = 0;
  for (size_t off = 0; off < size && rc == 0;) {
    size_t take = seed == 0 ? size : seed == 1 ? 1 : 1 + (size_t)(fuzz_next(&seed) % (2 * CAP));
    if (take > size - off) take = size - off;
    rc = kube_ws_feed(&d, data + off, take, collect, out, err, sizeof(err));
    off += take;
  }
  kube_ws_decoder_free(&d);
  kube_pf_demux_free(&out->demux);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  msgs want, got;
  int want_rc = feed(data, size, 0, &want);
  uint64_t seeds[3] = {1, 0x9e3779b97f4a7c15ULL, 0};
  for (size_t i = 0; i < size && i < 8; i++) seeds[2] = seeds[2] * 257 + data[i] + 2;
  static const char *const how[] = {"byte by byte", "in pieces", "in pieces from the input"};
  for (int k = 0; k < 3; k++) {
    int rc = feed(data, size, seeds[k], &got);
    FUZZ_ASSERT(rc == want_rc, "%s: result %d, whole %d", how[k], rc, want_rc);
    FUZZ_ASSERT(got.all.len == want.all.len && (got.all.len == 0 || memcmp(got.all.data, want.all.data, got.all.len) == 0),
                "%s: other messages than whole", how[k]);
    FUZZ_ASSERT(got.data_out == want.data_out, "%s: other data out", how[k]);
    buf_free(&got.all);
  }
  buf_free(&want.all);
  long status, cl;
  char err[256];
  (void)kube_ws_handshake_parse((const char *)data, size, "dGhlIHNhbXBsZSBub25jZQ==", KUBE_PF_PROTOCOL, &status, &cl,
                                err, sizeof(err));
  FUZZ_ASSERT(status == 0 || (status >= 100 && status <= 599), "status %ld", status);
  return 0;
}
