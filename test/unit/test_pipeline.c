/* Pipelines: typed parameters, {{...}} substitution, `when` expressions,
 * pipeline and template specs (DAG checks with the cycle named), the
 * scheduler's decision (ticks in a window, time zones across DST, backfill,
 * catchup, dependsOnPast, Forbid, Replace, maxActiveRuns, deadlines, history
 * and TTL), the DAG executor's step (order, parallelism, retries, FailFast
 * and Continue, skip, when, timeout, retry from failure), a task's
 * TrainingJob, the outputs reader (its script run by sh), and the
 * validating webhooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controllers/pipeline/pipeline.h"
#include "testutil.h"
#include "util/json.h"
#include "util/time.h"
#include "webhooks/validate/jobtemplate.h"
#include "webhooks/validate/pipeline.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* JSON written with single quotes, for readable fixtures. */
static json_t *J(const char *text) {
  char *copy = strdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '\'') *p = '"';
  json_error_t err;
  json_t *v = json_loads(copy, JSON_DECODE_ANY, &err);
  ck_assert_msg(v != NULL, "fixture %s: %s", copy, err.text);
  free(copy);
  return v;
}

static int64_t T(const char *rfc3339) {
  int64_t t;
  ck_assert_msg(time_parse_rfc3339(rfc3339, &t) == 0, "time %s", rfc3339);
  return t;
}

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
  pl_work_mount m;
  pl_work_mount_of(&s.work, "etl-1767225600", &m);
  ck_assert_str_eq(m.claim, "team");
  ck_assert_str_eq(m.sub_path, "pipelines/etl-1767225600");
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

START_TEST(template_validation) {
  json_t *t = J(template_errors[_i].tmpl);
  pl_template tm;
  char err[600] = "";
  int rc = pl_template_parse(t, &tm, err, sizeof(err));
  if (rc == 0) {
    rc = pl_template_check_workload(&tm, err, sizeof(err));
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
  ck_assert_msg(pl_template_check_workload(&tm, err, sizeof(err)) == 0, "%s", err);
  pl_template_free(&tm);
  json_decref(t);
  t = J(plain_template);
  ck_assert_msg(pl_template_parse(t, &tm, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(pl_template_check_workload(&tm, err, sizeof(err)) == 0, "%s", err);
  pl_template_free(&tm);
  json_decref(t);
}
END_TEST

/* ========================================================== schedule */

static void sched_new(pl_schedule *s, const char *cron, const char *zone) {
  memset(s, 0, sizeof(*s));
  char err[256] = "";
  ck_assert_msg(cron_parse(cron, &s->cron, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(tz_load(zone, &s->zone, err, sizeof(err)) == 0, "%s", err);
  s->catchup = 1;
  s->policy = PL_ALLOW;
  s->deadline_s = -1;
  s->keep_succeeded = 100;
  s->keep_failed = 100;
  s->ttl_s = -1;
}

static void sched_free(pl_schedule *s) {
  cron_free(s->cron);
  tz_free(s->zone);
}

/* The runs that exist, as the scheduler sees them. */
typedef struct world {
  pl_sched_run runs[400];
  char names[400][64];
  size_t n;
  int64_t watermark;
  int64_t created_ticks[400]; /* every tick that ever got a run, in creation order */
  size_t ncreated;
  int max_active;
} world;

static pl_sched_run *world_add(world *w, int64_t tick, int64_t created, int state, int64_t finished) {
  ck_assert_uint_lt(w->n, 400);
  pl_run_name("etl", tick, w->names[w->n], sizeof(w->names[w->n]));
  pl_sched_run *r = &w->runs[w->n];
  r->name = w->names[w->n];
  r->tick = tick;
  r->created = created;
  r->state = state;
  r->finished = finished;
  w->n++;
  return r;
}

static void world_remove(world *w, size_t i) {
  for (size_t k = i; k + 1 < w->n; k++) {
    w->runs[k] = w->runs[k + 1];
    memcpy(w->names[k], w->names[k + 1], sizeof(w->names[k]));
  }
  w->n--;
  for (size_t k = 0; k < w->n; k++) w->runs[k].name = w->names[k];
}

static int world_active(const world *w) {
  int n = 0;
  for (size_t i = 0; i < w->n; i++) n += w->runs[i].state == PL_RUN_ACTIVE;
  return n;
}

/* One decision at 'now', applied to the world. */
static void world_step(world *w, const pl_schedule *s, int64_t created, int64_t now, pl_sched_out *o) {
  pl_sched_in in = {s, now, created, w->watermark, w->runs, w->n};
  pl_schedule_decide(&in, o);
  /* Delete highest index first so indexes stay valid. */
  for (size_t k = o->ndel; k-- > 0;) {
    size_t idx = o->del[k].run;
    for (size_t m = 0; m < k; m++) ck_assert_uint_ne(o->del[m].run, idx);
  }
  unsigned char gone[400] = {0};
  for (size_t k = 0; k < o->ndel; k++) gone[o->del[k].run] = 1;
  for (size_t i = w->n; i-- > 0;)
    if (gone[i]) world_remove(w, i);
  for (size_t k = 0; k < o->ncreate; k++) {
    for (size_t i = 0; i < w->n; i++) ck_assert_msg(w->runs[i].tick != o->create[k], "tick %lld twice", (long long)o->create[k]);
    world_add(w, o->create[k], now, PL_RUN_ACTIVE, 0);
    w->created_ticks[w->ncreated++] = o->create[k];
  }
  w->watermark = o->watermark;
  if (world_active(w) > w->max_active) w->max_active = world_active(w);
}

/* Finishes the oldest active run (by tick). */
static void world_finish_oldest(world *w, int state, int64_t now) {
  pl_sched_run *oldest = NULL;
  for (size_t i = 0; i < w->n; i++)
    if (w->runs[i].state == PL_RUN_ACTIVE && (oldest == NULL || w->runs[i].tick < oldest->tick)) oldest = &w->runs[i];
  if (oldest) {
    oldest->state = state;
    oldest->finished = now;
  }
}

START_TEST(sched_backfill_window) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  world w = {0};
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 6);
  for (int k = 0; k < 6; k++) ck_assert_int_eq(o.create[k], T("2026-03-10T05:00:00Z") + 3600 * k);
  ck_assert_int_eq(o.watermark, T("2026-03-10T10:00:00Z"));
  ck_assert_int_eq(o.next_tick, T("2026-03-10T11:00:00Z"));
  ck_assert_int_eq(o.wakeup, T("2026-03-10T11:00:00Z"));
  ck_assert_str_eq(w.names[0], "etl-1773118800");
  /* Nothing more is due until the next tick; then exactly that one. */
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T10:59:59Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T11:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  /* Without a startTime, ticks after the pipeline's creation only. */
  world w2 = {0};
  s.start = 0;
  world_step(&w2, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T12:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_max_active_runs) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.max_active = 2;
  world w = {0};
  pl_sched_out o;
  int64_t created = T("2026-03-10T10:29:00Z"), now = T("2026-03-10T10:30:00Z");
  world_step(&w, &s, created, now, &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_str_eq(o.waiting, "maxActiveRuns (2) reached");
  ck_assert_int_eq(o.watermark, T("2026-03-10T06:00:00Z"));
  /* Runs finish one by one; the backlog drains in tick order, two at a time. */
  for (int round = 0; round < 20; round++) {
    now += 1;
    world_finish_oldest(&w, PL_RUN_SUCCEEDED, now);
    world_step(&w, &s, created, now, &o);
  }
  ck_assert_uint_eq(w.ncreated, 6);
  for (size_t k = 0; k < 6; k++) ck_assert_int_eq(w.created_ticks[k], T("2026-03-10T05:00:00Z") + 3600 * (int64_t)k);
  ck_assert_int_eq(w.max_active, 2);
  sched_free(&s);
}
END_TEST

START_TEST(sched_depends_on_past) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.depends_on_past = 1;
  world w = {0};
  pl_sched_out o;
  int64_t created = T("2026-03-10T10:29:00Z"), now = T("2026-03-10T10:30:00Z");
  world_step(&w, &s, created, now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_str_eq(o.waiting, "waiting for run of the previous tick to finish (dependsOnPast)");
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "waiting for run etl-1773118800 to finish (dependsOnPast)");
  /* The first succeeds: the second starts. The second fails: everything waits. */
  world_finish_oldest(&w, PL_RUN_SUCCEEDED, ++now);
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T06:00:00Z"));
  world_finish_oldest(&w, PL_RUN_FAILED, ++now);
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_int_eq(o.blocked_by_failure, 1);
  ck_assert_str_eq(o.waiting, "run etl-1773122400 failed: dependsOnPast holds every later tick until it succeeds "
                              "(retry it with the cubit.dev/retry annotation, or delete it)");
  /* The failed run is the newest: the history limit keeps it. */
  s.keep_failed = 0;
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ndel, 0);
  /* Retried to success: the schedule goes on, one at a time, in tick order. */
  w.runs[1].state = PL_RUN_SUCCEEDED;
  for (int round = 0; round < 10; round++) {
    world_step(&w, &s, created, ++now, &o);
    world_finish_oldest(&w, PL_RUN_SUCCEEDED, ++now);
  }
  ck_assert_uint_eq(w.ncreated, 6);
  for (size_t k = 0; k < 6; k++) ck_assert_int_eq(w.created_ticks[k], T("2026-03-10T05:00:00Z") + 3600 * (int64_t)k);
  ck_assert_int_eq(w.max_active, 1);
  sched_free(&s);
}
END_TEST

/* A crash after creating runs but before recording the watermark: the runs
 * are recognised by their ticks, none is made twice, and they count. */
START_TEST(sched_after_a_crash) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.max_active = 3;
  world w = {0};
  int64_t now = T("2026-03-10T10:30:00Z");
  world_add(&w, T("2026-03-10T05:00:00Z"), now - 60, PL_RUN_SUCCEEDED, now - 30);
  world_add(&w, T("2026-03-10T06:00:00Z"), now - 60, PL_RUN_ACTIVE, 0);
  world_add(&w, T("2026-03-10T07:00:00Z"), now - 60, PL_RUN_ACTIVE, 0);
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), now, &o); /* watermark 0: nothing recorded */
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.watermark, T("2026-03-10T08:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_catchup_false) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.catchup = 0;
  /* Down from 06:30 to 10:30: 07, 08 and 09 are skipped, 10 runs. */
  world w = {0};
  w.watermark = T("2026-03-10T06:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T03:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T10:00:00Z"));
  ck_assert_uint_eq(o.skipped[PL_SKIP_CATCHUP], 3);
  ck_assert_int_eq(o.first_skipped[PL_SKIP_CATCHUP], T("2026-03-10T07:00:00Z"));
  ck_assert_int_eq(o.last_skipped[PL_SKIP_CATCHUP], T("2026-03-10T09:00:00Z"));
  /* With catchup they all run. */
  world w2 = {0};
  w2.watermark = T("2026-03-10T06:00:00Z");
  s.catchup = 1;
  world_step(&w2, &s, T("2026-03-10T03:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 4);
  /* A backfill (ticks before the pipeline existed) runs even without catchup. */
  world w3 = {0};
  s.catchup = 0;
  s.start = T("2026-03-10T04:30:00Z");
  world_step(&w3, &s, T("2026-03-10T08:15:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 5); /* 05, 06, 07, 08 (backfill) and 10; 09 missed */
  ck_assert_int_eq(o.create[3], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.create[4], T("2026-03-10T10:00:00Z"));
  ck_assert_uint_eq(o.skipped[PL_SKIP_CATCHUP], 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_forbid) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.policy = PL_FORBID;
  /* A run started at 09:00:05 is still active at 11:30: 10 and 11 came while it ran. */
  world w = {0};
  world_add(&w, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:05Z"), PL_RUN_ACTIVE, 0);
  w.watermark = T("2026-03-10T09:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T11:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_FORBID], 2);
  ck_assert_int_eq(o.watermark, T("2026-03-10T11:00:00Z"));
  /* Nothing active and two due: the first starts, the second waits for it
   * (it was due before that run began), then runs. */
  world w2 = {0};
  w2.watermark = T("2026-03-10T08:00:00Z");
  int64_t now = T("2026-03-10T10:30:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_str_eq(o.waiting, "waiting for run started just now to finish (concurrencyPolicy Forbid)");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now + 5, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "waiting for run etl-1773133200 to finish (concurrencyPolicy Forbid)");
  world_finish_oldest(&w2, PL_RUN_SUCCEEDED, now + 10);
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now + 11, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T10:00:00Z"));
  ck_assert_int_eq(w2.max_active, 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_replace) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.policy = PL_REPLACE;
  world w = {0};
  world_add(&w, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:05Z"), PL_RUN_ACTIVE, 0);
  world_add(&w, T("2026-03-10T08:00:00Z"), T("2026-03-10T08:00:05Z"), PL_RUN_SUCCEEDED, T("2026-03-10T08:10:00Z"));
  w.watermark = T("2026-03-10T09:00:00Z");
  pl_sched_in in = {&s, T("2026-03-10T11:30:00Z"), T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_sched_out o;
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.skipped[PL_SKIP_SUPERSEDED], 1); /* 10:00 */
  ck_assert_uint_eq(o.ndel, 1);
  ck_assert_uint_eq(o.del[0].run, 0);
  ck_assert_int_eq(o.del[0].reason, PL_DELETE_REPLACED);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_starting_deadline) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.deadline_s = 600;
  world w = {0};
  w.watermark = T("2026-03-10T08:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 2);
  world w2 = {0};
  w2.watermark = T("2026-03-10T08:00:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:05:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1); /* 10:00 is 5 minutes late: in time */
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 1);
  /* A tick that waited (maxActiveRuns) past its deadline is skipped, not started late. */
  world w3 = {0};
  s.max_active = 1;
  w3.watermark = T("2026-03-10T09:00:00Z");
  world_add(&w3, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:02Z"), PL_RUN_ACTIVE, 0);
  world_step(&w3, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:01:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "maxActiveRuns (1) reached");
  world_finish_oldest(&w3, PL_RUN_SUCCEEDED, T("2026-03-10T10:20:00Z"));
  world_step(&w3, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:20:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_suspend_and_end) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.suspend = 1;
  s.ttl_s = 60;
  world w = {0};
  w.watermark = T("2026-03-10T06:00:00Z");
  int64_t now = T("2026-03-10T10:30:00Z");
  world_add(&w, T("2026-03-10T06:00:00Z"), now - 3600, PL_RUN_SUCCEEDED, now - 100);
  pl_sched_out o;
  pl_sched_in in = {&s, now, T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_int_eq(o.watermark, w.watermark); /* suspended ticks wait: resuming catches up */
  ck_assert_int_eq(o.next_tick, 0);
  ck_assert_uint_eq(o.ndel, 1); /* the TTL still applies */
  ck_assert_int_eq(o.del[0].reason, PL_DELETE_TTL);
  /* endTime: ticks up to it, then none. */
  s.suspend = 0;
  s.ttl_s = -1;
  s.end = T("2026-03-10T08:00:00Z");
  world w2 = {0};
  w2.watermark = T("2026-03-10T06:00:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now, &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_int_eq(o.create[1], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.next_tick, 0);
  ck_assert_int_eq(o.wakeup, 0);
  sched_free(&s);
}
END_TEST

START_TEST(sched_history_and_ttl) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.keep_succeeded = 2;
  s.keep_failed = 1;
  int64_t now = T("2026-03-10T10:30:00Z");
  world w = {0};
  w.watermark = T("2026-03-10T10:00:00Z");
  /* Succeeded 05, 06, 08, 10; failed 07, 09; active none. */
  world_add(&w, T("2026-03-10T08:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 500);
  world_add(&w, T("2026-03-10T05:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 900);
  world_add(&w, T("2026-03-10T07:00:00Z"), 0, PL_RUN_FAILED, now - 600);
  world_add(&w, T("2026-03-10T10:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 100);
  world_add(&w, T("2026-03-10T06:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 800);
  world_add(&w, T("2026-03-10T09:00:00Z"), 0, PL_RUN_FAILED, now - 300);
  pl_sched_in in = {&s, now, T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_sched_out o;
  pl_schedule_decide(&in, &o);
  char deleted[256] = "";
  for (size_t k = 0; k < o.ndel; k++) {
    ck_assert_int_eq(o.del[k].reason, PL_DELETE_HISTORY);
    strcat(deleted, w.runs[o.del[k].run].name);
    strcat(deleted, " ");
  }
  ck_assert_str_eq(deleted, "etl-1773118800 etl-1773122400 etl-1773126000 "); /* 05, 06 (succeeded) and 07 (failed) */
  /* TTL: finished more than 200 s ago go now; the next expiry wakes the scheduler. */
  s.keep_succeeded = s.keep_failed = 100;
  s.ttl_s = 200;
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ndel, 5);
  for (size_t k = 0; k < o.ndel; k++) ck_assert_int_eq(o.del[k].reason, PL_DELETE_TTL);
  ck_assert_int_eq(o.wakeup, now - 100 + 200);
  sched_free(&s);
}
END_TEST

/* Ticks in a time zone, across daylight saving time, through the scheduler:
 * 02:30 every day in Berlin does not happen on 2026-03-29 (02:00 → 03:00)
 * and happens once on 2026-10-25 (03:00 → 02:00, first occurrence). */
START_TEST(sched_time_zones) {
  pl_schedule s;
  sched_new(&s, "30 2 * * *", "Europe/Berlin");
  s.start = T("2026-03-27T00:00:00Z");
  world w = {0};
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-27T00:00:00Z"), T("2026-03-31T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 4);
  ck_assert_int_eq(o.create[0], T("2026-03-27T01:30:00Z")); /* CET, +01:00 */
  ck_assert_int_eq(o.create[1], T("2026-03-28T01:30:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-03-30T00:30:00Z")); /* CEST, +02:00; the 29th has no 02:30 */
  ck_assert_int_eq(o.create[3], T("2026-03-31T00:30:00Z"));
  ck_assert_int_eq(o.next_tick, T("2026-04-01T00:30:00Z"));
  sched_free(&s);
  sched_new(&s, "30 2 * * *", "Europe/Berlin");
  s.start = T("2026-10-24T00:00:00Z");
  world w2 = {0};
  world_step(&w2, &s, T("2026-10-24T00:00:00Z"), T("2026-10-26T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 3);
  ck_assert_int_eq(o.create[0], T("2026-10-24T00:30:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-10-25T00:30:00Z")); /* the first 02:30, still CEST */
  ck_assert_int_eq(o.create[2], T("2026-10-26T01:30:00Z"));
  sched_free(&s);
  /* Hourly across the fall-back hour: each wall hour once. */
  sched_new(&s, "@hourly", "America/New_York");
  s.start = T("2026-11-01T04:30:00Z"); /* 00:30 EDT */
  world w3 = {0};
  world_step(&w3, &s, T("2026-11-01T04:30:00Z"), T("2026-11-01T08:30:00Z"), &o);
  /* 01:00 EDT (05:00Z), 01:00 EST (06:00Z) is the same wall time: skipped, 02:00 EST (07:00Z), 03:00 EST (08:00Z). */
  ck_assert_uint_eq(o.ncreate, 3);
  ck_assert_int_eq(o.create[0], T("2026-11-01T05:00:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-11-01T07:00:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-11-01T08:00:00Z"));
  sched_free(&s);
  /* Asia/Shanghai has no DST: 09:00 local is 01:00Z every day. */
  sched_new(&s, "0 9 * * 1-5", "Asia/Shanghai");
  s.start = T("2026-03-06T00:00:00Z"); /* a Friday */
  world w4 = {0};
  world_step(&w4, &s, T("2026-03-06T00:00:00Z"), T("2026-03-10T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 3); /* Fri, Mon, Tue */
  ck_assert_int_eq(o.create[0], T("2026-03-06T01:00:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-03-09T01:00:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-03-10T01:00:00Z"));
  sched_free(&s);
}
END_TEST

/* More due ticks than one decision handles: a batch, then at once the next. */
START_TEST(sched_batches) {
  pl_schedule s;
  sched_new(&s, "* * * * *", "UTC");
  s.start = T("2026-03-10T00:00:00Z");
  world *w = calloc(1, sizeof(world));
  pl_sched_out o;
  int64_t now = T("2026-03-10T06:00:00Z");
  pl_sched_in in = {&s, now, now, 0, NULL, 0};
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ncreate, PL_SCHED_BATCH);
  ck_assert_int_eq(o.wakeup, now);
  ck_assert_int_eq(o.watermark, T("2026-03-10T00:00:00Z") + 60 * (PL_SCHED_BATCH - 1));
  in.watermark = o.watermark;
  pl_schedule_decide(&in, &o);
  ck_assert_int_eq(o.create[0], T("2026-03-10T00:00:00Z") + 60 * PL_SCHED_BATCH);
  free(w);
  sched_free(&s);
}
END_TEST

/* ========================================================= executor */

typedef struct dagrun {
  json_t *doc; /* the spec's JSON: the parsed spec borrows from it */
  pl_spec s;
  pl_node nodes[PL_MAX_TASKS];
  int when_result[PL_MAX_TASKS]; /* per task: 1 run, 0 skip, -1 error */
} dagrun;

static int test_when(size_t task, void *arg, char *why, size_t len) {
  dagrun *d = arg;
  if (d->when_result[task] < 0) {
    snprintf(why, len, "tasks.x.outputs.y (\"high\") is not a number");
    return CUBIT_EINVAL;
  }
  return d->when_result[task];
}

static void dag_load(dagrun *d, const char *spec) {
  memset(d, 0, sizeof(*d));
  json_t *j = J(spec);
  char err[600] = "";
  ck_assert_msg(pl_spec_parse(j, &d->s, err, sizeof(err)) == 0, "%s", err);
  d->doc = j;
  for (size_t i = 0; i < d->s.ntasks; i++) {
    d->nodes[i].first_attempt = 1;
    d->when_result[i] = 1;
  }
}

static void dag_free(dagrun *d) {
  pl_spec_free(&d->s);
  json_decref(d->doc);
}

static pl_node *node(dagrun *d, const char *task) {
  int i = pl_spec_task(&d->s, task);
  ck_assert_int_ge(i, 0);
  return &d->nodes[i];
}

static void step(dagrun *d, int64_t now, pl_step_out *o) {
  pl_dag_step(&d->s, d->nodes, now, test_when, d, o);
}

/* The current attempt's TrainingJob, as the cache would show it next. */
static void job(dagrun *d, const char *task, pl_job_state state, int64_t at) {
  pl_node *n = node(d, task);
  n->job = state;
  if (state == PL_JOB_ACTIVE) n->job_created = at;
  if (state == PL_JOB_SUCCEEDED || state == PL_JOB_FAILED) n->job_finished = at;
  if (state == PL_JOB_FAILED) snprintf(n->job_message, sizeof(n->job_message), "exit code 1");
}

/* Which tasks the step decided to create, in order: "a,b". */
static void created(dagrun *d, char *out, size_t len) {
  out[0] = '\0';
  for (size_t k = 0; k < d->s.ntasks; k++) {
    size_t i = d->s.order[k];
    if (d->nodes[i].action != PL_ACT_CREATE) continue;
    if (out[0]) strncat(out, ",", len - strlen(out) - 1);
    strncat(out, d->s.tasks[i].name, len - strlen(out) - 1);
  }
}

static const char *dag_diamond = "{'tasks':[{'name':'a','templateRef':{'name':'t'}},"
                                 "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
                                 "{'name':'c','templateRef':{'name':'t'},'dependsOn':['a']},"
                                 "{'name':'d','templateRef':{'name':'t'},'dependsOn':['b','c']}]%s}";

static void diamond_with(dagrun *d, const char *extra) {
  char spec[2048];
  snprintf(spec, sizeof(spec), dag_diamond, extra);
  dag_load(d, spec);
}

START_TEST(step_diamond_order) {
  dagrun d;
  diamond_with(&d, "");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(o.run_phase, PL_RUNNING);
  ck_assert_int_eq(node(&d, "a")->attempts, 1);
  /* The cache does not show a's TrainingJob yet: it is created again (idempotent by name). */
  step(&d, 101, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(node(&d, "a")->attempts, 1);
  job(&d, "a", PL_JOB_ACTIVE, 101);
  step(&d, 102, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b,c");
  ck_assert_int_eq(node(&d, "a")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "a")->finish, 110);
  ck_assert_uint_eq(o.done, 1);
  job(&d, "b", PL_JOB_SUCCEEDED, 120);
  job(&d, "c", PL_JOB_ACTIVE, 112);
  step(&d, 121, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, ""); /* d waits for c */
  job(&d, "c", PL_JOB_SUCCEEDED, 125);
  step(&d, 126, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "d");
  job(&d, "d", PL_JOB_SUCCEEDED, 130);
  step(&d, 131, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  ck_assert_uint_eq(o.done, 4);
  ck_assert_uint_eq(o.total, 4);
  dag_free(&d);
}
END_TEST

START_TEST(step_outputs_pending) {
  dagrun d;
  diamond_with(&d, "");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  node(&d, "a")->outputs_pending = 1;
  step(&d, 111, &o);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  ck_assert_int_eq(node(&d, "a")->phase, PL_RUNNING);
  ck_assert_str_eq(node(&d, "a")->message, "attempt 1 succeeded; reading its outputs");
  dag_free(&d);
}
END_TEST

START_TEST(step_parallelism) {
  dagrun d;
  diamond_with(&d, ",'parallelism':1");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b");
  ck_assert_str_eq(node(&d, "c")->message, "waiting: 1 tasks already run (parallelism)");
  job(&d, "b", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "c");
  dag_free(&d);
}
END_TEST

START_TEST(step_retries_then_fail_fast) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'},'retries':{'limit':2,'backoffSeconds':10}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'x','templateRef':{'name':'t'}},"
               "{'name':'y','templateRef':{'name':'t'},'dependsOn':['x']}]}");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a,x");
  job(&d, "x", PL_JOB_ACTIVE, 100);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  pl_node *a = node(&d, "a");
  ck_assert_int_eq(a->phase, PL_RUNNING);
  ck_assert_int_eq(a->retry_at, 115);
  ck_assert_str_eq(a->message, "attempt 1 failed: exit code 1; retry 1 of 2 at +9s");
  ck_assert_int_eq(o.wakeup, 115);
  step(&d, 110, &o); /* still waiting */
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  step(&d, 115, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(a->attempts, 2);
  job(&d, "a", PL_JOB_FAILED, 120);
  step(&d, 120, &o);
  ck_assert_int_eq(a->retry_at, 130);
  step(&d, 131, &o);
  ck_assert_int_eq(a->attempts, 3);
  job(&d, "a", PL_JOB_FAILED, 140);
  step(&d, 141, &o);
  ck_assert_int_eq(a->phase, PL_FAILED);
  ck_assert_str_eq(a->message, "failed after 3 attempts: exit code 1");
  /* FailFast: b (downstream) and y (not started) are omitted; x, running, finishes. */
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  ck_assert_int_eq(node(&d, "y")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "y")->message, "not started: task a failed (failurePolicy FailFast)");
  ck_assert_int_eq(node(&d, "x")->phase, PL_RUNNING);
  ck_assert_int_eq(o.run_phase, PL_RUNNING);
  job(&d, "x", PL_JOB_SUCCEEDED, 150);
  step(&d, 151, &o);
  ck_assert_int_eq(node(&d, "x")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_str_eq(o.message, "task a failed: failed after 3 attempts: exit code 1");
  dag_free(&d);
}
END_TEST

START_TEST(step_continue) {
  dagrun d;
  dag_load(&d, "{'failurePolicy':'Continue','tasks':[{'name':'a','templateRef':{'name':'t'}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'c','templateRef':{'name':'t'},'dependsOn':['b']},"
               "{'name':'x','templateRef':{'name':'t'}},"
               "{'name':'y','templateRef':{'name':'t'},'dependsOn':['x']}]}");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "x", PL_JOB_ACTIVE, 100);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_FAILED);
  ck_assert_str_eq(node(&d, "a")->message, "exit code 1");
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "b")->message, "not started: its dependency a failed");
  ck_assert_int_eq(node(&d, "c")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "c")->message, "not started: its dependency b was not run");
  ck_assert_int_eq(node(&d, "y")->phase, PL_PENDING); /* the independent branch goes on */
  job(&d, "x", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "y");
  job(&d, "y", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_uint_eq(o.done, 5);
  dag_free(&d);
}
END_TEST

START_TEST(step_skip_and_when) {
  dagrun d;
  diamond_with(&d, "");
  /* b is skipped (skip: true), c's condition is false: d still runs. */
  d.s.tasks[pl_spec_task(&d.s, "b")].skip = 1;
  json_t *j = NULL;
  (void)j;
  pl_when *w = NULL;
  char err[200];
  ck_assert_int_eq(pl_when_parse("params.x == 1", &w, err, sizeof(err)), 0);
  pl_task *c = &d.s.tasks[pl_spec_task(&d.s, "c")];
  c->when = w;
  c->when_src = "params.x == 1";
  d.when_result[pl_spec_task(&d.s, "c")] = 0;
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  ck_assert_int_eq(node(&d, "b")->phase, PL_SKIPPED);
  ck_assert_str_eq(node(&d, "b")->message, "skipped: skip is true");
  ck_assert_int_eq(node(&d, "c")->phase, PL_SKIPPED);
  ck_assert_str_eq(node(&d, "c")->message, "skipped: when (params.x == 1) is false");
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "d");
  job(&d, "d", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  /* A condition that cannot be evaluated fails the task. */
  dagrun e;
  diamond_with(&e, "");
  pl_when *w2 = NULL;
  ck_assert_int_eq(pl_when_parse("params.x == 1", &w2, err, sizeof(err)), 0);
  e.s.tasks[pl_spec_task(&e.s, "c")].when = w2;
  e.when_result[pl_spec_task(&e.s, "c")] = -1;
  step(&e, 100, &o);
  job(&e, "a", PL_JOB_SUCCEEDED, 110);
  step(&e, 111, &o);
  ck_assert_int_eq(node(&e, "c")->phase, PL_FAILED);
  ck_assert_str_eq(node(&e, "c")->message, "when: tasks.x.outputs.y (\"high\") is not a number");
  ck_assert_int_eq(node(&e, "d")->phase, PL_OMITTED);
  dag_free(&e);
  dag_free(&d);
}
END_TEST

START_TEST(step_timeout) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'},'timeoutSeconds':30,"
               "'retries':{'limit':1,'backoffSeconds':5}}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_ACTIVE, 101);
  step(&d, 120, &o);
  ck_assert_int_eq(o.wakeup, 131);
  ck_assert_int_eq(node(&d, "a")->action, PL_ACT_NONE);
  step(&d, 131, &o);
  pl_node *a = node(&d, "a");
  ck_assert_int_eq(a->action, PL_ACT_STOP);
  ck_assert_int_eq(a->phase, PL_RUNNING);
  ck_assert_int_eq(a->retry_at, 136);
  ck_assert_str_eq(a->message, "attempt 1 failed: timed out after 30s (timeoutSeconds); retry 1 of 1 at +5s");
  step(&d, 136, &o);
  ck_assert_int_eq(a->action, PL_ACT_CREATE);
  ck_assert_int_eq(a->attempts, 2);
  job(&d, "a", PL_JOB_ACTIVE, 137);
  step(&d, 170, &o);
  ck_assert_int_eq(a->action, PL_ACT_STOP);
  ck_assert_int_eq(a->phase, PL_FAILED);
  ck_assert_str_eq(a->message, "failed after 2 attempts: timed out after 30s (timeoutSeconds)");
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  dag_free(&d);
}
END_TEST

START_TEST(step_retry_from_failure) {
  dagrun d;
  dag_load(&d, "{'failurePolicy':'Continue','tasks':[{'name':'a','templateRef':{'name':'t'},"
               "'retries':{'limit':1,'backoffSeconds':0}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'x','templateRef':{'name':'t'}}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "x", PL_JOB_SUCCEEDED, 105);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  step(&d, 106, &o); /* backoff 0: attempt 2 */
  ck_assert_int_eq(node(&d, "a")->attempts, 2);
  job(&d, "a", PL_JOB_FAILED, 110);
  step(&d, 111, &o);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  /* Retry: a and b again, x kept; a gets a fresh budget from attempt 3. */
  ck_assert_uint_eq(pl_dag_retry(&d.s, d.nodes), 2);
  ck_assert_int_eq(node(&d, "x")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "a")->phase, PL_PENDING);
  ck_assert_int_eq(node(&d, "a")->first_attempt, 3);
  step(&d, 200, &o);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(node(&d, "a")->attempts, 3);
  job(&d, "a", PL_JOB_FAILED, 205);
  step(&d, 206, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_RUNNING); /* one retry in this round too */
  step(&d, 206, &o);
  ck_assert_int_eq(node(&d, "a")->attempts, 4);
  job(&d, "a", PL_JOB_SUCCEEDED, 210);
  step(&d, 211, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b");
  job(&d, "b", PL_JOB_SUCCEEDED, 220);
  step(&d, 221, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  dag_free(&d);
}
END_TEST

/* ============================================================ tasks */

static int dns_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
  return 1;
}

START_TEST(task_job_names) {
  char name[64], again[64], other[64];
  pl_task_job_name("etl-1773118800", "train", 2, name, sizeof(name));
  ck_assert_str_eq(name, "etl-1773118800-train-2");
  /* Too long: a prefix and a hash of the whole name, stable and distinct. */
  const char *run = "a-very-long-pipeline-name-for-the-nightly-etl-1773118800";
  pl_task_job_name(run, "preprocess-the-dataset", 1, name, sizeof(name));
  pl_task_job_name(run, "preprocess-the-dataset", 1, again, sizeof(again));
  pl_task_job_name(run, "preprocess-the-dataset", 2, other, sizeof(other));
  ck_assert_str_eq(name, again);
  ck_assert_str_ne(name, other);
  ck_assert_uint_le(strlen(name), PL_MAX_CHILD_NAME);
  ck_assert(dns_label(name));
  ck_assert(strncmp(name, "a-very-long-pipeline-name-for-the-nightly-etl", 20) == 0);
  /* A prefix that ends in '-' loses it. */
  pl_task_job_name("x-----------------------------------------------------------", "t", 1, name, sizeof(name));
  ck_assert(dns_label(name));
}
END_TEST

static const json_t *task_values(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  json_t *values = arg;
  char key[200];
  if (ref->kind == PL_REF_PARAM) snprintf(key, sizeof(key), "%s", ref->name);
  else pl_ref_format(ref, key, sizeof(key));
  json_t *v = json_object_get(values, key);
  if (v == NULL) snprintf(err, errlen, "not set");
  return v;
}

START_TEST(task_trainingjob) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'etl-1','namespace':'ml',"
                  "'uid':'run-uid','annotations':{'cubit.dev/user':'alice'}},'spec':{'pipelineRef':{'name':'etl'}}}");
  json_t *tspec = J("{'parameters':[{'name':'workers','type':'int','default':2},{'name':'data'}],"
                    "'outputs':[{'name':'model','path':'out/model.txt'}],"
                    "'workload':{'framework':'batch','image':'trainer:1','args':['--data={{params.data}}',"
                    "'--day={{run.scheduledTime}}','--prev={{tasks.prep.outputs.rows}}'],"
                    "'env':[{'name':'CUBIT_TASK','value':'mine'}],"
                    "'roles':{'main':{'replicas':'{{params.workers}}','resources':{'cpu':'1','memory':'1Gi'}}}}}");
  pl_template tm;
  char err[600] = "";
  ck_assert_msg(pl_template_parse(tspec, &tm, err, sizeof(err)) == 0, "%s", err);
  json_t *spec = J("{'tasks':[{'name':'train','templateRef':{'name':'t'},'resources':{'gpu':'1','memory':'8Gi'}}],"
                   "'workVolume':{'claimName':'team','subPath':'runs/{{run.name}}','mountPath':'/work'}}");
  pl_spec s;
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  pl_work_mount m;
  pl_work_mount_of(&s.work, "etl-1", &m);
  json_t *values = J("{'workers':3,'data':'s3://d','run.scheduledTime':'2026-03-10T05:00:00Z',"
                     "'tasks.prep.outputs.rows':'1200'}");
  pl_task_input in = {run, &s.tasks[0], &tm, values, &m, 2, task_values, values};
  json_t *tj = NULL;
  ck_assert_msg(pl_task_trainingjob(&in, &tj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_name(tj), "etl-1-train-2");
  ck_assert_str_eq(js_namespace(tj), "ml");
  json_t *labels = js_get(tj, "metadata.labels");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/pipelinerun")), "etl-1");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/pipeline-task")), "train");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/attempt")), "2");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/pipeline")), "etl");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(tj, "metadata.annotations"), "cubit.dev/user")), "alice");
  json_t *owner = json_array_get(js_get(tj, "metadata.ownerReferences"), 0);
  ck_assert_str_eq(js_str(owner, "kind"), "PipelineRun");
  ck_assert_str_eq(js_str(owner, "uid"), "run-uid");
  ck_assert(js_bool(owner, "controller", 0));
  /* The integer parameter became an integer; strings were spliced. */
  ck_assert_int_eq(js_int(tj, "spec.roles.main.replicas", 0), 3);
  json_t *args = js_get(tj, "spec.args");
  ck_assert_str_eq(json_string_value(json_array_get(args, 0)), "--data=s3://d");
  ck_assert_str_eq(json_string_value(json_array_get(args, 1)), "--day=2026-03-10T05:00:00Z");
  ck_assert_str_eq(json_string_value(json_array_get(args, 2)), "--prev=1200");
  /* The task's resources win over the template's, key by key. */
  json_t *res = js_get(tj, "spec.roles.main.resources");
  ck_assert_str_eq(js_str(res, "cpu"), "1");
  ck_assert_str_eq(js_str(res, "memory"), "8Gi");
  ck_assert_str_eq(js_str(res, "gpu"), "1");
  /* The work volume, and where outputs go; the workload's own CUBIT_TASK comes last and wins. */
  json_t *vol = json_array_get(js_get(tj, "spec.volumes"), 0);
  ck_assert_str_eq(js_str(vol, "claimName"), "team");
  ck_assert_str_eq(js_str(vol, "subPath"), "runs/etl-1");
  ck_assert_str_eq(js_str(vol, "mountPath"), "/work");
  json_t *env = js_get(tj, "spec.env");
  const char *want[][2] = {{"CUBIT_PIPELINE_RUN", "etl-1"}, {"CUBIT_TASK", "train"}, {"CUBIT_ATTEMPT", "2"},
                           {"CUBIT_WORK_DIR", "/work"}, {"CUBIT_OUTPUTS_DIR", "/work/outputs/train"},
                           {"CUBIT_OUTPUT_model", "/work/outputs/train/out/model.txt"}, {"CUBIT_TASK", "mine"}};
  ck_assert_uint_eq(json_array_size(env), 7);
  for (size_t k = 0; k < 7; k++) {
    ck_assert_str_eq(js_str(json_array_get(env, k), "name"), want[k][0]);
    ck_assert_str_eq(js_str(json_array_get(env, k), "value"), want[k][1]);
  }
  json_decref(tj);
  /* A substituted workload that is no TrainingJob spec is refused. */
  json_object_set_new(values, "workers", json_integer(0));
  ck_assert_int_eq(pl_task_trainingjob(&in, &tj, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "the template's workload is no valid TrainingJob spec: spec.workload.roles.main.replicas: want "
                        "an integer of at least 1");
  json_decref(values);
  pl_spec_free(&s);
  json_decref(spec);
  pl_template_free(&tm);
  json_decref(tspec);
  json_decref(run);
}
END_TEST

/* The reader's script, run by sh over real files, then parsed back. */
START_TEST(outputs_reader_round_trip) {
  char *dir = testutil_tmpdir();
  char *f1 = testutil_write_file(dir, "model.txt", "s3://bucket/model-7\n");
  char *f2 = testutil_write_file(dir, "report", "line one\nline two: 100% done\n");
  char *f3 = testutil_write_file(dir, "empty", "");
  char *msg = NULL;
  ck_assert_int_gt(asprintf(&msg, "%s/termination-log", dir), 0);
  /* The script writes /dev/termination-log; here, a file of the test's. */
  const char *script = pl_outputs_script();
  char *local = malloc(strlen(script) + strlen(msg) + 1);
  const char *at = strstr(script, "/dev/termination-log");
  ck_assert_ptr_nonnull(at);
  sprintf(local, "%.*s%s%s", (int)(at - script), script, msg, at + strlen("/dev/termination-log"));
  char *missing = NULL;
  ck_assert_int_gt(asprintf(&missing, "%s/nope", dir), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", local, "sh", "model", f1, "report", f2, "empty", f3, "gone", missing, (char *)NULL);
    _exit(127);
  }
  int wstatus = 0;
  ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
  ck_assert(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  FILE *f = fopen(msg, "r");
  ck_assert_ptr_nonnull(f);
  char text[4096];
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = '\0';
  fclose(f);
  ck_assert_str_eq(text, "model=s3://bucket/model-7\nreport=line one%0Aline two: 100%25 done\nempty=\n-gone\n");
  json_t *tspec = J("{'outputs':[{'name':'model','path':'model.txt'},{'name':'report','path':'report'},"
                    "{'name':'empty','path':'empty'}],'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}");
  pl_template tm;
  char err[600] = "";
  ck_assert_int_eq(pl_template_parse(tspec, &tm, err, sizeof(err)), 0);
  json_t *values = NULL;
  ck_assert_msg(pl_outputs_parse(text, &tm, "/cubit/work/outputs/t", &values, err, sizeof(err)) == 0, "%s", err);
  json_t *want = J("{'model':'s3://bucket/model-7','report':'line one\\nline two: 100% done','empty':''}");
  ck_assert(json_equal(want, values));
  json_decref(want);
  json_decref(values);
  /* A declared output whose file was missing, or that is not in the message at all. */
  ck_assert_int_eq(pl_outputs_parse("model=x\n-report\nempty=\n", &tm, "/w/outputs/t", &values, err, sizeof(err)),
                   CUBIT_EINVAL);
  ck_assert_str_eq(err, "output report: the task wrote no file /w/outputs/t/report");
  ck_assert_int_eq(pl_outputs_parse("model=x\nempty=", &tm, "/w/outputs/t", &values, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "output report is missing from the outputs reader's message (outputs are read from "
                        "/w/outputs/t/report; at most 4 KiB in all)");
  pl_template_free(&tm);
  json_decref(tspec);
  free(missing);
  free(local);
  free(msg);
  free(f1);
  free(f2);
  free(f3);
  free(dir);
}
END_TEST

START_TEST(outputs_reader_job) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'etl-1','namespace':'ml',"
                  "'uid':'run-uid','annotations':{'cubit.dev/user':'bob'}}}");
  json_t *tj = J("{'metadata':{'name':'etl-1-train-1'},'spec':{'podMetadata':{'annotations':{'sidecar.istio.io/inject':"
                 "'false'},'labels':{'team':'x'}}}}");
  json_t *tspec = J("{'outputs':[{'name':'model','path':'m.txt'}],'workload':{'framework':'batch','image':'x',"
                    "'roles':{'main':{}}}}");
  pl_template tm;
  char err[300];
  ck_assert_int_eq(pl_template_parse(tspec, &tm, err, sizeof(err)), 0);
  pl_work_mount m = {"etl-1-work", "", "/cubit/work"};
  json_t *job = pl_outputs_reader(run, tj, &tm, &m, "train", "busybox:1.36");
  ck_assert_str_eq(js_name(job), "etl-1-train-1-outputs");
  json_t *c = json_array_get(js_get(job, "spec.template.spec.containers"), 0);
  ck_assert_str_eq(js_str(c, "image"), "busybox:1.36");
  ck_assert_str_eq(js_str(c, "terminationMessagePolicy"), "File");
  json_t *args = json_object_get(c, "args");
  ck_assert_uint_eq(json_array_size(args), 5);
  ck_assert_str_eq(json_string_value(json_array_get(args, 3)), "model");
  ck_assert_str_eq(json_string_value(json_array_get(args, 4)), "/cubit/work/outputs/train/m.txt");
  json_t *ann = js_get(job, "spec.template.metadata.annotations");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "sidecar.istio.io/inject")), "false");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "cubit.dev/user")), "bob");
  ck_assert_str_eq(js_str(job, "spec.template.spec.volumes") ? "" : "ok", "ok");
  ck_assert_str_eq(js_str(json_array_get(js_get(job, "spec.template.spec.volumes"), 0), "persistentVolumeClaim.claimName"),
                   "etl-1-work");
  ck_assert_str_eq(js_str(json_array_get(js_get(job, "metadata.ownerReferences"), 0), "uid"), "run-uid");
  json_decref(job);
  pl_template_free(&tm);
  json_decref(tspec);
  json_decref(tj);
  json_decref(run);
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
  /* A run may be created before its pipeline: it waits. */
  r = J("{'metadata':{'name':'r','namespace':'ml'},'spec':{'pipelineRef':{'name':'later'},'params':{'x':1}}}");
  ck_assert_int_eq(validate_pipelinerun(&hf.env, r, err, sizeof(err)), 0);
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
  Suite *s = suite_create("pipeline");
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
  suite_add_tcase(s, tc);
  tc = tcase_create("spec");
  tcase_add_loop_test(tc, spec_parse_errors, 0, N(spec_errors));
  tcase_add_test(tc, spec_topological_order);
  tcase_add_test(tc, spec_schedule_defaults);
  tcase_add_loop_test(tc, spec_against_templates, 0, N(template_checks));
  tcase_add_loop_test(tc, template_validation, 0, N(template_errors));
  tcase_add_test(tc, template_accepted);
  suite_add_tcase(s, tc);
  tc = tcase_create("schedule");
  tcase_add_test(tc, sched_backfill_window);
  tcase_add_test(tc, sched_max_active_runs);
  tcase_add_test(tc, sched_depends_on_past);
  tcase_add_test(tc, sched_after_a_crash);
  tcase_add_test(tc, sched_catchup_false);
  tcase_add_test(tc, sched_forbid);
  tcase_add_test(tc, sched_replace);
  tcase_add_test(tc, sched_starting_deadline);
  tcase_add_test(tc, sched_suspend_and_end);
  tcase_add_test(tc, sched_history_and_ttl);
  tcase_add_test(tc, sched_time_zones);
  tcase_add_test(tc, sched_batches);
  suite_add_tcase(s, tc);
  tc = tcase_create("executor");
  tcase_add_test(tc, step_diamond_order);
  tcase_add_test(tc, step_outputs_pending);
  tcase_add_test(tc, step_parallelism);
  tcase_add_test(tc, step_retries_then_fail_fast);
  tcase_add_test(tc, step_continue);
  tcase_add_test(tc, step_skip_and_when);
  tcase_add_test(tc, step_timeout);
  tcase_add_test(tc, step_retry_from_failure);
  suite_add_tcase(s, tc);
  tc = tcase_create("tasks");
  tcase_add_test(tc, task_job_names);
  tcase_add_test(tc, task_trainingjob);
  tcase_add_test(tc, outputs_reader_round_trip);
  tcase_add_test(tc, outputs_reader_job);
  suite_add_tcase(s, tc);
  tc = tcase_create("webhooks");
  tcase_add_checked_fixture(tc, hooks_setup, hooks_teardown);
  tcase_add_loop_test(tc, webhook_pipeline, 0, N(pipeline_reviews));
  tcase_add_test(tc, webhook_pipelinerun);
  tcase_add_test(tc, webhook_jobtemplate);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
