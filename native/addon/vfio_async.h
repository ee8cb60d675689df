/*
 * The vfio calls that bring a controller up (vfioReportZones, vfioFdpInfo)
 * as napi async work: a promise settled on the JS thread, the bring-up and
 * the commands on a pool thread, an optional abort flag (an Int32Array on a
 * SharedArrayBuffer) that cuts a ready wait or an admin command short.
 */
#ifndef NVMEBENCH_VFIO_ASYNC_H
#define NVMEBENCH_VFIO_ASYNC_H

#include <node_api.h>

#include "nvme_ctrl.h"

/* The head of every call in flight; the call's own struct starts with it. */
struct vfio_async {
	napi_async_work work;
	napi_deferred deferred;
	napi_ref abort_ref; /* holds the abort flag's Int32Array while the pool thread may read it */
	const volatile int *abort;
	char bdf[64];
	int err; /* 0, or the errno of a failure described by msg */
	char msg[NVME_ERRLEN + 128];
};

/* bdf and the optional abort flag (absent or undefined: none) into a; -1 when mistyped. */
int vfio_async_args(napi_env env, struct vfio_async *a, napi_value bdf, napi_value abort);
/* Queue a's work; the promise, or NULL with an exception pending (a is not freed). */
napi_value vfio_async_queue(napi_env env, struct vfio_async *a, const char *name, napi_async_execute_callback execute,
			    napi_async_complete_callback complete);
/* In complete: resolve with out, or reject with a->err (out NULL); then drop the flag and the work. */
void vfio_async_settle(napi_env env, struct vfio_async *a, napi_status status, napi_value out);
/* On the pool thread, after the commands: a set flag reads as EINTR, whatever the cut-short command said. */
void vfio_async_check_abort(struct vfio_async *a, const char *doing);

#endif
