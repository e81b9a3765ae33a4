#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "kube/config.h"
#include "kube/internal.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/time.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"

static void rm_rf(const char *dir) {
  char *cmd = xasprintf("rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  free(cmd);
}

static char *read_all(const char *dir, const char *name) {
  char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *data = xmalloc(1 << 16);
  size_t n = fread(data, 1, (1 << 16) - 1, f);
  data[n] = '\0';
  fclose(f);
  free(path);
  return data;
}

/* Lines in dir/count: how often the counting plugin ran. */
static int runs(const char *dir) {
  char *path = xasprintf("%s/count", dir);
  FILE *f = fopen(path, "r");
  free(path);
  if (f == NULL) return 0;
  int n = 0, ch;
  while ((ch = fgetc(f)) != EOF) n += ch == '\n';
  fclose(f);
  return n;
}

static char *write_script(const char *dir, const char *name, const char *body) {
  char *text = xasprintf("#!/bin/sh\n%s", body);
  char *path = testutil_write_file(dir, name, text);
  free(text);
  ck_assert_int_eq(chmod(path, 0755), 0);
  return path;
}

/* A config whose user runs 'command'. env is name, value, name, value, ...,
 * NULL. The caller frees with config_destroy. */
static kube_config *exec_config(const char *command, const char *api, const char *const *args,
                                const char *const *env) {
  kube_config *cfg = xcalloc(1, sizeof(*cfg));
  cfg->server = xstrdup("https://127.0.0.1:6443");
  cfg->namespace = xstrdup("default");
  kube_exec_spec *ex = cfg->exec = xcalloc(1, sizeof(*ex));
  ex->api_version = xstrdup(api);
  ex->command = xstrdup(command);
  ex->interactive_mode = xstrdup("Never");
  size_t n = 0;
  while (args && args[n]) n++;
  ex->args = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) ex->args[i] = xstrdup(args[i]);
  n = 0;
  while (env && env[2 * n]) n++;
  ex->nenv = n;
  ex->env = n ? xcalloc(n, sizeof(*ex->env)) : NULL;
  for (size_t i = 0; i < n; i++) {
    ex->env[i].name = xstrdup(env[2 * i]);
    ex->env[i].value = xstrdup(env[2 * i + 1]);
  }
  return cfg;
}

static void config_destroy(kube_config *cfg) {
  kube_config_free(cfg);
  free(cfg);
}

/* Prints an ExecCredential whose token counts the runs; the expiry comes
 * from $EXP when set. Arguments and counter file come through the env. */
static const char counting_plugin[] =
    "echo run >> \"$DIR/count\"\n"
    "n=$(wc -l < \"$DIR/count\")\n"
    "n=$((n + 0))\n"
    "exp=\n"
    "if [ -n \"$EXP\" ]; then exp=\",\\\"expirationTimestamp\\\":\\\"$EXP\\\"\"; fi\n"
    "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok-%s\"%s}}\\n' "
    "\"$API\" \"$n\" \"$exp\"\n";

static void expect_token(kube_creds *c, const char *want) {
  kube_creds_snapshot snap;
  char err[512];
  int rc = kube_creds_get(c, &snap, err, sizeof(err));
  ck_assert_msg(rc == 0, "get: rc %d: %s", rc, err);
  ck_assert_msg(snap.token && strcmp(snap.token, want) == 0, "token \"%s\", want \"%s\"",
                snap.token ? snap.token : "(null)", want);
  kube_creds_snapshot_free(&snap);
  ck_assert_ptr_null(snap.token);
}

/* ---- static and file tokens ----------------------------------------------- */

START_TEST(static_credentials) {
  kube_config cfg = {0};
  cfg.token = xstrdup("static");
  cfg.client_cert_pem = xstrdup("CERT");
  cfg.client_cert_pem_len = 4;
  cfg.client_key_pem = xstrdup("KEY");
  cfg.client_key_pem_len = 3;
  kube_creds *c = kube_creds_new(&cfg);
  for (int i = 0; i < 3; i++) {
    kube_creds_snapshot snap;
    char err[128];
    ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), 0);
    ck_assert_str_eq(snap.token, "static");
    ck_assert_ptr_ne(snap.token, cfg.token); /* a copy owned by the snapshot */
    ck_assert_str_eq(snap.client_cert_pem, "CERT");
    ck_assert_ptr_ne(snap.client_cert_pem, cfg.client_cert_pem);
    ck_assert_uint_eq(snap.client_cert_pem_len, 4);
    ck_assert_str_eq(snap.client_key_pem, "KEY");
    ck_assert_uint_eq(snap.client_key_pem_len, 3);
    ck_assert_uint_eq(snap.generation, 1);
    kube_creds_snapshot_free(&snap);
    kube_creds_invalidate(c);
  }
  kube_creds_free(c);
  kube_config_free(&cfg);

  /* no credentials at all: an anonymous snapshot */
  kube_config none = {0};
  c = kube_creds_new(&none);
  kube_creds_snapshot snap;
  ck_assert_int_eq(kube_creds_get(c, &snap, NULL, 0), 0);
  ck_assert_ptr_null(snap.token);
  ck_assert_ptr_null(snap.client_cert_pem);
  ck_assert_uint_ne(snap.generation, 0);
  kube_creds_snapshot_free(&snap);
  kube_creds_free(c);
}
END_TEST

START_TEST(token_file_rotation) {
  char *dir = testutil_tmpdir();
  kube_config cfg = {0};
  cfg.token_file = testutil_write_file(dir, "token", "tok-1\n");
  kube_creds *c = kube_creds_new(&cfg);
  expect_token(c, "tok-1"); /* trailing newline trimmed */

  /* rotated on disk: within the minute the cached token is still used */
  free(testutil_write_file(dir, "token", "tok-2 \r\n\n"));
  expect_token(c, "tok-1");
  expect_token(c, "tok-1");
  /* a 401 makes the next get re-read it */
  kube_creds_invalidate(c);
  expect_token(c, "tok-2");
  free(testutil_write_file(dir, "token", "tok-3"));
  expect_token(c, "tok-2");
  kube_creds_invalidate(c);
  expect_token(c, "tok-3");

  /* gone after an invalidation: an error naming the file, not the old token */
  ck_assert_int_eq(unlink(cfg.token_file), 0);
  kube_creds_invalidate(c);
  kube_creds_snapshot snap;
  char err[512];
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, cfg.token_file));
  ck_assert_ptr_null(snap.token);
  /* empty */
  free(testutil_write_file(dir, "token", " \n"));
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), CUBIT_EIO);
  ck_assert_ptr_nonnull(strstr(err, "empty"));
  free(testutil_write_file(dir, "token", "tok-4\n"));
  expect_token(c, "tok-4");
  kube_creds_free(c);
  kube_config_free(&cfg);
  rm_rf(dir);
  free(dir);
}
END_TEST

/* With the re-read interval shortened: a rotated file is picked up without
 * an invalidation, and a file briefly missing keeps the previous token. */
START_TEST(token_file_periodic_reread) {
  char *dir = testutil_tmpdir();
  kube_config cfg = {0};
  cfg.token_file = testutil_write_file(dir, "token", "tok-1\n");
  kube_creds *c = kube_creds_new(&cfg);
  kube__creds_set_token_reread_ms(c, 20);
  expect_token(c, "tok-1");
  free(testutil_write_file(dir, "token", "tok-2\n"));
  usleep(60 * 1000);
  expect_token(c, "tok-2");
  ck_assert_int_eq(unlink(cfg.token_file), 0);
  usleep(60 * 1000);
  expect_token(c, "tok-2"); /* logged, and the previous token kept */
  free(testutil_write_file(dir, "token", "tok-3\n"));
  usleep(60 * 1000);
  expect_token(c, "tok-3");
  kube_creds_free(c);
  kube_config_free(&cfg);
  rm_rf(dir);
  free(dir);
}
END_TEST

/* ---- exec plugin: caching ------------------------------------------------- */

typedef struct plugin_env {
  char *dir, *script;
  kube_config *cfg;
  kube_creds *c;
} plugin_env;

static void plugin_setup(plugin_env *p, const char *exp) {
  p->dir = testutil_tmpdir();
  p->script = write_script(p->dir, "plugin", counting_plugin);
  const char *env[] = {"DIR", p->dir, "API", V1, "EXP", exp ? exp : "", NULL};
  p->cfg = exec_config(p->script, V1, NULL, env);
  p->c = kube_creds_new(p->cfg);
}

static void plugin_teardown(plugin_env *p) {
  kube_creds_free(p->c);
  config_destroy(p->cfg);
  rm_rf(p->dir);
  free(p->script);
  free(p->dir);
}

START_TEST(exec_no_expiry_cached_until_invalidated) {
  plugin_env p;
  plugin_setup(&p, NULL);
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-1");
  ck_assert_int_eq(runs(p.dir), 1);
  kube_creds_invalidate(p.c);
  expect_token(p.c, "tok-2");
  expect_token(p.c, "tok-2");
  ck_assert_int_eq(runs(p.dir), 2);
  plugin_teardown(&p);
}
END_TEST

START_TEST(exec_expired_reruns_every_get) {
  plugin_env p;
  plugin_setup(&p, "2001-02-03T04:05:06Z");
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-2");
  expect_token(p.c, "tok-3");
  ck_assert_int_eq(runs(p.dir), 3);
  plugin_teardown(&p);
}
END_TEST

START_TEST(exec_expiring_within_a_minute_reruns) {
  char ts[32];
  time_format_rfc3339(time_wall_s() + 20, ts);
  plugin_env p;
  plugin_setup(&p, ts);
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-2");
  ck_assert_int_eq(runs(p.dir), 2);
  plugin_teardown(&p);
}
END_TEST

START_TEST(exec_far_expiry_cached) {
  char ts[32];
  time_format_rfc3339(time_wall_s() + 3600, ts);
  plugin_env p;
  plugin_setup(&p, ts);
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-1");
  ck_assert_int_eq(runs(p.dir), 1);
  kube_creds_invalidate(p.c);
  expect_token(p.c, "tok-2");
  ck_assert_int_eq(runs(p.dir), 2);
  plugin_teardown(&p);

  /* fractional seconds and an offset parse too */
  plugin_setup(&p, "2999-01-01T00:00:00.123456+01:00");
  expect_token(p.c, "tok-1");
  expect_token(p.c, "tok-1");
  ck_assert_int_eq(runs(p.dir), 1);
  plugin_teardown(&p);
}
END_TEST

typedef struct racer {
  kube_creds *c;
  int rc;
  char token[32];
} racer;

static void *race_get(void *arg) {
  racer *r = arg;
  kube_creds_snapshot snap;
  r->rc = kube_creds_get(r->c, &snap, NULL, 0);
  if (r->rc == 0) {
    snprintf(r->token, sizeof(r->token), "%s", snap.token);
    kube_creds_snapshot_free(&snap);
  }
  return NULL;
}

/* Concurrent callers share one plugin run. */
START_TEST(exec_concurrent_gets_run_once) {
  plugin_env p;
  plugin_setup(&p, NULL);
  racer r[6];
  pthread_t t[6];
  for (int i = 0; i < 6; i++) {
    r[i] = (racer){.c = p.c};
    ck_assert_int_eq(pthread_create(&t[i], NULL, race_get, &r[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(r[i].rc, 0);
    ck_assert_str_eq(r[i].token, "tok-1");
  }
  ck_assert_int_eq(runs(p.dir), 1);
  plugin_teardown(&p);
}
END_TEST

/* ---- exec plugin: what it is given ----------------------------------------- */

static const char echo_plugin[] =
    "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$OUT/args\"\n"
    "printf '%s' \"$SPACED\" > \"$OUT/spaced\"\n"
    "printf '%s' \"$CUBIT_OVERRIDE\" > \"$OUT/override\"\n"
    "printf '%s' \"$CUBIT_INHERITED\" > \"$OUT/inherited\"\n"
    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUT/info\"\n"
    "cat > \"$OUT/stdin\"\n"
    "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n";

START_TEST(exec_args_env_verbatim) {
  char *dir = testutil_tmpdir();
  char *script = write_script(dir, "echo plugin", echo_plugin); /* a space in the path too */
  const char *args[] = {"a b",     "it's",        "\"double\"", "$HOME", "*", "",
                        "x; echo pwned && false", "back\\slash", "new\nline", "`id`", NULL};
  const char *env[] = {"OUT", dir, "SPACED", "two  words 'single' \"double\" $(id) `id`", "CUBIT_OVERRIDE",
                       "from-spec", NULL};
  ck_assert_int_eq(setenv("CUBIT_OVERRIDE", "from-parent", 1), 0);
  ck_assert_int_eq(setenv("CUBIT_INHERITED", "inherited value", 1), 0);
  ck_assert_int_eq(setenv("KUBERNETES_EXEC_INFO", "stale", 1), 0);
  kube_config *cfg = exec_config(script, V1BETA1, args, env);
  kube_creds *c = kube_creds_new(cfg);
  expect_token(c, "t");
  char *got = read_all(dir, "args");
  ck_assert_str_eq(got, "[a b]\n[it's]\n[\"double\"]\n[$HOME]\n[*]\n[]\n[x; echo pwned && false]\n"
                        "[back\\slash]\n[new\nline]\n[`id`]\n");
  free(got);
  got = read_all(dir, "spaced");
  ck_assert_str_eq(got, "two  words 'single' \"double\" $(id) `id`");
  free(got);
  got = read_all(dir, "override");
  ck_assert_str_eq(got, "from-spec");
  free(got);
  got = read_all(dir, "inherited");
  ck_assert_str_eq(got, "inherited value");
  free(got);
  got = read_all(dir, "stdin");
  ck_assert_str_eq(got, ""); /* stdin is /dev/null */
  free(got);
  got = read_all(dir, "info");
  json_error_t je;
  json_t *info = json_loads(got, 0, &je);
  ck_assert_msg(info != NULL, "KUBERNETES_EXEC_INFO not JSON: %s", got);
  ck_assert_str_eq(json_string_value(json_object_get(info, "apiVersion")), V1BETA1);
  ck_assert_str_eq(json_string_value(json_object_get(info, "kind")), "ExecCredential");
  json_t *spec = json_object_get(info, "spec");
  ck_assert(json_is_false(json_object_get(spec, "interactive")));
  ck_assert_ptr_null(json_object_get(spec, "cluster")); /* provideClusterInfo is off */
  json_decref(info);
  free(got);
  kube_creds_free(c);

  /* provideClusterInfo: the cluster as the client sees it */
  cfg->exec->provide_cluster_info = 1;
  cfg->ca_pem = xstrdup("CA DATA PEM");
  cfg->ca_pem_len = 11;
  cfg->tls_server_name = xstrdup("kubernetes.default");
  c = kube_creds_new(cfg);
  expect_token(c, "t");
  got = read_all(dir, "info");
  info = json_loads(got, 0, &je);
  ck_assert_ptr_nonnull(info);
  json_t *cluster = json_object_get(json_object_get(info, "spec"), "cluster");
  ck_assert_str_eq(json_string_value(json_object_get(cluster, "server")), "https://127.0.0.1:6443");
  ck_assert_str_eq(json_string_value(json_object_get(cluster, "certificate-authority-data")),
                   "Q0EgREFUQSBQRU0=");
  ck_assert_str_eq(json_string_value(json_object_get(cluster, "tls-server-name")), "kubernetes.default");
  json_decref(info);
  free(got);
  kube_creds_free(c);

  unsetenv("CUBIT_OVERRIDE");
  unsetenv("CUBIT_INHERITED");
  unsetenv("KUBERNETES_EXEC_INFO");
  config_destroy(cfg);
  rm_rf(dir);
  free(script);
  free(dir);
}
END_TEST

/* ---- exec plugin: failures ----------------------------------------------------- */

typedef struct fail_case {
  const char *name;
  const char *body; /* the script after #!/bin/sh */
  const char *needle, *needle2;
} fail_case;

#define CRED(status) "cat <<'EOF'\n{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":" status "}\nEOF\n"

static const fail_case fail_cases[] = {
    {"non-zero exit with stderr",
     "echo 'first line' >&2\necho 'boom: bad credentials' >&2\n" CRED("{\"token\":\"t\"}") "exit 3\n",
     "exit status 3", "first line boom: bad credentials"},
    {"stderr tail kept", "head -c 5000 /dev/zero | tr '\\0' x >&2\necho 'THE END' >&2\nexit 1\n", "xxxTHE END",
     NULL},
    {"killed by a signal", "kill -9 $$\n", "killed by signal 9", NULL},
    {"invalid JSON", "echo 'not json'\n", "output is not JSON", NULL},
    {"empty output", "true\n", "output is not JSON", NULL},
    {"wrong kind", "echo '{\"apiVersion\":\"" V1 "\",\"kind\":\"Secret\",\"status\":{\"token\":\"t\"}}'\n",
     "kind \"Secret\", expected ExecCredential", NULL},
    {"wrong apiVersion",
     "echo '{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n",
     "apiVersion \"" V1BETA1 "\", configured " V1, NULL},
    {"no status", "echo '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}'\n", "no status", NULL},
    {"neither token nor certificate", CRED("{\"token\":\"\"}"), "neither a token nor a client certificate", NULL},
    {"certificate without key", CRED("{\"clientCertificateData\":\"C\"}"),
     "clientCertificateData without clientKeyData", NULL},
    {"bad expiry", CRED("{\"token\":\"t\",\"expirationTimestamp\":\"tomorrow\"}"),
     "expirationTimestamp \"tomorrow\"", NULL},
    {"output over the cap", "head -c 3000000 /dev/zero | tr '\\0' a\n", "output larger than", NULL},
};

START_TEST(exec_failures) {
  const fail_case *tc = &fail_cases[_i];
  char *dir = testutil_tmpdir();
  char *script = write_script(dir, "plugin", tc->body);
  kube_config *cfg = exec_config(script, V1, NULL, NULL);
  kube_creds *c = kube_creds_new(cfg);
  kube_creds_snapshot snap;
  char err[2048];
  int rc = kube_creds_get(c, &snap, err, sizeof(err));
  ck_assert_msg(rc == CUBIT_EEXEC, "%s: rc %d", tc->name, rc);
  ck_assert_msg(strstr(err, tc->needle) != NULL, "%s: \"%s\" lacks \"%s\"", tc->name, err, tc->needle);
  if (tc->needle2)
    ck_assert_msg(strstr(err, tc->needle2) != NULL, "%s: \"%s\" lacks \"%s\"", tc->name, err, tc->needle2);
  ck_assert_ptr_nonnull(strstr(err, script)); /* names the plugin */
  ck_assert_ptr_null(snap.token);
  kube_creds_free(c);
  config_destroy(cfg);
  rm_rf(dir);
  free(script);
  free(dir);
}
END_TEST

START_TEST(exec_not_runnable) {
  const char *commands[] = {"/nonexistent/plugin", "cubit-no-such-plugin-anywhere"};
  for (int i = 0; i < 2; i++) {
    kube_config *cfg = exec_config(commands[i], V1, NULL, NULL);
    kube_creds *c = kube_creds_new(cfg);
    kube_creds_snapshot snap;
    char err[512];
    ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), CUBIT_EEXEC);
    ck_assert_ptr_nonnull(strstr(err, "cannot run"));
    ck_assert_ptr_nonnull(strstr(err, commands[i]));
    kube_creds_free(c);
    config_destroy(cfg);
  }
  /* interactiveMode Always needs a terminal we never have */
  kube_config *cfg = exec_config("true", V1, NULL, NULL);
  free(cfg->exec->interactive_mode);
  cfg->exec->interactive_mode = xstrdup("Always");
  kube_creds *c = kube_creds_new(cfg);
  kube_creds_snapshot snap;
  char err[512];
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), CUBIT_EEXEC);
  ck_assert_ptr_nonnull(strstr(err, "interactiveMode"));
  kube_creds_free(c);
  config_destroy(cfg);
}
END_TEST

static int process_gone(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 1;
  char state = '?';
  int r = fscanf(f, "%*d (%*[^)]) %c", &state);
  fclose(f);
  return r == 1 && (state == 'Z' || state == 'X'); /* killed, awaiting its reaper */
}

START_TEST(exec_timeout_kills_plugin) {
  char *dir = testutil_tmpdir();
  char *script = write_script(dir, "plugin",
                              "echo 'open the browser to log in' >&2\n"
                              "sleep 60 &\n"
                              "echo $! > \"$OUT/child\"\n"
                              "wait\n");
  const char *env[] = {"OUT", dir, NULL};
  kube_config *cfg = exec_config(script, V1, NULL, env);
  kube_creds *c = kube_creds_new(cfg);
  kube_creds_set_exec_timeout(c, 300);
  kube_creds_snapshot snap;
  char err[512];
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), CUBIT_EEXEC);
  ck_assert_ptr_nonnull(strstr(err, "timeout of 300 ms"));
  ck_assert_ptr_nonnull(strstr(err, "open the browser to log in"));
  /* the plugin's own children went with it (its process group) */
  char *child = read_all(dir, "child");
  pid_t pid = (pid_t)atoi(child);
  ck_assert_int_gt(pid, 0);
  int gone = 0;
  for (int i = 0; i < 500 && !gone; i++) {
    gone = process_gone(pid);
    if (!gone) usleep(10 * 1000);
  }
  ck_assert_msg(gone, "the plugin's child %d survived", (int)pid);
  free(child);
  kube_creds_free(c);
  config_destroy(cfg);
  rm_rf(dir);
  free(script);
  free(dir);
}
END_TEST

/* ---- exec plugin: client certificates --------------------------------------------- */

START_TEST(exec_cert_generation) {
  char *dir = testutil_tmpdir();
  char *script = write_script(dir, "plugin",
                              "c=$(cat \"$OUT/which\")\n"
                              "printf '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
                              "{\"clientCertificateData\":\"CERT-%s\",\"clientKeyData\":\"KEY-%s\"}}' "
                              "\"$c\" \"$c\"\n");
  free(testutil_write_file(dir, "which", "A"));
  const char *env[] = {"OUT", dir, NULL};
  kube_config *cfg = exec_config(script, V1, NULL, env);
  cfg->token = xstrdup("config-token"); /* the plugin gives no token: this one is used */
  kube_creds *c = kube_creds_new(cfg);
  kube_creds_snapshot snap;
  char err[512];
  ck_assert_msg(kube_creds_get(c, &snap, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(snap.client_cert_pem, "CERT-A");
  ck_assert_uint_eq(snap.client_cert_pem_len, 6);
  ck_assert_str_eq(snap.client_key_pem, "KEY-A");
  ck_assert_uint_eq(snap.client_key_pem_len, 5);
  ck_assert_str_eq(snap.token, "config-token");
  uint64_t g1 = snap.generation;
  kube_creds_snapshot_free(&snap);

  /* re-run with the same pair: same generation */
  kube_creds_invalidate(c);
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), 0);
  ck_assert_uint_eq(snap.generation, g1);
  kube_creds_snapshot_free(&snap);

  /* a new pair: a new generation */
  free(testutil_write_file(dir, "which", "B"));
  kube_creds_invalidate(c);
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), 0);
  ck_assert_str_eq(snap.client_cert_pem, "CERT-B");
  ck_assert_str_eq(snap.client_key_pem, "KEY-B");
  ck_assert_uint_ne(snap.generation, g1);
  uint64_t g2 = snap.generation;
  kube_creds_snapshot_free(&snap);
  ck_assert_int_eq(kube_creds_get(c, &snap, err, sizeof(err)), 0); /* cached */
  ck_assert_uint_eq(snap.generation, g2);
  kube_creds_snapshot_free(&snap);
  kube_creds_free(c);
  config_destroy(cfg);
  rm_rf(dir);
  free(script);
  free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("creds");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, static_credentials);
  tcase_add_test(tc, token_file_rotation);
  tcase_add_test(tc, token_file_periodic_reread);
  tcase_add_test(tc, exec_no_expiry_cached_until_invalidated);
  tcase_add_test(tc, exec_expired_reruns_every_get);
  tcase_add_test(tc, exec_expiring_within_a_minute_reruns);
  tcase_add_test(tc, exec_far_expiry_cached);
  tcase_add_test(tc, exec_concurrent_gets_run_once);
  tcase_add_test(tc, exec_args_env_verbatim);
  tcase_add_loop_test(tc, exec_failures, 0, sizeof(fail_cases) / sizeof(fail_cases[0]));
  tcase_add_test(tc, exec_not_runnable);
  tcase_add_test(tc, exec_timeout_kills_plugin);
  tcase_add_test(tc, exec_cert_generation);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
