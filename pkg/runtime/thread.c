#include "runtime/thread.h"

#include <stdlib.h>

void rt__thread_start(pthread_t *t, void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) abort();
  if (pthread_attr_setstacksize(&attr, RT_THREAD_STACK_SIZE) != 0) abort();
  if (pthread_create(t, &attr, fn, arg) != 0) abort();
  pthread_attr_destroy(&attr);
}
