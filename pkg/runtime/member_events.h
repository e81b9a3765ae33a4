/* Warning Events of a placed object's children in a member cluster, relayed
 * onto the hub object (docs/multicluster.md).
 *
 * A controller that places objects in members declares, in its definition's
 * member_events_label, the label its children there carry naming the hub
 * object (in the same namespace). Every connected member then caches its
 * Warning Events (RT_MEMBER_EVENTS_SELECTOR, the fields rt_cached_fields
 * keeps of Events) and maps one about a cached child (a pod, or a kind of
 * the controller's member_watches) to the hub object through that label.
 *
 * The gather reads them with rt_member_child_events; the plan hands them to
 * rt_plan_relay_member_events, which emits each newly seen (reason, message)
 * once as a Warning on the hub object and remembers what it relayed in the
 * status (status.memberWarnings), so an unchanged member state, a requeue or
 * a manager restart re-emits nothing. */
#ifndef CUBIT_RUNTIME_MEMBER_EVENTS_H
#define CUBIT_RUNTIME_MEMBER_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "cache/store.h"
#include "runtime/controller.h"
#include "runtime/plan.h"

/* The field selector of the members' Event informers: Events are many; only
 * the warnings are worth relaying. */
#define RT_MEMBER_EVENTS_SELECTOR "type=Warning"
/* The status field that remembers what was relayed, and its bound: the
 * newest distinct (reason, message) pairs. */
#define RT_MEMBER_WARNINGS_FIELD "memberWarnings"
#define RT_MEMBER_WARNINGS_MAX 8

/* The Warning Events cached from member 'cluster' in ns about one of
 * 'children' (matched by metadata.uid; NULL entries skipped) into *out
 * (empty when the member is not connected). Free with cache_list_free. */
void rt_member_child_events(const rt_ctx *ctx, const char *cluster, const char *ns, const json_t *const *children,
                            size_t n, cache_list *out);

/* Pure. Of 'events' (Warning Events about the object's children in member
 * 'cluster', as rt_member_child_events gathers them), keeps the newest
 * RT_MEMBER_WARNINGS_MAX distinct (reason, message) pairs in
 * status.memberWarnings ({object, reason, message}) and plans one Warning
 * with the member's reason for each pair the previous status (the one
 * 'status' was copied from) did not hold, oldest first:
 * "cluster <cluster>: <Kind> <name>: <message>". No events: the field goes. */
void rt_plan_relay_member_events(rt_plan *p, json_t *status, const char *cluster, json_t *const *events, size_t n);

/* The key ("ns/name") of the hub object a member's Event is about, through
 * 'label' on the involved object as 'involved' (its cached copy, NULL when
 * not cached) carries it; NULL when there is none. Caller frees. */
char *rt__member_event_key(const json_t *event, const json_t *involved, const char *label);

#endif
