/*
 * flock(fd, op) for the exporters: Node has no advisory file lock, and
 * concurrent runs appending to one CSV need one. op is "ex", "sh" or "un";
 * the call blocks until the lock is granted. Throws with the errno name.
 */
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <node_api.h>

#include "napi_util.h"

static napi_value flock_napi_flock(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd = -1;
	char op_name[8] = "";
	int op, ret;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
	    napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
	    napi_get_value_string_utf8(env, argv[1], op_name, sizeof(op_name), NULL) != napi_ok)
		return napi_util_throw_errno(env, EINVAL, "flock(fd, 'ex' | 'sh' | 'un')");
	if (!strcmp(op_name, "ex"))
		op = LOCK_EX;
	else if (!strcmp(op_name, "sh"))
		op = LOCK_SH;
	else if (!strcmp(op_name, "un"))
		op = LOCK_UN;
	else
		return napi_util_throw_errno(env, EINVAL, "flock: op is 'ex', 'sh' or 'un'");
	do
		ret = flock(fd, op);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return napi_util_throw_errno(env, errno, strerror(errno));
	return NULL;
}

void flock_napi_register(napi_env env, napi_value exports)
{
	napi_property_descriptor prop = { "flock", NULL, flock_napi_flock, NULL, NULL, NULL, napi_default, NULL };

	napi_define_properties(env, exports, 1, &prop);
}
