/* The pod escape hatch every workload kind shares: a `podTemplate` (metadata
 * labels and annotations, and a fragment of a PodSpec) the user writes next
 * to Cubit's short fields, merged UNDER the pod template Cubit builds from
 * them. One function merges for every kind so the rules are the same
 * everywhere (docs/podtemplate.md):
 *
 *  - where both speak, Cubit wins: a key Cubit set keeps Cubit's value;
 *  - objects (nodeSelector, securityContext, affinity, a container, ...)
 *    merge key by key, recursively, under the same rule;
 *  - lists of named things merge element by element on their key:
 *    containers, initContainers, env, volumes, imagePullSecrets,
 *    ephemeralContainers by `name`; volumeMounts by `mountPath`; ports by
 *    `containerPort`; tolerations by `key`+`effect`; hostAliases by `ip`;
 *    an element only the user has is appended (a sidecar, an extra volume);
 *    a container both have is extended field by field (Cubit wins); any
 *    other element both have is Cubit's, whole (half a user's volume or env
 *    var mixed into Cubit's would be an invalid one);
 *  - any other list is the user's when Cubit has none, else Cubit's
 *    (envFrom, topologySpreadConstraints and the like are lists Cubit never
 *    writes, so the user's arrive whole).
 *
 * Admission refuses (pt_validate) what would break Cubit rather than be
 * silently ignored: fields other than metadata.labels/annotations and spec;
 * labels under cubit.dev/; spec.restartPolicy, nodeName and schedulerName
 * (Cubit's restart, quota and gang decisions); a container without a name;
 * image, command, args or resources on Cubit's own container (the short
 * fields say those); a sidecar without an image. */
#ifndef CUBIT_API_PODTEMPLATE_H
#define CUBIT_API_PODTEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* Checks a podTemplate written at `path` (e.g. "spec.roles.worker.podTemplate")
 * whose pod's main container Cubit names `cubit_container`. NULL or JSON null
 * is valid (nothing to merge). CUBIT_EINVAL with the field path and the
 * reason in err. */
int pt_validate(const json_t *pt, const char *path, const char *cubit_container, char *err, size_t errlen) CUBIT_WUR;

/* Merges the user's podTemplate `pt` (borrowed; NULL: nothing) under `tmpl`,
 * Cubit's pod template {metadata, spec} (modified in place; a missing
 * metadata or spec is created when the user has one). */
void pt_merge(json_t *tmpl, const json_t *pt);

/* Merges podTemplate `over` under `base` (both borrowed) into a new object
 * the caller owns: a role's podTemplate over the job's, both still under
 * Cubit's fields. Either may be NULL; returns NULL when both are. */
json_t *pt_layer(const json_t *base, const json_t *over);

#endif
