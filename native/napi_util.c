#include <string.h>

#include "napi_util.h"

napi_value napi_util_throw_errno(napi_env env, int err, const char *msg)
{
	const char *name = strerrorname_np(err);

	napi_throw_error(env, name ? name : "EUNKNOWN", msg);
	return NULL;
}

int napi_util_get(napi_env env, napi_value obj, const char *key, napi_value *out)
{
	napi_valuetype type;
	bool has = false;

	if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return 0;
	if (napi_get_named_property(env, obj, key, out) != napi_ok || napi_typeof(env, *out, &type) != napi_ok)
		return -1;
	return type == napi_undefined || type == napi_null ? 0 : 1;
}

int napi_util_get_u64(napi_env env, napi_value obj, const char *key, uint64_t *out)
{
	napi_value v;
	double d;
	int r = napi_util_get(env, obj, key, &v);

	if (r <= 0)
		return r;
	if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 18446744073709551615.0)
		return -1;
	*out = (uint64_t)d;
	return 1;
}

int napi_util_get_u32(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
	uint64_t v = 0;
	int r = napi_util_get_u64(env, obj, key, &v);

	if (r <= 0)
		return r;
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 1;
}

int napi_util_get_bool(napi_env env, napi_value obj, const char *key, bool *out)
{
	napi_value v;
	int r = napi_util_get(env, obj, key, &v);

	if (r <= 0)
		return r;
	return napi_get_value_bool(env, v, out) == napi_ok ? 1 : -1;
}

int napi_util_get_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len)
{
	napi_value v;
	size_t got;
	int r = napi_util_get(env, obj, key, &v);

	if (r <= 0)
		return r;
	if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok || got >= len - 1)
		return -1;
	return 1;
}

void napi_util_set_number(napi_env env, napi_value obj, const char *key, double v)
{
	napi_value out;

	if (napi_create_double(env, v, &out) == napi_ok)
		napi_set_named_property(env, obj, key, out);
}

void napi_util_set_string(napi_env env, napi_value obj, const char *key, const char *v)
{
	napi_value out;

	if (napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &out) == napi_ok)
		napi_set_named_property(env, obj, key, out);
}
