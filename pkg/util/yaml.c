/* YAML to JSON with libyaml's event parser; see yaml.h for the rules.
 *
 * The events build jansson values directly: an open sequence or mapping is a
 * frame on a stack, and a finished value is attached to the frame below it.
 * Scalars resolve like go-yaml v2 (sigs.k8s.io/yaml's fork, which kubectl
 * uses): a table of words (null, bools, .inf, .nan), then for text starting
 * with a digit or a sign Go's ParseInt(s, 0, 64) on the text without '_',
 * then its float syntax. */
#include "util/yaml.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct anchor {
  char *name;
  json_t *node; /* a reference, held until the document ends */
  int done;     /* 0 while the anchored sequence or mapping is open */
  int height;   /* nesting below the node */
  size_t nodes; /* nodes in its subtree, itself included */
} anchor;

typedef struct frame {
  json_t *node;  /* the open object or array (owned) */
  size_t anchor; /* 1 + index of its anchor, or 0 */
  char *key;     /* an object's key waiting for its value (owned) */
  size_t keylen;
  int have_key;   /* a key (or the merge key) waits for its value */
  int merge;      /* ... and it is the merge key "<<" */
  json_t *merges; /* merge sources, the first wins (owned), or NULL */
  int height;
  size_t nodes;
} frame;

typedef struct builder {
  frame *stack;
  size_t depth, cap;
  anchor *anchors;
  size_t nanchors, acap;
  json_t *root; /* the current document's value (owned) */
  int have_root;
  json_t *docs; /* finished non-null documents (owned) */
  int multi;
  yaml_mark_t doc_mark;
  size_t alias_nodes;
  char *errbuf;
  size_t errlen;
} builder;

/* ---- messages ---------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(builder *b, int code, const yaml_mark_t *m,
                                                     const char *fmt, ...) {
  if (b->errbuf == NULL || b->errlen == 0) return code;
  size_t n = 0;
  if (m) {
    int w = snprintf(b->errbuf, b->errlen, "line %zu, column %zu: ", m->line + 1, m->column + 1);
    n = w < 0 ? 0 : (size_t)w;
  }
  if (n < b->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->errbuf + n, b->errlen - n, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int oom(builder *b) {
  return fail(b, CUBIT_ENOMEM, NULL, "out of memory");
}

/* A scalar as messages show it: at most 40 bytes, control bytes as '?'. */
static const char *shown(const unsigned char *s, size_t n, char out[48]) {
  size_t k = n > 40 ? 40 : n;
  for (size_t i = 0; i < k; i++) out[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
  if (n > 40) {
    memcpy(out + 40, "...", 3);
    k = 43;
  }
  out[k] = '\0';
  return out;
}

/* ---- scalar resolution -------------------------------------------------------- */

typedef enum { SV_NULL, SV_BOOL, SV_INT, SV_FLOAT, SV_STR } sv_kind;

typedef struct scalar_value {
  sv_kind kind;
  int b;
  int64_t i;
  double d;
} scalar_value;

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"y",  "Y",    "yes",  "Yes", "YES", "true",
                                         "True", "TRUE", "on", "On",  "ON",  NULL};
static const char *const false_words[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                          "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const inf_words[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
static const char *const neg_inf_words[] = {"-.inf", "-.Inf", "-.INF", NULL};
static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};

static int is_word(const char *s, size_t n, const char *const *words) {
  for (; *words; words++)
    if (strlen(*words) == n && memcmp(*words, s, n) == 0) return 1;
  return 0;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Go's strconv.ParseInt(s, 0, 64) and ParseUint: sign, base prefix (0x, 0o,
 * 0b, or a leading 0 for octal), digits. Returns 1 with the magnitude when
 * s is such a literal and the magnitude fits 64 bits. */
static int parse_go_int(const char *s, size_t n, int *neg, int *signed_, uint64_t *mag) {
  size_t i = 0;
  *neg = 0;
  *signed_ = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    *neg = s[i] == '-';
    *signed_ = 1;
    i++;
  }
  unsigned base = 10;
  if (n - i >= 2 && s[i] == '0') {
    char c = (char)(s[i + 1] | 0x20);
    if (c == 'x') {
      base = 16;
      i += 2;
    } else if (c == 'o') {
      base = 8;
      i += 2;
    } else if (c == 'b') {
      base = 2;
      i += 2;
    } else {
      base = 8;
      i += 1;
    }
  }
  if (i == n) return 0;
  uint64_t v = 0;
  for (; i < n; i++) {
    char c = s[i];
    unsigned d;
    if (is_digit(c))
      d = (unsigned)(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = (unsigned)((c | 0x20) - 'a' + 10);
    else
      return 0;
    if (d >= base) return 0;
    if (v > (UINT64_MAX - d) / base) return 0;
    v = v * base + d;
  }
  *mag = v;
  return 1;
}

/* go-yaml's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int float_syntax(const char *s, size_t n) {
  size_t i = 0, d = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  while (i < n && is_digit(s[i])) i++, d++;
  if (d == 0) {
    if (i >= n || s[i] != '.') return 0;
    i++;
    size_t f = 0;
    while (i < n && is_digit(s[i])) i++, f++;
    if (f == 0) return 0;
  } else if (i < n && s[i] == '.') {
    i++;
    while (i < n && is_digit(s[i])) i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t e = 0;
    while (i < n && is_digit(s[i])) i++, e++;
    if (e == 0) return 0;
  }
  return i == n;
}

/* strtod of a float_syntax text. Returns 0 when the value overflows (Go's
 * ParseFloat fails there, and go-yaml keeps the text as a string). */
static int to_double(const char *s, size_t n, double *out) {
  char small[64];
  char *buf = n < sizeof(small) ? small : malloc(n + 1);
  if (buf == NULL) return CUBIT_ENOMEM;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  double d = strtod(buf, NULL);
  int overflow = errno == ERANGE && isinf(d);
  if (buf != small) free(buf);
  if (overflow) return 0;
  *out = d;
  return 1;
}

/* Resolves plain text the way go-yaml v2 does for an untyped target.
 * Returns 0 or CUBIT_ENOMEM. */
static int resolve_plain(const char *s, size_t n, scalar_value *sv) {
  memset(sv, 0, sizeof(*sv));
  if (is_word(s, n, null_words)) {
    sv->kind = SV_NULL;
    return 0;
  }
  if (is_word(s, n, true_words) || is_word(s, n, false_words)) {
    sv->kind = SV_BOOL;
    sv->b = is_word(s, n, true_words);
    return 0;
  }
  if (is_word(s, n, inf_words) || is_word(s, n, neg_inf_words) || is_word(s, n, nan_words)) {
    sv->kind = SV_FLOAT;
    sv->d = is_word(s, n, nan_words) ? NAN : is_word(s, n, inf_words) ? INFINITY : -INFINITY;
    return 0;
  }
  sv->kind = SV_STR;
  if (n == 0) return 0;
  if (s[0] == '.') {
    if (!float_syntax(s, n)) return 0;
    int rc = to_double(s, n, &sv->d);
    if (rc < 0) return rc;
    if (rc == 1) sv->kind = SV_FLOAT;
    return 0;
  }
  if (!is_digit(s[0]) && s[0] != '+' && s[0] != '-') return 0;
  char *plain = malloc(n + 1);
  if (plain == NULL) return CUBIT_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] != '_') plain[k++] = s[i];
  plain[k] = '\0';
  int neg, signed_, rc = 0;
  uint64_t mag;
  if (parse_go_int(plain, k, &neg, &signed_, &mag)) {
    if (!neg && mag <= (uint64_t)INT64_MAX) {
      sv->kind = SV_INT;
      sv->i = (int64_t)mag;
      goto out;
    }
    if (neg && mag <= (uint64_t)INT64_MAX + 1) {
      sv->kind = SV_INT;
      sv->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
      goto out;
    }
    if (!signed_) { /* ParseUint: beyond int64, kept as a real here */
      sv->kind = SV_FLOAT;
      sv->d = (double)mag;
      goto out;
    }
  }
  if (float_syntax(plain, k)) {
    rc = to_double(plain, k, &sv->d);
    if (rc == 1) sv->kind = SV_FLOAT;
    if (rc > 0) rc = 0;
  }
out:
  free(plain);
  return rc;
}

/* Resolves a scalar event, honouring its tag. Returns 0, CUBIT_EINVAL for a
 * value that contradicts its tag, or CUBIT_ENOMEM. */
static int resolve(builder *b, const yaml_event_t *ev, scalar_value *sv) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  memset(sv, 0, sizeof(*sv));
  sv->kind = SV_STR;
  if (tag == NULL) {
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    return resolve_plain(s, n, sv) ? oom(b) : 0;
  }
  if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0) return 0; /* "!" or a local tag */
  const char *t = tag + strlen(TAG_PREFIX);
  int want;
  if (strcmp(t, "null") == 0)
    want = SV_NULL;
  else if (strcmp(t, "bool") == 0)
    want = SV_BOOL;
  else if (strcmp(t, "int") == 0)
    want = SV_INT;
  else if (strcmp(t, "float") == 0)
    want = SV_FLOAT;
  else if (strcmp(t, "binary") == 0)
    return fail(b, CUBIT_EINVAL, &ev->start_mark,
                "!!binary is not supported: write the base64 text without the tag");
  else
    return 0; /* !!str, !!timestamp and the rest read as strings */
  if (resolve_plain(s, n, sv)) return oom(b);
  if (want == SV_FLOAT && sv->kind == SV_INT) {
    sv->kind = SV_FLOAT;
    sv->d = (double)sv->i;
  }
  if ((int)sv->kind != want) {
    char buf[48];
    return fail(b, CUBIT_EINVAL, &ev->start_mark, "!!%s value \"%s\" is not a%s %s", t,
                shown((const unsigned char *)s, n, buf), want == SV_INT ? "n" : "", t);
  }
  return 0;
}

/* The JSON value of a resolved scalar; a new reference or NULL (out of
 * memory). A float with an integral value within int64 is an integer, as
 * Go's encoding/json prints it. */
static json_t *json_of(const scalar_value *sv, const char *s, size_t n) {
  switch (sv->kind) {
    case SV_NULL:
      return json_null();
    case SV_BOOL:
      return json_boolean(sv->b);
    case SV_INT:
      return json_integer(sv->i);
    case SV_FLOAT:
      if (sv->d == trunc(sv->d) && sv->d >= -9223372036854775808.0 && sv->d < 9223372036854775808.0)
        return json_integer((json_int_t)sv->d);
      return json_real(sv->d);
    case SV_STR:
      break;
  }
  return json_stringn(s, n);
}

/* ---- the builder --------------------------------------------------------------- */

static anchor *find_anchor(builder *b, const char *name) {
  for (size_t i = b->nanchors; i > 0; i--)
    if (strcmp(b->anchors[i - 1].name, name) == 0) return &b->anchors[i - 1]; /* newest wins */
  return NULL;
}

/* Records an anchor on node (a reference is taken). Returns its index + 1,
 * or 0 when out of memory. */
static size_t add_anchor(builder *b, const yaml_char_t *name, json_t *node, int done) {
  if (b->nanchors == b->acap) {
    size_t cap = b->acap ? b->acap * 2 : 8;
    anchor *a = realloc(b->anchors, cap * sizeof(*a));
    if (a == NULL) return 0;
    b->anchors = a;
    b->acap = cap;
  }
  char *copy = strdup((const char *)name);
  if (copy == NULL) return 0;
  anchor *a = &b->anchors[b->nanchors++];
  a->name = copy;
  a->node = json_incref(node);
  a->done = done;
  a->height = 0;
  a->nodes = 1;
  return b->nanchors;
}

static void clear_anchors(builder *b) {
  for (size_t i = 0; i < b->nanchors; i++) {
    free(b->anchors[i].name);
    json_decref(b->anchors[i].node);
  }
  b->nanchors = 0;
}

static void frame_free(frame *f) {
  json_decref(f->node);
  json_decref(f->merges);
  free(f->key);
}

static frame *top(builder *b) {
  return b->depth ? &b->stack[b->depth - 1] : NULL;
}

/* Places a finished value (stolen) where the parser is: the document root,
 * the next item of a sequence, or the value of a mapping's pending key. */
static int attach(builder *b, json_t *v, int height, size_t nodes, const yaml_mark_t *m) {
  frame *f = top(b);
  if (f == NULL) {
    json_decref(b->root);
    b->root = v;
    b->have_root = 1;
    return 0;
  }
  if (json_is_array(f->node)) {
    if (json_array_append_new(f->node, v)) return oom(b);
  } else if (f->merge) {
    f->merge = f->have_key = 0;
    int ok = json_is_object(v) || json_is_array(v);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
      if (!json_is_object(json_array_get(v, i))) ok = 0;
    if (!ok) {
      json_decref(v);
      return fail(b, CUBIT_EINVAL, m, "the merge key << needs a mapping or a sequence of mappings");
    }
    if (f->merges == NULL && (f->merges = json_array()) == NULL) {
      json_decref(v);
      return oom(b);
    }
    /* A later "<<" in the same mapping wins over an earlier one, as in
     * go-yaml; within one "<<: [a, b]", a wins over b. */
    int rc = 0;
    if (json_is_object(v))
      rc = json_array_insert(f->merges, 0, v);
    for (size_t i = 0; !rc && json_is_array(v) && i < json_array_size(v); i++)
      rc = json_array_insert(f->merges, i, json_array_get(v, i));
    json_decref(v);
    if (rc) return oom(b);
  } else {
    int rc = json_object_setn_new(f->node, f->key, f->keylen, v);
    free(f->key);
    f->key = NULL;
    f->have_key = 0;
    if (rc) return oom(b);
  }
  if (height + 1 > f->height) f->height = height + 1;
  f->nodes += nodes;
  return 0;
}

/* Makes *key (malloc'd) from a scalar JSON value used as a mapping key. */
static int key_text(builder *b, const json_t *v, const char *text, size_t n, const yaml_mark_t *m,
                    char **key, size_t *keylen) {
  char num[32];
  const char *src = text;
  size_t len = n;
  if (json_is_string(v)) {
    src = json_string_value(v);
    len = json_string_length(v);
  } else if (json_is_integer(v)) {
    len = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    src = num;
  } else if (json_is_boolean(v)) {
    src = json_is_true(v) ? "true" : "false";
    len = strlen(src);
  } else if (json_is_real(v)) {
    if (src == NULL) { /* an alias: no text to keep */
      len = (size_t)snprintf(num, sizeof(num), "%.17g", json_real_value(v));
      src = num;
    }
  } else if (json_is_null(v)) {
    return fail(b, CUBIT_EINVAL, m, "a null mapping key has no JSON form");
  } else {
    return fail(b, CUBIT_EINVAL, m, "a mapping key must be a scalar");
  }
  *key = malloc(len + 1);
  if (*key == NULL) return oom(b);
  memcpy(*key, src, len);
  (*key)[len] = '\0';
  *keylen = len;
  return 0;
}

/* Takes a key for the mapping f: checks it is new and makes it pending. */
static int set_key(builder *b, frame *f, char *key, size_t keylen, const yaml_mark_t *m) {
  if (json_object_getn(f->node, key, keylen)) {
    char buf[48];
    fail(b, CUBIT_EINVAL, m, "duplicate key \"%s\"", shown((const unsigned char *)key, keylen, buf));
    free(key);
    return CUBIT_EINVAL;
  }
  f->key = key;
  f->keylen = keylen;
  f->have_key = 1;
  return 0;
}

static int on_scalar(builder *b, const yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  frame *f = top(b);
  int is_key = f && json_is_object(f->node) && !f->have_key;
  if (is_key && n == 2 && memcmp(s, "<<", 2) == 0 &&
      ((tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
       (tag && strcmp(tag, TAG_PREFIX "merge") == 0))) {
    f->have_key = f->merge = 1;
    return 0;
  }
  scalar_value sv;
  int rc = resolve(b, ev, &sv);
  if (rc) return rc;
  if (sv.kind == SV_FLOAT && !isfinite(sv.d) && !is_key) {
    char buf[48];
    return fail(b, CUBIT_EINVAL, &ev->start_mark, "%s has no JSON form",
                shown((const unsigned char *)s, n, buf));
  }
  json_t *v;
  if (sv.kind == SV_FLOAT && is_key)
    v = json_stringn(s, n); /* a float key keeps its text */
  else
    v = json_of(&sv, s, n);
  if (v == NULL) return oom(b);
  if (ev->data.scalar.anchor && add_anchor(b, ev->data.scalar.anchor, v, 1) == 0) {
    json_decref(v);
    return oom(b);
  }
  if (!is_key) return attach(b, v, 0, 1, &ev->start_mark);
  char *key;
  size_t keylen;
  rc = key_text(b, v, s, n, &ev->start_mark, &key, &keylen);
  json_decref(v);
  return rc ? rc : set_key(b, f, key, keylen, &ev->start_mark);
}

static int on_alias(builder *b, const yaml_event_t *ev) {
  const char *name = (const char *)ev->data.alias.anchor;
  const yaml_mark_t *m = &ev->start_mark;
  anchor *a = find_anchor(b, name);
  if (a == NULL) return fail(b, CUBIT_EINVAL, m, "alias *%s names no anchor", name);
  if (!a->done) return fail(b, CUBIT_EINVAL, m, "alias *%s refers to a node that contains it", name);
  frame *f = top(b);
  if (f && json_is_object(f->node) && !f->have_key) {
    char *key;
    size_t keylen;
    int rc = key_text(b, a->node, NULL, 0, m, &key, &keylen);
    return rc ? rc : set_key(b, f, key, keylen, m);
  }
  if (b->depth + (size_t)a->height > YAML_MAX_DEPTH)
    return fail(b, CUBIT_ETOOBIG, m, "alias *%s nests deeper than %d levels", name, YAML_MAX_DEPTH);
  if (a->nodes > YAML_MAX_ALIAS_NODES - b->alias_nodes)
    return fail(b, CUBIT_ETOOBIG, m, "aliases expand to more than %d nodes", YAML_MAX_ALIAS_NODES);
  b->alias_nodes += a->nodes;
  json_t *copy = json_deep_copy(a->node);
  if (copy == NULL) return oom(b);
  return attach(b, copy, a->height, a->nodes, m);
}

static int on_start(builder *b, const yaml_event_t *ev) {
  const yaml_mark_t *m = &ev->start_mark;
  frame *f = top(b);
  if (f && json_is_object(f->node) && !f->have_key)
    return fail(b, CUBIT_EINVAL, m, "a mapping key must be a scalar");
  if (b->depth >= YAML_MAX_DEPTH)
    return fail(b, CUBIT_ETOOBIG, m, "nesting deeper than %d levels", YAML_MAX_DEPTH);
  int is_map = ev->type == YAML_MAPPING_START_EVENT;
  const yaml_char_t *anchor_name =
      is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  if (b->depth == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    frame *s = realloc(b->stack, cap * sizeof(*s));
    if (s == NULL) return oom(b);
    b->stack = s;
    b->cap = cap;
  }
  json_t *node = is_map ? json_object() : json_array();
  if (node == NULL) return oom(b);
  size_t idx = 0;
  if (anchor_name && (idx = add_anchor(b, anchor_name, node, 0)) == 0) {
    json_decref(node);
    return oom(b);
  }
  frame *nf = &b->stack[b->depth++];
  memset(nf, 0, sizeof(*nf));
  nf->node = node;
  nf->anchor = idx;
  nf->nodes = 1;
  return 0;
}

/* Adds the merge sources' keys that the mapping does not have yet. */
static int apply_merges(builder *b, frame *f) {
  for (size_t i = 0; i < json_array_size(f->merges); i++) {
    json_t *src = json_array_get(f->merges, i);
    for (void *it = json_object_iter(src); it; it = json_object_iter_next(src, it)) {
      const char *k = json_object_iter_key(it);
      size_t klen = json_object_iter_key_len(it);
      if (json_object_getn(f->node, k, klen)) continue;
      if (json_object_setn(f->node, k, klen, json_object_iter_value(it))) return oom(b);
    }
  }
  return 0;
}

static int on_end(builder *b, const yaml_event_t *ev) {
  if (b->depth == 0) return 0; /* libyaml pairs events; nothing to close */
  frame f = b->stack[--b->depth];
  int rc = f.merges ? apply_merges(b, &f) : 0;
  json_decref(f.merges);
  free(f.key);
  if (rc) {
    json_decref(f.node);
    return rc;
  }
  if (f.anchor) {
    anchor *a = &b->anchors[f.anchor - 1];
    a->done = 1;
    a->height = f.height;
    a->nodes = f.nodes;
  }
  return attach(b, f.node, f.height, f.nodes, &ev->start_mark);
}

static int on_document_end(builder *b) {
  clear_anchors(b);
  json_t *root = b->root;
  b->root = NULL;
  int have = b->have_root && root && !json_is_null(root);
  b->have_root = 0;
  if (!have) {
    json_decref(root);
    return 0;
  }
  if (!b->multi && json_array_size(b->docs) > 0) {
    json_decref(root);
    return fail(b, CUBIT_EINVAL, &b->doc_mark,
                "a second document where one was expected (use yaml_to_json_all)");
  }
  return json_array_append_new(b->docs, root) ? oom(b) : 0;
}

static int parser_error(builder *b, const yaml_parser_t *p) {
  if (p->error == YAML_MEMORY_ERROR) return oom(b);
  const char *problem = p->problem ? p->problem : "malformed YAML";
  if (p->error == YAML_READER_ERROR)
    return fail(b, CUBIT_EINVAL, NULL, "byte %zu: %s", p->problem_offset, problem);
  fail(b, CUBIT_EINVAL, &p->problem_mark, "%s", problem);
  if (p->context && b->errbuf && b->errlen) {
    size_t used = strlen(b->errbuf);
    if (used + 1 < b->errlen)
      snprintf(b->errbuf + used, b->errlen - used, " (%s at line %zu, column %zu)", p->context,
               p->context_mark.line + 1, p->context_mark.column + 1);
  }
  return CUBIT_EINVAL;
}

static int parse_stream(const char *text, size_t len, int multi, json_t **out, char *errbuf,
                        size_t errlen) {
  builder b;
  memset(&b, 0, sizeof(b));
  b.multi = multi;
  b.errbuf = errbuf;
  b.errlen = errlen;
  *out = NULL;
  if (errbuf && errlen) errbuf[0] = '\0';
  b.docs = json_array();
  if (b.docs == NULL) return oom(&b);
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    json_decref(b.docs);
    return oom(&b);
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int err = 0, done = 0;
  while (!err && !done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      err = parser_error(&b, &parser);
      break;
    }
    switch (ev.type) {
      case YAML_STREAM_END_EVENT:
        done = 1;
        break;
      case YAML_DOCUMENT_START_EVENT:
        b.doc_mark = ev.start_mark;
        break;
      case YAML_DOCUMENT_END_EVENT:
        err = on_document_end(&b);
        break;
      case YAML_SCALAR_EVENT:
        err = on_scalar(&b, &ev);
        break;
      case YAML_ALIAS_EVENT:
        err = on_alias(&b, &ev);
        break;
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        err = on_start(&b, &ev);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        err = on_end(&b, &ev);
        break;
      default:
        break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  while (b.depth) frame_free(&b.stack[--b.depth]);
  free(b.stack);
  clear_anchors(&b);
  free(b.anchors);
  json_decref(b.root);
  if (err) {
    json_decref(b.docs);
    return err;
  }
  *out = b.docs;
  return 0;
}

int yaml_to_json_all(const char *text, size_t len, json_t **out, char *errbuf, size_t errlen) {
  return parse_stream(text, len, 1, out, errbuf, errlen);
}

int yaml_to_json(const char *text, size_t len, json_t **out, char *errbuf, size_t errlen) {
  json_t *docs;
  *out = NULL;
  int rc = parse_stream(text, len, 0, &docs, errbuf, errlen);
  if (rc) return rc;
  json_t *v = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : json_null();
  json_decref(docs);
  *out = v;
  return 0;
}
