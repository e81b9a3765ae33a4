/* The Pipeline vocabulary the `when` and substitution targets use
 * (pl_when_*, pl_subst_*, pl_ref_*). */
#ifndef CUBIT_FUZZ_PIPELINE_API_H
#define CUBIT_FUZZ_PIPELINE_API_H

#include "api/pipeline/pipeline.h"

#endif
