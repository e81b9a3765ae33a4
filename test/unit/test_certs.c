#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/certs.h"
#include "testutil.h"

static X509 *load(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  return x;
}

START_TEST(serving_cert_chains_to_ca) {
  char *ca_key, *ca_cert, *key, *cert;
  ck_assert_int_eq(rt__certs_make_ca(3650 * 86400LL, &ca_key, &ca_cert), 0);
  ck_assert_int_eq(rt__certs_make_serving(ca_key, ca_cert, "cubit-webhook.cubit-system.svc,127.0.0.1", 3600, &key,
                                          &cert),
                   0);
  ck_assert_ptr_nonnull(strstr(key, "PRIVATE KEY"));
  X509 *ca = load(ca_cert), *leaf = load(cert);
  ck_assert_ptr_nonnull(ca);
  ck_assert_ptr_nonnull(leaf);
  /* Signed by the CA, and the store verifies the chain for TLS servers. */
  EVP_PKEY *ca_pub = X509_get_pubkey(ca);
  ck_assert_int_eq(X509_verify(leaf, ca_pub), 1);
  X509_STORE *store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, NULL);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  ck_assert_int_eq(X509_verify_cert(ctx), 1);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  EVP_PKEY_free(ca_pub);
  ck_assert(rt__certs_covers(cert, "127.0.0.1"));
  ck_assert(rt__certs_covers(cert, "cubit-webhook.cubit-system.svc, 127.0.0.1"));
  ck_assert(!rt__certs_covers(cert, "other.svc"));
  ck_assert(!rt__certs_covers(cert, "127.0.0.2"));
  int ok;
  int64_t left = rt__certs_seconds_left(cert, &ok);
  ck_assert(ok);
  ck_assert_int_gt(left, 3500);
  ck_assert_int_le(left, 3600);
  ck_assert_int_gt(rt__certs_seconds_left(ca_cert, &ok), 3649 * 86400LL);
  rt__certs_seconds_left("garbage", &ok);
  ck_assert(!ok);
  X509_free(ca);
  X509_free(leaf);
  free(ca_key);
  free(ca_cert);
  free(key);
  free(cert);
}
END_TEST

START_TEST(bad_ca_refused) {
  char *key = NULL, *cert = NULL;
  ck_assert_int_eq(rt__certs_make_serving("nope", "nope", "a.svc", 60, &key, &cert), CUBIT_ETLS);
  ck_assert_ptr_null(key);
}
END_TEST

int main(void) {
  Suite *s = suite_create("certs");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, serving_cert_chains_to_ca);
  tcase_add_test(tc, bad_ca_refused);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
