/* The Experiment's spec: the search, the trial template, the limits and
 * the metrics collector; and a trial's TrainingJob spec from the template. */
#include "api/experiment/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

const kube_resource experiment_resource = {"cubit.dev", "v1alpha1", "experiments", "Experiment", 1};

static const char *const spec_fields[] = {"objective",     "parameters", "algorithm",      "earlyStopping",
                                          "trialTemplate", "parallelTrials", "maxTrials", "maxFailedTrials",
                                          "metricsCollector", "suspend"};

static int known(const char *key, const char *const *names, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (strcmp(key, names[k]) == 0) return 1;
  return 0;
}

static int int_field(const json_t *spec, const char *name, int min, int max, int def, int *out, char *err,
                     size_t errlen) {
  const json_t *v = json_object_get(spec, name);
  *out = def;
  if (v == NULL || json_is_null(v)) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.%s: want an integer in [%d, %d]", name, min, max);
  *out = (int)json_integer_value(v);
  return 0;
}

/* {{trial.*}} references: trial.name, trial.number and the space's
 * parameters. */
static int trial_ref_check(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  const hpo_space *space = arg;
  if (ref->kind != PL_REF_TRIAL) {
    char text[200];
    pl_ref_format(ref, text, sizeof(text));
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "{{%s}} is unknown here (want trial.name, trial.number or trial.parameters.NAME)", text);
  }
  if (strncmp(ref->name, "parameters.", 11) == 0 && hpo_space_find(space, ref->name + 11) < 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "{{trial.%s}}: spec.parameters has no parameter %s", ref->name,
                        ref->name + 11);
  return 0;
}

static int parse_template(const json_t *tt, exp_spec *out, char *err, size_t errlen) {
  if (!json_is_object(tt))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.trialTemplate: required: a templateRef with parameters, or a trainingJob spec");
  const char *key;
  const json_t *v;
  static const char *const fields[] = {"templateRef", "parameters", "trainingJob"};
  json_object_foreach((json_t *)tt, key, v) {
    if (!known(key, fields, 3))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.trialTemplate.%s: unknown field (known: templateRef, parameters, trainingJob)", key);
  }
  const json_t *ref = json_object_get(tt, "templateRef"), *inline_spec = json_object_get(tt, "trainingJob");
  if ((ref != NULL) == (inline_spec != NULL))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate: want exactly one of templateRef and trainingJob");
  if (inline_spec) {
    if (!json_is_object(inline_spec))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.trainingJob: want a TrainingJob spec object");
    if (json_object_get(tt, "parameters"))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.trialTemplate.parameters: only with a templateRef (write {{trial.parameters.NAME}} "
                          "in the trainingJob spec itself)");
    out->source = EXP_TEMPLATE_INLINE;
    out->trainingjob = inline_spec;
    return pl_subst_check(inline_spec, "spec.trialTemplate.trainingJob", trial_ref_check, &out->space, err, errlen);
  }
  out->source = EXP_TEMPLATE_REF;
  if (!json_is_object(ref)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.templateRef: want {kind, name}");
  json_object_foreach((json_t *)ref, key, v) {
    if (strcmp(key, "kind") != 0 && strcmp(key, "name") != 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.templateRef.%s: unknown field (known: kind, name)",
                          key);
  }
  const char *kind = js_str(ref, "kind");
  if (kind == NULL || strcmp(kind, "JobTemplate") == 0)
    out->ref_kind = PL_TEMPLATE_NAMESPACED;
  else if (strcmp(kind, "ClusterJobTemplate") == 0)
    out->ref_kind = PL_TEMPLATE_CLUSTER;
  else
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.trialTemplate.templateRef.kind: want JobTemplate or ClusterJobTemplate, got \"%s\"", kind);
  const char *name = js_str(ref, "name");
  if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(out->ref_name))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.trialTemplate.templateRef.name: required");
  snprintf(out->ref_name, sizeof(out->ref_name), "%s", name);
  const json_t *b = json_object_get(tt, "parameters");
  if (b && !json_is_null(b)) {
    if (!json_is_object(b))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.trialTemplate.parameters: want an object: template parameter → value");
    json_object_foreach((json_t *)b, key, v) {
      if (json_is_object(v) || json_is_array(v))
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "spec.trialTemplate.parameters.%s: want a string (with {{trial.parameters.NAME}}), a number "
                            "or a boolean", key);
    }
    out->bindings = b;
    return pl_subst_check(b, "spec.trialTemplate.parameters", trial_ref_check, &out->space, err, errlen);
  }
  return 0;
}

static int parse_collector(const json_t *mc, exp_spec *out, char *err, size_t errlen) {
  out->metrics_source = EXP_METRICS_STDOUT;
  out->metrics_format = HPO_METRICS_TEXT;
  if (mc == NULL || json_is_null(mc)) return 0;
  if (!json_is_object(mc)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector: want an object");
  const char *key;
  const json_t *v;
  static const char *const fields[] = {"source", "format", "path"};
  json_object_foreach((json_t *)mc, key, v) {
    if (!known(key, fields, 3))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector.%s: unknown field (known: source, format, path)",
                          key);
  }
  const char *source = js_str(mc, "source"), *format = js_str(mc, "format"), *path = js_str(mc, "path");
  if (source && strcmp(source, "file") == 0)
    out->metrics_source = EXP_METRICS_FILE;
  else if (source && strcmp(source, "stdout") != 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector.source: want stdout or file, got \"%s\"", source);
  if (format && strcmp(format, "json") == 0)
    out->metrics_format = HPO_METRICS_JSON;
  else if (format && strcmp(format, "text") != 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector.format: want text or json, got \"%s\"", format);
  if (path) {
    if (out->metrics_source != EXP_METRICS_FILE)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector.path: only with source: file");
    if (path[0] != '/' || strlen(path) >= sizeof(out->metrics_path))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.metricsCollector.path: want an absolute path (at most %zu "
                          "characters)", sizeof(out->metrics_path) - 1);
    snprintf(out->metrics_path, sizeof(out->metrics_path), "%s", path);
  }
  return 0;
}

int exp_spec_parse(const json_t *experiment, exp_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const json_t *spec = json_object_get(experiment, "spec");
  if (!json_is_object(spec)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec: required");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)spec, key, v) {
    if (!known(key, spec_fields, sizeof(spec_fields) / sizeof(spec_fields[0])))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.%s: unknown field (known: objective, parameters, algorithm, earlyStopping, "
                          "trialTemplate, parallelTrials, maxTrials, maxFailedTrials, metricsCollector, suspend)", key);
  }
  int rc = hpo_space_parse(json_object_get(spec, "parameters"), "spec.parameters", &out->space, err, errlen);
  if (rc == 0)
    rc = hpo_objective_parse(json_object_get(spec, "objective"), "spec.objective", &out->objective, err, errlen);
  if (rc == 0)
    rc = hpo_algorithm_parse(json_object_get(spec, "algorithm"), &out->space, "spec.algorithm", &out->algorithm, err,
                             errlen);
  if (rc == 0)
    rc = hpo_early_stopping_parse(json_object_get(spec, "earlyStopping"), "spec.earlyStopping", &out->early_stopping,
                                  err, errlen);
  if (rc == 0) rc = int_field(spec, "parallelTrials", 1, EXP_MAX_PARALLEL, 1, &out->parallel_trials, err, errlen);
  if (rc == 0) rc = int_field(spec, "maxTrials", 1, EXP_MAX_TRIALS, 10, &out->max_trials, err, errlen);
  if (rc == 0) rc = int_field(spec, "maxFailedTrials", 0, EXP_MAX_TRIALS, 3, &out->max_failed_trials, err, errlen);
  const json_t *suspend = json_object_get(spec, "suspend");
  if (rc == 0 && suspend && !json_is_boolean(suspend) && !json_is_null(suspend))
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.suspend: want true or false");
  out->suspend = json_is_true(suspend);
  if (rc == 0) rc = parse_template(json_object_get(spec, "trialTemplate"), out, err, errlen);
  if (rc == 0) rc = parse_collector(json_object_get(spec, "metricsCollector"), out, err, errlen);
  return rc;
}

void exp_spec_free(exp_spec *s) { hpo_space_free(&s->space); }

void exp_trial_name(const char *experiment, long long number, char *out, size_t len) {
  snprintf(out, len, "%s-%lld", experiment, number);
}

void exp_trial_refs_init(exp_trial_refs *r, const hpo_space *space, const char *ns, const char *experiment,
                         long long number, const double *x) {
  char name[300];
  exp_trial_name(experiment, number, name, sizeof(name));
  r->values = json_object();
  json_object_set_new(r->values, "name", json_string(name));
  json_object_set_new(r->values, "number", json_integer(number));
  json_object_set_new(r->values, " namespace", json_string(ns ? ns : ""));
  for (size_t i = 0; i < space->n; i++) {
    char key[HPO_NAME_LEN + 16];
    snprintf(key, sizeof(key), "parameters.%s", space->params[i].name);
    json_object_set_new(r->values, key, hpo_value_json(&space->params[i], x[i]));
  }
  r->name = json_string_value(json_object_get(r->values, "name"));
}

void exp_trial_refs_free(exp_trial_refs *r) {
  json_decref(r->values);
  r->values = NULL;
}

const json_t *exp_trial_ref_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  const exp_trial_refs *r = arg;
  const json_t *v = NULL;
  if (ref->kind == PL_REF_TRIAL) v = json_object_get(r->values, ref->name);
  else if (ref->kind == PL_REF_RUN && strcmp(ref->name, "name") == 0) v = json_object_get(r->values, "name");
  if (v == NULL) {
    char text[200];
    pl_ref_format(ref, text, sizeof(text));
    snprintf(err, errlen, "{{%s}} has no value in a trial", text);
  }
  return v;
}

/* The template's workload sees its own parameters (params.X, resolved from
 * the bindings), run.name (the trial's name) and run.namespace. */
typedef struct workload_refs {
  const exp_trial_refs *trial;
  const json_t *params;
} workload_refs;

static const json_t *workload_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  const workload_refs *w = arg;
  if (ref->kind == PL_REF_PARAM) {
    const json_t *v = json_object_get(w->params, ref->name);
    if (v == NULL) snprintf(err, errlen, "the template has no parameter %s", ref->name);
    return v;
  }
  if (ref->kind == PL_REF_RUN && strcmp(ref->name, "namespace") == 0) return json_object_get(w->trial->values, " namespace");
  return exp_trial_ref_value(ref, (void *)w->trial, err, errlen);
}

int exp_trial_spec(const exp_spec *s, const json_t *tmpl_spec, exp_trial_refs *refs, json_t **out, char *err,
                   size_t errlen) {
  *out = NULL;
  if (s->source == EXP_TEMPLATE_INLINE)
    return pl_subst_json(s->trainingjob, "spec.trialTemplate.trainingJob", exp_trial_ref_value, refs, out, err, errlen);
  pl_template t;
  char why[600];
  if (pl_template_parse(tmpl_spec, &t, why, sizeof(why)))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s %s: %s",
                        s->ref_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", s->ref_name, why);
  json_t *given = NULL, *params = NULL;
  int rc = 0;
  if (s->bindings)
    rc = pl_subst_json(s->bindings, "spec.trialTemplate.parameters", exp_trial_ref_value, refs, &given, err, errlen);
  else
    given = json_object();
  if (rc == 0) rc = pl_params_resolve(&t.params, given, "spec.trialTemplate.parameters", &params, err, errlen);
  if (rc == 0) {
    workload_refs w = {refs, params};
    rc = pl_subst_json(t.workload, "spec.workload", workload_value, &w, out, err, errlen);
  }
  json_decref(given);
  json_decref(params);
  pl_template_free(&t);
  return rc;
}
