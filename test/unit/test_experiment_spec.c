/* Tests of the Experiment kind's spec (api/experiment/spec.c) and its
 * validating webhook (webhooks/validate/experiment.c): every refusal names
 * the field; the template's bindings are checked against the template when
 * it is known; a trial's TrainingJob is checked as the TrainingJob webhook
 * would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/spec.h"
#include "cache/store.h"
#include "testutil.h"
#include "util/json.h"
#include "webhooks/validate/experiment.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define J(text) testutil_json(text)

static json_t *experiment(const char *extra) {
  json_t *e = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'Experiment','metadata':{'name':'e','namespace':'ns'},"
                "'spec':{'objective':{'metric':'loss','type':'minimize','goal':0.1},"
                "'parameters':[{'name':'lr','type':'double','min':0.001,'max':0.1,'scale':'log'},"
                "{'name':'opt','type':'categorical','list':['adam','sgd']}],"
                "'algorithm':{'name':'tpe','seed':1},"
                "'trialTemplate':{'trainingJob':{'framework':'batch','image':'img',"
                "'args':['--lr={{trial.parameters.lr}}','--opt={{trial.parameters.opt}}'],"
                "'roles':{'main':{'replicas':1}}}}}}");
  if (extra) {
    json_t *x = J(extra);
    json_object_update(json_object_get(e, "spec"), x);
    json_decref(x);
  }
  return e;
}

START_TEST(defaults) {
  json_t *e = experiment(NULL);
  exp_spec s;
  char err[600];
  ck_assert_msg(exp_spec_parse(e, &s, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(s.parallel_trials, 1);
  ck_assert_int_eq(s.max_trials, 10);
  ck_assert_int_eq(s.max_failed_trials, 3);
  ck_assert_int_eq(s.source, EXP_TEMPLATE_INLINE);
  ck_assert_int_eq(s.metrics_source, EXP_METRICS_STDOUT);
  ck_assert_int_eq(s.metrics_format, HPO_METRICS_TEXT);
  ck_assert_uint_eq(s.space.n, 2);
  exp_spec_free(&s);
  json_decref(e);
  e = experiment("{'parallelTrials':4,'maxTrials':50,'maxFailedTrials':0,"
                 "'metricsCollector':{'source':'file','format':'json','path':'/tmp/metrics'},"
                 "'trialTemplate':{'templateRef':{'kind':'ClusterJobTemplate','name':'t'},"
                 "'parameters':{'rate':'{{trial.parameters.lr}}','n':3,'name':'{{trial.name}}'}}}");
  ck_assert_msg(exp_spec_parse(e, &s, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(s.parallel_trials, 4);
  ck_assert_int_eq(s.max_failed_trials, 0);
  ck_assert_int_eq(s.source, EXP_TEMPLATE_REF);
  ck_assert_int_eq(s.ref_kind, PL_TEMPLATE_CLUSTER);
  ck_assert_str_eq(s.ref_name, "t");
  ck_assert_int_eq(s.metrics_source, EXP_METRICS_FILE);
  ck_assert_int_eq(s.metrics_format, HPO_METRICS_JSON);
  ck_assert_str_eq(s.metrics_path, "/tmp/metrics");
  exp_spec_free(&s);
  json_decref(e);
}
END_TEST

typedef struct {
  const char *extra;
  const char *message; /* the start of the webhook's message */
} bad_case;

static const bad_case bad[] = {
    {"{'parameters':[{'name':'lr','type':'double','min':0.1,'max':0.1}]}", "spec.parameters[0].max: "},
    {"{'parameters':[]}", "spec.parameters: "},
    {"{'objective':{'metric':'loss','type':'lowest'}}", "spec.objective.type: want minimize or maximize"},
    {"{'objective':{'metric':'loss','type':'minimize','goal':'low'}}", "spec.objective.goal: want a number"},
    {"{'algorithm':{'name':'tpe','settings':{'gama':0.2}}}", "spec.algorithm.settings.gama: "},
    {"{'algorithm':{'name':'annealing'}}", "spec.algorithm.name: "},
    {"{'earlyStopping':{'name':'medianstop','settings':{'minTrial':3}}}", "spec.earlyStopping.settings.minTrial: "},
    {"{'parallel':2}", "spec.parallel: unknown field"},
    {"{'parallelTrials':0}", "spec.parallelTrials: want an integer in [1, 100]"},
    {"{'maxTrials':'ten'}", "spec.maxTrials: want an integer in [1, 10000]"},
    {"{'maxFailedTrials':-1}", "spec.maxFailedTrials: want an integer in [0, 10000]"},
    {"{'metricsCollector':{'source':'stderr'}}", "spec.metricsCollector.source: want stdout or file"},
    {"{'metricsCollector':{'format':'csv'}}", "spec.metricsCollector.format: want text or json"},
    {"{'metricsCollector':{'path':'/m'}}", "spec.metricsCollector.path: only with source: file"},
    {"{'metricsCollector':{'source':'file','path':'m.txt'}}", "spec.metricsCollector.path: want an absolute path"},
    {"{'trialTemplate':{}}", "spec.trialTemplate: want exactly one of templateRef and trainingJob"},
    {"{'trialTemplate':{'templateRef':{'name':'t'},'trainingJob':{}}}",
     "spec.trialTemplate: want exactly one of templateRef and trainingJob"},
    {"{'trialTemplate':{'templateRef':{'kind':'Pipeline','name':'t'}}}",
     "spec.trialTemplate.templateRef.kind: want JobTemplate or ClusterJobTemplate, got \"Pipeline\""},
    {"{'trialTemplate':{'templateRef':{'kind':'JobTemplate'}}}", "spec.trialTemplate.templateRef.name: required"},
    {"{'trialTemplate':{'templateRef':{'name':'t'},'parameters':{'rate':'{{trial.parameters.momentum}}'}}}",
     "spec.trialTemplate.parameters.rate: unknown substitution {{trial.parameters.momentum}}: "
     "{{trial.parameters.momentum}}: spec.parameters has no parameter momentum"},
    {"{'trialTemplate':{'templateRef':{'name':'t'},'parameters':{'rate':{'a':1}}}}",
     "spec.trialTemplate.parameters.rate: want a string"},
    {"{'trialTemplate':{'trainingJob':{'framework':'batch','image':'{{params.image}}','roles':{'main':{'replicas':1}}}}}",
     "spec.trialTemplate.trainingJob.image: unknown substitution {{params.image}}: {{params.image}} is unknown here"},
    {"{'trialTemplate':{'trainingJob':{'framework':'batch','image':'i','roles':{'main':{'replicas':1}}},"
     "'parameters':{'a':'b'}}}",
     "spec.trialTemplate.parameters: only with a templateRef"},
    {"{'trialTemplate':{'trainingJob':{'framework':'caffe','image':'i','roles':{'main':{'replicas':1}}}}}",
     "spec.trialTemplate.trainingJob.framework"},
};

START_TEST(refused) {
  const bad_case *c = &bad[_i];
  json_t *e = experiment(c->extra);
  char err[900] = "";
  ck_assert_int_eq(validate_experiment(NULL, e, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strncmp(err, c->message, strlen(c->message)) == 0, "case %d: %s\nwant: %s", _i, err, c->message);
  json_decref(e);
}
END_TEST

/* With the template in the cache: bindings against its parameters, the
 * trial's TrainingJob from its workload. */
START_TEST(with_template) {
  webhook_env env;
  memset(&env, 0, sizeof(env));
  env.jobtemplates = cache_store_new();
  env.clusterjobtemplates = cache_store_new();
  json_t *tmpl = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'JobTemplate',"
                   "'metadata':{'name':'train','namespace':'ns'},"
        "'spec':{'parameters':[{'name':'rate','type':'float','required':true},{'name':'opt','type':'enum',"
        "'enum':['adam','sgd']}],'workload':{'framework':'batch','image':'img',"
        "'args':['{{params.rate}}','{{params.opt}}'],'roles':{'main':{'replicas':1}}}}}");
  json_decref(cache_store_upsert(env.jobtemplates, tmpl)); /* the store takes its own reference */
  json_decref(tmpl);
  char err[900] = "";
  json_t *e = experiment("{'trialTemplate':{'templateRef':{'name':'train'},"
                         "'parameters':{'rate':'{{trial.parameters.lr}}','opt':'{{trial.parameters.opt}}'}}}");
  ck_assert_msg(validate_experiment(&env, e, err, sizeof(err)) == 0, "%s", err);
  json_decref(e);
  e = experiment("{'trialTemplate':{'templateRef':{'name':'train'},"
                 "'parameters':{'rate':'{{trial.parameters.lr}}','momentum':'0.9'}}}");
  ck_assert_int_eq(validate_experiment(&env, e, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.trialTemplate.parameters.momentum: JobTemplate train has no parameter momentum");
  json_decref(e);
  /* A required template parameter left out. */
  e = experiment("{'trialTemplate':{'templateRef':{'name':'train'},'parameters':{'opt':'{{trial.parameters.opt}}'}}}");
  ck_assert_int_eq(validate_experiment(&env, e, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strstr(err, "rate") != NULL, "%s", err);
  json_decref(e);
  /* A value the template's type refuses. */
  e = experiment("{'trialTemplate':{'templateRef':{'name':'train'},"
                 "'parameters':{'rate':'{{trial.parameters.opt}}','opt':'adam'}}}");
  ck_assert_int_eq(validate_experiment(&env, e, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strstr(err, "spec.trialTemplate.parameters.rate") != NULL, "%s", err);
  json_decref(e);
  /* An unknown template: the controller waits for it. */
  e = experiment("{'trialTemplate':{'templateRef':{'name':'later'},'parameters':{'x':'{{trial.number}}'}}}");
  ck_assert_msg(validate_experiment(&env, e, err, sizeof(err)) == 0, "%s", err);
  json_decref(e);
  cache_store_free(env.jobtemplates);
  cache_store_free(env.clusterjobtemplates);
}
END_TEST

/* A trial's name and refs; the template's reference grammar refuses trial.*. */
START_TEST(trial_refs) {
  char name[64];
  exp_trial_name("mnist", 12, name, sizeof(name));
  ck_assert_str_eq(name, "mnist-12");
  pl_ref r;
  ck_assert_int_eq(pl_ref_parse("trial.parameters.lr", 19, &r), 0);
  ck_assert_int_eq(r.kind, PL_REF_TRIAL);
  ck_assert_str_eq(r.name, "parameters.lr");
  ck_assert_int_eq(pl_ref_parse("trial.number", 12, &r), 0);
  ck_assert_int_eq(pl_ref_parse("trial.uid", 9, &r), CUBIT_EINVAL);
  ck_assert_int_eq(pl_ref_parse("trial.parameters", 16, &r), CUBIT_EINVAL);
  json_t *spec = J("{'parameters':[],'workload':{'framework':'batch','image':'{{trial.name}}',"
                   "'roles':{'main':{'replicas':1}}}}");
  pl_template t;
  char err[600];
  ck_assert_int_eq(pl_template_parse(spec, &t, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strstr(err, "trial.* is known only in an Experiment's trial template") != NULL, "%s", err);
  json_decref(spec);
}
END_TEST

int main(void) {
  Suite *s = suite_create("experiment_spec");
  TCase *tc = tcase_create("spec");
  tcase_add_test(tc, defaults);
  tcase_add_loop_test(tc, refused, 0, N(bad));
  tcase_add_test(tc, with_template);
  tcase_add_test(tc, trial_refs);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
