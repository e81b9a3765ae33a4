#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "util/alloc.h"
#include "util/json.h"

void pl_template_key(pl_template_kind kind, const char *name, char *out, size_t len) {
  snprintf(out, len, "%s/%s", kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", name);
}

/* FNV-1a: a short, stable hash for names that must be shortened. */
static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

void pl_task_job_name(const char *run, const char *task, int attempt, char *out, size_t len) {
  char full[400];
  snprintf(full, sizeof(full), "%s-%s-%d", run, task, attempt);
  if (strlen(full) <= PL_MAX_CHILD_NAME) {
    snprintf(out, len, "%s", full);
    return;
  }
  /* A prefix, then the hash of the whole name: still unique and stable. */
  char prefix[PL_MAX_CHILD_NAME];
  size_t keep = PL_MAX_CHILD_NAME - 9;
  memcpy(prefix, full, keep);
  prefix[keep] = '\0';
  while (keep > 0 && prefix[keep - 1] == '-') prefix[--keep] = '\0';
  snprintf(out, len, "%s-%08x", prefix, fnv1a(full));
}

/* ------------------------------------------------------ work volume */

void pl_work_mount_of(const pl_work_volume *w, const char *run, pl_work_mount *out) {
  memset(out, 0, sizeof(*out));
  if (w->kind == PL_WORK_NONE) return;
  snprintf(out->mount_path, sizeof(out->mount_path), "%s", w->mount_path);
  if (w->kind == PL_WORK_TEMPLATE) {
    snprintf(out->claim, sizeof(out->claim), "%s-work", run);
    return;
  }
  snprintf(out->claim, sizeof(out->claim), "%s", w->claim_name);
  /* {{run.name}} is the only reference a sub-path may use. */
  const char *src = w->sub_path;
  size_t used = 0;
  while (*src && used + 1 < sizeof(out->sub_path)) {
    if (strncmp(src, "{{run.name}}", 12) == 0) {
      int n = snprintf(out->sub_path + used, sizeof(out->sub_path) - used, "%s", run);
      if (n < 0) break;
      used += (size_t)n;
      src += 12;
      continue;
    }
    out->sub_path[used++] = *src++;
  }
  if (used >= sizeof(out->sub_path)) used = sizeof(out->sub_path) - 1;
  out->sub_path[used] = '\0';
}

json_t *pl_work_claim(const json_t *run, const pl_work_volume *w) {
  char *name = xasprintf("%s-work", js_name(run));
  json_t *pvc = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:O}", "apiVersion", "v1", "kind",
                          "PersistentVolumeClaim", "metadata", "name", name, "namespace", js_namespace(run), "labels",
                          PL_LABEL_RUN, js_name(run), "spec", w->claim_spec);
  rt_set_controller_ref(pvc, run);
  free(name);
  return pvc;
}

char *pl_outputs_dir(const pl_work_mount *m, const char *task) {
  return xasprintf("%s/outputs/%s", m->mount_path, task);
}

/* --------------------------------------------------------- the task */

static void add_env(json_t *env, const char *name, const char *value) {
  /* A variable the workload sets itself wins: it comes later. */
  json_array_insert_new(env, 0, json_pack("{s:s, s:s}", "name", name, "value", value));
}

int pl_task_trainingjob(const pl_task_input *in, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  json_t *spec = NULL;
  if (pl_subst_json(in->tmpl->workload, "spec.workload", in->run_value, in->arg, &spec, err, errlen))
    return CUBIT_EINVAL;
  if (!json_is_object(spec)) {
    json_decref(spec);
    snprintf(err, errlen, "spec.workload: not an object");
    return CUBIT_EINVAL;
  }
  /* The task's resources apply to every role. */
  if (json_is_object(in->task->resources) && json_object_size(in->task->resources)) {
    const char *role;
    json_t *r;
    json_object_foreach(json_object_get(spec, "roles"), role, r) {
      if (!json_is_object(r)) continue;
      json_t *res = js_ensure_obj(r, "resources");
      json_object_update(res, (json_t *)in->task->resources);
    }
  }
  const json_t *run = in->run;
  char name[64];
  pl_task_job_name(js_name(run), in->task->name, in->attempt, name, sizeof(name));

  /* Environment: where the work volume and the outputs are. */
  json_t *env = json_object_get(spec, "env");
  if (!json_is_array(env)) {
    env = json_array();
    json_object_set_new(spec, "env", env);
  }
  char attempt[16];
  snprintf(attempt, sizeof(attempt), "%d", in->attempt);
  if (in->cluster) {
    /* The run was placed as a whole: every task runs where its work volume
     * and outputs readers are (docs/multicluster.md#placement). */
    const char *cluster = js_str(spec, "cluster");
    if (cluster && strcmp(cluster, in->cluster) != 0) {
      snprintf(err, errlen, "spec.workload.cluster: %s: the run is placed on cluster %s, where its tasks run", cluster,
               in->cluster);
      json_decref(spec);
      return CUBIT_EINVAL;
    }
    json_object_set_new(spec, "cluster", json_string(in->cluster));
    json_object_del(spec, "placement");
  }
  if (in->work->claim[0]) {
    /* An unplaced run's work volume and its outputs readers are in the hub
     * (docs/multicluster.md#placement): a task sharing it runs there, not
     * where a project spanning clusters would place it. */
    const char *cluster = js_str(spec, "cluster");
    if (in->cluster == NULL && cluster && strcmp(cluster, CLUSTER_LOCAL) != 0) {
      snprintf(err, errlen,
               "spec.workload.cluster: %s: a task that shares the run's work volume runs in the hub, where the volume "
               "is (\"local\" or unset; or place the run on %s with its spec.cluster)",
               cluster, cluster);
      json_decref(spec);
      return CUBIT_EINVAL;
    }
    if (in->cluster == NULL) json_object_set_new(spec, "cluster", json_string(CLUSTER_LOCAL));
    char *dir = pl_outputs_dir(in->work, in->task->name);
    for (size_t k = in->tmpl->noutputs; k-- > 0;) {
      char var[96];
      snprintf(var, sizeof(var), "CUBIT_OUTPUT_%s", in->tmpl->outputs[k].name);
      char *file = xasprintf("%s/%s", dir, in->tmpl->outputs[k].path);
      add_env(env, var, file);
      free(file);
    }
    add_env(env, "CUBIT_OUTPUTS_DIR", dir);
    add_env(env, "CUBIT_WORK_DIR", in->work->mount_path);
    free(dir);
    json_t *vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) {
      vols = json_array();
      json_object_set_new(spec, "volumes", vols);
    }
    json_t *v = json_pack("{s:s, s:s, s:s}", "name", "cubit-work", "claimName", in->work->claim, "mountPath",
                          in->work->mount_path);
    if (in->work->sub_path[0]) json_object_set_new(v, "subPath", json_string(in->work->sub_path));
    json_array_append_new(vols, v);
  }
  add_env(env, "CUBIT_ATTEMPT", attempt);
  add_env(env, "CUBIT_TASK", in->task->name);
  add_env(env, "CUBIT_PIPELINE_RUN", js_name(run));

  json_t *labels = json_pack("{s:s, s:s, s:s}", PL_LABEL_RUN, js_name(run), PL_LABEL_TASK, in->task->name,
                             PL_LABEL_ATTEMPT, attempt);
  const char *pipeline = js_str(run, "spec.pipelineRef.name");
  if (pipeline) json_object_set_new(labels, PL_LABEL_PIPELINE, json_string(pipeline));
  json_t *tj = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:o}", "apiVersion", "cubit.dev/v1alpha1", "kind",
                         "TrainingJob", "metadata", "name", name, "namespace", js_namespace(run), "labels", labels,
                         "spec", spec);
  /* The run's creator is the job's (quota per member, personal volume). */
  const char *user = json_string_value(json_object_get(js_get(run, "metadata.annotations"), "cubit.dev/user"));
  if (user) json_object_set_new(json_object_get(tj, "metadata"), "annotations", json_pack("{s:s}", "cubit.dev/user", user));
  rt_set_controller_ref(tj, run);

  tj_spec parsed;
  char why[512];
  if (tj_spec_parse(tj, &parsed, why, sizeof(why))) {
    const char *rest = strncmp(why, "spec.", 5) == 0 ? why + 5 : why;
    snprintf(err, errlen, "the template's workload is no valid TrainingJob spec: spec.workload.%s", rest);
    json_decref(tj);
    return CUBIT_EINVAL;
  }
  *out = tj;
  return 0;
}

/* ---------------------------------------------------------- outputs */

/* Writes "NAME=VALUE" per output into the termination message (at most 1 KiB
 * of each file; "%" and newlines escaped as %25 and %0A), or "-NAME" when
 * the file is missing. Arguments: NAME FILE pairs. POSIX sh and awk, so
 * busybox runs it. */
static const char reader_script[] =
    "out=/dev/termination-log\n"
    ": > \"$out\"\n"
    "while [ $# -ge 2 ]; do\n"
    "  if [ -f \"$2\" ]; then\n"
    "    printf '%s=' \"$1\" >> \"$out\"\n"
    "    head -c 1024 \"$2\" | awk 'BEGIN { ORS = \"\" } { gsub(/%/, \"%25\"); if (NR > 1) print \"%0A\"; print }' >> "
    "\"$out\"\n"
    "    printf '\\n' >> \"$out\"\n"
    "  else\n"
    "    printf -- '-%s\\n' \"$1\" >> \"$out\"\n"
    "  fi\n"
    "  shift 2\n"
    "done\n";

const char *pl_outputs_script(void) {
  return reader_script;
}

json_t *pl_outputs_reader(const json_t *run, const json_t *trainingjob, const pl_template *tmpl,
                          const pl_work_mount *work, const char *task, const char *image) {
  char *name = xasprintf("%s-outputs", js_name(trainingjob));
  char *dir = pl_outputs_dir(work, task);
  json_t *args = json_pack("[s, s, s]", "-c", reader_script, "sh");
  for (size_t k = 0; k < tmpl->noutputs; k++) {
    char *file = xasprintf("%s/%s", dir, tmpl->outputs[k].path);
    json_array_append_new(args, json_string(tmpl->outputs[k].name));
    json_array_append_new(args, json_string(file));
    free(file);
  }
  json_t *mount = json_pack("{s:s, s:s, s:b}", "name", "cubit-work", "mountPath", work->mount_path, "readOnly", 1);
  if (work->sub_path[0]) json_object_set_new(mount, "subPath", json_string(work->sub_path));
  json_t *container = json_pack(
      "{s:s, s:s, s:[s], s:o, s:s, s:s, s:[o], s:{s:{s:s, s:s}, s:{s:s, s:s}}}", "name", "read", "image", image,
      "command", "sh", "args", args, "terminationMessagePath", "/dev/termination-log", "terminationMessagePolicy",
      "File", "volumeMounts", mount, "resources", "requests", "cpu", "10m", "memory", "16Mi", "limits", "cpu", "100m",
      "memory", "32Mi");
  /* The reader is part of the task: it carries the task's pod labels and
   * annotations (mesh opt-outs, policies, the creator). */
  json_t *ann = json_deep_copy(js_get(trainingjob, "spec.podMetadata.annotations"));
  if (!json_is_object(ann)) {
    json_decref(ann);
    ann = json_object();
  }
  const char *user = json_string_value(json_object_get(js_get(run, "metadata.annotations"), "cubit.dev/user"));
  if (user) json_object_set_new(ann, "cubit.dev/user", json_string(user));
  json_t *labels = json_deep_copy(js_get(trainingjob, "spec.podMetadata.labels"));
  if (!json_is_object(labels)) {
    json_decref(labels);
    labels = json_object();
  }
  json_object_set_new(labels, PL_LABEL_RUN, json_string(js_name(run)));
  json_object_set_new(labels, PL_LABEL_TASK, json_string(task));
  json_t *pod_meta = json_pack("{s:o}", "labels", labels);
  if (json_object_size(ann)) json_object_set_new(pod_meta, "annotations", ann);
  else json_decref(ann);
  json_t *pvc = json_pack("{s:s, s:b}", "claimName", work->claim, "readOnly", 1);
  json_t *job = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:i, s:i, s:{s:o, s:{s:s, s:[o], s:[{s:s, s:o}]}}}}", "apiVersion",
      "batch/v1", "kind", "Job", "metadata", "name", name, "namespace", js_namespace(run), "labels", PL_LABEL_RUN,
      js_name(run), PL_LABEL_TASK, task, "spec", "backoffLimit", 2, "ttlSecondsAfterFinished", 3600, "template",
      "metadata", pod_meta, "spec", "restartPolicy", "Never", "containers", container, "volumes", "name", "cubit-work",
      "persistentVolumeClaim", pvc);
  if (user)
    json_object_set_new(json_object_get(job, "metadata"), "annotations", json_pack("{s:s}", "cubit.dev/user", user));
  rt_set_controller_ref(job, run);
  free(name);
  free(dir);
  return job;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int pl_outputs_parse(const char *message, const pl_template *tmpl, const char *dir, json_t **out, char *err,
                     size_t errlen) {
  json_t *values = json_object();
  const char *line = message ? message : "";
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > 0 && line[0] == '-') {
      char name[64];
      snprintf(name, sizeof(name), "%.*s", (int)(len - 1 < 63 ? len - 1 : 63), line + 1);
      for (size_t k = 0; k < tmpl->noutputs; k++)
        if (strcmp(tmpl->outputs[k].name, name) == 0) {
          snprintf(err, errlen, "output %s: the task wrote no file %s/%s", name, dir, tmpl->outputs[k].path);
          json_decref(values);
          return CUBIT_EINVAL;
        }
    } else {
      const char *eq = memchr(line, '=', len);
      if (eq && eq > line && (size_t)(eq - line) < 64) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - line), line);
        char *value = xmalloc(len + 1);
        size_t n = 0;
        for (const char *p = eq + 1; p < line + len; p++) {
          if (*p == '%' && p + 2 < line + len && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            value[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
          } else {
            value[n++] = *p;
          }
        }
        value[n] = '\0';
        json_t *text = json_string(value);
        free(value);
        if (text == NULL) {
          snprintf(err, errlen, "output %s is not UTF-8 text", name);
          json_decref(values);
          return CUBIT_EINVAL;
        }
        json_object_set_new(values, name, text);
      }
    }
    line += len;
    if (*line == '\n') line++;
  }
  for (size_t k = 0; k < tmpl->noutputs; k++) {
    if (json_object_get(values, tmpl->outputs[k].name) == NULL) {
      snprintf(err, errlen,
               "output %s is missing from the outputs reader's message (outputs are read from %s/%s; at most 4 KiB "
               "in all)",
               tmpl->outputs[k].name, dir, tmpl->outputs[k].path);
      json_decref(values);
      return CUBIT_EINVAL;
    }
  }
  /* Only the declared outputs pass on. */
  json_t *declared = json_object();
  for (size_t k = 0; k < tmpl->noutputs; k++)
    json_object_set(declared, tmpl->outputs[k].name, json_object_get(values, tmpl->outputs[k].name));
  json_decref(values);
  *out = declared;
  return 0;
}
