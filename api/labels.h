/* The labels and annotations that controllers and webhooks both read and
 * write: Cubit's vocabulary on other objects. A name used by one folder only
 * stays there. */
#ifndef CUBIT_API_LABELS_H
#define CUBIT_API_LABELS_H

/* On namespaces and on every object Cubit makes in them: the owning Project. */
#define CUBIT_LABEL_PROJECT "cubit.dev/project"
/* On objects and pods: who created the workload (from the request's
 * userInfo, never from the user). */
#define CUBIT_ANNOTATION_USER "cubit.dev/user"

#endif
