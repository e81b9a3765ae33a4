/* `when` conditions: a small expression language of Cubit's own, parsed by
 * recursive descent into a tree and evaluated over parameters and outputs.
 *
 *   expr    := or
 *   or      := and ("||" and)*
 *   and     := not ("&&" not)*
 *   not     := "!" not | compare
 *   compare := operand (("=="|"!="|"<"|"<="|">"|">=") operand)?
 *   operand := string | number | "true" | "false" | reference | "(" expr ")"
 *
 * "!" applies to a whole comparison (`!params.a == 'x'` is `!(params.a ==
 * 'x')`), and comparisons do not chain.
 *
 * The parser, the checks, the evaluation and the release all recurse, so an
 * expression is refused when it nests deeper than PL_WHEN_MAX_DEPTH: as
 * parentheses and "!" (the parser's recursion) and as chains of && and ||
 * (the tree's height). Otherwise 100,000 "(" overflow the stack. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "util/alloc.h"

typedef enum { N_STR, N_NUM, N_BOOL, N_REF, N_NOT, N_AND, N_OR, N_CMP } node_kind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

typedef struct node {
  node_kind kind;
  cmp_op op;
  char *text;     /* N_STR: the string; N_REF: the reference as written */
  double num;
  int boolean;
  pl_ref ref;
  int height;     /* 0 for a leaf; the links below it otherwise */
  struct node *a, *b;
} node;

struct pl_when {
  node *root;
};

static void node_free(node *n) {
  if (n == NULL) return;
  node_free(n->a);
  node_free(n->b);
  free(n->text);
  free(n);
}

/* ------------------------------------------------------------ lexer */

typedef enum { T_END, T_STR, T_NUM, T_IDENT, T_LPAREN, T_RPAREN, T_NOT, T_AND, T_OR, T_CMP, T_BAD } tok_kind;

typedef struct token {
  tok_kind kind;
  cmp_op op;
  size_t pos, len; /* where in the source */
  char *text;      /* T_STR (unescaped), T_IDENT */
  double num;
} token;

typedef struct parser {
  const char *src;
  size_t pos;
  token tok;
  char *err;
  size_t errlen;
  int failed;
  int depth; /* open parentheses and "!" around the current token */
} parser;

static int ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int ident_char(char c) {
  return ident_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void fail(parser *p, size_t pos, const char *fmt, const char *arg) {
  if (p->failed) return;
  p->failed = 1;
  char what[200];
  snprintf(what, sizeof(what), fmt, arg);
  snprintf(p->err, p->errlen, "column %zu: %s", pos + 1, what);
}

static void describe(const token *t, const char *src, char *out, size_t len) {
  if (t->kind == T_END) snprintf(out, len, "the end");
  else snprintf(out, len, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), src + t->pos);
}

static void next(parser *p) {
  free(p->tok.text);
  memset(&p->tok, 0, sizeof(p->tok));
  const char *s = p->src;
  while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r') p->pos++;
  token *t = &p->tok;
  t->pos = p->pos;
  char c = s[p->pos];
  if (c == '\0') {
    t->kind = T_END;
    return;
  }
  if (c == '(' || c == ')') {
    t->kind = c == '(' ? T_LPAREN : T_RPAREN;
    t->len = 1;
    p->pos++;
    return;
  }
  if (c == '&' && s[p->pos + 1] == '&') {
    t->kind = T_AND;
    t->len = 2;
    p->pos += 2;
    return;
  }
  if (c == '|' && s[p->pos + 1] == '|') {
    t->kind = T_OR;
    t->len = 2;
    p->pos += 2;
    return;
  }
  if (c == '=' && s[p->pos + 1] == '=') {
    t->kind = T_CMP;
    t->op = OP_EQ;
    t->len = 2;
  } else if (c == '!' && s[p->pos + 1] == '=') {
    t->kind = T_CMP;
    t->op = OP_NE;
    t->len = 2;
  } else if (c == '<' || c == '>') {
    int eq = s[p->pos + 1] == '=';
    t->kind = T_CMP;
    t->op = c == '<' ? (eq ? OP_LE : OP_LT) : (eq ? OP_GE : OP_GT);
    t->len = eq ? 2 : 1;
  } else if (c == '!') {
    t->kind = T_NOT;
    t->len = 1;
  }
  if (t->kind != T_END) {
    p->pos += t->len;
    return;
  }
  if (c == '\'' || c == '"') {
    size_t i = p->pos + 1;
    char *text = xmalloc(strlen(s + i) + 1);
    size_t n = 0;
    while (s[i] && s[i] != c) {
      if (s[i] == '\\' && (s[i + 1] == '\\' || s[i + 1] == '\'' || s[i + 1] == '"')) i++;
      text[n++] = s[i++];
    }
    text[n] = '\0';
    if (s[i] != c) {
      free(text);
      t->kind = T_BAD;
      t->len = i - p->pos;
      fail(p, p->pos, "%s", "unterminated string");
      return;
    }
    t->kind = T_STR;
    t->text = text;
    t->len = i + 1 - p->pos;
    p->pos = i + 1;
    return;
  }
  if ((c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9') ||
      (c == '-' && s[p->pos + 1] == '.')) {
    errno = 0;
    char *end;
    double v = strtod(s + p->pos, &end);
    size_t len = (size_t)(end - (s + p->pos));
    int bad = errno != 0 || !isfinite(v);
    for (size_t k = 0; k < len; k++)
      if (!strchr("0123456789+-.eE", s[p->pos + k])) bad = 1;
    if (bad || len == 0 || ident_start(*end)) {
      t->kind = T_BAD;
      t->len = len ? len : 1;
      fail(p, p->pos, "%s", "malformed number");
      return;
    }
    t->kind = T_NUM;
    t->num = v;
    t->len = len;
    p->pos += len;
    return;
  }
  if (ident_start(c)) {
    size_t i = p->pos;
    while (ident_char(s[i])) i++;
    t->kind = T_IDENT;
    t->len = i - p->pos;
    t->text = xstrndup(s + p->pos, t->len);
    p->pos = i;
    return;
  }
  t->kind = T_BAD;
  t->len = 1;
  char ch[2] = {c, '\0'};
  fail(p, p->pos, "unexpected character '%s'", ch);
}

/* ----------------------------------------------------------- parser */

static node *new_node(node_kind k) {
  node *n = xcalloc(1, sizeof(node));
  n->kind = k;
  return n;
}

static void too_deep(parser *p, size_t pos) {
  char what[120];
  snprintf(what, sizeof(what), "the expression nests deeper than %d levels (parentheses, ! and chains of && and ||)",
           PL_WHEN_MAX_DEPTH);
  fail(p, pos, "%s", what);
}

/* Sets n's children (either may be NULL) and its height; fails the parse
 * when the tree grows taller than the limit. */
static node *join(parser *p, node *n, node *a, node *b, size_t pos) {
  n->a = a;
  n->b = b;
  int ha = a ? a->height : 0, hb = b ? b->height : 0;
  n->height = 1 + (ha > hb ? ha : hb);
  if (n->height > PL_WHEN_MAX_DEPTH) too_deep(p, pos);
  return n;
}

/* Enters one level of recursion (a "(" or a "!"): 0, or -1 (failed) past
 * the limit. */
static int enter(parser *p, size_t pos) {
  if (++p->depth > PL_WHEN_MAX_DEPTH) {
    too_deep(p, pos);
    return -1;
  }
  return 0;
}

static node *parse_or(parser *p);

static node *parse_operand(parser *p) {
  if (p->failed) return NULL;
  token *t = &p->tok;
  node *n = NULL;
  switch (t->kind) {
    case T_STR:
      n = new_node(N_STR);
      n->text = t->text;
      t->text = NULL;
      next(p);
      return n;
    case T_NUM:
      n = new_node(N_NUM);
      n->num = t->num;
      next(p);
      return n;
    case T_IDENT:
      if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
        n = new_node(N_BOOL);
        n->boolean = strcmp(t->text, "true") == 0;
        next(p);
        return n;
      }
      n = new_node(N_REF);
      if (pl_ref_parse(t->text, t->len, &n->ref) || n->ref.kind == PL_REF_RUN || n->ref.kind == PL_REF_TRIAL) {
        fail(p, t->pos,
             "unknown name '%s' (want params.NAME, tasks.TASK.outputs.NAME, true, false, a number or a quoted string)",
             t->text);
        node_free(n);
        return NULL;
      }
      n->text = t->text;
      t->text = NULL;
      next(p);
      return n;
    case T_LPAREN: {
      size_t open = t->pos;
      if (enter(p, open)) return NULL;
      next(p);
      n = parse_or(p);
      p->depth--;
      if (p->failed) {
        node_free(n);
        return NULL;
      }
      if (p->tok.kind != T_RPAREN) {
        char got[64];
        describe(&p->tok, p->src, got, sizeof(got));
        char what[120];
        snprintf(what, sizeof(what), "expected ')' to close the '(' at column %zu, got %s", open + 1, got);
        fail(p, p->tok.pos, "%s", what);
        node_free(n);
        return NULL;
      }
      next(p);
      return n;
    }
    default: {
      char got[64];
      describe(t, p->src, got, sizeof(got));
      fail(p, t->pos, "expected an operand, got %s", got);
      return NULL;
    }
  }
}

static node *parse_compare(parser *p) {
  node *a = parse_operand(p);
  if (p->failed) return a;
  if (p->tok.kind != T_CMP) return a;
  node *n = new_node(N_CMP);
  n->op = p->tok.op;
  size_t pos = p->tok.pos;
  next(p);
  node *b = parse_operand(p);
  join(p, n, a, b, pos);
  if (!p->failed && p->tok.kind == T_CMP)
    fail(p, p->tok.pos, "%s", "comparisons do not chain: use && between them");
  return n;
}

static node *parse_not(parser *p) {
  if (p->tok.kind == T_NOT) {
    size_t pos = p->tok.pos;
    if (enter(p, pos)) return NULL;
    next(p);
    node *n = new_node(N_NOT);
    node *a = parse_not(p);
    p->depth--;
    return join(p, n, a, NULL, pos);
  }
  return parse_compare(p);
}

static node *parse_and(parser *p) {
  node *a = parse_not(p);
  while (!p->failed && p->tok.kind == T_AND) {
    size_t pos = p->tok.pos;
    next(p);
    node *b = parse_not(p);
    a = join(p, new_node(N_AND), a, b, pos);
  }
  return a;
}

static node *parse_or(parser *p) {
  node *a = parse_and(p);
  while (!p->failed && p->tok.kind == T_OR) {
    size_t pos = p->tok.pos;
    next(p);
    node *b = parse_and(p);
    a = join(p, new_node(N_OR), a, b, pos);
  }
  return a;
}

int pl_when_parse(const char *src, pl_when **out, char *err, size_t errlen) {
  *out = NULL;
  parser p = {.src = src ? src : "", .err = err, .errlen = errlen};
  next(&p);
  if (p.tok.kind == T_END && !p.failed) {
    snprintf(err, errlen, "empty expression");
    return CUBIT_EINVAL;
  }
  node *root = parse_or(&p);
  if (!p.failed && p.tok.kind != T_END) {
    char got[64];
    describe(&p.tok, p.src, got, sizeof(got));
    fail(&p, p.tok.pos, "unexpected %s (expected && or || or the end)", got);
  }
  free(p.tok.text);
  if (p.failed) {
    node_free(root);
    return CUBIT_EINVAL;
  }
  pl_when *w = xcalloc(1, sizeof(*w));
  w->root = root;
  *out = w;
  return 0;
}

void pl_when_free(pl_when *w) {
  if (w == NULL) return;
  node_free(w->root);
  free(w);
}

static int check_node(const node *n, pl_ref_check_fn check, void *arg, char *err, size_t errlen) {
  if (n == NULL) return 0;
  if (n->kind == N_REF) {
    char why[400] = "";
    if (check(&n->ref, arg, why, sizeof(why))) {
      snprintf(err, errlen, "%s: %s", n->text, why);
      return CUBIT_EINVAL;
    }
    return 0;
  }
  if (check_node(n->a, check, arg, err, errlen)) return CUBIT_EINVAL;
  return check_node(n->b, check, arg, err, errlen);
}

int pl_when_check(const pl_when *w, pl_ref_check_fn check, void *arg, char *err, size_t errlen) {
  return check_node(w->root, check, arg, err, errlen);
}

/* -------------------------------------------------------- evaluation */

typedef enum { V_STR, V_NUM, V_BOOL } val_kind;

typedef struct value {
  val_kind kind;
  char *str; /* owned */
  double num;
  int boolean;
  char what[160]; /* how to name it in a message */
} value;

typedef struct evaluator {
  pl_ref_value_fn lookup;
  void *arg;
  char *err;
  size_t errlen;
} evaluator;

static void value_free(value *v) {
  free(v->str);
  v->str = NULL;
}

static int str_number(const char *s, double *out) {
  if (s == NULL || *s == '\0') return -1;
  for (const char *c = s; *c; c++)
    if (!strchr("0123456789+-.eE", *c)) return -1;
  errno = 0;
  char *end;
  double d = strtod(s, &end);
  if (errno || *end != '\0' || !isfinite(d)) return -1;
  *out = d;
  return 0;
}

static void name_value(value *v, const char *label) {
  if (v->kind == V_STR) snprintf(v->what, sizeof(v->what), "%s (\"%.60s\")", label, v->str);
  else if (v->kind == V_NUM) snprintf(v->what, sizeof(v->what), "%s (%g)", label, v->num);
  else snprintf(v->what, sizeof(v->what), "%s (%s)", label, v->boolean ? "true" : "false");
}

static int eval(evaluator *e, const node *n, value *out);

static int as_bool(evaluator *e, value *v, int *b) {
  if (v->kind == V_BOOL) {
    *b = v->boolean;
    return 0;
  }
  if (v->kind == V_STR && (strcmp(v->str, "true") == 0 || strcmp(v->str, "false") == 0)) {
    *b = strcmp(v->str, "true") == 0;
    return 0;
  }
  snprintf(e->err, e->errlen, "%s is not a boolean", v->what);
  return CUBIT_EINVAL;
}

static int compare(evaluator *e, cmp_op op, value *a, value *b, int *result) {
  int ordering = op != OP_EQ && op != OP_NE;
  double x, y;
  int c;
  if (a->kind == V_BOOL || b->kind == V_BOOL) {
    int p, q;
    value *other = a->kind == V_BOOL ? b : a;
    if (other->kind == V_NUM) {
      snprintf(e->err, e->errlen, "cannot compare %s with %s", a->what, b->what);
      return CUBIT_EINVAL;
    }
    if (as_bool(e, a, &p) || as_bool(e, b, &q)) return CUBIT_EINVAL;
    if (ordering) {
      snprintf(e->err, e->errlen, "booleans have no order: %s and %s", a->what, b->what);
      return CUBIT_EINVAL;
    }
    c = p == q ? 0 : 1;
  } else if (a->kind == V_NUM || b->kind == V_NUM) {
    value *s = a->kind == V_STR ? a : b->kind == V_STR ? b : NULL;
    if (s && str_number(s->str, &s->num)) {
      snprintf(e->err, e->errlen, "%s is not a number", s->what);
      return CUBIT_EINVAL;
    }
    x = a->num;
    y = b->num;
    c = x < y ? -1 : x > y ? 1 : 0;
  } else if (str_number(a->str, &x) == 0 && str_number(b->str, &y) == 0) {
    /* Outputs are text: two that read as numbers compare as numbers. */
    c = x < y ? -1 : x > y ? 1 : 0;
  } else {
    c = strcmp(a->str, b->str);
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  switch (op) {
    case OP_EQ: *result = c == 0; break;
    case OP_NE: *result = c != 0; break;
    case OP_LT: *result = c < 0; break;
    case OP_LE: *result = c <= 0; break;
    case OP_GT: *result = c > 0; break;
    case OP_GE: *result = c >= 0; break;
  }
  return 0;
}

static int eval(evaluator *e, const node *n, value *out) {
  memset(out, 0, sizeof(*out));
  switch (n->kind) {
    case N_STR:
      out->kind = V_STR;
      out->str = xstrdup(n->text);
      snprintf(out->what, sizeof(out->what), "'%.60s'", n->text);
      return 0;
    case N_NUM:
      out->kind = V_NUM;
      out->num = n->num;
      snprintf(out->what, sizeof(out->what), "%g", n->num);
      return 0;
    case N_BOOL:
      out->kind = V_BOOL;
      out->boolean = n->boolean;
      snprintf(out->what, sizeof(out->what), "%s", n->boolean ? "true" : "false");
      return 0;
    case N_REF: {
      char why[400] = "unknown";
      const json_t *v = e->lookup(&n->ref, e->arg, why, sizeof(why));
      if (v == NULL) {
        snprintf(e->err, e->errlen, "%s: %s", n->text, why);
        return CUBIT_EINVAL;
      }
      if (json_is_number(v)) {
        out->kind = V_NUM;
        out->num = json_number_value(v);
      } else if (json_is_boolean(v)) {
        out->kind = V_BOOL;
        out->boolean = json_is_true(v);
      } else {
        out->kind = V_STR;
        out->str = pl_value_text(v);
      }
      name_value(out, n->text);
      return 0;
    }
    case N_NOT: {
      value a;
      int b;
      if (eval(e, n->a, &a)) return CUBIT_EINVAL;
      int rc = as_bool(e, &a, &b);
      value_free(&a);
      if (rc) return rc;
      out->kind = V_BOOL;
      out->boolean = !b;
      snprintf(out->what, sizeof(out->what), "a negation");
      return 0;
    }
    case N_AND:
    case N_OR: {
      value a;
      int x;
      if (eval(e, n->a, &a)) return CUBIT_EINVAL;
      int rc = as_bool(e, &a, &x);
      value_free(&a);
      if (rc) return rc;
      out->kind = V_BOOL;
      snprintf(out->what, sizeof(out->what), "a condition");
      /* Short-circuit: the right side is only looked at when it matters. */
      if ((n->kind == N_AND && !x) || (n->kind == N_OR && x)) {
        out->boolean = x;
        return 0;
      }
      value b;
      if (eval(e, n->b, &b)) return CUBIT_EINVAL;
      rc = as_bool(e, &b, &x);
      value_free(&b);
      out->boolean = x;
      return rc;
    }
    case N_CMP: {
      value a, b;
      if (eval(e, n->a, &a)) return CUBIT_EINVAL;
      if (eval(e, n->b, &b)) {
        value_free(&a);
        return CUBIT_EINVAL;
      }
      int r = 0;
      int rc = compare(e, n->op, &a, &b, &r);
      value_free(&a);
      value_free(&b);
      out->kind = V_BOOL;
      out->boolean = r;
      snprintf(out->what, sizeof(out->what), "a comparison");
      return rc;
    }
  }
  return CUBIT_EINVAL;
}

int pl_when_eval(const pl_when *w, pl_ref_value_fn lookup, void *arg, int *result, char *err, size_t errlen) {
  evaluator e = {lookup, arg, err, errlen};
  value v;
  if (eval(&e, w->root, &v)) return CUBIT_EINVAL;
  int b;
  int rc = 0;
  if (v.kind == V_BOOL) b = v.boolean;
  else if (as_bool(&e, &v, &b)) {
    snprintf(err, errlen, "the condition is %s, not true or false", v.what);
    rc = CUBIT_EINVAL;
  }
  value_free(&v);
  if (rc == 0) *result = b;
  return rc;
}
