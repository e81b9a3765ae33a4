#include "webhooks/validate/experiment.h"

#include <stdio.h>
#include <string.h>

#include "api/experiment/spec.h"
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"

/* The template the Experiment names, from the cache (a new reference), or
 * NULL when it is not known (yet). */
static json_t *find_template(const webhook_env *env, const exp_spec *s, const char *ns) {
  if (env == NULL) return NULL;
  cache_store *store = s->ref_kind == PL_TEMPLATE_CLUSTER ? env->clusterjobtemplates : env->jobtemplates;
  return store ? cache_store_get(store, s->ref_kind == PL_TEMPLATE_CLUSTER ? NULL : ns, s->ref_name) : NULL;
}

static int check_bindings(const exp_spec *s, const json_t *tmpl, char *err, size_t errlen) {
  pl_template t;
  char why[600];
  const char *kind = s->ref_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate";
  if (pl_template_parse(json_object_get(tmpl, "spec"), &t, why, sizeof(why)))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.templateRef: %s %s is invalid: %s", kind,
                        s->ref_name, why);
  int rc = 0;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)s->bindings, key, v) {
    if (pl_params_find(&t.params, key) == NULL) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.parameters.%s: %s %s has no parameter %s", key,
                        kind, s->ref_name, key);
      break;
    }
  }
  pl_template_free(&t);
  return rc;
}

/* The TrainingJob of a first trial (every parameter at its lowest value),
 * checked as the TrainingJob webhook would. */
static int check_sample_trial(const exp_spec *s, const json_t *exp, const json_t *tmpl, char *err, size_t errlen) {
  double x[HPO_MAX_PARAMS];
  for (size_t i = 0; i < s->space.n; i++) x[i] = hpo_param_snap(&s->space.params[i], s->space.params[i].min);
  exp_trial_refs refs;
  exp_trial_refs_init(&refs, &s->space, js_namespace(exp), js_name(exp) ? js_name(exp) : "experiment", 1, x);
  json_t *spec = NULL;
  int rc = exp_trial_spec(s, json_object_get(tmpl, "spec"), &refs, &spec, err, errlen);
  if (rc == 0) {
    json_t *tj = json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", "cubit.dev/v1alpha1", "kind", "TrainingJob",
                           "metadata", "name", refs.name, "spec", spec);
    tj_spec parsed;
    char why[512];
    if (tj_spec_parse(tj, &parsed, why, sizeof(why))) {
      const char *rest = strncmp(why, "spec.", 5) == 0 ? why + 5 : why;
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "%s%s (a trial's TrainingJob)",
                        s->source == EXP_TEMPLATE_INLINE ? "spec.trialTemplate.trainingJob." : "spec.workload.", rest);
    }
    json_decref(tj);
  }
  json_decref(spec);
  exp_trial_refs_free(&refs);
  return rc;
}

int validate_experiment(const webhook_env *env, const json_t *exp, char *err, size_t errlen) {
  exp_spec s;
  int rc = exp_spec_parse(exp, &s, err, errlen);
  json_t *tmpl = NULL;
  if (rc == 0 && s.source == EXP_TEMPLATE_REF) {
    tmpl = find_template(env, &s, js_namespace(exp));
    if (tmpl && s.bindings) rc = check_bindings(&s, tmpl, err, errlen);
  }
  if (rc == 0 && (s.source == EXP_TEMPLATE_INLINE || tmpl)) rc = check_sample_trial(&s, exp, tmpl, err, errlen);
  json_decref(tmpl);
  exp_spec_free(&s);
  return rc;
}

void validate_experiment_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[900];
  if (validate_experiment(env, req->object, err, sizeof(err)))
    adm_deny(resp, 422, "Experiment %s: %s", req->name, err);
}
