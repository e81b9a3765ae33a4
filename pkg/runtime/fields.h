/* What the manager's informers keep of each resource (pkg/cache/transform.h):
 * the union of what every controller and webhook reading the resource reads.
 *
 * A child Cubit applies keeps, besides what its readers read, every field
 * Cubit applied (rt_cached_applier): rt_apply compares every field it would
 * write with the cached object to skip unchanged applies. test/unit/test_fields.c holds
 * the table of paths each reader reads and checks every one survives. */
#ifndef CUBIT_RUNTIME_FIELDS_H
#define CUBIT_RUNTIME_FIELDS_H

#include "kube/client.h"

/* The paths the cache keeps of r (NULL-terminated), or NULL: the whole
 * object (always without managedFields and last-applied-configuration). */
const char *const *rt_cached_fields(const kube_resource *r);

/* The field manager whose server-side applied fields r's cache keeps too
 * (cache_fields_keep_applied), or NULL. */
const char *rt_cached_applier(const kube_resource *r);
/* The initial list's page size for resource r (0: the informer's default,
 * 500), smaller where single objects are large. */
long rt_cached_page_size(const kube_resource *r);

/* The field selector r's informer lists and watches with, or NULL for every
 * object: Events are cached only when their reason is FailedCreate. */
const char *rt_cached_selector(const kube_resource *r);

#endif
