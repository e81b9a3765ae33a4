/* Threads of the runtime (reconcile workers, leader election, certificate
 * renewal): started with a stack sized to what they use instead of the
 * process default (RLIMIT_STACK, usually 8 MiB). */
#ifndef CUBIT_RUNTIME_THREAD_H
#define CUBIT_RUNTIME_THREAD_H

#include <pthread.h>

/* A reconcile's deepest stack is a blocking request (curl, OpenSSL) under
 * a plan's JSON and a few kube_status/message buffers of 1-2 KiB. 512 KiB
 * leaves a wide margin, also for sanitizer builds, whose frames are several
 * times larger; only the pages touched count in RSS. */
#define RT_THREAD_STACK_SIZE ((size_t)512 << 10)

/* pthread_create with RT_THREAD_STACK_SIZE; aborts when the thread cannot
 * be created (as the callers did before: a manager without its threads is
 * of no use). */
void rt__thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
