/* The port-forward stream (pkg/kube/websocket.c, pkg/kube/portforward.c):
 * RFC 6455 frames as the client encodes them; the decoder on server frames
 * whole and byte by byte (fragmented messages, control frames between
 * fragments, 16- and 64-bit lengths, close frames, each protocol error);
 * close payloads; the opening handshake's answer; the channel layer (port
 * prefixes, split or not, data and error channels); and the whole stream
 * against a scripted loopback server: upgrade, ping answered, bytes both
 * ways, close handshake, a stop while a connection is open, an error
 * answer's Status. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/portforward.h"
#include "kube/websocket.h"
#include "testutil.h"

/* ---------------------------------------------------------- encoder */

typedef struct enc_case {
  kube_ws_opcode op;
  int fin;
  size_t len;
  int code;
  size_t header_len;      /* with the mask */
  uint8_t header[4];      /* the first bytes */
} enc_case;

static const enc_case enc_cases[] = {
    {KUBE_WS_BINARY, 1, 0, 0, 6, {0x82, 0x80}},
    {KUBE_WS_BINARY, 1, 5, 0, 6, {0x82, 0x85}},
    {KUBE_WS_TEXT, 0, 125, 0, 6, {0x01, 0xFD}},
    {KUBE_WS_CONTINUATION, 1, 126, 0, 8, {0x80, 0xFE, 0x00, 0x7E}},
    {KUBE_WS_BINARY, 1, 65535, 0, 8, {0x82, 0xFE, 0xFF, 0xFF}},
    {KUBE_WS_BINARY, 1, 65536, 0, 14, {0x82, 0xFF, 0x00, 0x00}},
    {KUBE_WS_PING, 1, 125, 0, 6, {0x89, 0xFD}},
    {KUBE_WS_CLOSE, 1, 2, 0, 6, {0x88, 0x82}},
    {KUBE_WS_PING, 1, 126, CUBIT_EINVAL, 0, {0}},
    {KUBE_WS_PONG, 0, 1, CUBIT_EINVAL, 0, {0}},
};

START_TEST(encode) {
  const enc_case *c = &enc_cases[_i];
  const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t *payload = malloc(c->len + 1);
  for (size_t i = 0; i < c->len; i++) payload[i] = (uint8_t)(i * 7 + 3);
  cubit_buf out;
  buf_init(&out, 1 << 20);
  int rc = kube_ws_encode(&out, c->op, c->fin, payload, c->len, mask);
  ck_assert_int_eq(rc, c->code);
  if (rc == 0) {
    const uint8_t *b = (const uint8_t *)out.data;
    ck_assert_uint_eq(out.len, c->header_len + c->len);
    ck_assert_mem_eq(b, c->header, c->header_len > 6 ? 4 : 2);
    if (c->len == 65536) {
      ck_assert_uint_eq(b[7], 0x01);
      ck_assert_uint_eq(b[8], 0x00);
    }
    ck_assert_mem_eq(b + c->header_len - 4, mask, 4);
    for (size_t i = 0; i < c->len; i++)
      ck_assert_uint_eq(b[c->header_len + i] ^ mask[i & 3], payload[i]);
  }
  buf_free(&out);
  free(payload);
}
END_TEST

/* ---------------------------------------------------------- decoder */

typedef struct seen {
  cubit_buf log; /* "B:payload|" per message; payloads over 40 bytes as "<n>" */
  int stop_at;   /* return 99 from this message on (1-based); 0 = never */
  int n;
} seen;

static int record(void *arg, kube_ws_opcode op, const uint8_t *data, size_t len) {
  seen *s = arg;
  static const char names[] = "?TB?????CPO";
  char tag = op <= KUBE_WS_PONG ? names[op] : '?';
  int rc;
  if (op == KUBE_WS_CLOSE) {
    int code;
    const char *reason;
    size_t rlen;
    ck_assert_int_eq(kube_ws_close_parse(data, len, &code, &reason, &rlen), 0);
    rc = buf_appendf(&s->log, "C:%d %.*s|", code, (int)rlen, reason);
  } else if (len > 40) {
    rc = buf_appendf(&s->log, "%c:<%zu>|", tag, len);
  } else {
    rc = buf_appendf(&s->log, "%c:%.*s|", tag, (int)len, (const char *)data);
  }
  ck_assert_int_eq(rc, 0);
  return s->stop_at && ++s->n >= s->stop_at ? 99 : 0;
}

typedef struct dec_case {
  const char *name;
  const char *hex;   /* the server's bytes; "R300;" inside: 300 bytes 'r' */
  size_t cap;
  int code;
  const char *log;   /* messages handed on */
  const char *err;   /* part of the reason */
} dec_case;

static const dec_case dec_cases[] = {
    {"one binary message", "820568656c6c6f", 1024, 0, "B:hello|", NULL},
    {"text in three fragments", "01024865" "00026c6c" "80016f", 1024, 0, "T:Hello|", NULL},
    {"a ping between fragments", "02026162890178" "80026364", 1024, 0, "P:x|B:abcd|", NULL},
    {"pong and empty ping", "8a00" "8900", 1024, 0, "O:|P:|", NULL},
    {"16-bit length", "827e012c" "R300;", 1024, 0, "B:<300>|", NULL},
    {"64-bit length", "827f0000000000011170" "R70000;", 100000, 0, "B:<70000>|", NULL},
    {"close with a reason", "880503e8627965", 1024, 0, "C:1000 bye|", NULL},
    {"close without a code", "8800", 1024, 0, "C:0 |", NULL},
    {"a masked frame", "828501020304", 1024, CUBIT_EINVAL, "", "masked frame"},
    {"reserved bits", "c20161", 1024, CUBIT_EINVAL, "", "reserved bits 0x40"},
    {"unknown opcode", "830161", 1024, CUBIT_EINVAL, "", "unknown opcode 0x3"},
    {"fragmented ping", "090161", 1024, CUBIT_EINVAL, "", "fragmented control frame"},
    {"long control frame", "897e007e" "R126;", 1024, CUBIT_EINVAL, "", "control frame of 126 bytes"},
    {"continuation first", "800161", 1024, CUBIT_EINVAL, "", "continuation frame with no message"},
    {"new message inside one", "020161" "820162", 1024, CUBIT_EINVAL, "", "before the fragmented one ended"},
    {"non-minimal 16-bit", "827e0005" "6161616161", 1024, CUBIT_EINVAL, "", "not minimal"},
    {"non-minimal 64-bit", "827f0000000000000005" "6161616161", 1024, CUBIT_EINVAL, "", "not minimal"},
    {"64-bit top bit", "827f8000000000000000", 1024, CUBIT_EINVAL, "", "top bit"},
    {"frame over the cap", "827e0800", 1024, CUBIT_ETOOBIG, "", "a frame of 2048 bytes"},
    {"fragments over the cap", "027e0300" "R768;" "807e0300" "R768;", 1024, CUBIT_ETOOBIG, "", "a message over 1024"},
    {"bytes after close", "880203e8" "820161", 1024, CUBIT_EINVAL, "C:1000 |", "after the close frame"},
};

/* The case's bytes from its hex (with "R<n>" runs). */
static void case_bytes(const char *hex, cubit_buf *out) {
  for (const char *p = hex; *p;) {
    if (*p == 'R') {
      char *end;
      long n = strtol(p + 1, &end, 10);
      ck_assert_int_eq(*end, ';');
      for (long i = 0; i < n; i++) ck_assert_int_eq(buf_append(out, "r", 1), 0);
      p = end + 1;
      continue;
    }
    unsigned v;
    ck_assert_int_eq(sscanf(p, "%2x", &v), 1);
    uint8_t b = (uint8_t)v;
    ck_assert_int_eq(buf_append(out, &b, 1), 0);
    p += 2;
  }
}

static void decode_case(const dec_case *c, size_t piece) {
  cubit_buf in;
  buf_init(&in, 1 << 20);
  case_bytes(c->hex, &in);
  kube_ws_decoder d;
  kube_ws_decoder_init(&d, c->cap);
  seen s = {0};
  buf_init(&s.log, 1 << 20);
  char err[256] = "";
  int rc = 0;
  for (size_t off = 0; off < in.len && rc == 0; off += piece) {
    size_t take = in.len - off < piece ? in.len - off : piece;
    rc = kube_ws_feed(&d, in.data + off, take, record, &s, err, sizeof(err));
  }
  ck_assert_msg(rc == c->code, "%s (pieces of %zu): code %d (%s), want %d", c->name, piece, rc, err, c->code);
  ck_assert_msg(strcmp(s.log.len ? s.log.data : "", c->log) == 0, "%s (pieces of %zu): handed on %s", c->name,
                piece, s.log.data);
  if (c->err) ck_assert_msg(strstr(err, c->err), "%s: reason \"%s\" lacks \"%s\"", c->name, err, c->err);
  kube_ws_decoder_free(&d);
  buf_free(&s.log);
  buf_free(&in);
}

START_TEST(decode_whole) {
  decode_case(&dec_cases[_i], (size_t)1 << 30);
}
END_TEST

START_TEST(decode_bytewise) {
  decode_case(&dec_cases[_i], 1);
}
END_TEST

START_TEST(decode_stops_when_told) {
  cubit_buf in;
  buf_init(&in, 1024);
  case_bytes("820161" "820162", &in);
  kube_ws_decoder d;
  kube_ws_decoder_init(&d, 1024);
  seen s = {.stop_at = 1};
  buf_init(&s.log, 1024);
  char err[128];
  ck_assert_int_eq(kube_ws_feed(&d, in.data, in.len, record, &s, err, sizeof(err)), 99);
  ck_assert_str_eq(s.log.data, "B:a|");
  kube_ws_decoder_free(&d);
  buf_free(&s.log);
  buf_free(&in);
}
END_TEST

typedef struct close_case {
  const char *hex;
  int rc, code;
  const char *reason;
} close_case;

static const close_case close_cases[] = {
    {"", 0, 0, ""},          {"03", CUBIT_EINVAL, 0, ""}, {"03e8", 0, 1000, ""},
    {"03e9676f6e65", 0, 1001, "gone"}, {"03ed", CUBIT_EINVAL, 0, ""}, {"03e7", CUBIT_EINVAL, 0, ""},
    {"0bb8", 0, 3000, ""},   {"1388", CUBIT_EINVAL, 0, ""}, {"03f7", CUBIT_EINVAL, 0, ""},
};

START_TEST(close_payload) {
  const close_case *c = &close_cases[_i];
  cubit_buf in;
  buf_init(&in, 64);
  case_bytes(c->hex, &in);
  int code;
  const char *reason;
  size_t rlen;
  ck_assert_int_eq(kube_ws_close_parse((const uint8_t *)in.data, in.len, &code, &reason, &rlen), c->rc);
  ck_assert_int_eq(code, c->code);
  ck_assert_uint_eq(rlen, strlen(c->reason));
  ck_assert_mem_eq(reason, c->reason, rlen);
  buf_free(&in);
}
END_TEST

/* ---------------------------------------------------------- handshake */

START_TEST(accept_rfc_example) {
  char out[29];
  ck_assert_int_eq(kube_ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
  ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

typedef struct hs_case {
  const char *head;
  int rc;
  long status, content_length;
  const char *err;
} hs_case;

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const hs_case hs_cases[] = {
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT
     "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
     0, 101, -1, NULL},
    {"HTTP/1.1 101 Switching Protocols\r\nupgrade:  WebSocket \r\nconnection: keep-alive, upgrade\r\n"
     "sec-websocket-accept:" ACCEPT "\r\nsec-websocket-protocol: v4.channel.k8s.io\r\n\r\n",
     0, 101, -1, NULL},
    {"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
     CUBIT_EINVAL, 101, -1, "does not upgrade to websocket"},
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
     CUBIT_EINVAL, 101, -1, "lacks \"Upgrade\""},
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
     CUBIT_EINVAL, 101, -1, "does not answer our key"},
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT
     "\r\n\r\n",
     CUBIT_EINVAL, 101, -1, "chose subprotocol \"\""},
    {"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n", 0, 403, 42, NULL},
    {"HTTP/1.1 400 Bad Request\r\n\r\n", 0, 400, -1, NULL},
    {"HTTP/1.1 400 Bad Request\r\nContent-Length: -3\r\n\r\n", CUBIT_EINVAL, 400, -1, "not a length"},
    {"SSH-2.0-OpenSSH_9.2\r\n\r\n", CUBIT_EINVAL, 0, -1, "not HTTP"},
    {"HTTP/1.1 1010 Nope\r\n\r\n", CUBIT_EINVAL, 0, -1, "not HTTP"},
};

START_TEST(handshake) {
  const hs_case *c = &hs_cases[_i];
  long status, cl;
  char err[256] = "";
  int rc = kube_ws_handshake_parse(c->head, strlen(c->head), KEY, KUBE_PF_PROTOCOL, &status, &cl, err, sizeof(err));
  ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, err);
  ck_assert_int_eq(status, c->status);
  ck_assert_int_eq(cl, c->content_length);
  if (c->err) ck_assert_msg(strstr(err, c->err), "case %d: \"%s\" lacks \"%s\"", _i, err, c->err);
}
END_TEST

/* ---------------------------------------------------------- channels */

typedef struct demux_case {
  const char *name;
  const char *msgs[5]; /* hex each */
  int rc;
  const char *data, *error, *err;
} demux_case;

/* Port 8888 is 0x22b8: b8 22 little endian. */
static const demux_case demux_cases[] = {
    {"prefixes then data", {"00b822", "01b822", "0068656c6c6f", "00212121"}, 0, "hello!!!", "", NULL},
    {"prefix and data in one message", {"00b822686579", "01b822"}, 0, "hey", "", NULL},
    {"prefix split over messages", {"00b8", "0022", "006869"}, 0, "hi", "", NULL},
    {"error channel", {"00b822", "01b822", "016e6f20666f7277617264"}, 0, "", "no forward", NULL},
    {"error and data channels", {"01b8226e6f", "00b82220666f7277617264"}, 0, " forward", "no", NULL},
    {"another port", {"005000"}, CUBIT_EINVAL, "", "", "channel 0 is for port 80, not 8888"},
    {"another port on the error channel", {"00b822", "01b823"}, CUBIT_EINVAL, "", "", "channel 1 is for port 9144"},
    {"a third channel", {"02b822"}, CUBIT_EINVAL, "", "", "channel 2"},
    {"an empty message", {""}, CUBIT_EINVAL, "", "", "no channel byte"},
};

static int collect(const char *data, size_t len, void *arg) {
  return buf_append(arg, data, len);
}

START_TEST(demux) {
  const demux_case *c = &demux_cases[_i];
  kube_pf_demux d;
  kube_pf_demux_init(&d, 8888);
  cubit_buf data;
  buf_init(&data, 1024);
  char err[256] = "";
  int rc = 0;
  for (int i = 0; i < 5 && c->msgs[i] && rc == 0; i++) {
    cubit_buf m;
    buf_init(&m, 1024);
    case_bytes(c->msgs[i], &m);
    rc = kube_pf_demux_message(&d, (const uint8_t *)(m.data ? m.data : ""), m.len, collect, &data, err, sizeof(err));
    buf_free(&m);
  }
  ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->name, rc, err);
  ck_assert_str_eq(data.len ? data.data : "", c->data);
  ck_assert_str_eq(d.error.len ? d.error.data : "", c->error);
  if (c->err) ck_assert_msg(strstr(err, c->err), "%s: \"%s\" lacks \"%s\"", c->name, err, c->err);
  buf_free(&data);
  kube_pf_demux_free(&d);
}
END_TEST

/* ---------------------------------------------------------- the stream */

/* A scripted API server: answers the upgrade, sends the port prefixes, a
 * ping and pod bytes, reads the client's frames (unmasking them) until it
 * has seen the pong and the local bytes, then closes. */
typedef struct ws_server {
  int fd, port;
  const char *answer; /* NULL: the 101 upgrade; else sent as is */
  int quiet;          /* after the upgrade, only wait for the client's close */
  char request[4096];
  char pong[64], data[64];
  size_t data_len;
  int close_code; /* of the client's close frame */
  pthread_t thread;
} ws_server;

static void send_all(int c, const void *p, size_t len) {
  ck_assert_int_eq(send(c, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_frame(int c, int op, const char *payload, size_t len) {
  uint8_t h[2] = {(uint8_t)(0x80 | op), (uint8_t)len};
  send_all(c, h, 2);
  if (len) send_all(c, payload, len);
}

static int read_n(int c, void *p, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = recv(c, (char *)p + got, n - got, 0);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

/* One client frame (small, masked): opcode and unmasked payload. */
static int read_client_frame(int c, int *op, char *payload, size_t cap, size_t *len) {
  uint8_t h[2], mask[4];
  if (read_n(c, h, 2)) return -1;
  *op = h[0] & 0x0F;
  *len = h[1] & 0x7F;
  ck_assert_msg(h[1] & 0x80, "a client frame is masked");
  ck_assert_uint_lt(*len, cap);
  if (read_n(c, mask, 4) || read_n(c, payload, *len)) return -1;
  for (size_t i = 0; i < *len; i++) payload[i] ^= (char)mask[i & 3];
  return 0;
}

static void *ws_serve(void *arg) {
  ws_server *s = arg;
  int c = accept(s->fd, NULL, NULL);
  if (c < 0) return NULL;
  size_t have = 0;
  while (!strstr(s->request, "\r\n\r\n") && have < sizeof(s->request) - 1) {
    ssize_t n = recv(c, s->request + have, sizeof(s->request) - 1 - have, 0);
    if (n <= 0) break;
    have += (size_t)n;
    s->request[have] = '\0';
  }
  if (s->answer) {
    send_all(c, s->answer, strlen(s->answer));
    close(c);
    return NULL;
  }
  char key[64] = "", accept[29], head[512];
  const char *k = strstr(s->request, "Sec-WebSocket-Key: ");
  if (k) sscanf(k + 19, "%63[^\r]", key);
  ck_assert_int_eq(kube_ws_accept_for(key, accept), 0);
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
                   accept);
  /* The prefixes go in the same write as the answer: the client keeps
   * what came after the head. */
  memcpy(head + n, "\x82\x03\x00\xb8\x22\x82\x03\x01\xb8\x22", 10);
  send_all(c, head, (size_t)n + 10);
  if (s->quiet) {
    int op;
    char p[128];
    size_t len;
    if (read_client_frame(c, &op, p, sizeof(p), &len) == 0 && op == KUBE_WS_CLOSE && len == 2)
      s->close_code = ((uint8_t)p[0] << 8) | (uint8_t)p[1];
    close(c);
    return NULL;
  }
  send_frame(c, KUBE_WS_PING, "are you there", 13);
  send_frame(c, KUBE_WS_BINARY, "\x00pod says hi", 12);
  int got_pong = 0, got_data = 0;
  while (!(got_pong && got_data)) {
    int op;
    char p[128];
    size_t len;
    if (read_client_frame(c, &op, p, sizeof(p), &len)) break;
    if (op == KUBE_WS_PONG) {
      snprintf(s->pong, sizeof(s->pong), "%.*s", (int)len, p);
      got_pong = 1;
    } else if (op == KUBE_WS_BINARY) {
      memcpy(s->data, p, len < sizeof(s->data) ? len : sizeof(s->data));
      s->data_len = len;
      got_data = 1;
    }
  }
  send_frame(c, KUBE_WS_CLOSE, "\x03\xe8", 2);
  int op;
  char p[128];
  size_t len;
  if (read_client_frame(c, &op, p, sizeof(p), &len) == 0 && op == KUBE_WS_CLOSE && len == 2)
    s->close_code = ((uint8_t)p[0] << 8) | (uint8_t)p[1];
  close(c);
  return NULL;
}

static void ws_server_start(ws_server *s, const char *answer, int quiet) {
  memset(s, 0, sizeof(*s));
  s->answer = answer;
  s->quiet = quiet;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(s->fd, 1), 0);
  ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, ws_serve, s), 0);
}

START_TEST(stream_both_ways) {
  ws_server s;
  ws_server_start(&s, NULL, 0);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  kube_config cfg = {.server = url, .namespace = "default", .token = "sekret"};
  kube_client *client;
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  kube_portforward *pf;
  kube_status st;
  ck_assert_int_eq(kube_portforward_open(client, "team-a", "lab-0", 8888, &pf, &st), 0);
  ck_assert_int_eq(st.http_status, 101);
  int pair[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  send_all(pair[1], "local bytes", 11);
  ck_assert_int_eq(kube_portforward_pump(pf, pair[0], -1, &st), 0);
  char got[64] = "";
  ck_assert_int_eq(recv(pair[1], got, sizeof(got) - 1, MSG_DONTWAIT), 11);
  ck_assert_str_eq(got, "pod says hi");
  pthread_join(s.thread, NULL);
  ck_assert_ptr_nonnull(strstr(s.request, "GET /api/v1/namespaces/team-a/pods/lab-0/portforward?ports=8888 HTTP/1.1\r\n"));
  ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer sekret\r\n"));
  ck_assert_ptr_nonnull(strstr(s.request, "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n"));
  ck_assert_str_eq(s.pong, "are you there");
  ck_assert_uint_eq(s.data_len, 12);
  ck_assert_mem_eq(s.data, "\0local bytes", 12);
  ck_assert_int_eq(s.close_code, 1000);
  kube_portforward_free(pf);
  close(pair[0]);
  close(pair[1]);
  close(s.fd);
  kube_client_free(client);
}
END_TEST

/* Ctrl-C while a connection is open: the stop descriptor ends the pump,
 * which says goodbye with a normal close frame. */
START_TEST(stream_stopped) {
  ws_server s;
  ws_server_start(&s, NULL, 1);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  kube_config cfg = {.server = url, .namespace = "default"};
  kube_client *client;
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  kube_portforward *pf;
  kube_status st;
  ck_assert_int_eq(kube_portforward_open(client, "team-a", "lab-0", 8888, &pf, &st), 0);
  int pair[2], stop[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  ck_assert_int_eq(pipe(stop), 0);
  ck_assert_int_eq(write(stop[1], "x", 1), 1);
  ck_assert_int_eq(kube_portforward_pump(pf, pair[0], stop[0], &st), 0);
  pthread_join(s.thread, NULL);
  ck_assert_int_eq(s.close_code, 1000);
  kube_portforward_free(pf);
  close(pair[0]);
  close(pair[1]);
  close(stop[0]);
  close(stop[1]);
  close(s.fd);
  kube_client_free(client);
}
END_TEST

START_TEST(stream_refused) {
  ws_server s;
  ws_server_start(&s,
                  "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 105\r\n\r\n"
                  "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"pods \\\"lab-0\\\" is forbidden: cannot "
                  "create portforward\"}",
                  0);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  kube_config cfg = {.server = url, .namespace = "default"};
  kube_client *client;
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  kube_portforward *pf = (kube_portforward *)1;
  kube_status st;
  ck_assert_int_eq(kube_portforward_open(client, "team-a", "lab-0", 8888, &pf, &st), CUBIT_EFORBIDDEN);
  ck_assert_ptr_null(pf);
  ck_assert_int_eq(st.http_status, 403);
  ck_assert_str_eq(st.message, "pods \"lab-0\" is forbidden: cannot create portforward");
  pthread_join(s.thread, NULL);
  close(s.fd);
  kube_client_free(client);
}
END_TEST

int main(void) {
  Suite *su = suite_create("portforward");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, encode, 0, sizeof(enc_cases) / sizeof(enc_cases[0]));
  tcase_add_loop_test(tc, decode_whole, 0, sizeof(dec_cases) / sizeof(dec_cases[0]));
  tcase_add_loop_test(tc, decode_bytewise, 0, sizeof(dec_cases) / sizeof(dec_cases[0]));
  tcase_add_test(tc, decode_stops_when_told);
  tcase_add_loop_test(tc, close_payload, 0, sizeof(close_cases) / sizeof(close_cases[0]));
  tcase_add_test(tc, accept_rfc_example);
  tcase_add_loop_test(tc, handshake, 0, sizeof(hs_cases) / sizeof(hs_cases[0]));
  tcase_add_loop_test(tc, demux, 0, sizeof(demux_cases) / sizeof(demux_cases[0]));
  tcase_add_test(tc, stream_both_ways);
  tcase_add_test(tc, stream_stopped);
  tcase_add_test(tc, stream_refused);
  suite_add_tcase(su, tc);
  return testutil_run(su);
}
