/* pkg/kube/config.c: kubeconfig files, one or two merged through
 * $KUBECONFIG. Input: the first file, optionally followed by a NUL byte and
 * a second file. Both are written into a private directory that also holds
 * ca.crt, token and certs/client.{crt,key}, so relative paths resolve.
 *
 * Properties: a failure is CUBIT_EINVAL, CUBIT_EIO or CUBIT_ENOMEM with a
 * message and a zeroed result; a success names a server (http or https in
 * any case, no trailing slash), a context and a namespace; loading is deterministic
 * (the same files give the same server, context and namespace twice). */
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "kube/config.h"

static char dir[256]; /* the private directory, made once */
static char path1[300], path2[300], both[620];

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
    perror(path);
    abort();
  }
}

/* Removes the private directory when the fuzzer exits. */
static void remove_dir(void) {
  static const char *const files[] = {"config", "config2", "ca.crt", "token", "certs/client.crt", "certs/client.key",
                                      "certs", ""};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char p[320];
    snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
    (void)remove(p);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof(dir), "%s/cubit-fuzz-XXXXXX", tmp && strlen(tmp) < 200 ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    abort();
  }
  char p[320];
  snprintf(p, sizeof(p), "%s/ca.crt", dir);
  write_file(p, "CA FILE PEM\n", 12);
  snprintf(p, sizeof(p), "%s/token", dir);
  write_file(p, "file-token\n", 11);
  snprintf(p, sizeof(p), "%s/certs", dir);
  if (mkdir(p, 0700) != 0) abort();
  snprintf(p, sizeof(p), "%s/certs/client.crt", dir);
  write_file(p, "CERT FILE PEM\n", 14);
  snprintf(p, sizeof(p), "%s/certs/client.key", dir);
  write_file(p, "KEY FILE PEM\n", 13);
  snprintf(path1, sizeof(path1), "%s/config", dir);
  snprintf(path2, sizeof(path2), "%s/config2", dir);
  snprintf(both, sizeof(both), "%s:%s", path1, path2);
  atexit(remove_dir);
  return 0;
}

static int load(const char *path, kube_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0xa5, sizeof(*cfg)); /* a failure must zero it */
  int rc = kube_config_load(path, NULL, cfg, err, errlen);
  if (rc) {
    kube_config zero;
    memset(&zero, 0, sizeof(zero));
    FUZZ_ASSERT(rc == CUBIT_EINVAL || rc == CUBIT_EIO || rc == CUBIT_ENOMEM, "kube_config_load returned %d", rc);
    FUZZ_ASSERT(err[0] != '\0', "a failure without a message");
    FUZZ_ASSERT(memcmp(cfg, &zero, sizeof(zero)) == 0, "a failure leaves the result filled");
    return rc;
  }
  FUZZ_ASSERT(cfg->server &&
                  (strncasecmp(cfg->server, "https://", 8) == 0 || strncasecmp(cfg->server, "http://", 7) == 0),
              "server \"%s\"", cfg->server ? cfg->server : "(null)");
  size_t n = strlen(cfg->server);
  FUZZ_ASSERT(cfg->server[n - 1] != '/', "server \"%s\" ends in a slash", cfg->server);
  FUZZ_ASSERT(cfg->context != NULL && cfg->namespace != NULL && cfg->namespace[0] != '\0', "no context or namespace");
  return 0;
}

static int same(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, '\0', size);
  size_t first = nul ? (size_t)(nul - data) : size;
  write_file(path1, data, first);
  if (nul) {
    write_file(path2, nul + 1, size - first - 1);
    setenv("KUBECONFIG", both, 1);
  } else {
    unlink(path2);
  }
  kube_config a, b;
  char err[1024] = "";
  int rc = load(nul ? NULL : path1, &a, err, sizeof(err));
  if (rc == 0) {
    FUZZ_ASSERT(load(nul ? NULL : path1, &b, err, sizeof(err)) == 0, "a second load fails: %s", err);
    FUZZ_ASSERT(same(a.server, b.server) && same(a.context, b.context) && same(a.namespace, b.namespace),
                "two loads differ");
    kube_config_free(&b);
    kube_config_free(&a);
  }
  return 0;
}
