#include "runtime/certs.h"
#include "runtime/thread.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static const kube_resource mutating_configs = {"admissionregistration.k8s.io", "v1",
                                               "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", 0};
static const kube_resource validating_configs = {"admissionregistration.k8s.io", "v1",
                                                 "validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
                                                 0};

struct rt_certs {
  kube_client *client;
  char *ns, *secret, *dir, *hosts, *config;
  int64_t validity_s;
  int check_s;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stop;
};

/* ------------------------------------------------------------ OpenSSL */

static char *pem_of_key(EVP_PKEY *k) {
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *out = xstrndup(data, (size_t)n);
  BIO_free(b);
  return out;
}

static char *pem_of_cert(X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *out = xstrndup(data, (size_t)n);
  BIO_free(b);
  return out;
}

static EVP_PKEY *key_of_pem(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
  BIO_free(b);
  return k;
}

static X509 *cert_of_pem(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  return x;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ext) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, int64_t validity_s) {
  X509 *x = X509_new();
  X509_set_version(x, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  /* Backdated a little: clocks of the API server and us may differ. */
  X509_gmtime_adj(X509_getm_notBefore(x), -300);
  X509_gmtime_adj(X509_getm_notAfter(x), (long)validity_s);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  return x;
}

static EVP_PKEY *new_key(void) {
  return EVP_EC_gen("P-256");
}

int rt__certs_make_ca(int64_t validity_s, char **key_pem, char **cert_pem) {
  EVP_PKEY *key = new_key();
  if (key == NULL) return CUBIT_ETLS;
  X509 *x = new_cert(key, "cubit-webhook-ca", validity_s);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  add_ext(x, x, NID_subject_key_identifier, "hash");
  int ok = X509_sign(x, key, EVP_sha256()) > 0;
  if (ok) {
    *key_pem = pem_of_key(key);
    *cert_pem = pem_of_cert(x);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return ok ? 0 : CUBIT_ETLS;
}

/* "a.svc,127.0.0.1" → "DNS:a.svc,IP:127.0.0.1" */
static char *san_of(const char *hosts) {
  cubit_buf b;
  buf_init(&b, 8192);
  char *copy = xstrdup(hosts), *save = NULL;
  int err = 0;
  for (char *h = strtok_r(copy, ",", &save); h && !err; h = strtok_r(NULL, ",", &save)) {
    while (*h == ' ') h++;
    if (*h == '\0') continue;
    int ip = strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
    err = buf_appendf(&b, "%s%s:%s", b.len ? "," : "", ip ? "IP" : "DNS", h);
  }
  free(copy);
  if (err) abort();
  return buf_detach(&b);
}

int rt__certs_make_serving(const char *ca_key_pem, const char *ca_cert_pem, const char *hosts, int64_t validity_s,
                           char **key_pem, char **cert_pem) {
  EVP_PKEY *ca_key = key_of_pem(ca_key_pem);
  X509 *ca = cert_of_pem(ca_cert_pem);
  EVP_PKEY *key = new_key();
  int rc = CUBIT_ETLS;
  if (ca_key && ca && key) {
    char *san = san_of(hosts);
    char cn[64];
    snprintf(cn, sizeof(cn), "%.60s", hosts);
    char *comma = strchr(cn, ',');
    if (comma) *comma = '\0';
    X509 *x = new_cert(key, cn, validity_s);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(x, ca, NID_ext_key_usage, "serverAuth");
    add_ext(x, ca, NID_authority_key_identifier, "keyid");
    if (*san) add_ext(x, ca, NID_subject_alt_name, san);
    if (X509_sign(x, ca_key, EVP_sha256()) > 0) {
      *key_pem = pem_of_key(key);
      *cert_pem = pem_of_cert(x);
      rc = 0;
    }
    X509_free(x);
    free(san);
  }
  EVP_PKEY_free(key);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return rc;
}

int64_t rt__certs_seconds_left(const char *cert_pem, int *ok) {
  X509 *x = cert_pem ? cert_of_pem(cert_pem) : NULL;
  *ok = x != NULL;
  if (x == NULL) return 0;
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
  X509_free(x);
  return (int64_t)days * 86400 + secs;
}

int rt__certs_covers(const char *cert_pem, const char *hosts) {
  X509 *x = cert_of_pem(cert_pem);
  if (x == NULL) return 0;
  int all = 1;
  char *copy = xstrdup(hosts), *save = NULL;
  for (char *h = strtok_r(copy, ",", &save); h && all; h = strtok_r(NULL, ",", &save)) {
    while (*h == ' ') h++;
    if (*h == '\0') continue;
    int ip = strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
    all = ip ? X509_check_ip_asc(x, h, 0) == 1 : X509_check_host(x, h, 0, 0, NULL) == 1;
  }
  free(copy);
  X509_free(x);
  return all;
}

/* -------------------------------------------------------------- files */

/* Writes path atomically (temp file + rename) when its content differs. */
static int write_if_changed(const char *dir, const char *name, const char *content, mode_t mode) {
  char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  int same = 0;
  if (f) {
    size_t n = strlen(content);
    char *have = xmalloc(n + 2);
    size_t got = fread(have, 1, n + 1, f);
    same = got == n && memcmp(have, content, n) == 0;
    free(have);
    fclose(f);
  }
  int rc = 0;
  if (!same) {
    char *tmp = xasprintf("%s/.%s.tmp", dir, name);
    FILE *w = fopen(tmp, "w");
    if (w == NULL || fputs(content, w) < 0 || fclose(w) != 0 || chmod(tmp, mode) != 0 || rename(tmp, path) != 0) {
      log_error("certs", "cannot write certificate file", "path=%s error=\"%s\"", path, strerror(errno));
      rc = CUBIT_EIO;
    }
    free(tmp);
  }
  free(path);
  return rc;
}

/* ------------------------------------------------------------- Secret */

static char *b64(const char *s) {
  size_t n = strlen(s);
  char *out = xmalloc(4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
  return out;
}

static char *unb64(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s);
  unsigned char *out = xmalloc(n + 1);
  int m = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
  if (m < 0) {
    free(out);
    return NULL;
  }
  while (n > 0 && s[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zeros */
    m--;
    n--;
  }
  out[m] = '\0';
  return (char *)out;
}

typedef struct pair_set {
  char *ca_key, *ca_cert, *key, *cert;
} pair_set;

static void pair_free(pair_set *p) {
  free(p->ca_key);
  free(p->ca_cert);
  free(p->key);
  free(p->cert);
  memset(p, 0, sizeof(*p));
}

static void pair_from_secret(const json_t *secret, pair_set *p) {
  json_t *data = json_object_get(secret, "data");
  p->ca_key = unb64(json_string_value(json_object_get(data, "ca.key")));
  p->ca_cert = unb64(json_string_value(json_object_get(data, "ca.crt")));
  p->key = unb64(json_string_value(json_object_get(data, "tls.key")));
  p->cert = unb64(json_string_value(json_object_get(data, "tls.crt")));
}

/* Does p hold a usable pair for our hosts with more than a third of its
 * life left? */
static int pair_good(const rt_certs *cs, const pair_set *p, int *ca_good) {
  int ok_ca = 0, ok = 0;
  int64_t ca_left = p->ca_cert ? rt__certs_seconds_left(p->ca_cert, &ok_ca) : 0;
  *ca_good = p->ca_key && ok_ca && ca_left > cs->validity_s * 2;
  if (!*ca_good || p->key == NULL || p->cert == NULL) return 0;
  int64_t left = rt__certs_seconds_left(p->cert, &ok);
  /* Renewed when a third of its life is left, and when it outlives the
   * validity now configured (a shorter lifetime was asked for). */
  return ok && left > cs->validity_s / 3 && left <= cs->validity_s + 600 && rt__certs_covers(p->cert, cs->hosts);
}

/* One round: read the Secret, renew what is due, write the Secret (with
 * optimistic concurrency), the files and the caBundles. */
static int reconcile_certs(rt_certs *cs) {
  kube_status st;
  json_t *secret = NULL;
  int rc = kube_get(cs->client, &kube_secrets, cs->ns, cs->secret, &secret, &st);
  if (rc && rc != CUBIT_ENOTFOUND) {
    log_warn("certs", "cannot read secret", "secret=%s/%s error=%s message=\"%s\"", cs->ns, cs->secret,
             cubit_strerror(rc), st.message);
    return rc;
  }
  pair_set p = {0};
  if (secret) pair_from_secret(secret, &p);
  int ca_good;
  if (!pair_good(cs, &p, &ca_good)) {
    if (!ca_good) {
      free(p.ca_key);
      free(p.ca_cert);
      p.ca_key = p.ca_cert = NULL;
      rc = rt__certs_make_ca(cs->validity_s * 10, &p.ca_key, &p.ca_cert);
    }
    free(p.key);
    free(p.cert);
    p.key = p.cert = NULL;
    if (rc == 0) rc = rt__certs_make_serving(p.ca_key, p.ca_cert, cs->hosts, cs->validity_s, &p.key, &p.cert);
    if (rc) {
      pair_free(&p);
      json_decref(secret);
      return rc;
    }
    char *d[4] = {b64(p.ca_key), b64(p.ca_cert), b64(p.key), b64(p.cert)};
    json_t *data = json_pack("{s:s, s:s, s:s, s:s}", "ca.key", d[0], "ca.crt", d[1], "tls.key", d[2], "tls.crt", d[3]);
    for (int i = 0; i < 4; i++) free(d[i]);
    if (secret) {
      json_object_set_new(secret, "data", data);
      rc = kube_update(cs->client, &kube_secrets, cs->ns, secret, NULL, &st);
    } else {
      json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:o}", "apiVersion", "v1", "kind", "Secret",
                              "metadata", "name", cs->secret, "namespace", cs->ns, "labels",
                              "app.kubernetes.io/name", "cubit", "type", "kubernetes.io/tls", "data", data);
      rc = kube_create(cs->client, &kube_secrets, cs->ns, obj, NULL, &st);
      json_decref(obj);
    }
    if (rc == CUBIT_ECONFLICT || rc == CUBIT_EALREADYEXISTS) {
      /* Another replica renewed first: adopt its pair next round. */
      pair_free(&p);
      json_decref(secret);
      return rc;
    }
    if (rc) {
      log_error("certs", "cannot write secret", "secret=%s/%s error=%s message=\"%s\"", cs->ns, cs->secret,
                cubit_strerror(rc), st.message);
      pair_free(&p);
      json_decref(secret);
      return rc;
    }
    int ok;
    log_info("certs", "issued webhook certificate", "secret=%s/%s hosts=%s valid_s=%lld", cs->ns, cs->secret,
             cs->hosts, (long long)rt__certs_seconds_left(p.cert, &ok));
  }
  json_decref(secret);
  /* The key first: the server reloads when either file changes and checks
   * that the two match, so a half-written pair is never used. */
  rc = write_if_changed(cs->dir, "ca.crt", p.ca_cert, 0644);
  if (rc == 0) rc = write_if_changed(cs->dir, "tls.key", p.key, 0600);
  if (rc == 0) rc = write_if_changed(cs->dir, "tls.crt", p.cert, 0644);
  /* caBundle into every webhook of our configurations. */
  char *bundle = b64(p.ca_cert);
  const kube_resource *configs[] = {&mutating_configs, &validating_configs};
  for (int i = 0; i < 2 && cs->config && *cs->config; i++) {
    json_t *cfg = NULL;
    if (kube_get(cs->client, configs[i], NULL, cs->config, &cfg, &st)) continue;
    int changed = 0;
    size_t k;
    json_t *wh;
    json_array_foreach(json_object_get(cfg, "webhooks"), k, wh) {
      json_t *cc = js_ensure_obj(wh, "clientConfig");
      const char *have = json_string_value(json_object_get(cc, "caBundle"));
      if (have == NULL || strcmp(have, bundle) != 0) {
        json_object_set_new(cc, "caBundle", json_string(bundle));
        changed = 1;
      }
    }
    if (changed) {
      int urc = kube_update(cs->client, configs[i], NULL, cfg, NULL, &st);
      if (urc) log_warn("certs", "cannot inject caBundle", "config=%s error=%s message=\"%s\"", cs->config,
                        cubit_strerror(urc), st.message);
      else log_info("certs", "injected caBundle", "kind=%s name=%s", configs[i]->kind, cs->config);
    }
    json_decref(cfg);
  }
  free(bundle);
  pair_free(&p);
  return rc;
}

static void *run(void *arg) {
  rt_certs *cs = arg;
  pthread_mutex_lock(&cs->mu);
  while (!cs->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += cs->check_s;
    pthread_cond_timedwait(&cs->cond, &cs->mu, &ts);
    if (cs->stop) break;
    pthread_mutex_unlock(&cs->mu);
    (void)reconcile_certs(cs);
    pthread_mutex_lock(&cs->mu);
  }
  pthread_mutex_unlock(&cs->mu);
  return NULL;
}

int rt_certs_start(kube_client *c, const rt_certs_options *o, int check_s, rt_certs **out) {
  rt_certs *cs = xcalloc(1, sizeof(*cs));
  cs->client = c;
  cs->ns = xstrdup(o->namespace ? o->namespace : "cubit-system");
  cs->secret = xstrdup(o->secret_name ? o->secret_name : "cubit-webhook-certs");
  cs->dir = xstrdup(o->cert_dir);
  cs->hosts = xstrdup(o->hosts ? o->hosts : "cubit-webhook.cubit-system.svc");
  cs->config = o->webhook_config ? xstrdup(o->webhook_config) : NULL;
  cs->validity_s = o->validity_s > 0 ? o->validity_s : 365LL * 86400;
  cs->check_s = check_s > 0 ? check_s : 60;
  pthread_mutex_init(&cs->mu, NULL);
  pthread_cond_init(&cs->cond, NULL);
  mkdir(cs->dir, 0755);
  /* The server needs a pair before it starts; races with other replicas
   * settle within a few rounds. */
  int rc = CUBIT_ECONFLICT;
  for (int i = 0; i < 5 && rc; i++) {
    rc = reconcile_certs(cs);
    if (rc) usleep(200000);
  }
  if (rc) {
    rt_certs_stop(cs);
    return rc;
  }
  rt__thread_start(&cs->thread, run, cs);
  *out = cs;
  return 0;
}

void rt_certs_stop(rt_certs *cs) {
  if (cs == NULL) return;
  pthread_mutex_lock(&cs->mu);
  int started = !cs->stop;
  cs->stop = 1;
  pthread_cond_broadcast(&cs->cond);
  pthread_mutex_unlock(&cs->mu);
  if (started && cs->thread) pthread_join(cs->thread, NULL);
  pthread_mutex_destroy(&cs->mu);
  pthread_cond_destroy(&cs->cond);
  free(cs->ns);
  free(cs->secret);
  free(cs->dir);
  free(cs->hosts);
  free(cs->config);
  free(cs);
}
