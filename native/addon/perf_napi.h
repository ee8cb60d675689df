#ifndef NVMEBENCH_PERF_NAPI_H
#define NVMEBENCH_PERF_NAPI_H

#include <node_api.h>

#include "engine.h"

/* Sets wo.explain from the worker's sampler; nothing without --explain. */
void perf_napi_result(napi_env env, napi_value wo, const struct worker *w);

#endif
