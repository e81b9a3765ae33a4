/* The pipeline kinds' vocabulary (api/pipeline): typed parameters,
 * {{...}} substitution, `when` expressions (with the depth limit, issue 13),
 * pipeline and template specs (DAG checks with the cycle named), and the
 * validating webhooks that use them. The controllers' plans are in
 * test_pipeline.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"
#include "webhooks/validate/jobtemplate.h"
#include "webhooks/validate/pipeline.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fixtures written with single quotes (testutil_json). */
#define J(text) testutil_json(text)

#define T(rfc3339) testutil_time(rfc3339)

/* ========================================================= parameters */

static const struct {
  const char *decl, *value;
  const char *want;  /* the coerced value as JSON, or NULL */
  const char *error; /* the message, or NULL */
} coerce_cases[] = {
    {"{'name':'n','type':'int'}", "5", "5", NULL},
    {"{'name':'n','type':'int'}", "'12'", "12", NULL},
    {"{'name':'n','type':'int'}", "3.0", "3", NULL},
    {"{'name':'n','type':'int'}", "'ten'", NULL, "params.n: want an integer, got \"ten\""},
    {"{'name':'n','type':'int'}", "2.5", NULL, "params.n: want an integer, got 2.5"},
    {"{'name':'n','type':'int','minimum':1,'maximum':8}", "9", NULL, "params.n: 9 is more than the maximum 8"},
    {"{'name':'n','type':'int','minimum':1}", "0", NULL, "params.n: 0 is less than the minimum 1"},
    {"{'name':'lr','type':'float'}", "'0.01'", "0.01", NULL},
    {"{'name':'lr','type':'float'}", "2", "2.0", NULL},
    {"{'name':'lr','type':'float'}", "'0x10'", NULL, "params.lr: want a number, got \"0x10\""},
    {"{'name':'lr','type':'float','maximum':1}", "1.5", NULL, "params.lr: 1.5 is more than the maximum 1"},
    {"{'name':'b','type':'bool'}", "'true'", "true", NULL},
    {"{'name':'b','type':'bool'}", "false", "false", NULL},
    {"{'name':'b','type':'bool'}", "'yes'", NULL, "params.b: want true or false, got \"yes\""},
    {"{'name':'s'}", "'x'", "'x'", NULL},
    {"{'name':'s','type':'string'}", "42", "'42'", NULL},
    {"{'name':'s','type':'string'}", "{'a':1}", NULL, "params.s: want a string, got {\"a\":1}"},
    {"{'name':'e','type':'enum','enum':['small','large']}", "'large'", "'large'", NULL},
    {"{'name':'e','type':'enum','enum':['small','large']}", "'huge'", NULL,
     "params.e: want one of small, large, got \"huge\""},
    {"{'name':'j','type':'json'}", "{'a':[1,2]}", "{'a':[1,2]}", NULL},
};

START_TEST(param_coerce) {
  json_t *decl = J(coerce_cases[_i].decl);
  json_t *arr = json_pack("[O]", decl);
  pl_params ps;
  char err[400] = "";
  ck_assert_msg(pl_params_parse(arr, "spec.parameters", &ps, err, sizeof(err)) == 0, "%s", err);
  json_t *v = J(coerce_cases[_i].value), *out = NULL;
  char path[64];
  snprintf(path, sizeof(path), "params.%s", ps.items[0].name);
  int rc = pl_param_coerce(&ps.items[0], v, path, &out, err, sizeof(err));
  if (coerce_cases[_i].error) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, coerce_cases[_i].error);
  } else {
    ck_assert_msg(rc == 0, "%s", err);
    json_t *want = J(coerce_cases[_i].want);
    ck_assert_msg(json_equal(want, out), "case %d", _i);
    json_decref(want);
  }
  json_decref(out);
  json_decref(v);
  pl_params_free(&ps);
  json_decref(arr);
  json_decref(decl);
}
END_TEST

static const struct {
  const char *decls, *error;
} bad_decls[] = {
    {"[{'name':'1x'}]", "spec.parameters[0].name: want a name of letters, digits and _ (not starting with a digit), got \"1x\""},
    {"[{'name':'a'},{'name':'a'}]", "spec.parameters[1].name: parameter a is declared twice"},
    {"[{'name':'a','type':'integer'}]",
     "spec.parameters[0].type: want string, int, float, bool, enum or json, got \"integer\" (parameter a)"},
    {"[{'name':'a','type':'int','default':'many'}]",
     "spec.parameters[0].default: want an integer, got \"many\" (parameter a is of type int)"},
    {"[{'name':'a','type':'enum'}]", "spec.parameters[0].enum: parameter a of type enum needs a list of strings"},
    {"[{'name':'a','type':'string','minimum':1}]",
     "spec.parameters[0]: parameter a of type string cannot have a minimum or maximum"},
    {"[{'name':'a','type':'int','minimum':5,'maximum':1}]",
     "spec.parameters[0]: parameter a has a minimum above its maximum"},
    {"[{'name':'a','required':true,'default':'y'}]",
     "spec.parameters[0]: parameter a is required and has a default; a required parameter has none"},
    {"[{'name':'a','type':'enum','enum':['x'],'default':'y'}]",
     "spec.parameters[0].default: want one of x, got \"y\" (parameter a is of type enum)"},
};

START_TEST(param_declarations) {
  json_t *d = J(bad_decls[_i].decls);
  pl_params ps;
  char err[400] = "";
  ck_assert_int_eq(pl_params_parse(d, "spec.parameters", &ps, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, bad_decls[_i].error);
  json_decref(d);
}
END_TEST

START_TEST(param_resolve) {
  json_t *d = J("[{'name':'epochs','type':'int','default':3},{'name':'data','required':true},"
                "{'name':'lr','type':'float'},{'name':'mode','type':'enum','enum':['a','b'],'default':'a'}]");
  pl_params ps;
  char err[400] = "";
  ck_assert_int_eq(pl_params_parse(d, "p", &ps, err, sizeof(err)), 0);
  json_t *given = J("{'data':'s3://x','epochs':'7'}"), *out = NULL;
  ck_assert_msg(pl_params_resolve(&ps, given, "spec.params", &out, err, sizeof(err)) == 0, "%s", err);
  json_t *want = J("{'epochs':7,'data':'s3://x','lr':0.0,'mode':'a'}");
  ck_assert(json_equal(want, out));
  json_decref(want);
  json_decref(out);
  json_decref(given);
  given = J("{'epochs':1}");
  ck_assert_int_eq(pl_params_resolve(&ps, given, "spec.params", &out, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.params.data: required (a string parameter without a default)");
  json_decref(given);
  given = J("{'data':'x','epoch':1}");
  ck_assert_int_eq(pl_params_resolve(&ps, given, "spec.params", &out, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.params.epoch: no such parameter");
  json_decref(given);
  pl_params_free(&ps);
  json_decref(d);
}
END_TEST

START_TEST(value_text) {
  static const struct {
    const char *json, *text;
  } cases[] = {{"'a b'", "a b"}, {"5", "5"}, {"0.1", "0.1"}, {"2.5e-07", "2.5e-07"}, {"true", "true"},
               {"{'b':1,'a':[true]}", "{\"a\":[true],\"b\":1}"}, {"null", ""}};
  for (int i = 0; i < N(cases); i++) {
    json_t *v = J(cases[i].json);
    char *t = pl_value_text(v);
    ck_assert_str_eq(t, cases[i].text);
    free(t);
    json_decref(v);
  }
}
END_TEST

/* ====================================================== substitution */

static const json_t *fixed_values(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  json_t *values = arg;
  char key[200];
  pl_ref_format(ref, key, sizeof(key));
  json_t *v = json_object_get(values, key);
  if (v == NULL) snprintf(err, errlen, "no value");
  return v;
}

START_TEST(subst_values) {
  json_t *values = J("{'params.workers':4,'params.lr':0.5,'run.name':'etl-1','tasks.a.outputs.model':'s3://m',"
                     "'params.flag':true,'params.cfg':{'k':'v'}}");
  json_t *in = J("{'replicas':'{{params.workers}}','cmd':['--lr={{ params.lr }}','{{run.name}}/{{tasks.a.outputs.model}}',"
                 "'{{params.workers}}'],'env':[{'name':'N','value':'{{params.workers}}'}],"
                 "'labels':{'w':'{{params.flag}}'},"
                 "'flag':'{{params.flag}}','cfg':'{{params.cfg}}','text':'cfg={{params.cfg}}','plain':'no refs',"
                 "'n':7,'nested':{'x':'{{run.name}}-{{params.workers}}'}}");
  json_t *out = NULL;
  char err[400] = "";
  ck_assert_msg(pl_subst_json(in, "spec", fixed_values, values, &out, err, sizeof(err)) == 0, "%s", err);
  /* Lists, env values and labels stay strings whatever the value. */
  json_t *want = J("{'replicas':4,'cmd':['--lr=0.5','etl-1/s3://m','4'],'env':[{'name':'N','value':'4'}],"
                   "'labels':{'w':'true'},'flag':true,'cfg':{'k':'v'},"
                   "'text':'cfg={\\\"k\\\":\\\"v\\\"}','plain':'no refs','n':7,'nested':{'x':'etl-1-4'}}");
  char *got = json_dumps(out, JSON_SORT_KEYS);
  ck_assert_msg(json_equal(want, out), "got %s", got);
  free(got);
  json_decref(want);
  json_decref(out);
  json_decref(in);
  /* A reference without a value names the field. */
  in = J("{'env':[{'value':'{{params.missing}}'}]}");
  ck_assert_int_eq(pl_subst_json(in, "spec.workload", fixed_values, values, &out, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.workload.env[0].value: {{params.missing}}: no value");
  json_decref(in);
  json_decref(values);
}
END_TEST

static int no_x(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  if (ref->kind == PL_REF_PARAM && strcmp(ref->name, "x") == 0) {
    snprintf(err, errlen, "the template has no parameter x");
    return CUBIT_EINVAL;
  }
  return 0;
}

static const struct {
  const char *json, *error;
} subst_errors[] = {
    {"{'a':'{{params.x}}'}", "w.a: unknown substitution {{params.x}}: the template has no parameter x"},
    {"{'a':['ok','{{foo}}']}",
     "w.a[1]: unknown substitution {{foo}} (known: params.NAME, run.name, run.namespace, run.scheduledTime, "
     "tasks.TASK.outputs.NAME)"},
    {"{'a':'{{run.uid}}'}",
     "w.a: unknown substitution {{run.uid}} (known: params.NAME, run.name, run.namespace, run.scheduledTime, "
     "tasks.TASK.outputs.NAME)"},
    {"{'a':'{{tasks.t.output.m}}'}",
     "w.a: unknown substitution {{tasks.t.output.m}} (known: params.NAME, run.name, run.namespace, "
     "run.scheduledTime, tasks.TASK.outputs.NAME)"},
    {"{'a':'x {{params.y'}", "w.a: unterminated substitution (\"{{\" without \"}}\")"},
    {"{'a':'{{}}'}",
     "w.a: unknown substitution {{}} (known: params.NAME, run.name, run.namespace, run.scheduledTime, "
     "tasks.TASK.outputs.NAME)"},
};

START_TEST(subst_check_errors) {
  json_t *v = J(subst_errors[_i].json);
  char err[400] = "";
  ck_assert_int_eq(pl_subst_check(v, "w", no_x, NULL, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, subst_errors[_i].error);
  json_decref(v);
}
END_TEST

/* ============================================================= when */

static const struct {
  const char *src, *error;
} when_syntax[] = {
    {"", "empty expression"},
    {"params.a ==", "column 12: expected an operand, got the end"},
    {"(params.a == 1", "column 15: expected ')' to close the '(' at column 1, got the end"},
    {"params.a == 1)", "column 14: unexpected ')' (expected && or || or the end)"},
    {"params.a = 1", "column 10: unexpected character '='"},
    {"params.a == 'x", "column 13: unterminated string"},
    {"params.a < 1 < 2", "column 14: comparisons do not chain: use && between them"},
    {"foo == 1", "column 1: unknown name 'foo' (want params.NAME, tasks.TASK.outputs.NAME, true, false, a number or a "
                 "quoted string)"},
    {"run.name == 'x'", "column 1: unknown name 'run.name' (want params.NAME, tasks.TASK.outputs.NAME, true, false, a "
                        "number or a quoted string)"},
    {"params.a == 1x", "column 13: malformed number"},
    {"params.a && || params.b", "column 13: expected an operand, got '||'"},
    {"params.a & params.b", "column 10: unexpected character '&'"},
};

START_TEST(when_parse_errors) {
  pl_when *w = NULL;
  char err[400] = "";
  ck_assert_int_eq(pl_when_parse(when_syntax[_i].src, &w, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(w);
  ck_assert_str_eq(err, when_syntax[_i].error);
}
END_TEST

static const struct {
  const char *src;
  int result;        /* 0, 1, or -1 for an error */
  const char *error;
} when_eval_cases[] = {
    {"params.epochs > 3", 1, NULL},
    {"params.epochs >= 5 && params.mode == 'fast'", 1, NULL},
    {"params.epochs < 5 || params.mode != 'fast'", 0, NULL},
    {"!(params.epochs == 5)", 0, NULL},
    {"!params.epochs == 4", 1, NULL},   /* ! covers the comparison */
    {"params.debug", 0, NULL},
    {"!params.debug && true", 1, NULL},
    {"tasks.eval.outputs.acc > 0.9", 1, NULL},       /* an output (text) compared as a number */
    {"tasks.eval.outputs.acc >= '0.95'", 0, NULL},  /* two numeric texts compare as numbers */
    {"tasks.eval.outputs.ok", 1, NULL},             /* "true" as a condition */
    {"tasks.eval.outputs.label == \"cat\"", 1, NULL},
    {"tasks.eval.outputs.label < 'dog'", 1, NULL},  /* text order */
    {"params.lr == 0.01", 1, NULL},
    {"-1 < params.lr", 1, NULL},
    {"params.debug == false", 1, NULL},
    {"false && tasks.eval.outputs.label > 1", 0, NULL}, /* short-circuit: the type error is never reached */
    {"tasks.eval.outputs.label > 1", -1, "tasks.eval.outputs.label (\"cat\") is not a number"},
    {"params.debug < true", -1, "booleans have no order: params.debug (false) and true"},
    {"params.debug == 1", -1, "cannot compare params.debug (false) with 1"},
    {"params.mode && true", -1, "params.mode (\"fast\") is not a boolean"},
    {"params.mode", -1, "the condition is params.mode (\"fast\"), not true or false"},
    {"tasks.train.outputs.model == 'x'", -1, "tasks.train.outputs.model: task train was skipped"},
    {"params.nope == 1", -1, "params.nope: no such parameter"},
};

static const json_t *when_values(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  json_t *values = arg;
  if (ref->kind == PL_REF_OUTPUT && strcmp(ref->task, "train") == 0) {
    snprintf(err, errlen, "task train was skipped");
    return NULL;
  }
  char key[200];
  pl_ref_format(ref, key, sizeof(key));
  json_t *v = json_object_get(values, key);
  if (v == NULL) snprintf(err, errlen, "no such parameter");
  return v;
}

START_TEST(when_eval) {
  json_t *values = J("{'params.epochs':5,'params.mode':'fast','params.debug':false,'params.lr':0.01,"
                     "'tasks.eval.outputs.acc':'0.93','tasks.eval.outputs.ok':'true','tasks.eval.outputs.label':'cat'}");
  pl_when *w = NULL;
  char err[400] = "";
  ck_assert_msg(pl_when_parse(when_eval_cases[_i].src, &w, err, sizeof(err)) == 0, "%s: %s", when_eval_cases[_i].src,
                err);
  int result = -7;
  int rc = pl_when_eval(w, when_values, values, &result, err, sizeof(err));
  if (when_eval_cases[_i].result < 0) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, when_eval_cases[_i].error);
  } else {
    ck_assert_msg(rc == 0, "%s: %s", when_eval_cases[_i].src, err);
    ck_assert_msg(result == when_eval_cases[_i].result, "%s gave %d", when_eval_cases[_i].src, result);
  }
  pl_when_free(w);
  json_decref(values);
}
END_TEST

/* Issue 13: the parser recursed once per "(" and "!", and the tree once per
 * link of a chain; 100,000 of them overflowed the stack. Each shape is
 * refused at its 65th level, the column pointing at it; 64 levels parse. */
typedef enum { NEST_PARENS, NEST_NOTS, NEST_AND_CHAIN, NEST_OR_CHAIN } nest_shape;

/* An expression of 'depth' levels of 'shape' (caller frees). */
static char *nested(nest_shape shape, size_t depth) {
  size_t cap = depth * 12 + 16;
  char *s = malloc(cap);
  size_t n = 0;
  switch (shape) {
    case NEST_PARENS:
      for (size_t i = 0; i < depth; i++) s[n++] = '(';
      n += (size_t)sprintf(s + n, "true");
      for (size_t i = 0; i < depth; i++) s[n++] = ')';
      break;
    case NEST_NOTS:
      for (size_t i = 0; i < depth; i++) s[n++] = '!';
      n += (size_t)sprintf(s + n, "true");
      break;
    case NEST_AND_CHAIN:
    case NEST_OR_CHAIN:
      n += (size_t)sprintf(s + n, "true");
      for (size_t i = 0; i < depth; i++) n += (size_t)sprintf(s + n, shape == NEST_AND_CHAIN ? " && true" : " || true");
      break;
  }
  s[n] = '\0';
  return s;
}

static const struct {
  nest_shape shape;
  size_t depth;
  const char *error; /* NULL = parses */
} nesting[] = {
    {NEST_PARENS, 64, NULL},
    {NEST_PARENS, 65, "column 65: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
    {NEST_PARENS, 100000,
     "column 65: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
    {NEST_NOTS, 64, NULL},
    {NEST_NOTS, 100000, "column 65: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
    {NEST_AND_CHAIN, 64, NULL},
    /* "true" then " && true" per link: the 65th && is at column 6 + 64 * 8. */
    {NEST_AND_CHAIN, 65, "column 518: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
    {NEST_AND_CHAIN, 100000,
     "column 518: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
    {NEST_OR_CHAIN, 100000,
     "column 518: the expression nests deeper than 64 levels (parentheses, ! and chains of && and ||)"},
};

START_TEST(when_depth_limit) {
  char *src = nested(nesting[_i].shape, nesting[_i].depth);
  pl_when *w = NULL;
  char err[400] = "";
  int rc = pl_when_parse(src, &w, err, sizeof(err));
  if (nesting[_i].error) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_ptr_null(w);
    ck_assert_str_eq(err, nesting[_i].error);
  } else {
    ck_assert_msg(rc == 0, "%s", err);
    int result = 0;
    ck_assert_int_eq(pl_when_eval(w, NULL, NULL, &result, err, sizeof(err)), 0);
    ck_assert_int_eq(result, 1); /* an even number of ! */
    pl_when_free(w);
  }
  free(src);
}
END_TEST

/* The same crash input in a Pipeline: refused naming the field. */
START_TEST(when_depth_in_spec) {
  char *src = nested(NEST_PARENS, 100000);
  json_t *spec = J("{'tasks':[{'name':'a','templateRef':{'name':'t'}}]}");
  json_object_set_new(json_array_get(json_object_get(spec, "tasks"), 0), "when", json_string(src));
  pl_spec s;
  char err[600] = "";
  ck_assert_int_eq(pl_spec_parse(spec, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.tasks[0].when: column 65: the expression nests deeper than 64 levels (parentheses, ! "
                        "and chains of && and ||) (task a)");
  json_decref(spec);
  free(src);
}
END_TEST

/* Substitution walks JSON recursively: deeper than 64 levels is refused
 * with the path, 64 levels are walked. */
static json_t *nested_json(size_t depth) {
  json_t *v = json_string("{{params.x}}");
  for (size_t i = 0; i < depth; i++) {
    json_t *a = json_array();
    json_array_append_new(a, v);
    v = a;
  }
  return v;
}

static int accept_ref(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  return 0;
}

static const json_t *ref_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  return arg;
}

START_TEST(subst_depth_limit) {
  char err[2048] = "";
  json_t *ok = nested_json(64);
  ck_assert_msg(pl_subst_check(ok, "w", accept_ref, NULL, err, sizeof(err)) == 0, "%s", err);
  json_t *value = json_integer(7), *out = NULL;
  ck_assert_msg(pl_subst_json(ok, "w", ref_value, value, &out, err, sizeof(err)) == 0, "%s", err);
  const json_t *leaf = out;
  for (int i = 0; i < 64; i++) leaf = json_array_get(leaf, 0);
  ck_assert_str_eq(json_string_value(leaf), "7"); /* a list item stays a string */
  json_decref(out);
  json_decref(ok);

  json_t *deep = nested_json(100);
  char want[1024];
  int n = snprintf(want, sizeof(want), "w");
  for (int i = 0; i < 64; i++) n += snprintf(want + n, sizeof(want) - (size_t)n, "[0]");
  snprintf(want + n, sizeof(want) - (size_t)n, ": nested deeper than 64 levels");
  ck_assert_int_eq(pl_subst_check(deep, "w", accept_ref, NULL, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, want);
  out = NULL;
  ck_assert_int_eq(pl_subst_json(deep, "w", ref_value, value, &out, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(out);
  ck_assert_str_eq(err, want);
  json_decref(deep);
  json_decref(value);
}
END_TEST

/* ============================================================ specs */

static const struct {
  const char *spec, *error;
} spec_errors[] = {
    {"{'tasks':[]}", "spec.tasks: at least one task"},
    {"{'tasks':[{'name':'A','templateRef':{'name':'t'}}]}",
     "spec.tasks[0].name: want a lower-case DNS label of at most 40 characters, got \"A\""},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}},{'name':'a','templateRef':{'name':'t'}}]}",
     "spec.tasks[1].name: task a is declared twice"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'dependsOn':['b']}]}",
     "spec.tasks[0].dependsOn[0]: task a depends on b, which is not a task of this pipeline"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'dependsOn':['a']}]}",
     "spec.tasks[0].dependsOn[0]: task a depends on itself"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'dependsOn':['c']},{'name':'b','templateRef':{'name':'t'},"
     "'dependsOn':['a']},{'name':'c','templateRef':{'name':'t'},'dependsOn':['b']}]}",
     "spec.tasks: the dependencies form a cycle: a -> b -> c -> a"},
    {"{'tasks':[{'name':'root','templateRef':{'name':'t'}},{'name':'x','templateRef':{'name':'t'},'dependsOn':['root','y']},"
     "{'name':'y','templateRef':{'name':'t'},'dependsOn':['x']}]}",
     "spec.tasks: the dependencies form a cycle: x -> y -> x"},
    {"{'tasks':[{'name':'a','templateRef':{'kind':'Template','name':'t'}}]}",
     "spec.tasks[0].templateRef.kind: want JobTemplate or ClusterJobTemplate, got \"Template\" (task a)"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'when':'params.x =='}]}",
     "spec.tasks[0].when: column 12: expected an operand, got the end (task a)"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'when':'params.x == 1'}]}",
     "spec.tasks[0].when: params.x: the pipeline has no parameter x"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}},{'name':'b','templateRef':{'name':'t'},"
     "'when':'tasks.a.outputs.m == 1'}]}",
     "spec.tasks[1].when: tasks.a.outputs.m: task b does not depend on a (add it to dependsOn, directly or through "
     "another task)"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'params':{'p':'{{params.q}}'}}]}",
     "spec.tasks[0].params.p: unknown substitution {{params.q}}: the pipeline has no parameter q"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'},'params':{'p':'{{tasks.zz.outputs.m}}'}}]}",
     "spec.tasks[0].params.p: unknown substitution {{tasks.zz.outputs.m}}: there is no task zz"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'schedule':{'cron':'61 * * * *'}}",
     "spec.schedule.cron: minute field \"61\": value out of range 0-59"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'schedule':{'cron':'@hourly','timeZone':'Mars/Olympus'}}",
     "spec.schedule.timeZone: unknown time zone \"Mars/Olympus\""},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'schedule':{'cron':'@daily','startTime':'yesterday'}}",
     "spec.schedule.startTime: want an RFC 3339 time (2026-01-02T15:04:05Z), got \"yesterday\""},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'schedule':{'cron':'@daily','startTime':'2026-02-01T00:00:00Z',"
     "'endTime':'2026-01-01T00:00:00Z'}}",
     "spec.schedule.endTime: before startTime"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'workVolume':{'claimName':'x','volumeClaimTemplate':{'spec':{}}}}",
     "spec.workVolume: set exactly one of volumeClaimTemplate and claimName"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'failurePolicy':'Stop'}",
     "spec.failurePolicy: want FailFast or Continue, got \"Stop\""},
};

START_TEST(spec_parse_errors) {
  json_t *spec = J(spec_errors[_i].spec);
  pl_spec s;
  char err[600] = "";
  ck_assert_int_eq(pl_spec_parse(spec, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, spec_errors[_i].error);
  json_decref(spec);
}
END_TEST

static const char *diamond =
    "{'parameters':[{'name':'dataset','default':'mnist'}],"
    "'tasks':[{'name':'d','templateRef':{'name':'t'},'dependsOn':['b','c']},"
    "{'name':'c','templateRef':{'name':'t'},'dependsOn':['a']},"
    "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
    "{'name':'a','templateRef':{'name':'t'}}]}";

START_TEST(spec_topological_order) {
  json_t *spec = J(diamond);
  pl_spec s;
  char err[600] = "";
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(s.ntasks, 4);
  const char *want[] = {"a", "c", "b", "d"}; /* dependencies first, then the input order */
  for (int i = 0; i < 4; i++) ck_assert_str_eq(s.tasks[s.order[i]].name, want[i]);
  ck_assert_int_eq(s.fail_fast, 1);
  ck_assert_int_eq(s.parallelism, 0);
  ck_assert_int_eq(s.has_schedule, 0);
  pl_spec_free(&s);
  json_decref(spec);
}
END_TEST

START_TEST(spec_schedule_defaults) {
  json_t *spec = J("{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'schedule':{'cron':'@hourly',"
                   "'timeZone':'Asia/Shanghai','startTime':'2026-01-01T00:00:00Z'},"
                   "'workVolume':{'claimName':'team'}}");
  pl_spec s;
  char err[600] = "";
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(s.has_schedule, 1);
  ck_assert_int_eq(s.sched.catchup, 1);
  ck_assert_int_eq(s.sched.policy, PL_ALLOW);
  ck_assert_int_eq(s.sched.keep_succeeded, 3);
  ck_assert_int_eq(s.sched.keep_failed, 1);
  ck_assert_int_eq(s.sched.deadline_s, -1);
  ck_assert_int_eq(s.sched.ttl_s, -1);
  ck_assert_int_eq(s.sched.start, T("2026-01-01T00:00:00Z"));
  ck_assert_int_eq(s.work.kind, PL_WORK_CLAIM);
  ck_assert_str_eq(s.work.mount_path, "/cubit/work");
  ck_assert_str_eq(s.work.claim_name, "team");
  ck_assert_str_eq(s.work.sub_path, "pipelines/{{run.name}}");
  pl_spec_free(&s);
  json_decref(spec);
}
END_TEST

/* ------------------------------------------- against the templates */

static const char *train_template =
    "{'parameters':[{'name':'epochs','type':'int','default':1,'minimum':1},{'name':'data','required':true},"
    "{'name':'size','type':'enum','enum':['s','m','l'],'default':'s'},{'name':'model','default':''}],"
    "'outputs':[{'name':'model','path':'model.txt'},{'name':'score','path':'eval/score'}],"
    "'workload':{'framework':'batch','image':'trainer:1','args':['--epochs={{params.epochs}}','--data={{params.data}}'],"
    "'roles':{'main':{'replicas':1}}}}";
static const char *plain_template =
    "{'parameters':[{'name':'in','default':'x'},{'name':'n','type':'int','default':2}],"
    "'workload':{'framework':'batch','image':'busybox','command':['echo','{{params.in}}'],"
    "'roles':{'main':{'replicas':'{{params.n}}'}}}}";

static const json_t *test_lookup(pl_template_kind kind, const char *name, void *arg) {
  json_t *templates = arg;
  char key[200];
  snprintf(key, sizeof(key), "%s/%s", kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", name);
  return json_object_get(templates, key);
}

static json_t *test_templates(void) {
  json_t *t = json_object();
  json_object_set_new(t, "JobTemplate/train", J(train_template));
  json_object_set_new(t, "ClusterJobTemplate/plain", J(plain_template));
  return t;
}

static const struct {
  const char *spec, *error; /* NULL = accepted */
} template_checks[] = {
    {"{'parameters':[{'name':'n','type':'int'},{'name':'d'}],'workVolume':{'claimName':'w'},'tasks':["
     "{'name':'a','templateRef':{'name':'train'},'params':{'epochs':'{{params.n}}','data':'{{params.d}}'}},"
     "{'name':'b','templateRef':{'kind':'ClusterJobTemplate','name':'plain'},'dependsOn':['a'],"
     "'params':{'in':'{{tasks.a.outputs.model}}'},'when':'tasks.a.outputs.score > 0.5'}]}",
     NULL},
    {"{'tasks':[{'name':'a','templateRef':{'name':'nope'}}]}",
     "spec.tasks[0].templateRef: JobTemplate nope not found (task a)"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'plain'}}]}",
     "spec.tasks[0].templateRef: JobTemplate plain not found (task a)"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x','epochs':'many'}}]}",
     "spec.tasks[0].params.epochs: want an integer, got \"many\" (parameter epochs of JobTemplate train is of type int; "
     "task a)"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x','size':'xl'}}]}",
     "spec.tasks[0].params.size: want one of s, m, l, got \"xl\" (parameter size of JobTemplate train is of type enum; "
     "task a)"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x','epoch':2}}]}",
     "spec.tasks[0].params.epoch: JobTemplate train has no parameter epoch (task a)"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'}}]}",
     "spec.tasks[0].params.data: required by JobTemplate train (task a)"},
    {"{'parameters':[{'name':'f','type':'float'}],'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':"
     "{'name':'train'},'params':{'data':'x','epochs':'{{params.f}}'}}]}",
     "spec.tasks[0].params.epochs: parameter epochs of JobTemplate train is of type int, but the pipeline parameter f "
     "given to it is of type float (task a)"},
    {"{'parameters':[{'name':'sz','type':'enum','enum':['s','xl']}],'workVolume':{'claimName':'w'},'tasks':[{'name':'a',"
     "'templateRef':{'name':'train'},'params':{'data':'x','size':'{{params.sz}}'}}]}",
     "spec.tasks[0].params.size: want one of s, m, l, got \"xl\" (the pipeline parameter sz allows it; task a)"},
    {"{'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x'}}]}",
     "spec.workVolume: required: task a's JobTemplate train declares outputs, which tasks write to the work volume"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x'}},"
     "{'name':'b','templateRef':{'kind':'ClusterJobTemplate','name':'plain'},'dependsOn':['a'],"
     "'params':{'in':'{{tasks.a.outputs.weights}}'}}]}",
     "spec.tasks[1].params.in: unknown substitution {{tasks.a.outputs.weights}}: the template of task a (train) "
     "declares no output weights"},
    {"{'workVolume':{'claimName':'w'},'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x'}},"
     "{'name':'b','templateRef':{'kind':'ClusterJobTemplate','name':'plain'},'dependsOn':['a'],"
     "'when':'tasks.a.outputs.acc > 1'}]}",
     "spec.tasks[1].when: tasks.a.outputs.acc: the template of task a (train) declares no output acc"},
};

START_TEST(spec_against_templates) {
  json_t *spec = J(template_checks[_i].spec);
  json_t *templates = test_templates();
  pl_spec s;
  char err[800] = "";
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  int rc = pl_spec_check_templates(&s, test_lookup, templates, err, sizeof(err));
  if (template_checks[_i].error) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, template_checks[_i].error);
  } else {
    ck_assert_msg(rc == 0, "%s", err);
  }
  pl_spec_free(&s);
  json_decref(templates);
  json_decref(spec);
}
END_TEST

static const struct {
  const char *tmpl, *error;
} template_errors[] = {
    {"{'workload':{'framework':'batch','image':'{{params.image}}','roles':{'main':{}}}}",
     "spec.workload.image: unknown substitution {{params.image}}: the template has no parameter image"},
    {"{'parameters':[{'name':'w','type':'int','default':2}],'workload':{'framework':'batch','image':'x',"
     "'roles':{'main':{'replicas':'{{params.w}}','completions':'{{params.nope}}'}}}}",
     "spec.workload.roles.main.completions: unknown substitution {{params.nope}}: the template has no parameter nope"},
    {"{'outputs':[{'name':'m','path':'../etc/passwd'}],'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}",
     "spec.outputs[0].path: want a relative path without \"..\" (output m), got \"../etc/passwd\""},
    {"{'outputs':[{'name':'m','path':'a'},{'name':'m','path':'b'}],'workload':{'framework':'batch','image':'x',"
     "'roles':{'main':{}}}}",
     "spec.outputs[1].name: output m is declared twice"},
    {"{'parameters':[{'name':'n','type':'string','default':'two'}],'workload':{'framework':'batch','image':'x',"
     "'roles':{'main':{'replicas':'{{params.n}}'}}}}",
     "spec.workload.roles.main.replicas: want an integer of at least 1 (checked with each parameter's default)"},
    {"{'parameters':[{'name':'fw','type':'enum','enum':['pytorch']}],'workload':{'framework':'{{params.fw}}',"
     "'image':'x','roles':{'chief':{}}}}",
     "spec.workload.roles.chief: not a pytorch role (checked with each parameter's default)"},
    {"{'workload':{'framework':'batch','image':'x','roles':{'main':{}},'env':[{'name':'A','value':'{{run.uid}}'}]}}",
     "spec.workload.env[0].value: unknown substitution {{run.uid}} (known: params.NAME, run.name, run.namespace, "
     "run.scheduledTime, tasks.TASK.outputs.NAME)"},
};

static int check_trainingjob(const json_t *tj, void *arg, char *err, size_t errlen) {
  tj_spec s;
  return tj_spec_parse(tj, &s, err, errlen) ? CUBIT_EINVAL : 0;
}

START_TEST(template_validation) {
  json_t *t = J(template_errors[_i].tmpl);
  pl_template tm;
  char err[600] = "";
  int rc = pl_template_parse(t, &tm, err, sizeof(err));
  if (rc == 0) {
    rc = pl_template_check_workload(&tm, check_trainingjob, NULL, err, sizeof(err));
    pl_template_free(&tm);
  }
  ck_assert_int_eq(rc, CUBIT_EINVAL);
  ck_assert_str_eq(err, template_errors[_i].error);
  json_decref(t);
}
END_TEST

START_TEST(template_accepted) {
  json_t *t = J(train_template);
  pl_template tm;
  char err[600] = "";
  ck_assert_msg(pl_template_parse(t, &tm, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(tm.noutputs, 2);
  ck_assert_msg(pl_template_check_workload(&tm, check_trainingjob, NULL, err, sizeof(err)) == 0, "%s", err);
  pl_template_free(&tm);
  json_decref(t);
  t = J(plain_template);
  ck_assert_msg(pl_template_parse(t, &tm, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(pl_template_check_workload(&tm, check_trainingjob, NULL, err, sizeof(err)) == 0, "%s", err);
  pl_template_free(&tm);
  json_decref(t);
}
END_TEST

/* ========================================================= webhooks */

static void put(cache_store *s, const char *json) {
  json_t *o = J(json);
  json_decref(cache_store_upsert(s, o));
  json_decref(o);
}

typedef struct hooks_fixture {
  webhook_env env;
} hooks_fixture;

static hooks_fixture hf;

static void hooks_setup(void) {
  memset(&hf, 0, sizeof(hf));
  hf.env.jobtemplates = cache_store_new();
  hf.env.clusterjobtemplates = cache_store_new();
  hf.env.pipelines = cache_store_new();
  hf.env.reference_wait_ms = 0;
  char *t = malloc(strlen(train_template) + 200);
  sprintf(t, "{'apiVersion':'cubit.dev/v1alpha1','kind':'JobTemplate','metadata':{'name':'train','namespace':'ml'},"
             "'spec':%s}", train_template);
  put(hf.env.jobtemplates, t);
  sprintf(t, "{'apiVersion':'cubit.dev/v1alpha1','kind':'ClusterJobTemplate','metadata':{'name':'plain'},'spec':%s}",
          plain_template);
  put(hf.env.clusterjobtemplates, t);
  free(t);
  put(hf.env.pipelines, "{'metadata':{'name':'etl','namespace':'ml'},'spec':{'parameters':[{'name':'day','required':"
                        "true},{'name':'n','type':'int','default':1}],'tasks':[]}}");
}

static void hooks_teardown(void) {
  cache_store_free(hf.env.jobtemplates);
  cache_store_free(hf.env.clusterjobtemplates);
  cache_store_free(hf.env.pipelines);
}

static const struct {
  const char *object, *error; /* NULL = allowed */
} pipeline_reviews[] = {
    {"{'metadata':{'name':'etl','namespace':'ml'},'spec':{'workVolume':{'claimName':'w'},'schedule':{'cron':'@daily'},"
     "'tasks':[{'name':'a','templateRef':{'name':'train'},'params':{'data':'x'}},{'name':'b','dependsOn':['a'],"
     "'templateRef':{'kind':'ClusterJobTemplate','name':'plain'},'params':{'in':'{{tasks.a.outputs.model}}'}}]}}",
     NULL},
    {"{'metadata':{'name':'etl','namespace':'other'},'spec':{'tasks':[{'name':'a','templateRef':{'name':'train'}}]}}",
     "spec.tasks[0].templateRef: JobTemplate train not found (task a)"},
    {"{'metadata':{'name':'etl','namespace':'ml'},'spec':{'tasks':[{'name':'a','templateRef':{'name':'t'},"
     "'dependsOn':['b']},{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']}]}}",
     "spec.tasks: the dependencies form a cycle: a -> b -> a"},
    {"{'metadata':{'name':'a-very-long-pipeline-name-that-cannot-be-scheduled-xyz','namespace':'ml'},"
     "'spec':{'schedule':{'cron':'@daily'},'tasks':[{'name':'a','templateRef':{'kind':'ClusterJobTemplate','name':'plain'}}]}}",
     "metadata.name: a scheduled pipeline's name has at most 52 characters (its runs are named <pipeline>-<tick>)"},
    {"{'metadata':{'name':'etl','namespace':'ml'},'spec':{'schedule':{'cron':'0 0 * * 8'},"
     "'tasks':[{'name':'a','templateRef':{'kind':'ClusterJobTemplate','name':'plain'}}]}}",
     "spec.schedule.cron: day-of-week field \"8\": value out of range 0-7"},
};

START_TEST(webhook_pipeline) {
  json_t *p = J(pipeline_reviews[_i].object);
  char err[900] = "";
  int rc = validate_pipeline(&hf.env, p, err, sizeof(err));
  if (pipeline_reviews[_i].error) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, pipeline_reviews[_i].error);
  } else {
    ck_assert_msg(rc == 0, "%s", err);
  }
  json_decref(p);
}
END_TEST

START_TEST(webhook_pipelinerun) {
  char err[900] = "";
  json_t *r = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'etl'},'params':{'day':'mon','n':'3'}}}");
  ck_assert_msg(validate_pipelinerun(&hf.env, r, err, sizeof(err)) == 0, "%s", err);
  json_decref(r);
  r = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'etl'},'params':{'day':'mon','n':'three'}}}");
  ck_assert_int_eq(validate_pipelinerun(&hf.env, r, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.params.n: want an integer, got \"three\" (Pipeline etl)");
  json_decref(r);
  r = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'etl'}}}");
  ck_assert_int_eq(validate_pipelinerun(&hf.env, r, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.params.day: required (a string parameter without a default) (Pipeline etl)");
  json_decref(r);
  /* Placed as a whole: the shared grammar, and a cluster the namespace's
   * project has (ml belongs to none: "local" only). */
  static const char *placed[][2] = {
      {"'cluster':'local'", ""},
      {"'placement':{'policy':'MostFreeGPUs'}", ""},
      {"'cluster':'gpu-east'",
       "spec.cluster: gpu-east: the namespace's project spans no clusters; only \"local\" is allowed"},
      {"'placement':{'policy':'Random'}", "spec.placement.policy: want Ordered or MostFreeGPUs, got \"Random\""},
  };
  for (size_t i = 0; i < sizeof(placed) / sizeof(placed[0]); i++) {
    char *text = xasprintf("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'later'},%s}}",
                           placed[i][0]);
    r = J(text);
    free(text);
    int rc = validate_pipelinerun(&hf.env, r, err, sizeof(err));
    if (placed[i][1][0] == '\0') ck_assert_msg(rc == 0, "%s: %s", placed[i][0], err);
    else ck_assert_str_eq(err, placed[i][1]);
    json_decref(r);
  }
  /* A run may be created before its pipeline: it waits. */
  r = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'later'},'params':{'x':1}}}");
  ck_assert_int_eq(validate_pipelinerun(&hf.env, r, err, sizeof(err)), 0);
  /* Updates: spec.stopped may change, spec.params may not (absent = {}). */
  json_t *stopped = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'later'},'params':{'x':1},"
                      "'stopped':true}}");
  ck_assert_int_eq(validate_pipelinerun_update(r, stopped, err, sizeof(err)), 0);
  json_t *changed = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'later'},'params':{'x':2}}}");
  ck_assert_int_eq(validate_pipelinerun_update(r, changed, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.params: a run's spec cannot change (only spec.stopped may); create another run");
  json_t *none = J("{'spec':{'pipelineRef':{'name':'later'}}}"), *empty = J("{'spec':{'params':{}}}");
  ck_assert_int_eq(validate_pipelinerun_update(none, empty, err, sizeof(err)), 0);
  ck_assert_int_eq(validate_pipelinerun_update(none, r, err, sizeof(err)), CUBIT_EINVAL);
  json_decref(stopped);
  json_decref(changed);
  json_decref(none);
  json_decref(empty);
  json_decref(r);
}
END_TEST

START_TEST(webhook_jobtemplate) {
  char err[900] = "";
  char *t = malloc(strlen(train_template) + 200);
  sprintf(t, "{'kind':'JobTemplate','metadata':{'name':'train','namespace':'ml'},'spec':%s}", train_template);
  json_t *o = J(t);
  free(t);
  ck_assert_msg(validate_jobtemplate(&hf.env, o, err, sizeof(err)) == 0, "%s", err);
  json_decref(o);
  o = J("{'kind':'JobTemplate','metadata':{'name':'x','namespace':'ml'},'spec':{'parameters':[{'name':'n','type':'int',"
        "'default':'ten'}],'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}}");
  ck_assert_int_eq(validate_jobtemplate(&hf.env, o, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.parameters[0].default: want an integer, got \"ten\" (parameter n is of type int)");
  json_decref(o);
}
END_TEST

int main(void) {
  Suite *s = suite_create("pipeline_api");
  TCase *tc = tcase_create("params");
  tcase_add_loop_test(tc, param_coerce, 0, N(coerce_cases));
  tcase_add_loop_test(tc, param_declarations, 0, N(bad_decls));
  tcase_add_test(tc, param_resolve);
  tcase_add_test(tc, value_text);
  tcase_add_test(tc, subst_values);
  tcase_add_loop_test(tc, subst_check_errors, 0, N(subst_errors));
  suite_add_tcase(s, tc);
  tc = tcase_create("when");
  tcase_add_loop_test(tc, when_parse_errors, 0, N(when_syntax));
  tcase_add_loop_test(tc, when_eval, 0, N(when_eval_cases));
  tcase_add_loop_test(tc, when_depth_limit, 0, N(nesting));
  tcase_add_test(tc, when_depth_in_spec);
  tcase_add_test(tc, subst_depth_limit);
  suite_add_tcase(s, tc);
  tc = tcase_create("spec");
  tcase_add_loop_test(tc, spec_parse_errors, 0, N(spec_errors));
  tcase_add_test(tc, spec_topological_order);
  tcase_add_test(tc, spec_schedule_defaults);
  tcase_add_loop_test(tc, spec_against_templates, 0, N(template_checks));
  tcase_add_loop_test(tc, template_validation, 0, N(template_errors));
  tcase_add_test(tc, template_accepted);
  suite_add_tcase(s, tc);
  tc = tcase_create("webhooks");
  tcase_add_checked_fixture(tc, hooks_setup, hooks_teardown);
  tcase_add_loop_test(tc, webhook_pipeline, 0, N(pipeline_reviews));
  tcase_add_test(tc, webhook_pipelinerun);
  tcase_add_test(tc, webhook_jobtemplate);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
