/* Promise plumbing for the vfio calls that bring a controller up (vfio_async.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "napi_util.h"
#include "vfio_async.h"

int vfio_async_args(napi_env env, struct vfio_async *a, napi_value bdf, napi_value abort)
{
	napi_valuetype t = napi_undefined;
	napi_typedarray_type type;
	size_t got, len = 0;
	void *flag = NULL;

	if (napi_get_value_string_utf8(env, bdf, a->bdf, sizeof(a->bdf), &got) != napi_ok)
		return -1;
	if (abort)
		napi_typeof(env, abort, &t);
	if (t == napi_undefined)
		return 0;
	if (napi_get_typedarray_info(env, abort, &type, &len, &flag, NULL, NULL) != napi_ok || type != napi_int32_array || len < 1)
		return -1;
	if (napi_create_reference(env, abort, 1, &a->abort_ref) != napi_ok)
		return -1;
	a->abort = flag;
	return 0;
}

napi_value vfio_async_queue(napi_env env, struct vfio_async *a, const char *name, napi_async_execute_callback execute,
			    napi_async_complete_callback complete)
{
	napi_value promise, resource;

	napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
	if (napi_create_promise(env, &a->deferred, &promise) != napi_ok ||
	    napi_create_async_work(env, NULL, resource, execute, complete, a, &a->work) != napi_ok ||
	    napi_queue_async_work(env, a->work) != napi_ok) {
		if (a->work)
			napi_delete_async_work(env, a->work);
		if (a->abort_ref)
			napi_delete_reference(env, a->abort_ref);
		a->work = NULL;
		a->abort_ref = NULL;
		/* A promise made but never settled is only garbage: nobody was handed it. */
		return napi_util_throw_errno(env, EIO, "could not queue the vfio call on a pool thread");
	}
	return promise;
}

void vfio_async_settle(napi_env env, struct vfio_async *a, napi_status status, napi_value out)
{
	napi_value error = NULL;

	if (status == napi_cancelled && !a->err) {
		a->err = EINTR;
		snprintf(a->msg, sizeof(a->msg), "the vfio call on %s was cancelled", a->bdf);
	}
	if (a->err || !out) {
		if (!a->err)
			napi_get_and_clear_last_exception(env, &error);
		else
			error = napi_util_errno_error(env, a->err, a->msg);
		napi_reject_deferred(env, a->deferred, error);
	} else {
		napi_resolve_deferred(env, a->deferred, out);
	}
	if (a->abort_ref)
		napi_delete_reference(env, a->abort_ref);
	napi_delete_async_work(env, a->work);
}

void vfio_async_check_abort(struct vfio_async *a, const char *doing)
{
	if (a->abort && *a->abort) {
		a->err = EINTR;
		snprintf(a->msg, sizeof(a->msg), "interrupted while %s %s", doing, a->bdf);
	}
}
