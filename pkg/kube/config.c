/* kubeconfig files and in-cluster configuration.
 *
 * A kubeconfig is external input, so everything here allocates with plain
 * malloc and unwinds on CUBIT_ENOMEM (proven by the allocation-failure test).
 * YAML is read with libyaml's event parser into a small tree of our own:
 * libyaml's document loader leaks when an allocation fails part-way. */
#include "kube/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "kube/internal.h"

#define KUBECONFIG_MAX_BYTES (16u << 20)
#define REFERENCED_FILE_MAX_BYTES (4u << 20)
#define YAML_MAX_DEPTH 64
#define IN_CLUSTER_ROOT "/var/run/secrets/kubernetes.io/serviceaccount"
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* ---- a YAML tree ---------------------------------------------------------- */

enum { YN_SCALAR, YN_SEQ, YN_MAP };

/* Nodes live in an arena list owned by their file, so an alias can point at
 * an anchored node (even an enclosing one) without ownership questions. */
typedef struct ynode {
  int kind;
  int plain;     /* scalar written without quotes: may be null or a bool */
  size_t line;   /* 1-based, for messages */
  char *value;   /* scalar text, NUL-terminated */
  char *anchor;  /* &name, or NULL */
  struct ynode **kids; /* sequence items, or mapping keys and values in turn */
  size_t nkids, cap;
  struct ynode *arena_next;
} ynode;

typedef struct kc_file {
  char *path; /* as found, for messages */
  char *dir;  /* absolute directory that relative paths are resolved against */
  ynode *root;
  ynode *arena;
} kc_file;

typedef struct loader {
  kc_file *files;
  size_t nfiles;
  char *errbuf;
  size_t errlen;
  int inline_only; /* from a Secret: no file references, no exec plugins */
} loader;

/* A mapping inside one file, with the name that messages give it
 * ("users[2].user"). map is NULL for an empty or absent section. */
typedef struct section {
  const kc_file *file;
  const ynode *map;
  char name[96];
} section;

/* Names are short in practice; a long one is cut, which only shortens a
 * message. */
__attribute__((format(printf, 2, 3))) static void set_name(section *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->name, sizeof(s->name), fmt, ap);
  va_end(ap);
}

static void errv(loader *L, const char *fmt, va_list ap) {
  if (L->errbuf == NULL || L->errlen == 0) return;
  size_t used = strnlen(L->errbuf, L->errlen);
  if (used + 1 >= L->errlen) return;
  vsnprintf(L->errbuf + used, L->errlen - used, fmt, ap);
}

/* Appends to the message. */
__attribute__((format(printf, 2, 3))) static void errcat(loader *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  errv(L, fmt, ap);
  va_end(ap);
}

/* Replaces the message and returns code. */
__attribute__((format(printf, 3, 4))) static int fail(loader *L, int code, const char *fmt, ...) {
  if (L->errbuf && L->errlen) L->errbuf[0] = '\0';
  if (code == CUBIT_ENOMEM) {
    errcat(L, "out of memory reading kubeconfig");
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  errv(L, fmt, ap);
  va_end(ap);
  return code;
}

/* Every allocation failure ends here. */
static int oom(loader *L) {
  return fail(L, CUBIT_ENOMEM, "%s", "");
}

/* "<section>.<key>: <message> (<file>, line N)". */
__attribute__((format(printf, 6, 7))) static int fail_field(loader *L, int code, const section *s,
                                                           const char *key, const ynode *at,
                                                           const char *fmt, ...) {
  if (code == CUBIT_ENOMEM) return oom(L);
  if (L->errbuf && L->errlen) L->errbuf[0] = '\0';
  errcat(L, "%s%s%s: ", s->name, s->name[0] && key ? "." : "", key ? key : "");
  va_list ap;
  va_start(ap, fmt);
  errv(L, fmt, ap);
  va_end(ap);
  if (at == NULL) at = s->map; /* a missing field: point at its section */
  if (s->file) {
    if (at)
      errcat(L, " (%s, line %zu)", s->file->path, at->line);
    else
      errcat(L, " (%s)", s->file->path);
  }
  return code;
}

static void errcat_files(loader *L) {
  for (size_t i = 0; i < L->nfiles; i++) errcat(L, "%s%s", i ? ":" : "", L->files[i].path);
}

static ynode *ynode_new(kc_file *f, int kind, size_t line) {
  ynode *n = calloc(1, sizeof(*n));
  if (n == NULL) return NULL;
  n->kind = kind;
  n->line = line;
  n->arena_next = f->arena;
  f->arena = n;
  return n;
}

static void arena_free(kc_file *f) {
  ynode *n = f->arena;
  while (n) {
    ynode *next = n->arena_next;
    free(n->value);
    free(n->anchor);
    free(n->kids);
    free(n);
    n = next;
  }
  f->arena = NULL;
  f->root = NULL;
}

static int ynode_push(ynode *parent, ynode *kid) {
  if (parent->nkids == parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 8;
    ynode **k = realloc(parent->kids, cap * sizeof(*k));
    if (k == NULL) return CUBIT_ENOMEM;
    parent->kids = k;
    parent->cap = cap;
  }
  parent->kids[parent->nkids++] = kid;
  return 0;
}

static char *str_dupn(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static char *str_dup(const char *s) {
  return str_dupn(s, strlen(s));
}

static int set_anchor(ynode *n, const yaml_char_t *anchor) {
  if (anchor == NULL) return 0;
  n->anchor = str_dup((const char *)anchor);
  return n->anchor ? 0 : CUBIT_ENOMEM;
}

static const ynode *find_anchor(const kc_file *f, const char *name) {
  for (const ynode *n = f->arena; n; n = n->arena_next)
    if (n->anchor && strcmp(n->anchor, name) == 0) return n; /* newest first */
  return NULL;
}

/* Parses the first YAML document of text into f->root (NULL for an empty
 * document). JSON is YAML, so JSON kubeconfigs go through here too. */
static int yaml_parse(loader *L, kc_file *f, const char *text, size_t len) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return oom(L);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  ynode *stack[YAML_MAX_DEPTH];
  size_t depth = 0;
  int err = 0, done = 0;
  while (!done && !err) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      if (parser.error == YAML_MEMORY_ERROR) {
        err = oom(L);
      } else {
        err = fail(L, CUBIT_EINVAL, "%s: YAML syntax error at line %zu, column %zu: %s", f->path,
                   parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                   parser.problem ? parser.problem : "malformed");
        if (parser.context) errcat(L, " %s (line %zu)", parser.context, parser.context_mark.line + 1);
      }
      break;
    }
    size_t line = ev.start_mark.line + 1;
    ynode *node = NULL;
    switch (ev.type) {
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        done = 1;
        break;
      case YAML_SCALAR_EVENT:
        node = ynode_new(f, YN_SCALAR, line);
        if (node == NULL) {
          err = CUBIT_ENOMEM;
          break;
        }
        node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        node->value = str_dupn((const char *)ev.data.scalar.value, ev.data.scalar.length);
        if (node->value == NULL || set_anchor(node, ev.data.scalar.anchor)) err = CUBIT_ENOMEM;
        break;
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        if (depth == YAML_MAX_DEPTH) {
          err = fail(L, CUBIT_EINVAL, "%s: line %zu: nesting deeper than %d levels", f->path, line,
                     YAML_MAX_DEPTH);
          break;
        }
        node = ynode_new(f, ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ, line);
        if (node == NULL ||
            set_anchor(node, ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                                 : ev.data.sequence_start.anchor))
          err = CUBIT_ENOMEM;
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        if (depth > 0) depth--;
        break;
      case YAML_ALIAS_EVENT:
        node = (ynode *)find_anchor(f, (const char *)ev.data.alias.anchor);
        if (node == NULL)
          err = fail(L, CUBIT_EINVAL, "%s: line %zu: alias *%s names no anchor", f->path, line,
                     (const char *)ev.data.alias.anchor);
        break;
      default:
        break;
    }
    if (node && !err) {
      if (depth > 0)
        err = ynode_push(stack[depth - 1], node);
      else if (f->root == NULL)
        f->root = node;
      if (!err && ev.type != YAML_SCALAR_EVENT && ev.type != YAML_ALIAS_EVENT) stack[depth++] = node;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  if (err == CUBIT_ENOMEM) oom(L);
  return err;
}

static int is_null(const ynode *n) {
  if (n == NULL) return 1;
  if (n->kind != YN_SCALAR || !n->plain) return 0;
  const char *v = n->value;
  return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
         strcmp(v, "NULL") == 0;
}

static const ynode *map_get(const ynode *map, const char *key) {
  if (map == NULL || map->kind != YN_MAP) return NULL;
  for (size_t i = 0; i + 1 < map->nkids; i += 2) {
    const ynode *k = map->kids[i];
    if (k->kind == YN_SCALAR && strcmp(k->value, key) == 0) return map->kids[i + 1];
  }
  return NULL;
}

/* ---- field readers ---------------------------------------------------------- */

static const ynode *key_node(const section *s, const char *key) {
  if (s->map == NULL) return NULL;
  for (size_t i = 0; i + 1 < s->map->nkids; i += 2) {
    const ynode *k = s->map->kids[i];
    if (k->kind == YN_SCALAR && strcmp(k->value, key) == 0) return k;
  }
  return NULL;
}

/* *out borrows the tree's string; NULL when absent, null or empty (an empty
 * string means "unset" in kubeconfigs, as in client-go). */
static int get_str(loader *L, const section *s, const char *key, const char **out) {
  const ynode *v = map_get(s->map, key);
  *out = NULL;
  if (is_null(v)) return 0;
  if (v->kind != YN_SCALAR) return fail_field(L, CUBIT_EINVAL, s, key, v, "expected a string");
  if (v->value[0] != '\0') *out = v->value;
  return 0;
}

static int get_bool(loader *L, const section *s, const char *key, int *out) {
  static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  const ynode *v = map_get(s->map, key);
  *out = 0;
  if (is_null(v)) return 0;
  if (v->kind == YN_SCALAR && v->plain) {
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
      if (strcmp(v->value, yes[i]) == 0) {
        *out = 1;
        return 0;
      }
      if (strcmp(v->value, no[i]) == 0) return 0;
    }
  }
  return fail_field(L, CUBIT_EINVAL, s, key, v, "expected true or false");
}

/* Enters the mapping at key (absent or null gives an empty section). */
static int get_section(loader *L, const section *parent, const char *key, section *out) {
  const ynode *v = map_get(parent->map, key);
  out->file = parent->file;
  out->map = NULL;
  set_name(out, "%s%s%s", parent->name, parent->name[0] ? "." : "", key);
  if (is_null(v)) return 0;
  if (v->kind != YN_MAP) return fail_field(L, CUBIT_EINVAL, parent, key, v, "expected a mapping");
  out->map = v;
  return 0;
}

static int copy_str(loader *L, const char *s, char **out) {
  *out = NULL;
  if (s == NULL) return 0;
  *out = str_dup(s);
  return *out ? 0 : oom(L);
}

/* ---- files -------------------------------------------------------------------- */

/* The absolute directory of path. */
static int dir_of(const char *path, char **out) {
  const char *slash = strrchr(path, '/');
  if (path[0] == '/') {
    *out = slash == path ? str_dup("/") : str_dupn(path, (size_t)(slash - path));
    return *out ? 0 : CUBIT_ENOMEM;
  }
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) return errno == ENOMEM ? CUBIT_ENOMEM : CUBIT_EIO;
  size_t clen = strlen(cwd), rlen = slash ? (size_t)(slash - path) : 0;
  char *d = malloc(clen + 1 + rlen + 1);
  if (d) {
    memcpy(d, cwd, clen);
    d[clen] = '\0';
    if (rlen) {
      d[clen] = '/';
      memcpy(d + clen + 1, path, rlen);
      d[clen + 1 + rlen] = '\0';
    }
  }
  free(cwd);
  *out = d;
  return d ? 0 : CUBIT_ENOMEM;
}

/* Resolves a path from the kubeconfig against the file's directory. */
static char *resolve_path(const kc_file *f, const char *p) {
  if (p[0] == '/') return str_dup(p);
  size_t dl = strlen(f->dir), pl = strlen(p);
  char *r = malloc(dl + 1 + pl + 1);
  if (r == NULL) return NULL;
  memcpy(r, f->dir, dl);
  r[dl] = '/';
  memcpy(r + dl + 1, p, pl + 1);
  return r;
}

/* Parses text into f's tree; the top level must be a mapping (or empty). */
static int parse_root(loader *L, kc_file *f, const char *text, size_t len) {
  int err = yaml_parse(L, f, text, len);
  if (err) return err;
  if (f->root && !is_null(f->root) && f->root->kind != YN_MAP)
    return fail(L, CUBIT_EINVAL, "%s: line %zu: the kubeconfig must be a mapping", f->path, f->root->line);
  if (is_null(f->root)) f->root = NULL;
  return 0;
}

static int load_file(loader *L, const char *path) {
  for (size_t i = 0; i < L->nfiles; i++)
    if (strcmp(L->files[i].path, path) == 0) return 0; /* listed twice in $KUBECONFIG */
  kc_file *files = realloc(L->files, (L->nfiles + 1) * sizeof(*files));
  if (files == NULL) return oom(L);
  L->files = files;
  kc_file *f = &files[L->nfiles++];
  memset(f, 0, sizeof(*f));
  f->path = str_dup(path);
  if (f->path == NULL) return oom(L);
  int err = dir_of(path, &f->dir);
  if (err) return fail(L, err, "kubeconfig %s: cannot determine its directory", path);
  char *text = NULL;
  size_t len = 0;
  int eno;
  err = kube__read_file(path, KUBECONFIG_MAX_BYTES, &text, &len, &eno);
  if (err == CUBIT_EIO) return fail(L, err, "kubeconfig %s: cannot read: %s", path, strerror(eno));
  if (err == CUBIT_ETOOBIG)
    return fail(L, CUBIT_EINVAL, "kubeconfig %s: larger than %u bytes", path, KUBECONFIG_MAX_BYTES);
  if (err) return oom(L);
  err = parse_root(L, f, text, len);
  free(text);
  return err;
}

/* The kubeconfig files to read: 'path', else every existing file of
 * $KUBECONFIG, else ~/.kube/config. */
static int load_files(loader *L, const char *path) {
  if (path) return load_file(L, path);
  const char *env = getenv("KUBECONFIG");
  if (env && *env) {
    const char *p = env;
    while (*p) {
      const char *end = strchr(p, ':');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      if (n > 0) {
        char *one = str_dupn(p, n);
        if (one == NULL) return oom(L);
        struct stat st;
        int err = stat(one, &st) == 0 ? load_file(L, one) : 0; /* missing entries are skipped */
        free(one);
        if (err) return err;
      }
      p += n;
      if (*p == ':') p++;
    }
    if (L->nfiles == 0)
      return fail(L, CUBIT_EIO, "KUBECONFIG=%s: none of the listed files exists", env);
    return 0;
  }
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0')
    return fail(L, CUBIT_EINVAL, "no kubeconfig given, KUBECONFIG and HOME are not set");
  size_t hl = strlen(home);
  char *def = malloc(hl + sizeof("/.kube/config"));
  if (def == NULL) return oom(L);
  memcpy(def, home, hl);
  memcpy(def + hl, "/.kube/config", sizeof("/.kube/config"));
  int err = load_file(L, def);
  free(def);
  return err;
}

static void loader_free(loader *L) {
  for (size_t i = 0; i < L->nfiles; i++) {
    arena_free(&L->files[i]);
    free(L->files[i].path);
    free(L->files[i].dir);
  }
  free(L->files);
  L->files = NULL;
  L->nfiles = 0;
}

/* Finds list[].name == name across the files, first file first (kubectl's
 * merge: the first file to define a name wins), and enters its 'body'
 * mapping. *found tells whether it exists. */
static int find_named(loader *L, const char *list, const char *body, const char *name,
                      section *out, int *found) {
  *found = 0;
  for (size_t fi = 0; fi < L->nfiles; fi++) {
    const kc_file *f = &L->files[fi];
    section top = {.file = f, .map = f->root, .name = ""};
    const ynode *seq = map_get(f->root, list);
    if (is_null(seq)) continue;
    if (seq->kind != YN_SEQ) return fail_field(L, CUBIT_EINVAL, &top, list, seq, "expected a list");
    for (size_t i = 0; i < seq->nkids; i++) {
      const ynode *item = seq->kids[i];
      section entry = {.file = f, .map = item};
      set_name(&entry, "%s[%zu]", list, i);
      if (item->kind != YN_MAP)
        return fail_field(L, CUBIT_EINVAL, &entry, NULL, item, "expected a mapping");
      const char *nm;
      int err = get_str(L, &entry, "name", &nm);
      if (err) return err;
      if (nm == NULL || strcmp(nm, name) != 0) continue;
      err = get_section(L, &entry, body, out);
      if (err) return err;
      *found = 1;
      return 0;
    }
  }
  return 0;
}

/* PEM (or other bytes) from either 'file_key' (a path) or 'data_key'
 * (base64); setting both is an error, as in client-go. */
static int read_material(loader *L, const section *s, const char *file_key, const char *data_key,
                         char **out, size_t *outlen) {
  const char *file, *data;
  int err = get_str(L, s, file_key, &file);
  if (!err) err = get_str(L, s, data_key, &data);
  if (err) return err;
  if (file && data)
    return fail_field(L, CUBIT_EINVAL, s, data_key, key_node(s, data_key), "both %s and %s are set",
                      file_key, data_key);
  if (data) {
    err = kube__base64_decode(data, strlen(data), out, outlen);
    if (err == CUBIT_EINVAL)
      return fail_field(L, err, s, data_key, key_node(s, data_key), "not valid base64");
    return err ? oom(L) : 0;
  }
  if (file && L->inline_only)
    return fail_field(L, CUBIT_EINVAL, s, file_key, key_node(s, file_key),
                      "a file path is not allowed in a kubeconfig from a Secret; use %s", data_key);
  if (file) {
    char *p = resolve_path(s->file, file);
    if (p == NULL) return oom(L);
    int eno;
    err = kube__read_file(p, REFERENCED_FILE_MAX_BYTES, out, outlen, &eno);
    if (err == CUBIT_EIO)
      fail_field(L, err, s, file_key, key_node(s, file_key), "cannot read %s: %s", p, strerror(eno));
    else if (err == CUBIT_ETOOBIG)
      err = fail_field(L, CUBIT_EIO, s, file_key, key_node(s, file_key), "%s is larger than %u bytes",
                       p, REFERENCED_FILE_MAX_BYTES);
    else if (err)
      oom(L);
    free(p);
    return err;
  }
  return 0;
}

static int is_http_url(const char *s) {
  const char *rest = NULL;
  if (strncasecmp(s, "https://", 8) == 0)
    rest = s + 8;
  else if (strncasecmp(s, "http://", 7) == 0)
    rest = s + 7;
  return rest && *rest && *rest != '/';
}

/* ---- clusters[].cluster -------------------------------------------------------- */

static int load_cluster(loader *L, const section *s, kube_config *out) {
  const char *server, *tls_name, *proxy;
  int err = get_str(L, s, "server", &server);
  if (!err) err = get_str(L, s, "tls-server-name", &tls_name);
  if (!err) err = get_str(L, s, "proxy-url", &proxy);
  if (!err) err = get_bool(L, s, "insecure-skip-tls-verify", &out->insecure_skip_tls_verify);
  if (err) return err;
  if (server == NULL) return fail_field(L, CUBIT_EINVAL, s, "server", NULL, "not set");
  if (!is_http_url(server))
    return fail_field(L, CUBIT_EINVAL, s, "server", map_get(s->map, "server"),
                      "\"%s\" is not an http:// or https:// URL", server);
  if (proxy && strncasecmp(proxy, "socks5://", 9) != 0 && !is_http_url(proxy))
    return fail_field(L, CUBIT_EINVAL, s, "proxy-url", map_get(s->map, "proxy-url"),
                      "\"%s\" is not an http://, https:// or socks5:// URL", proxy);
  size_t slen = strlen(server);
  while (slen > 0 && server[slen - 1] == '/') slen--;
  out->server = str_dupn(server, slen);
  if (out->server == NULL) return oom(L);
  err = copy_str(L, tls_name, &out->tls_server_name);
  if (!err) err = copy_str(L, proxy, &out->proxy_url);
  if (!err)
    err = read_material(L, s, "certificate-authority", "certificate-authority-data", &out->ca_pem,
                        &out->ca_pem_len);
  if (err) return err;
  if (out->insecure_skip_tls_verify && out->ca_pem)
    return fail_field(L, CUBIT_EINVAL, s, "insecure-skip-tls-verify",
                      key_node(s, "insecure-skip-tls-verify"),
                      "set together with a certificate authority; use one or the other");
  return 0;
}

/* ---- users[].user.exec ------------------------------------------------------------ */

static int load_exec(loader *L, const section *s, kube_exec_spec *ex) {
  const char *api, *cmd, *mode;
  int err = get_str(L, s, "apiVersion", &api);
  if (!err) err = get_str(L, s, "command", &cmd);
  if (!err) err = get_str(L, s, "interactiveMode", &mode);
  if (!err) err = get_bool(L, s, "provideClusterInfo", &ex->provide_cluster_info);
  if (err) return err;
  if (api == NULL) return fail_field(L, CUBIT_EINVAL, s, "apiVersion", NULL, "not set");
  if (strcmp(api, EXEC_V1) != 0 && strcmp(api, EXEC_V1BETA1) != 0)
    return fail_field(L, CUBIT_EINVAL, s, "apiVersion", map_get(s->map, "apiVersion"),
                      "\"%s\" is not " EXEC_V1 " or " EXEC_V1BETA1, api);
  if (cmd == NULL) return fail_field(L, CUBIT_EINVAL, s, "command", NULL, "not set");
  if (mode == NULL && strcmp(api, EXEC_V1) == 0)
    return fail_field(L, CUBIT_EINVAL, s, "interactiveMode", NULL, "required by %s", EXEC_V1);
  if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0 &&
      strcmp(mode, "Always") != 0)
    return fail_field(L, CUBIT_EINVAL, s, "interactiveMode", map_get(s->map, "interactiveMode"),
                      "\"%s\" is not Never, IfAvailable or Always", mode);
  if (copy_str(L, api, &ex->api_version) ||
      copy_str(L, mode ? mode : "IfAvailable", &ex->interactive_mode))
    return CUBIT_ENOMEM;
  /* A relative command with a slash is relative to the kubeconfig (as in
   * client-go); a bare name is looked up in PATH. */
  ex->command = strchr(cmd, '/') ? resolve_path(s->file, cmd) : str_dup(cmd);
  if (ex->command == NULL) return oom(L);

  const ynode *args = map_get(s->map, "args");
  size_t nargs = 0;
  if (!is_null(args)) {
    if (args->kind != YN_SEQ) return fail_field(L, CUBIT_EINVAL, s, "args", args, "expected a list");
    nargs = args->nkids;
  }
  ex->args = calloc(nargs + 1, sizeof(char *));
  if (ex->args == NULL) return oom(L);
  for (size_t i = 0; i < nargs; i++) {
    const ynode *a = args->kids[i];
    if (a->kind != YN_SCALAR) {
      char key[32];
      snprintf(key, sizeof(key), "args[%zu]", i);
      return fail_field(L, CUBIT_EINVAL, s, key, a, "expected a string");
    }
    if ((ex->args[i] = str_dup(a->value)) == NULL) return oom(L);
  }

  const ynode *env = map_get(s->map, "env");
  if (is_null(env)) return 0;
  if (env->kind != YN_SEQ) return fail_field(L, CUBIT_EINVAL, s, "env", env, "expected a list");
  if (env->nkids == 0) return 0;
  ex->env = calloc(env->nkids, sizeof(*ex->env));
  if (ex->env == NULL) return oom(L);
  ex->nenv = env->nkids;
  for (size_t i = 0; i < env->nkids; i++) {
    section e = {.file = s->file, .map = env->kids[i]};
    set_name(&e, "%s.env[%zu]", s->name, i);
    if (e.map->kind != YN_MAP)
      return fail_field(L, CUBIT_EINVAL, &e, NULL, e.map, "expected a mapping");
    const char *name, *value;
    err = get_str(L, &e, "name", &name);
    if (!err) err = get_str(L, &e, "value", &value);
    if (err) return err;
    if (name == NULL) return fail_field(L, CUBIT_EINVAL, &e, "name", e.map, "not set");
    if (strchr(name, '='))
      return fail_field(L, CUBIT_EINVAL, &e, "name", map_get(e.map, "name"), "contains '='");
    if (copy_str(L, name, &ex->env[i].name) || copy_str(L, value ? value : "", &ex->env[i].value))
      return CUBIT_ENOMEM;
  }
  return 0;
}

/* ---- users[].user ------------------------------------------------------------------- */

static int load_user(loader *L, const section *s, kube_config *out) {
  const char *token, *token_file, *username, *password;
  int err = get_str(L, s, "token", &token);
  if (!err) err = get_str(L, s, "tokenFile", &token_file);
  if (!err) err = get_str(L, s, "username", &username);
  if (!err) err = get_str(L, s, "password", &password);
  if (err) return err;
  if ((token || token_file) && (username || password))
    return fail_field(L, CUBIT_EINVAL, s, token ? "token" : "tokenFile",
                      key_node(s, token ? "token" : "tokenFile"),
                      "set together with username/password; only one authentication method is allowed");
  if (token) {
    /* token wins over tokenFile, as in kubectl; the file is then not read */
    if (copy_str(L, token, &out->token)) return CUBIT_ENOMEM;
  } else if (token_file && L->inline_only) {
    return fail_field(L, CUBIT_EINVAL, s, "tokenFile", key_node(s, "tokenFile"),
                      "a file path is not allowed in a kubeconfig from a Secret; use token");
  } else if (token_file) {
    out->token_file = resolve_path(s->file, token_file);
    if (out->token_file == NULL) return oom(L);
    /* read once now so a wrong path is reported at start-up, not at the
     * first request */
    char *tok;
    size_t len;
    int eno;
    err = kube__read_file(out->token_file, REFERENCED_FILE_MAX_BYTES, &tok, &len, &eno);
    if (err == CUBIT_EIO || err == CUBIT_ETOOBIG)
      return fail_field(L, CUBIT_EIO, s, "tokenFile", key_node(s, "tokenFile"), "cannot read %s: %s",
                        out->token_file, err == CUBIT_EIO ? strerror(eno) : "too large");
    if (err) return oom(L);
    free(tok);
  }
  if (copy_str(L, username, &out->username) || copy_str(L, password, &out->password))
    return CUBIT_ENOMEM;

  err = read_material(L, s, "client-certificate", "client-certificate-data", &out->client_cert_pem,
                      &out->client_cert_pem_len);
  if (!err)
    err = read_material(L, s, "client-key", "client-key-data", &out->client_key_pem,
                        &out->client_key_pem_len);
  if (err) return err;
  if (out->client_cert_pem && !out->client_key_pem)
    return fail_field(L, CUBIT_EINVAL, s, "client-key", NULL,
                      "not set (client-key or client-key-data must go with the client certificate)");
  if (out->client_key_pem && !out->client_cert_pem)
    return fail_field(L, CUBIT_EINVAL, s, "client-certificate", NULL,
                      "not set (client-certificate or client-certificate-data must go with the key)");

  section exec;
  err = get_section(L, s, "exec", &exec);
  if (err || exec.map == NULL) return err;
  if (L->inline_only)
    return fail_field(L, CUBIT_EINVAL, s, "exec", exec.map,
                      "credential plugins are not allowed in a kubeconfig from a Secret (the manager would run "
                      "a command the Secret names); use a token or a client certificate");
  out->exec = calloc(1, sizeof(*out->exec));
  if (out->exec == NULL) return oom(L);
  return load_exec(L, &exec, out->exec);
}

static int resolve(loader *L, const char *context, kube_config *out) {
  const char *ctx_name = context && *context ? context : NULL;
  for (size_t i = 0; ctx_name == NULL && i < L->nfiles; i++) {
    section top = {.file = &L->files[i], .map = L->files[i].root, .name = ""};
    int err = get_str(L, &top, "current-context", &ctx_name);
    if (err) return err;
  }
  if (ctx_name == NULL) {
    fail(L, CUBIT_EINVAL, "current-context: not set in ");
    errcat_files(L);
    errcat(L, " and no context was given");
    return CUBIT_EINVAL;
  }
  section ctx, cluster, user;
  int found;
  int err = find_named(L, "contexts", "context", ctx_name, &ctx, &found);
  if (err) return err;
  if (!found) {
    fail(L, CUBIT_EINVAL, "context \"%s\" not found in ", ctx_name);
    errcat_files(L);
    return CUBIT_EINVAL;
  }
  const char *cluster_name, *user_name, *ns;
  err = get_str(L, &ctx, "cluster", &cluster_name);
  if (!err) err = get_str(L, &ctx, "user", &user_name);
  if (!err) err = get_str(L, &ctx, "namespace", &ns);
  if (err) return err;
  if (copy_str(L, ctx_name, &out->context) || copy_str(L, ns ? ns : "default", &out->namespace))
    return CUBIT_ENOMEM;

  if (cluster_name == NULL) return fail_field(L, CUBIT_EINVAL, &ctx, "cluster", NULL, "not set");
  err = find_named(L, "clusters", "cluster", cluster_name, &cluster, &found);
  if (err) return err;
  if (!found)
    return fail_field(L, CUBIT_EINVAL, &ctx, "cluster", map_get(ctx.map, "cluster"),
                      "cluster \"%s\" not found", cluster_name);
  err = load_cluster(L, &cluster, out);
  if (err) return err;

  if (user_name == NULL) return 0; /* anonymous */
  err = find_named(L, "users", "user", user_name, &user, &found);
  if (err) return err;
  if (!found)
    return fail_field(L, CUBIT_EINVAL, &ctx, "user", map_get(ctx.map, "user"), "user \"%s\" not found",
                      user_name);
  return load_user(L, &user, out);
}

int kube_config_load(const char *path, const char *context, kube_config *out, char *errbuf,
                     size_t errlen) {
  loader L = {.errbuf = errbuf, .errlen = errlen};
  memset(out, 0, sizeof(*out));
  if (errbuf && errlen) errbuf[0] = '\0';
  int err = load_files(&L, path);
  if (!err) err = resolve(&L, context, out);
  if (err) kube_config_free(out);
  loader_free(&L);
  return err;
}

int kube_config_load_inline(const char *text, size_t len, const char *what, const char *context,
                            kube_config *out, char *errbuf, size_t errlen) {
  loader L = {.errbuf = errbuf, .errlen = errlen, .inline_only = 1};
  memset(out, 0, sizeof(*out));
  if (errbuf && errlen) errbuf[0] = '\0';
  int err = 0;
  if (len > KUBECONFIG_MAX_BYTES) {
    err = fail(&L, CUBIT_EINVAL, "kubeconfig %s: larger than %u bytes", what, KUBECONFIG_MAX_BYTES);
    goto out;
  }
  L.files = calloc(1, sizeof(*L.files));
  if (L.files == NULL) {
    err = oom(&L);
    goto out;
  }
  L.nfiles = 1;
  /* No directory: nothing relative is ever resolved (file references are refused). */
  if ((L.files[0].path = str_dup(what)) == NULL || (L.files[0].dir = str_dup("/")) == NULL) {
    err = oom(&L);
    goto out;
  }
  err = parse_root(&L, &L.files[0], text, len);
  if (!err) err = resolve(&L, context, out);
out:
  if (err) kube_config_free(out);
  loader_free(&L);
  return err;
}

/* ---- in-cluster ------------------------------------------------------------------------ */

static char *join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + 1 + nl + 1);
  if (p == NULL) return NULL;
  memcpy(p, dir, dl);
  p[dl] = '/';
  memcpy(p + dl + 1, name, nl + 1);
  return p;
}

static int in_cluster(loader *L, const char *root, kube_config *out) {
  const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
  if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
    return fail(L, CUBIT_EINVAL,
                "in-cluster config: %s%s%s not set; not running in a pod? (give a kubeconfig instead)",
                host && *host ? "" : "KUBERNETES_SERVICE_HOST",
                (host && *host) || (port && *port) ? "" : " and ",
                port && *port ? "" : "KUBERNETES_SERVICE_PORT");
  int v6 = strchr(host, ':') != NULL && host[0] != '[';
  size_t n = strlen("https://") + strlen(host) + strlen(port) + 4;
  if ((out->server = malloc(n)) == NULL) return oom(L);
  snprintf(out->server, n, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
  if ((out->context = str_dup("")) == NULL) return oom(L);

  if ((out->token_file = join(root, "token")) == NULL) return oom(L);
  char *data = NULL, *ns_path = NULL;
  size_t len;
  int eno;
  int err = kube__read_file(out->token_file, REFERENCED_FILE_MAX_BYTES, &data, &len, &eno);
  if (err == CUBIT_EIO || err == CUBIT_ETOOBIG)
    return fail(L, CUBIT_EIO, "in-cluster config: cannot read token %s: %s", out->token_file,
                err == CUBIT_EIO ? strerror(eno) : "too large");
  if (err) return oom(L);
  free(data);

  char *ca_path = join(root, "ca.crt");
  if (ca_path == NULL) return oom(L);
  err = kube__read_file(ca_path, REFERENCED_FILE_MAX_BYTES, &out->ca_pem, &out->ca_pem_len, &eno);
  if (err == CUBIT_EIO || err == CUBIT_ETOOBIG)
    err = fail(L, CUBIT_EIO, "in-cluster config: cannot read CA %s: %s", ca_path,
               err == CUBIT_EIO ? strerror(eno) : "too large");
  else if (err)
    oom(L);
  free(ca_path);
  if (err) return err;

  if ((ns_path = join(root, "namespace")) == NULL) return oom(L);
  err = kube__read_file(ns_path, 4096, &data, &len, &eno);
  free(ns_path);
  if (err == CUBIT_ENOMEM) return oom(L);
  if (err == 0) {
    while (len > 0 && strchr(" \t\r\n", data[len - 1])) data[--len] = '\0';
    if (len == 0) {
      free(data);
      err = CUBIT_EIO;
    } else {
      out->namespace = data;
    }
  }
  if (err) { /* no namespace file: the pod's namespace is unknown */
    if ((out->namespace = str_dup("default")) == NULL) return oom(L);
  }
  return 0;
}

int kube_config_in_cluster(const char *root, kube_config *out, char *errbuf, size_t errlen) {
  loader L = {.errbuf = errbuf, .errlen = errlen};
  memset(out, 0, sizeof(*out));
  if (errbuf && errlen) errbuf[0] = '\0';
  int err = in_cluster(&L, root ? root : IN_CLUSTER_ROOT, out);
  if (err) kube_config_free(out);
  return err;
}

void kube_config_free(kube_config *cfg) {
  if (cfg == NULL) return;
  free(cfg->context);
  free(cfg->server);
  free(cfg->tls_server_name);
  free(cfg->namespace);
  free(cfg->ca_pem);
  free(cfg->client_cert_pem);
  free(cfg->client_key_pem);
  free(cfg->token);
  free(cfg->token_file);
  free(cfg->username);
  free(cfg->password);
  free(cfg->proxy_url);
  if (cfg->exec) {
    kube_exec_spec *ex = cfg->exec;
    free(ex->api_version);
    free(ex->command);
    for (size_t i = 0; ex->args && ex->args[i]; i++) free(ex->args[i]);
    free(ex->args);
    for (size_t i = 0; i < ex->nenv; i++) {
      free(ex->env[i].name);
      free(ex->env[i].value);
    }
    free(ex->env);
    free(ex->interactive_mode);
    free(ex);
  }
  memset(cfg, 0, sizeof(*cfg));
}
