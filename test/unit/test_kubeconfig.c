#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/internal.h"
#include "testutil.h"
#include "util/alloc.h"

/* Fixture files every case can point at. */
#define CA_FILE "CA FILE PEM\n"
#define CERT_FILE "CERT FILE PEM\n"
#define KEY_FILE "KEY FILE PEM\n"
/* base64 of "CA DATA PEM", "CERT DATA PEM", "KEY DATA PEM" */
#define CA_DATA "Q0EgREFUQSBQRU0="
#define CERT_DATA "Q0VSVCBEQVRBIFBFTQ=="
#define KEY_DATA "S0VZIERBVEEgUEVN"

static char *fixture_dir(void) {
  char *dir = testutil_tmpdir();
  free(testutil_write_file(dir, "ca.crt", CA_FILE));
  free(testutil_write_file(dir, "token", "file-token\n"));
  char *certs = xasprintf("%s/certs", dir);
  ck_assert_int_eq(mkdir(certs, 0700), 0);
  free(testutil_write_file(certs, "client.crt", CERT_FILE));
  free(testutil_write_file(certs, "client.key", KEY_FILE));
  free(certs);
  return dir;
}

/* Writes tmpl with every "@DIR@" replaced by dir; returns the path. */
static char *write_kubeconfig(const char *dir, const char *name, const char *tmpl) {
  size_t n = 0;
  for (const char *p = tmpl; (p = strstr(p, "@DIR@")); p += 5) n++;
  char *text = xmalloc(strlen(tmpl) + n * strlen(dir) + 1), *w = text;
  for (const char *p = tmpl; *p;) {
    if (strncmp(p, "@DIR@", 5) == 0) {
      w = stpcpy(w, dir);
      p += 5;
    } else {
      *w++ = *p++;
    }
  }
  *w = '\0';
  char *path = testutil_write_file(dir, name, text);
  free(text);
  return path;
}

static void rm_rf(const char *dir) {
  char *cmd = xasprintf("rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  free(cmd);
}

#define HEAD                              \
  "apiVersion: v1\n"                      \
  "kind: Config\n"                        \
  "current-context: dev\n"                \
  "contexts:\n"                           \
  "- name: dev\n"                         \
  "  context: {cluster: c1, user: u1}\n"  \
  "clusters:\n"                           \
  "- name: c1\n"                          \
  "  cluster:\n"                          \
  "    server: https://127.0.0.1:6443\n"

/* ---- valid kubeconfigs -------------------------------------------------- */

typedef struct good_case {
  const char *name;
  const char *yaml;
  const char *context; /* the --context override */
  const char *want_context, *server, *ns;
  const char *ca;
  int insecure;
  const char *cert, *key, *token;
  const char *token_file; /* relative to the fixture dir */
  const char *username, *password, *tls_server_name, *proxy_url;
} good_case;

static const good_case good_cases[] = {
    {.name = "token and CA file, namespace from the context",
     .yaml = "apiVersion: v1\n"
             "kind: Config\n"
             "current-context: dev\n"
             "clusters:\n"
             "- name: c1\n"
             "  cluster:\n"
             "    server: https://127.0.0.1:6443/\n"
             "    certificate-authority: @DIR@/ca.crt\n"
             "contexts:\n"
             "- name: dev\n"
             "  context: {cluster: c1, user: u1, namespace: team-a}\n"
             "users:\n"
             "- name: u1\n"
             "  user:\n"
             "    token: static-token\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "team-a", .ca = CA_FILE,
     .token = "static-token"},
    {.name = "tokenFile absolute",
     .yaml = HEAD "users:\n- name: u1\n  user:\n    tokenFile: @DIR@/token\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "default", .token_file = "/token"},
    {.name = "tokenFile relative to the kubeconfig",
     .yaml = HEAD "users:\n- name: u1\n  user:\n    tokenFile: token\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "default", .token_file = "/token"},
    {.name = "token and tokenFile: token wins",
     .yaml = HEAD "users:\n- name: u1\n  user:\n    token: t0\n    tokenFile: nowhere\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "default", .token = "t0"},
    {.name = "client certificate files, relative paths",
     .yaml = HEAD "users:\n- name: u1\n  user:\n    client-certificate: certs/client.crt\n"
                  "    client-key: ./certs/../certs/client.key\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "default", .cert = CERT_FILE,
     .key = KEY_FILE},
    {.name = "client certificate data",
     .yaml = HEAD "users:\n- name: u1\n  user:\n    client-certificate-data: " CERT_DATA
                  "\n    client-key-data: " KEY_DATA "\n",
     .want_context = "dev", .server = "https://127.0.0.1:6443", .ns = "default", .cert = "CERT DATA PEM",
     .key = "KEY DATA PEM"},
    {.name = "CA data folded over two lines",
     .yaml = "current-context: dev\n"
             "contexts: [{name: dev, context: {cluster: c1}}]\n"
             "clusters:\n"
             "- name: c1\n"
             "  cluster:\n"
             "    server: http://localhost:8080\n"
             "    certificate-authority-data: Q0EgREFU\n"
             "      QSBQRU0=\n",
     .want_context = "dev", .server = "http://localhost:8080", .ns = "default", .ca = "CA DATA PEM"},
    {.name = "insecure, TLS server name, proxy, basic auth",
     .yaml = "current-context: dev\n"
             "contexts: [{name: dev, context: {cluster: c1, user: u1}}]\n"
             "clusters:\n"
             "- name: c1\n"
             "  cluster:\n"
             "    server: https://[::1]:6443\n"
             "    insecure-skip-tls-verify: true\n"
             "    tls-server-name: kubernetes.default\n"
             "    proxy-url: socks5://127.0.0.1:1080\n"
             "users:\n"
             "- name: u1\n"
             "  user: {username: admin, password: \"p@ss: word\"}\n",
     .want_context = "dev", .server = "https://[::1]:6443", .ns = "default", .insecure = 1,
     .username = "admin", .password = "p@ss: word", .tls_server_name = "kubernetes.default",
     .proxy_url = "socks5://127.0.0.1:1080"},
    {.name = "context override",
     .yaml = "current-context: dev\n"
             "contexts:\n"
             "- {name: dev, context: {cluster: c1, user: u1, namespace: dev-ns}}\n"
             "- {name: prod, context: {cluster: c2, user: u2}}\n"
             "clusters:\n"
             "- {name: c1, cluster: {server: 'https://dev:6443'}}\n"
             "- {name: c2, cluster: {server: 'https://prod:6443', insecure-skip-tls-verify: false}}\n"
             "users:\n"
             "- {name: u1, user: {token: dev-token}}\n"
             "- {name: u2, user: {token: prod-token}}\n",
     .context = "prod", .want_context = "prod", .server = "https://prod:6443", .ns = "default",
     .token = "prod-token"},
    {.name = "no user: anonymous",
     .yaml = "current-context: dev\ncontexts: [{name: dev, context: {cluster: c1}}]\n"
             "clusters: [{name: c1, cluster: {server: 'https://x:1'}}]\nusers: ~\n",
     .want_context = "dev", .server = "https://x:1", .ns = "default"},
    {.name = "JSON kubeconfig",
     .yaml = "{\n"
             "  \"apiVersion\": \"v1\",\n"
             "\t\"kind\": \"Config\",\n"
             "  \"current-context\": \"dev\",\n"
             "  \"clusters\": [{\"name\": \"c1\", \"cluster\": {\"server\": \"https://10.0.0.1\",\n"
             "                 \"certificate-authority-data\": \"" CA_DATA "\"}}],\n"
             "  \"contexts\": [{\"name\": \"dev\", \"context\": {\"cluster\": \"c1\", \"user\": \"u1\",\n"
             "                 \"namespace\": \"ml\"}}],\n"
             "  \"users\": [{\"name\": \"u1\", \"user\": {\"client-certificate-data\": \"" CERT_DATA "\",\n"
             "              \"client-key-data\": \"" KEY_DATA "\", \"token\": \"json-token\"}}]\n"
             "}\n",
     .want_context = "dev", .server = "https://10.0.0.1", .ns = "ml", .ca = "CA DATA PEM",
     .cert = "CERT DATA PEM", .key = "KEY DATA PEM", .token = "json-token"},
    {.name = "anchors and aliases",
     .yaml = "current-context: dev\n"
             "contexts: [{name: dev, context: {cluster: c1, user: u2}}]\n"
             "clusters: [{name: c1, cluster: {server: 'https://x:1'}}]\n"
             "users:\n"
             "- name: u1\n"
             "  user: &shared {token: shared-token}\n"
             "- name: u2\n"
             "  user: *shared\n",
     .want_context = "dev", .server = "https://x:1", .ns = "default", .token = "shared-token"},
};

static void assert_opt_str(const char *what, const char *got, const char *want) {
  if (want == NULL)
    ck_assert_msg(got == NULL, "%s: expected NULL, got \"%s\"", what, got);
  else
    ck_assert_msg(got && strcmp(got, want) == 0, "%s: expected \"%s\", got \"%s\"", what, want,
                  got ? got : "(null)");
}

START_TEST(load_valid) {
  const good_case *tc = &good_cases[_i];
  char *dir = fixture_dir();
  char *path = write_kubeconfig(dir, "config", tc->yaml);
  kube_config cfg;
  char err[512];
  int rc = kube_config_load(path, tc->context, &cfg, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: rc %d: %s", tc->name, rc, err);
  assert_opt_str("context", cfg.context, tc->want_context);
  assert_opt_str("server", cfg.server, tc->server);
  assert_opt_str("namespace", cfg.namespace, tc->ns);
  assert_opt_str("ca", cfg.ca_pem, tc->ca);
  ck_assert_uint_eq(cfg.ca_pem_len, tc->ca ? strlen(tc->ca) : 0);
  ck_assert_int_eq(cfg.insecure_skip_tls_verify, tc->insecure);
  assert_opt_str("cert", cfg.client_cert_pem, tc->cert);
  ck_assert_uint_eq(cfg.client_cert_pem_len, tc->cert ? strlen(tc->cert) : 0);
  assert_opt_str("key", cfg.client_key_pem, tc->key);
  ck_assert_uint_eq(cfg.client_key_pem_len, tc->key ? strlen(tc->key) : 0);
  assert_opt_str("token", cfg.token, tc->token);
  char *want_tf = tc->token_file ? xasprintf("%s%s", dir, tc->token_file) : NULL;
  assert_opt_str("token_file", cfg.token_file, want_tf);
  free(want_tf);
  assert_opt_str("username", cfg.username, tc->username);
  assert_opt_str("password", cfg.password, tc->password);
  assert_opt_str("tls_server_name", cfg.tls_server_name, tc->tls_server_name);
  assert_opt_str("proxy_url", cfg.proxy_url, tc->proxy_url);
  ck_assert_ptr_null(cfg.exec);
  kube_config_free(&cfg);
  ck_assert_ptr_null(cfg.server); /* free leaves the struct zeroed */
  rm_rf(dir);
  free(path);
  free(dir);
}
END_TEST

START_TEST(load_exec_spec) {
  char *dir = fixture_dir();
  char *path = write_kubeconfig(
      dir, "config",
      HEAD "users:\n"
           "- name: u1\n"
           "  user:\n"
           "    exec:\n"
           "      apiVersion: client.authentication.k8s.io/v1beta1\n"
           "      command: ./bin/get-token\n"
           "      args: [\"--cluster\", \"a b\", \"it's \\\"quoted\\\"\", '$HOME']\n"
           "      env:\n"
           "      - {name: REGION, value: eu west}\n"
           "      - {name: EMPTY}\n"
           "      provideClusterInfo: true\n"
           "      installHint: ignored\n");
  kube_config cfg;
  char err[512];
  ck_assert_msg(kube_config_load(path, NULL, &cfg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_ptr_nonnull(cfg.exec);
  ck_assert_str_eq(cfg.exec->api_version, "client.authentication.k8s.io/v1beta1");
  char *want_cmd = xasprintf("%s/./bin/get-token", dir);
  ck_assert_str_eq(cfg.exec->command, want_cmd);
  free(want_cmd);
  const char *want_args[] = {"--cluster", "a b", "it's \"quoted\"", "$HOME", NULL};
  for (int i = 0; want_args[i]; i++) ck_assert_str_eq(cfg.exec->args[i], want_args[i]);
  ck_assert_ptr_null(cfg.exec->args[4]);
  ck_assert_uint_eq(cfg.exec->nenv, 2);
  ck_assert_str_eq(cfg.exec->env[0].name, "REGION");
  ck_assert_str_eq(cfg.exec->env[0].value, "eu west");
  ck_assert_str_eq(cfg.exec->env[1].name, "EMPTY");
  ck_assert_str_eq(cfg.exec->env[1].value, "");
  ck_assert_int_eq(cfg.exec->provide_cluster_info, 1);
  ck_assert_str_eq(cfg.exec->interactive_mode, "IfAvailable"); /* v1beta1 default */
  kube_config_free(&cfg);

  /* a bare command name is left for the PATH lookup; no args is an empty list */
  free(path);
  path = write_kubeconfig(dir, "config2",
                          HEAD "users:\n- name: u1\n  user:\n    exec:\n"
                               "      apiVersion: client.authentication.k8s.io/v1\n"
                               "      command: kubelogin\n"
                               "      interactiveMode: Never\n");
  ck_assert_msg(kube_config_load(path, NULL, &cfg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(cfg.exec->command, "kubelogin");
  ck_assert_ptr_null(cfg.exec->args[0]);
  ck_assert_uint_eq(cfg.exec->nenv, 0);
  ck_assert_int_eq(cfg.exec->provide_cluster_info, 0);
  ck_assert_str_eq(cfg.exec->interactive_mode, "Never");
  kube_config_free(&cfg);
  rm_rf(dir);
  free(path);
  free(dir);
}
END_TEST

/* $KUBECONFIG lists files; the first to define a name wins, and relative
 * paths follow the file that holds them. */
START_TEST(kubeconfig_env_merge) {
  char *dir = fixture_dir();
  char *sub = xasprintf("%s/other", dir);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  free(testutil_write_file(sub, "token", "other-token"));
  char *a = write_kubeconfig(dir, "a.yaml",
                             "current-context: ctx-b\n"
                             "clusters: [{name: shared, cluster: {server: 'https://from-a:1'}}]\n");
  char *b = write_kubeconfig(sub, "b.yaml",
                             "current-context: ignored\n"
                             "contexts: [{name: ctx-b, context: {cluster: shared, user: ub, namespace: nb}}]\n"
                             "clusters: [{name: shared, cluster: {server: 'https://from-b:1'}}]\n"
                             "users: [{name: ub, user: {tokenFile: token}}]\n");
  char *list = xasprintf("%s/missing.yaml:%s::%s:%s", dir, a, b, a);
  ck_assert_int_eq(setenv("KUBECONFIG", list, 1), 0);
  kube_config cfg;
  char err[512];
  int rc = kube_config_load(NULL, NULL, &cfg, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s", err);
  ck_assert_str_eq(cfg.context, "ctx-b");
  ck_assert_str_eq(cfg.server, "https://from-a:1");
  ck_assert_str_eq(cfg.namespace, "nb");
  char *want_tf = xasprintf("%s/token", sub);
  ck_assert_str_eq(cfg.token_file, want_tf);
  free(want_tf);
  kube_config_free(&cfg);

  /* nothing listed exists */
  free(list);
  list = xasprintf("%s/missing1:%s/missing2", dir, dir);
  ck_assert_int_eq(setenv("KUBECONFIG", list, 1), 0);
  ck_assert_int_eq(kube_config_load(NULL, NULL, &cfg, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, "KUBECONFIG"));

  /* unset: $HOME/.kube/config */
  unsetenv("KUBECONFIG");
  char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
  char *kube = xasprintf("%s/.kube", dir);
  ck_assert_int_eq(mkdir(kube, 0700), 0);
  free(write_kubeconfig(kube, "config",
                        "current-context: h\ncontexts: [{name: h, context: {cluster: c}}]\n"
                        "clusters: [{name: c, cluster: {server: 'https://home:1'}}]\n"));
  ck_assert_int_eq(setenv("HOME", dir, 1), 0);
  rc = kube_config_load(NULL, NULL, &cfg, err, sizeof(err));
  if (old_home)
    setenv("HOME", old_home, 1);
  else
    unsetenv("HOME");
  ck_assert_msg(rc == 0, "%s", err);
  ck_assert_str_eq(cfg.server, "https://home:1");
  kube_config_free(&cfg);
  free(old_home);
  free(kube);
  rm_rf(dir);
  free(list);
  free(a);
  free(b);
  free(sub);
  free(dir);
}
END_TEST

/* ---- invalid kubeconfigs ---------------------------------------------------- */

typedef struct bad_case {
  const char *name;
  const char *yaml;
  const char *context;
  int rc;
  const char *needle, *needle2; /* both must appear in the message */
} bad_case;

#define CTX_C1_U1 "current-context: dev\ncontexts: [{name: dev, context: {cluster: c1, user: u1}}]\n"
#define C1 "clusters: [{name: c1, cluster: {server: 'https://x:1'}}]\n"

static const bad_case bad_cases[] = {
    {"no current-context", "clusters: []\ncontexts: [{name: dev, context: {cluster: c1}}]\n", NULL,
     CUBIT_EINVAL, "current-context", "no context was given"},
    {"empty file", "", NULL, CUBIT_EINVAL, "current-context: not set", NULL},
    {"current-context not found", "current-context: nope\ncontexts: [{name: dev, context: {}}]\n", NULL,
     CUBIT_EINVAL, "context \"nope\" not found in ", "/config"},
    {"context override not found", CTX_C1_U1 C1, "prod", CUBIT_EINVAL, "context \"prod\" not found", NULL},
    {"context without cluster", "current-context: dev\ncontexts: [{name: dev, context: {user: u1}}]\n",
     NULL, CUBIT_EINVAL, "contexts[0].context.cluster: not set", NULL},
    {"cluster missing", CTX_C1_U1 "clusters: [{name: c2, cluster: {server: 'https://x:1'}}]\n", NULL,
     CUBIT_EINVAL, "contexts[0].context.cluster: cluster \"c1\" not found", "line 2"},
    {"user missing", CTX_C1_U1 C1 "users: [{name: u2, user: {token: t}}]\n", NULL, CUBIT_EINVAL,
     "contexts[0].context.user: user \"u1\" not found", NULL},
    {"no server", CTX_C1_U1 "clusters: [{name: c1, cluster: {insecure-skip-tls-verify: true}}]\n", NULL,
     CUBIT_EINVAL, "clusters[0].cluster.server: not set", NULL},
    {"server not http(s)", CTX_C1_U1 "clusters:\n- name: c0\n  cluster: {server: 'https://y:1'}\n"
                                     "- name: c1\n  cluster:\n    server: ftp://x\n",
     NULL, CUBIT_EINVAL, "clusters[1].cluster.server: \"ftp://x\" is not an http:// or https:// URL",
     "line 8"},
    {"server without scheme", CTX_C1_U1 "clusters: [{name: c1, cluster: {server: '127.0.0.1:6443'}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.server", "not an http"},
    {"server not a string", CTX_C1_U1 "clusters: [{name: c1, cluster: {server: [a]}}]\n", NULL,
     CUBIT_EINVAL, "clusters[0].cluster.server: expected a string", NULL},
    {"CA data bad character",
     CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', certificate-authority-data: 'Q0E*'}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.certificate-authority-data: not valid base64", NULL},
    {"cert data incomplete quad",
     CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate-data: Q0VSV, client-key-data: " KEY_DATA "}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.client-certificate-data: not valid base64", NULL},
    {"key data padding in the middle",
     CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate-data: " CERT_DATA ", client-key-data: YQ==YQ==}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.client-key-data: not valid base64", NULL},
    {"CA file unreadable",
     CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', certificate-authority: no-ca.crt}}]\n",
     NULL, CUBIT_EIO, "clusters[0].cluster.certificate-authority: cannot read ", "/no-ca.crt"},
    {"client certificate file unreadable",
     CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate: nope.crt, client-key: certs/client.key}}]\n",
     NULL, CUBIT_EIO, "users[0].user.client-certificate: cannot read ", "nope.crt"},
    {"client key file unreadable",
     CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate: certs/client.crt, client-key: /nonexistent/k}}]\n",
     NULL, CUBIT_EIO, "users[0].user.client-key: cannot read /nonexistent/k", NULL},
    {"client key path is a directory",
     CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate: certs/client.crt, client-key: certs}}]\n",
     NULL, CUBIT_EIO, "users[0].user.client-key: cannot read ", NULL},
    {"tokenFile unreadable", CTX_C1_U1 C1 "users: [{name: u1, user: {tokenFile: missing-token}}]\n", NULL,
     CUBIT_EIO, "users[0].user.tokenFile: cannot read ", "missing-token"},
    {"CA file and data both set",
     CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', certificate-authority: ca.crt,"
               " certificate-authority-data: " CA_DATA "}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.certificate-authority-data: both", NULL},
    {"certificate without key", CTX_C1_U1 C1 "users: [{name: u1, user: {client-certificate: certs/client.crt}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.client-key: not set", NULL},
    {"key without certificate", CTX_C1_U1 C1 "users: [{name: u1, user: {client-key-data: " KEY_DATA "}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.client-certificate: not set", NULL},
    {"insecure with a CA",
     CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', insecure-skip-tls-verify: true,"
               " certificate-authority-data: " CA_DATA "}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.insecure-skip-tls-verify", NULL},
    {"insecure not a bool",
     CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', insecure-skip-tls-verify: 'true'}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.insecure-skip-tls-verify: expected true or false", NULL},
    {"proxy-url scheme", CTX_C1_U1 "clusters: [{name: c1, cluster: {server: 'https://x:1', proxy-url: 'ftp://p'}}]\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.proxy-url", NULL},
    {"token and basic auth", CTX_C1_U1 C1 "users: [{name: u1, user: {token: t, username: u, password: p}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.token", "only one authentication method"},
    {"exec without command",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.command: not set", NULL},
    {"exec without apiVersion", CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x}}}]\n", NULL,
     CUBIT_EINVAL, "users[0].user.exec.apiVersion: not set", NULL},
    {"exec apiVersion v1alpha1",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.apiVersion: \"client.authentication.k8s.io/v1alpha1\" is not", NULL},
    {"exec v1 without interactiveMode",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.interactiveMode: required", NULL},
    {"exec interactiveMode unknown",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1,"
                  " interactiveMode: Sometimes}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.interactiveMode: \"Sometimes\"", NULL},
    {"exec args not a list",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1,"
                  " args: '--a --b'}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.args: expected a list", NULL},
    {"exec arg not a string",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1,"
                  " args: [a, {b: c}]}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.args[1]: expected a string", NULL},
    {"exec env without name",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1,"
                  " env: [{value: v}]}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.env[0].name: not set", NULL},
    {"exec env name with =",
     CTX_C1_U1 C1 "users: [{name: u1, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1,"
                  " env: [{name: ok, value: v}, {name: 'A=B', value: v}]}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec.env[1].name: contains '='", NULL},
    {"exec not a mapping", CTX_C1_U1 C1 "users: [{name: u1, user: {exec: [x]}}]\n", NULL, CUBIT_EINVAL,
     "users[0].user.exec: expected a mapping", NULL},
    {"user not a mapping", CTX_C1_U1 C1 "users: [{name: u1, user: token}]\n", NULL, CUBIT_EINVAL,
     "users[0].user: expected a mapping", NULL},
    {"clusters not a list", CTX_C1_U1 "clusters: {c1: {server: x}}\n", NULL, CUBIT_EINVAL,
     "clusters: expected a list", NULL},
    {"list entry not a mapping", CTX_C1_U1 "clusters: [c1]\n", NULL, CUBIT_EINVAL,
     "clusters[0]: expected a mapping", NULL},
    {"top level not a mapping", "- a\n- b\n", NULL, CUBIT_EINVAL, "must be a mapping", NULL},
    {"YAML syntax error", "current-context: dev\nclusters:\n- name: c1\n  cluster: {server: x\nusers: []\n",
     NULL, CUBIT_EINVAL, "YAML syntax error at line 5", NULL},
    {"YAML bad indentation", "current-context: dev\ncontexts:\n  - name: a\n   context: {}\n", NULL,
     CUBIT_EINVAL, "YAML syntax error at line 4", NULL},
    {"undefined alias", "current-context: *nothing\n", NULL, CUBIT_EINVAL, "alias *nothing", NULL},
};

START_TEST(load_invalid) {
  const bad_case *tc = &bad_cases[_i];
  char *dir = fixture_dir();
  char *path = write_kubeconfig(dir, "config", tc->yaml);
  kube_config cfg;
  char err[512];
  memset(err, 'x', sizeof(err));
  int rc = kube_config_load(path, tc->context, &cfg, err, sizeof(err));
  ck_assert_msg(rc == tc->rc, "%s: rc %d, want %d (%s)", tc->name, rc, tc->rc, rc ? err : "");
  ck_assert_msg(strstr(err, tc->needle) != NULL, "%s: message \"%s\" lacks \"%s\"", tc->name, err,
                tc->needle);
  if (tc->needle2)
    ck_assert_msg(strstr(err, tc->needle2) != NULL, "%s: message \"%s\" lacks \"%s\"", tc->name, err,
                  tc->needle2);
  ck_assert_ptr_null(cfg.server); /* zeroed on error */
  ck_assert_ptr_null(cfg.context);
  rm_rf(dir);
  free(path);
  free(dir);
}
END_TEST

START_TEST(load_missing_file) {
  kube_config cfg;
  char err[256];
  ck_assert_int_eq(kube_config_load("/nonexistent/kubeconfig", NULL, &cfg, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent/kubeconfig"));
  /* a tiny or absent errbuf is fine */
  char small[8];
  ck_assert_int_eq(kube_config_load("/nonexistent/kubeconfig", NULL, &cfg, small, sizeof(small)), CUBIT_EIO);
  ck_assert_uint_eq(strlen(small), 7);
  ck_assert_int_eq(kube_config_load("/nonexistent/kubeconfig", NULL, &cfg, NULL, 0), CUBIT_EIO);
}
END_TEST

/* ---- in-cluster -------------------------------------------------------------- */

START_TEST(in_cluster) {
  char *dir = testutil_tmpdir();
  free(testutil_write_file(dir, "token", "sa-token\n"));
  free(testutil_write_file(dir, "ca.crt", CA_FILE));
  free(testutil_write_file(dir, "namespace", "cubit-system\n"));
  ck_assert_int_eq(setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1), 0);
  ck_assert_int_eq(setenv("KUBERNETES_SERVICE_PORT", "443", 1), 0);
  kube_config cfg;
  char err[512];
  ck_assert_msg(kube_config_in_cluster(dir, &cfg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(cfg.server, "https://10.96.0.1:443");
  ck_assert_str_eq(cfg.context, "");
  ck_assert_str_eq(cfg.namespace, "cubit-system");
  ck_assert_str_eq(cfg.ca_pem, CA_FILE);
  ck_assert_uint_eq(cfg.ca_pem_len, strlen(CA_FILE));
  ck_assert_ptr_null(cfg.token); /* the token rotates: only the file is kept */
  char *tf = xasprintf("%s/token", dir);
  ck_assert_str_eq(cfg.token_file, tf);
  kube_config_free(&cfg);

  /* IPv6 service host; no namespace file */
  ck_assert_int_eq(setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1), 0);
  char *ns = xasprintf("%s/namespace", dir);
  ck_assert_int_eq(unlink(ns), 0);
  ck_assert_msg(kube_config_in_cluster(dir, &cfg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(cfg.server, "https://[fd00::1]:443");
  ck_assert_str_eq(cfg.namespace, "default");
  kube_config_free(&cfg);

  /* no CA */
  char *ca = xasprintf("%s/ca.crt", dir);
  ck_assert_int_eq(unlink(ca), 0);
  ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, "ca.crt"));
  /* no token */
  ck_assert_int_eq(unlink(tf), 0);
  ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, tf));

  /* not in a pod */
  unsetenv("KUBERNETES_SERVICE_PORT");
  ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "KUBERNETES_SERVICE_PORT"));
  ck_assert_ptr_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
  unsetenv("KUBERNETES_SERVICE_HOST");
  ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT"));
  ck_assert_ptr_null(cfg.server);
  rm_rf(dir);
  free(ca);
  free(ns);
  free(tf);
  free(dir);
}
END_TEST

/* ---- base64 ------------------------------------------------------------------ */

static const struct {
  const char *in;
  int rc;
  const char *out;
  size_t len;
} b64_cases[] = {
    {"", 0, "", 0},
    {"YQ==", 0, "a", 1},
    {"YWI=", 0, "ab", 2},
    {"YWJj", 0, "abc", 3},
    {"YW Jj\n ZA==\n", 0, "abcd", 4},
    {"AAE=", 0, "\0\1", 2},
    {"YQ", CUBIT_EINVAL, NULL, 0},
    {"YQ=", CUBIT_EINVAL, NULL, 0},
    {"Y===", CUBIT_EINVAL, NULL, 0},
    {"YQ==YQ==", CUBIT_EINVAL, NULL, 0},
    {"YW=j", CUBIT_EINVAL, NULL, 0},
    {"YW-j", CUBIT_EINVAL, NULL, 0},
    {"====", CUBIT_EINVAL, NULL, 0},
};

START_TEST(base64_decode) {
  char *out = NULL;
  size_t len = 0;
  int rc = kube__base64_decode(b64_cases[_i].in, strlen(b64_cases[_i].in), &out, &len);
  ck_assert_msg(rc == b64_cases[_i].rc, "\"%s\": rc %d", b64_cases[_i].in, rc);
  if (rc == 0) {
    ck_assert_uint_eq(len, b64_cases[_i].len);
    ck_assert_mem_eq(out, b64_cases[_i].out, len);
    ck_assert_int_eq(out[len], '\0');
    free(out);
  }
}
END_TEST

START_TEST(base64_encode) {
  char *s = kube__base64_encode("CA DATA PEM", 11);
  ck_assert_str_eq(s, CA_DATA);
  free(s);
  s = kube__base64_encode("", 0);
  ck_assert_str_eq(s, "");
  free(s);
}
END_TEST

/* ---- a kubeconfig from a Secret ------------------------------------------------- */

#define INLINE_HEAD                                                                        \
  "apiVersion: v1\nkind: Config\ncurrent-context: m\n"                                     \
  "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:22822/', certificate-authority-data: " CA_DATA "}}]\n" \
  "contexts: [{name: m, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: t}}]\n"

static const struct {
  const char *text, *context;
  int rc;
  const char *err; /* substring of the message, or NULL */
} inline_cases[] = {
    {INLINE_HEAD "users: [{name: u, user: {client-certificate-data: " CERT_DATA ", client-key-data: " KEY_DATA "}}]\n",
     NULL, 0, NULL},
    {INLINE_HEAD "users: [{name: u, user: {}}, {name: t, user: {token: abc}}]\n", "other", 0, NULL},
    {INLINE_HEAD "users: [{name: u, user: {tokenFile: /var/run/token}}]\n", NULL, CUBIT_EINVAL,
     "users[0].user.tokenFile: a file path is not allowed in a kubeconfig from a Secret; use token "
     "(Secret cubit-system/m key kubeconfig, line"},
    {INLINE_HEAD "users: [{name: u, user: {client-certificate: /etc/c.crt, client-key-data: " KEY_DATA "}}]\n", NULL,
     CUBIT_EINVAL, "users[0].user.client-certificate: a file path is not allowed in a kubeconfig from a Secret; use "
                   "client-certificate-data"},
    {"clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: /etc/ca.crt}}]\n"
     "contexts: [{name: m, context: {cluster: c}}]\ncurrent-context: m\n",
     NULL, CUBIT_EINVAL, "clusters[0].cluster.certificate-authority: a file path is not allowed"},
    {INLINE_HEAD "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, "
                 "interactiveMode: Never}}}]\n",
     NULL, CUBIT_EINVAL, "users[0].user.exec: credential plugins are not allowed in a kubeconfig from a Secret"},
    {INLINE_HEAD "users: []\n", "nope", CUBIT_EINVAL, "context \"nope\" not found in Secret cubit-system/m key kubeconfig"},
    {"- a list\n", NULL, CUBIT_EINVAL, "the kubeconfig must be a mapping"},
    {"clusters: [\n", NULL, CUBIT_EINVAL, NULL},
};

START_TEST(load_inline) {
  kube_config cfg;
  char err[512] = "";
  const char *t = inline_cases[_i].text;
  int rc = kube_config_load_inline(t, strlen(t), "Secret cubit-system/m key kubeconfig", inline_cases[_i].context,
                                   &cfg, err, sizeof(err));
  ck_assert_msg(rc == inline_cases[_i].rc, "case %d: rc %d: %s", _i, rc, err);
  if (inline_cases[_i].err) ck_assert_msg(strstr(err, inline_cases[_i].err), "case %d: %s", _i, err);
  if (rc) {
    ck_assert_ptr_null(cfg.server);
    return;
  }
  ck_assert_str_eq(cfg.server, "https://127.0.0.1:22822");
  ck_assert_mem_eq(cfg.ca_pem, "CA DATA PEM", cfg.ca_pem_len);
  ck_assert_ptr_null(cfg.token_file);
  ck_assert_ptr_null(cfg.exec);
  kube_config_free(&cfg);
}
END_TEST

START_TEST(secret_data) {
  json_t *secret = json_pack("{s:{s:s, s:s}}", "data", "kubeconfig", CA_DATA, "bad", "Q*==");
  char *out;
  size_t len;
  ck_assert_int_eq(kube_secret_data(secret, "kubeconfig", &out, &len), 0);
  ck_assert_uint_eq(len, 11);
  ck_assert_str_eq(out, "CA DATA PEM");
  free(out);
  ck_assert_int_eq(kube_secret_data(secret, "missing", &out, &len), CUBIT_ENOTFOUND);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(kube_secret_data(secret, "bad", &out, &len), CUBIT_EINVAL);
  ck_assert_int_eq(kube_secret_data(NULL, "kubeconfig", &out, &len), CUBIT_ENOTFOUND);
  json_decref(secret);
}
END_TEST

static int inline_and_free(void *arg) {
  kube_config cfg;
  char err[256];
  const char *t = arg;
  int rc = kube_config_load_inline(t, strlen(t), "Secret s", NULL, &cfg, err, sizeof(err));
  if (rc == 0) kube_config_free(&cfg);
  return rc;
}

/* ---- allocation failure --------------------------------------------------------- */

typedef struct torture_arg {
  const char *path;
  const char *context;
} torture_arg;

static int load_and_free(void *arg) {
  const torture_arg *ta = arg;
  kube_config cfg;
  char err[256];
  int rc = kube_config_load(ta->path, ta->context, &cfg, err, sizeof(err));
  if (rc == 0) kube_config_free(&cfg);
  return rc;
}

static int in_cluster_and_free(void *arg) {
  kube_config cfg;
  char err[256];
  int rc = kube_config_in_cluster(arg, &cfg, err, sizeof(err));
  if (rc == 0) kube_config_free(&cfg);
  return rc;
}

static const char representative[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: dev\n"
    "clusters:\n"
    "- name: other\n"
    "  cluster: {server: 'https://other:1'}\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://127.0.0.1:6443\n"
    "    certificate-authority: ca.crt\n"
    "    tls-server-name: kubernetes\n"
    "    proxy-url: http://127.0.0.1:3128\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: &ctx {cluster: c1, user: u1, namespace: team-a}\n"
    "- name: bad-data\n"
    "  context: {cluster: c1, user: u2}\n"
    "- name: bad-file\n"
    "  context: {cluster: c1, user: u3}\n"
    "- name: alias\n"
    "  context: *ctx\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    client-certificate-data: " CERT_DATA "\n"
    "    client-key: certs/client.key\n"
    "    tokenFile: token\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1\n"
    "      command: ./plugin\n"
    "      args: [get-token, --cluster, c1]\n"
    "      env: [{name: A, value: '1'}, {name: B, value: two words}]\n"
    "      interactiveMode: Never\n"
    "      provideClusterInfo: true\n"
    "- name: u2\n"
    "  user: {client-certificate-data: 'Q0E*', client-key-data: " KEY_DATA "}\n"
    "- name: u3\n"
    "  user: {client-certificate: missing.crt, client-key: certs/client.key}\n";

START_TEST(allocation_failure) {
  char *dir = fixture_dir();
  char *path = write_kubeconfig(dir, "config", representative);
  char *broken = write_kubeconfig(dir, "broken", "current-context: dev\nclusters: [\n  {name: c1\n");
  const torture_arg args[] = {
      {path, NULL},        /* success */
      {path, "alias"},     /* success through an alias */
      {path, "bad-data"},  /* invalid base64 */
      {path, "bad-file"},  /* unreadable referenced file */
      {path, "missing"},   /* context not found */
      {broken, NULL},      /* YAML syntax error */
  };
  const int want[] = {0, 0, CUBIT_EINVAL, CUBIT_EIO, CUBIT_EINVAL, CUBIT_EINVAL};
  for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
    ck_assert_int_eq(load_and_free((void *)&args[i]), want[i]);
    int points = testutil_alloc_torture(load_and_free, (void *)&args[i]);
    ck_assert_int_ne(points, 0);
  }

  /* from a Secret: accepted, and refused for a file reference */
  for (size_t i = 0; i < 3; i++) {
    void *text = (void *)inline_cases[i].text;
    ck_assert_int_ne(testutil_alloc_torture(inline_and_free, text), 0);
  }

  /* the $KUBECONFIG list and a relative kubeconfig path (getcwd) */
  char *list = xasprintf("%s/none:%s", dir, path);
  ck_assert_int_eq(setenv("KUBECONFIG", list, 1), 0);
  torture_arg env_arg = {NULL, NULL};
  ck_assert_int_ne(testutil_alloc_torture(load_and_free, &env_arg), 0);
  unsetenv("KUBECONFIG");
  char *cwd = getcwd(NULL, 0);
  ck_assert_int_eq(chdir(dir), 0);
  torture_arg rel_arg = {"config", NULL};
  ck_assert_int_eq(load_and_free(&rel_arg), 0);
  ck_assert_int_ne(testutil_alloc_torture(load_and_free, &rel_arg), 0);
  ck_assert_int_eq(chdir(cwd), 0);
  free(cwd);

  ck_assert_int_eq(setenv("KUBERNETES_SERVICE_HOST", "::1", 1), 0);
  ck_assert_int_eq(setenv("KUBERNETES_SERVICE_PORT", "6443", 1), 0);
  free(testutil_write_file(dir, "namespace", "ns\n"));
  ck_assert_int_eq(in_cluster_and_free(dir), 0);
  ck_assert_int_ne(testutil_alloc_torture(in_cluster_and_free, dir), 0);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  rm_rf(dir);
  free(list);
  free(broken);
  free(path);
  free(dir);
}
END_TEST

/* A relative kubeconfig path: relative paths inside it still resolve
 * against its directory, made absolute. */
START_TEST(relative_kubeconfig_path) {
  char *dir = fixture_dir();
  free(write_kubeconfig(dir, "config", HEAD "users:\n- name: u1\n  user:\n    tokenFile: token\n"));
  char *cwd = getcwd(NULL, 0);
  ck_assert_int_eq(chdir(dir), 0);
  ck_assert_int_eq(chdir(".."), 0);
  const char *base = strrchr(dir, '/') + 1;
  char *rel = xasprintf("%s/config", base);
  kube_config cfg;
  char err[512];
  int rc = kube_config_load(rel, NULL, &cfg, err, sizeof(err));
  ck_assert_int_eq(chdir(cwd), 0);
  ck_assert_msg(rc == 0, "%s", err);
  ck_assert_int_eq(cfg.token_file[0], '/');
  char *want = xasprintf("%s/token", dir);
  char *real_want = realpath(want, NULL), *real_got = realpath(cfg.token_file, NULL);
  ck_assert_str_eq(real_got, real_want);
  kube_config_free(&cfg);
  free(real_want);
  free(real_got);
  free(want);
  free(rel);
  free(cwd);
  rm_rf(dir);
  free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("kubeconfig");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, load_valid, 0, sizeof(good_cases) / sizeof(good_cases[0]));
  tcase_add_test(tc, load_exec_spec);
  tcase_add_test(tc, kubeconfig_env_merge);
  tcase_add_loop_test(tc, load_invalid, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
  tcase_add_test(tc, load_missing_file);
  tcase_add_test(tc, in_cluster);
  tcase_add_loop_test(tc, base64_decode, 0, sizeof(b64_cases) / sizeof(b64_cases[0]));
  tcase_add_test(tc, base64_encode);
  tcase_add_test(tc, relative_kubeconfig_path);
  tcase_add_loop_test(tc, load_inline, 0, sizeof(inline_cases) / sizeof(inline_cases[0]));
  tcase_add_test(tc, secret_data);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
