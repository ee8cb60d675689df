#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fix.h"
#include "napi_util.h"
#include "nvme.h"

size_t napi_util_fix_split(const char *text, const char **fix)
{
	const char *sep = strstr(text, FIX_SEP);

	*fix = sep ? sep + strlen(FIX_SEP) : NULL;
	return sep ? (size_t)(sep - text) : strlen(text);
}

napi_value napi_util_errno_error(napi_env env, int err, const char *text)
{
	const char *name = strerrorname_np(err), *fix;
	size_t len = napi_util_fix_split(text, &fix);
	napi_value code, msg, error;

	if (napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code) != napi_ok ||
	    napi_create_string_utf8(env, text, len, &msg) != napi_ok || napi_create_error(env, code, msg, &error) != napi_ok)
		return NULL;
	if (fix)
		napi_util_set_string(env, error, "fix", fix);
	return error;
}

napi_value napi_util_throw_errno(napi_env env, int err, const char *text)
{
	napi_value error = napi_util_errno_error(env, err, text);

	if (error)
		napi_throw(env, error);
	else
		napi_throw_error(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", text);
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
	if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d >= 18446744073709551616.0)
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

napi_value napi_util_ctrl_object(napi_env env, const struct nvme_ctrl_info *ci)
{
	napi_value ctrl;

	if (napi_create_object(env, &ctrl) != napi_ok)
		return NULL;
	napi_util_set_string(env, ctrl, "model", ci->model);
	napi_util_set_string(env, ctrl, "serial", ci->serial);
	napi_util_set_string(env, ctrl, "firmware", ci->firmware);
	napi_util_set_number(env, ctrl, "vid", ci->vid);
	napi_util_set_number(env, ctrl, "mdts", ci->mdts);
	napi_util_set_number(env, ctrl, "cntlid", ci->cntlid);
	napi_util_set_number(env, ctrl, "version", ci->version);
	napi_util_set_number(env, ctrl, "oacs", ci->oacs);
	napi_util_set_number(env, ctrl, "oncs", ci->oncs);
	napi_util_set_number(env, ctrl, "vwc", ci->vwc);
	napi_util_set_number(env, ctrl, "nn", ci->nn);
	return ctrl;
}

napi_value napi_util_ns_object(napi_env env, const struct nvme_ns_info *nsi)
{
	napi_value ns;

	if (napi_create_object(env, &ns) != napi_ok)
		return NULL;
	napi_util_set_number(env, ns, "nsid", nsi->nsid);
	napi_util_set_number(env, ns, "nsze", (double)nsi->nsze);
	napi_util_set_number(env, ns, "ncap", (double)nsi->ncap);
	napi_util_set_number(env, ns, "nuse", (double)nsi->nuse);
	napi_util_set_number(env, ns, "lbaSize", nsi->lba_size);
	napi_util_set_number(env, ns, "metaSize", nsi->meta_size);
	napi_util_set_number(env, ns, "extendedMeta", nsi->extended_meta);
	napi_util_set_number(env, ns, "lbaFormat", nsi->lba_format);
	napi_util_set_number(env, ns, "nlbaf", nsi->nlbaf);
	napi_util_set_number(env, ns, "dps", nsi->dps);
	return ns;
}

int napi_util_open_nvme_args(napi_env env, napi_callback_info info, const char *usage, char *path, size_t len,
			     int32_t *nsid)
{
	size_t argc = 2, got;
	napi_value argv[2];
	char msg[4200];
	int fd, err;

	*nsid = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_string_utf8(env, argv[0], path, len, &got) != napi_ok) {
		napi_util_throw_errno(env, EINVAL, usage);
		return -1;
	}
	if (argc > 1)
		napi_get_value_int32(env, argv[1], nsid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(err));
		napi_util_throw_errno(env, err, msg);
		return -1;
	}
	if (*nsid <= 0)
		*nsid = nvme_get_nsid(fd);
	return fd;
}
