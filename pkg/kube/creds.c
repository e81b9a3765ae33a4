/* The credential source: what to put on the next request.
 *
 * Static tokens and certificates come straight from the config. A token file
 * is re-read at most once a minute, as client-go does for rotating bound
 * service-account tokens. An exec plugin (client-go's credential plugins) is
 * run without a shell and its ExecCredential cached until shortly before it
 * expires. One mutex guards everything; it is held while a plugin runs so
 * that concurrent requests wait for one run instead of starting several. */
#include "kube/config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "kube/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/time.h"

#define TOKEN_FILE_REREAD_MS 60000
#define TOKEN_FILE_MAX_BYTES (1u << 20)
#define EXEC_REFRESH_MARGIN_S 60
#define EXEC_DEFAULT_TIMEOUT_MS 30000
#define EXEC_STDOUT_MAX (1u << 20)
#define EXEC_STDERR_TAIL 1024

struct kube_creds {
  pthread_mutex_t mu;
  const kube_config *cfg;
  int exec_timeout_ms;
  int64_t token_reread_ms;
  /* token_file */
  char *file_token;
  int64_t file_read_ms; /* monotonic time of the last read */
  int file_stale;       /* invalidated: re-read before use */
  /* exec plugin */
  int exec_valid;
  int64_t exec_expiry; /* wall seconds; 0 = never expires */
  char *exec_token;
  char *exec_cert, *exec_key;
  size_t exec_cert_len, exec_key_len;
  /* the cert/key pair the last snapshot carried, to detect changes */
  char *cur_cert, *cur_key;
  size_t cur_cert_len, cur_key_len;
  uint64_t generation;
};

/* "exec plugin <command>: <message>", and CUBIT_EEXEC. */
__attribute__((format(printf, 4, 5))) static int plugin_fail(char *errbuf, size_t errlen,
                                                             const kube_exec_spec *ex, const char *fmt,
                                                             ...) {
  if (errbuf && errlen) {
    int n = snprintf(errbuf, errlen, "exec plugin %s: ", ex->command);
    if (n >= 0 && (size_t)n < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return CUBIT_EEXEC;
}

static char *memdup_z(const char *p, size_t n) {
  if (p == NULL) return NULL;
  char *s = xmalloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

kube_creds *kube_creds_new(const kube_config *cfg) {
  kube_creds *c = xcalloc(1, sizeof(*c));
  pthread_mutex_init(&c->mu, NULL);
  c->cfg = cfg;
  c->exec_timeout_ms = EXEC_DEFAULT_TIMEOUT_MS;
  c->token_reread_ms = TOKEN_FILE_REREAD_MS;
  c->cur_cert = memdup_z(cfg->client_cert_pem, cfg->client_cert_pem_len);
  c->cur_cert_len = cfg->client_cert_pem_len;
  c->cur_key = memdup_z(cfg->client_key_pem, cfg->client_key_pem_len);
  c->cur_key_len = cfg->client_key_pem_len;
  c->generation = 1;
  return c;
}

static void forget_exec(kube_creds *c) {
  free(c->exec_token);
  free(c->exec_cert);
  free(c->exec_key);
  c->exec_token = c->exec_cert = c->exec_key = NULL;
  c->exec_cert_len = c->exec_key_len = 0;
  c->exec_valid = 0;
  c->exec_expiry = 0;
}

void kube_creds_free(kube_creds *c) {
  if (c == NULL) return;
  forget_exec(c);
  free(c->file_token);
  free(c->cur_cert);
  free(c->cur_key);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void kube_creds_set_exec_timeout(kube_creds *c, int timeout_ms) {
  pthread_mutex_lock(&c->mu);
  c->exec_timeout_ms = timeout_ms > 0 ? timeout_ms : EXEC_DEFAULT_TIMEOUT_MS;
  pthread_mutex_unlock(&c->mu);
}

void kube__creds_set_token_reread_ms(kube_creds *c, int64_t ms) {
  pthread_mutex_lock(&c->mu);
  c->token_reread_ms = ms;
  pthread_mutex_unlock(&c->mu);
}

void kube_creds_invalidate(kube_creds *c) {
  pthread_mutex_lock(&c->mu);
  c->file_stale = 1;
  c->exec_valid = 0;
  pthread_mutex_unlock(&c->mu);
}

/* ---- token file ------------------------------------------------------------ */

static int refresh_file_token(kube_creds *c, char *errbuf, size_t errlen) {
  int64_t now = time_mono_ms();
  if (c->file_token && !c->file_stale && now - c->file_read_ms < c->token_reread_ms) return 0;
  const char *path = c->cfg->token_file;
  char *data = NULL;
  size_t len = 0;
  int eno = 0;
  int err = kube__read_file(path, TOKEN_FILE_MAX_BYTES, &data, &len, &eno);
  if (err == CUBIT_ENOMEM) {
    fprintf(stderr, "cubit: out of memory reading %s\n", path);
    abort(); /* the xmalloc policy: this is not a parser of untrusted input */
  }
  if (err == 0) {
    while (len > 0 && strchr(" \t\r\n", data[len - 1])) data[--len] = '\0';
    if (len == 0) {
      free(data);
      err = CUBIT_EIO;
      eno = 0;
    }
  }
  if (err) {
    const char *why = err == CUBIT_ETOOBIG ? "too large" : eno ? strerror(eno) : "empty";
    if (c->file_token && !c->file_stale) {
      /* A rotation in progress may leave the file briefly missing: keep the
       * token we have until the next attempt, as client-go does. */
      log_warn("kube", "cannot re-read token file, keeping the previous token",
               "path=\"%s\" error=\"%s\"", path, why);
      c->file_read_ms = now;
      return 0;
    }
    free(c->file_token);
    c->file_token = NULL;
    return cubit_errorf(errbuf, errlen, CUBIT_EIO, "token file %s: %s", path, why);
  }
  free(c->file_token);
  c->file_token = data;
  c->file_read_ms = now;
  c->file_stale = 0;
  return 0;
}

/* ---- exec plugin ------------------------------------------------------------- */

/* The ExecCredential handed to the plugin in KUBERNETES_EXEC_INFO. */
static char *exec_info_json(const kube_config *cfg) {
  const kube_exec_spec *ex = cfg->exec;
  json_t *spec = json_pack("{s:b}", "interactive", 0);
  if (ex->provide_cluster_info) {
    json_t *cluster = json_pack("{s:s}", "server", cfg->server ? cfg->server : "");
    if (cfg->tls_server_name)
      json_object_set_new(cluster, "tls-server-name", json_string(cfg->tls_server_name));
    if (cfg->insecure_skip_tls_verify)
      json_object_set_new(cluster, "insecure-skip-tls-verify", json_true());
    if (cfg->ca_pem) {
      char *b64 = kube__base64_encode(cfg->ca_pem, cfg->ca_pem_len);
      if (b64 == NULL) abort();
      json_object_set_new(cluster, "certificate-authority-data", json_string(b64));
      free(b64);
    }
    if (cfg->proxy_url) json_object_set_new(cluster, "proxy-url", json_string(cfg->proxy_url));
    json_object_set_new(spec, "cluster", cluster);
  }
  json_t *root = json_pack("{s:s, s:s, s:o}", "apiVersion", ex->api_version, "kind", "ExecCredential",
                           "spec", spec);
  char *s = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  if (s == NULL) abort();
  return s;
}

static int env_name_is(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* The plugin's environment: ours, with the spec's variables and
 * KUBERNETES_EXEC_INFO replacing any of the same name. environ is read
 * as-is; nothing in Cubit calls setenv once threads run. */
static char **exec_envp(const kube_config *cfg) {
  const kube_exec_spec *ex = cfg->exec;
  size_t n = 0;
  while (environ && environ[n]) n++;
  char **envp = xcalloc(n + ex->nenv + 2, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int replaced = env_name_is(environ[i], "KUBERNETES_EXEC_INFO");
    for (size_t j = 0; j < ex->nenv && !replaced; j++)
      replaced = env_name_is(environ[i], ex->env[j].name);
    if (!replaced) envp[k++] = xstrdup(environ[i]);
  }
  for (size_t j = 0; j < ex->nenv; j++)
    envp[k++] = xasprintf("%s=%s", ex->env[j].name, ex->env[j].value);
  char *info = exec_info_json(cfg);
  envp[k++] = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
  free(info);
  return envp;
}

static void free_strv(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

/* Keeps the last EXEC_STDERR_TAIL bytes of what the plugin wrote to stderr:
 * the end is where the reason for a failure usually is. */
typedef struct tail {
  char data[EXEC_STDERR_TAIL + 1];
  size_t len;
} tail;

static void tail_add(tail *t, const char *p, size_t n) {
  if (n >= EXEC_STDERR_TAIL) {
    memcpy(t->data, p + n - EXEC_STDERR_TAIL, EXEC_STDERR_TAIL);
    t->len = EXEC_STDERR_TAIL;
  } else {
    if (t->len + n > EXEC_STDERR_TAIL) {
      size_t drop = t->len + n - EXEC_STDERR_TAIL;
      memmove(t->data, t->data + drop, t->len - drop);
      t->len -= drop;
    }
    memcpy(t->data + t->len, p, n);
    t->len += n;
  }
  t->data[t->len] = '\0';
}

static const char *tail_text(tail *t) {
  while (t->len > 0 && strchr(" \t\r\n", t->data[t->len - 1])) t->data[--t->len] = '\0';
  for (size_t i = 0; i < t->len; i++)
    if (t->data[i] == '\n' || t->data[i] == '\r') t->data[i] = ' ';
  return t->len ? t->data : "(no output on stderr)";
}

static void kill_plugin(pid_t pid) {
  kill(-pid, SIGKILL); /* its process group: a script's children too */
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

/* Runs the plugin; on success *out holds its stdout. */
static int spawn_plugin(kube_creds *c, cubit_buf *out, char *errbuf, size_t errlen) {
  const kube_exec_spec *ex = c->cfg->exec;
  int err = 0;
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  size_t nargs = 0;
  while (ex->args && ex->args[nargs]) nargs++;
  char **argv = xcalloc(nargs + 2, sizeof(char *));
  argv[0] = ex->command;
  for (size_t i = 0; i < nargs; i++) argv[i + 1] = ex->args[i];
  char **envp = exec_envp(c->cfg);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
    err = plugin_fail(errbuf, errlen, ex, "pipe: %s", strerror(errno));
    goto out;
  }
  /* stdin is /dev/null: we never have a terminal to offer (interactive:false) */
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid;
  int rc = posix_spawnp(&pid, ex->command, &fa, &attr, argv, envp);
  if (rc != 0) {
    err = plugin_fail(errbuf, errlen, ex, "cannot run: %s", strerror(rc));
    goto out;
  }
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;

  tail stderr_tail = {.len = 0};
  int64_t deadline = time_mono_ms() + c->exec_timeout_ms;
  struct pollfd pfd[2] = {{.fd = outp[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
  int open_fds = 2, status = 0, exited = 0, too_big = 0;
  while (!exited) {
    int64_t left = deadline - time_mono_ms();
    if (left <= 0) break;
    if (open_fds == 0) {
      /* Both pipes closed: wait for the exit in short steps, still bounded
       * by the deadline (a plugin may close stdout and linger). */
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = 1;
      } else if (w < 0 && errno != EINTR) {
        err = plugin_fail(errbuf, errlen, ex, "waitpid: %s", strerror(errno));
        goto out;
      } else {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
      }
      continue;
    }
    int n = poll(pfd, 2, left > 1000 ? 1000 : (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; i++) {
      if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[4096];
      ssize_t r = read(pfd[i].fd, chunk, sizeof(chunk));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        close(pfd[i].fd);
        *(i == 0 ? &outp[0] : &errp[0]) = -1;
        pfd[i].fd = -1;
        open_fds--;
        continue;
      }
      if (i == 1) {
        tail_add(&stderr_tail, chunk, (size_t)r);
      } else if (buf_append(out, chunk, (size_t)r) != 0) {
        too_big = 1;
        break;
      }
    }
    if (too_big) break;
  }
  if (!exited) {
    kill_plugin(pid);
    if (too_big)
      err = plugin_fail(errbuf, errlen, ex, "output larger than %u bytes", EXEC_STDOUT_MAX);
    else
      err = plugin_fail(errbuf, errlen, ex, "killed after a timeout of %d ms: %s", c->exec_timeout_ms,
                        tail_text(&stderr_tail));
    goto out;
  }
  if (WIFSIGNALED(status)) {
    err = plugin_fail(errbuf, errlen, ex, "killed by signal %d: %s", WTERMSIG(status),
                      tail_text(&stderr_tail));
  } else if (WEXITSTATUS(status) == 127 && stderr_tail.len == 0) {
    /* posix_spawn's child exits 127 when exec fails and it cannot report
     * the errno to us (e.g. when vfork is emulated by fork) */
    err = plugin_fail(errbuf, errlen, ex, "cannot run: exit status 127 (not found?)");
  } else if (WEXITSTATUS(status) != 0) {
    err = plugin_fail(errbuf, errlen, ex, "exit status %d: %s", WEXITSTATUS(status),
                      tail_text(&stderr_tail));
  }
out:
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  free_strv(envp);
  free(argv);
  return err;
}

static const char *opt_str(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s && *s ? s : NULL;
}

/* Checks the plugin's ExecCredential and caches what it carries. */
static int take_credential(kube_creds *c, const cubit_buf *out, char *errbuf, size_t errlen) {
  const kube_exec_spec *ex = c->cfg->exec;
  json_error_t je;
  json_t *root = json_loadb(out->data ? out->data : "", out->len, 0, &je);
  int err = 0;
  if (root == NULL) {
    return plugin_fail(errbuf, errlen, ex, "output is not JSON: %s (line %d)", je.text, je.line);
  }
  const char *api = json_string_value(json_object_get(root, "apiVersion"));
  const char *kind = json_string_value(json_object_get(root, "kind"));
  json_t *status = json_object_get(root, "status");
  if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
    err = plugin_fail(errbuf, errlen, ex, "output has kind \"%s\", expected ExecCredential",
                      kind ? kind : "");
    goto out;
  }
  if (api == NULL || strcmp(api, ex->api_version) != 0) {
    err = plugin_fail(errbuf, errlen, ex, "output has apiVersion \"%s\", configured %s", api ? api : "",
                      ex->api_version);
    goto out;
  }
  if (!json_is_object(status)) {
    err = plugin_fail(errbuf, errlen, ex, "output has no status");
    goto out;
  }
  const char *token = opt_str(status, "token");
  const char *cert = opt_str(status, "clientCertificateData");
  const char *key = opt_str(status, "clientKeyData");
  const char *exp = opt_str(status, "expirationTimestamp");
  if ((cert == NULL) != (key == NULL)) {
    err = plugin_fail(errbuf, errlen, ex, "status has %s without %s",
                      cert ? "clientCertificateData" : "clientKeyData",
                      cert ? "clientKeyData" : "clientCertificateData");
    goto out;
  }
  if (token == NULL && cert == NULL) {
    err = plugin_fail(errbuf, errlen, ex, "status has neither a token nor a client certificate");
    goto out;
  }
  int64_t expiry = 0;
  if (exp && time_parse_rfc3339(exp, &expiry) != 0) {
    err = plugin_fail(errbuf, errlen, ex, "status.expirationTimestamp \"%s\" is not RFC 3339", exp);
    goto out;
  }
  forget_exec(c);
  c->exec_token = token ? xstrdup(token) : NULL;
  if (cert) {
    c->exec_cert_len = strlen(cert);
    c->exec_cert = xstrdup(cert);
    c->exec_key_len = strlen(key);
    c->exec_key = xstrdup(key);
  }
  c->exec_expiry = exp ? expiry : 0;
  c->exec_valid = 1;
out:
  json_decref(root);
  return err;
}

static int refresh_exec(kube_creds *c, char *errbuf, size_t errlen) {
  if (c->exec_valid && (c->exec_expiry == 0 || time_wall_s() < c->exec_expiry - EXEC_REFRESH_MARGIN_S))
    return 0;
  const kube_exec_spec *ex = c->cfg->exec;
  forget_exec(c);
  if (ex->interactive_mode && strcmp(ex->interactive_mode, "Always") == 0)
    return plugin_fail(errbuf, errlen, ex, "interactiveMode is Always but there is no terminal");
  cubit_buf out;
  buf_init(&out, EXEC_STDOUT_MAX);
  int err = spawn_plugin(c, &out, errbuf, errlen);
  if (!err) err = take_credential(c, &out, errbuf, errlen);
  buf_free(&out);
  return err;
}

static int same_bytes(const char *a, size_t alen, const char *b, size_t blen) {
  if (a == NULL || b == NULL) return a == b;
  return alen == blen && memcmp(a, b, alen) == 0;
}

int kube_creds_get(kube_creds *c, kube_creds_snapshot *snap, char *errbuf, size_t errlen) {
  const kube_config *cfg = c->cfg;
  memset(snap, 0, sizeof(*snap));
  if (errbuf && errlen) errbuf[0] = '\0';
  pthread_mutex_lock(&c->mu);
  int err = 0;
  const char *token = NULL, *cert = cfg->client_cert_pem, *key = cfg->client_key_pem;
  size_t cert_len = cfg->client_cert_pem_len, key_len = cfg->client_key_pem_len;
  if (cfg->exec) {
    err = refresh_exec(c, errbuf, errlen);
    if (err) goto out;
    token = c->exec_token;
    if (c->exec_cert) {
      cert = c->exec_cert;
      cert_len = c->exec_cert_len;
      key = c->exec_key;
      key_len = c->exec_key_len;
    }
  }
  if (token == NULL && cfg->token) {
    token = cfg->token;
  } else if (token == NULL && cfg->token_file) {
    err = refresh_file_token(c, errbuf, errlen);
    if (err) goto out;
    token = c->file_token;
  }
  if (!same_bytes(cert, cert_len, c->cur_cert, c->cur_cert_len) ||
      !same_bytes(key, key_len, c->cur_key, c->cur_key_len)) {
    free(c->cur_cert);
    free(c->cur_key);
    c->cur_cert = memdup_z(cert, cert_len);
    c->cur_cert_len = cert_len;
    c->cur_key = memdup_z(key, key_len);
    c->cur_key_len = key_len;
    c->generation++;
  }
  snap->token = token ? xstrdup(token) : NULL;
  snap->client_cert_pem = memdup_z(cert, cert_len);
  snap->client_cert_pem_len = cert ? cert_len : 0;
  snap->client_key_pem = memdup_z(key, key_len);
  snap->client_key_pem_len = key ? key_len : 0;
  snap->generation = c->generation;
out:
  pthread_mutex_unlock(&c->mu);
  return err;
}

void kube_creds_snapshot_free(kube_creds_snapshot *snap) {
  if (snap == NULL) return;
  free(snap->token);
  free(snap->client_cert_pem);
  free(snap->client_key_pem);
  memset(snap, 0, sizeof(*snap));
}
