/* Webhook certificates managed by the manager itself (no cert-manager
 * needed): a CA and a serving certificate are generated with OpenSSL, kept in
 * a Secret so every replica serves the same pair, written as tls.crt/tls.key
 * into the directory the webhook server reads (it reloads them when they
 * change), and the CA goes into the caBundle of Cubit's webhook
 * configurations. The serving certificate is renewed before it expires; the
 * CA lives ten times longer and is reused, so a renewal never changes the
 * caBundle and never fails an admission.
 *
 * Any replica may write the Secret: writes carry the resourceVersion read,
 * so when two replicas race one wins and the other adopts its pair. */
#ifndef CUBIT_RUNTIME_CERTS_H
#define CUBIT_RUNTIME_CERTS_H

#include <stdint.h>

#include "kube/client.h"
#include "util/err.h"

typedef struct rt_certs_options {
  const char *namespace;        /* of the Secret ("cubit-system") */
  const char *secret_name;      /* "cubit-webhook-certs" */
  const char *cert_dir;         /* tls.crt, tls.key, ca.crt are written here */
  const char *hosts;            /* comma-separated DNS names and IPs for the SAN */
  const char *webhook_config;   /* name of the Mutating- and ValidatingWebhookConfiguration */
  int64_t validity_s;           /* serving certificate lifetime, default 1 year */
} rt_certs_options;

typedef struct rt_certs rt_certs;

/* Makes sure a valid pair exists (in the Secret and in cert_dir) before
 * returning, then keeps it so from a thread that checks every 'check_s'
 * seconds (renewing when less than a third of the validity remains) and
 * injects the caBundle. Strings in o are copied. */
int rt_certs_start(kube_client *c, const rt_certs_options *o, int check_s, rt_certs **out) CUBIT_WUR;
void rt_certs_stop(rt_certs *cs);

/* Exposed for tests: a new CA (PEM key and certificate, caller frees), and
 * a serving pair signed by it for 'hosts', valid for validity_s seconds. */
int rt__certs_make_ca(int64_t validity_s, char **key_pem, char **cert_pem) CUBIT_WUR;
int rt__certs_make_serving(const char *ca_key_pem, const char *ca_cert_pem, const char *hosts, int64_t validity_s,
                           char **key_pem, char **cert_pem) CUBIT_WUR;
/* Seconds until the PEM certificate expires (negative when expired), or
 * CUBIT_EINVAL via *ok = 0 when it cannot be read. */
int64_t rt__certs_seconds_left(const char *cert_pem, int *ok);
/* 1 when the certificate's SANs cover every host in 'hosts'. */
int rt__certs_covers(const char *cert_pem, const char *hosts);

#endif
