/* The Pipeline vocabulary the `when` and substitution targets use
 * (pl_when_*, pl_subst_*, pl_ref_*). It is moving from controllers/pipeline/
 * to api/pipeline/; this is the one include to change when it has moved. */
#ifndef CUBIT_FUZZ_PIPELINE_API_H
#define CUBIT_FUZZ_PIPELINE_API_H

#if __has_include("api/pipeline/pipeline.h")
#include "api/pipeline/pipeline.h"
#else
#include "controllers/pipeline/pipeline.h"
#endif

#endif
