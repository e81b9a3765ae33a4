/* The server's TLS context: settings, loading the PEM pair, and swapping in
 * a new context when the files change (cert-manager and kubelet rotate
 * Secret volumes under a running pod). Loop thread only. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/internal.h"
#include "util/alloc.h"

/* What identifies one version of a file: an atomic swap changes the inode,
 * an in-place rewrite the size or the modification time. */
typedef struct file_sig {
  int present;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
} file_sig;

struct http__tls {
  char *cert_file;
  char *key_file;
  unsigned interval_ms;
  uint64_t next_check_ms;
  file_sig sig[2]; /* cert, key: of the pair last tried, good or bad */
  SSL_CTX *ctx;
};

static void sig_read(const char *path, file_sig *s) {
  struct stat st;
  memset(s, 0, sizeof(*s));
  if (stat(path, &st) != 0) return;
  s->present = 1;
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->size = st.st_size;
  s->mtime = st.st_mtim;
}

static int sig_equal(const file_sig *a, const file_sig *b) {
  return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Takes the reason of the last OpenSSL failure off the thread's queue. */
static char *ssl_reason(const char *what, const char *path) {
  unsigned long e, last = 0;
  while ((e = ERR_get_error()) != 0) last = e;
  char reason[256] = "unknown error";
  if (last) ERR_error_string_n(last, reason, sizeof(reason));
  return xasprintf("%s %s: %s", what, path, reason);
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  static const unsigned char http11[] = "\x08http/1.1";
  unsigned char *chosen = NULL;
  if (SSL_select_next_proto(&chosen, outlen, http11, sizeof(http11) - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK; /* h2 only: go on without ALPN, the client decides */
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

/* Builds a context from the pair. Returns NULL and *err on failure. */
static SSL_CTX *ctx_build(const char *cert_file, const char *key_file, char **err) {
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL) {
    *err = ssl_reason("creating a TLS context for", cert_file);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
  /* TLS 1.2: forward secrecy and AEAD only, as Kubernetes components
   * default to; TLS 1.3 suites are all fine as OpenSSL ships them. */
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
    *err = ssl_reason("setting ciphers for", cert_file);
    goto fail;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
    *err = ssl_reason("loading certificate", cert_file);
    goto fail;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
    *err = ssl_reason("loading private key", key_file);
    goto fail;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *err = ssl_reason("private key does not match certificate", cert_file);
    goto fail;
  }
  return ctx;
fail:
  SSL_CTX_free(ctx);
  return NULL;
}

int http__tls_new(const char *cert_file, const char *key_file, unsigned check_interval_ms,
                  http__tls **out, char **err) {
  *out = NULL;
  *err = NULL;
  http__tls *t = xcalloc(1, sizeof(*t));
  t->cert_file = xstrdup(cert_file);
  t->key_file = xstrdup(key_file);
  t->interval_ms = check_interval_ms;
  sig_read(t->cert_file, &t->sig[0]);
  sig_read(t->key_file, &t->sig[1]);
  t->ctx = ctx_build(t->cert_file, t->key_file, err);
  if (t->ctx == NULL) {
    http__tls_free(t);
    return CUBIT_ETLS;
  }
  *out = t;
  return 0;
}

void http__tls_free(http__tls *t) {
  if (t == NULL) return;
  SSL_CTX_free(t->ctx);
  free(t->cert_file);
  free(t->key_file);
  free(t);
}

SSL_CTX *http__tls_ctx(http__tls *t, uint64_t now_ms, int *reloaded, char **err) {
  *reloaded = 0;
  *err = NULL;
  if (now_ms < t->next_check_ms) return t->ctx;
  t->next_check_ms = now_ms + t->interval_ms;
  file_sig now[2];
  sig_read(t->cert_file, &now[0]);
  sig_read(t->key_file, &now[1]);
  if (sig_equal(&now[0], &t->sig[0]) && sig_equal(&now[1], &t->sig[1])) return t->ctx;
  /* Remember the pair even when it fails, so a broken pair is reported
   * once, and tried again only when one of the files changes again. */
  t->sig[0] = now[0];
  t->sig[1] = now[1];
  SSL_CTX *fresh = ctx_build(t->cert_file, t->key_file, err);
  if (fresh == NULL) return t->ctx;
  SSL_CTX_free(t->ctx); /* connections using it hold their own reference */
  t->ctx = fresh;
  *reloaded = 1;
  return t->ctx;
}

SSL_CTX *http__tls_current(const http__tls *t) {
  return t->ctx;
}
