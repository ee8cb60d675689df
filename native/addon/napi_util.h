/*
 * Small Node-API helpers shared by the addon's files: reading typed fields
 * of a JS object, setting fields, and throwing an errno as an exception
 * whose code is the errno's name and whose fix, when the text has one, is
 * data beside the message.
 */
#ifndef NVMEBENCH_NAPI_UTIL_H
#define NVMEBENCH_NAPI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* The Error napi_util_throw_errno throws, made but not thrown (to reject a promise with); NULL if napi failed. */
napi_value napi_util_errno_error(napi_env env, int err, const char *text);
/*
 * Throw an Error whose code is err's name ("EINVAL"). A fix at the end of
 * text (fix.h) becomes the error's `fix`, the rest its message. Returns NULL.
 */
napi_value napi_util_throw_errno(napi_env env, int err, const char *text);
/* The length of text's message part; *fix: the fix after FIX_SEP, or NULL when there is none. */
size_t napi_util_fix_split(const char *text, const char **fix);

/* Getters: 1 found, 0 absent (or undefined/null), -1 present but mistyped. */
int napi_util_get(napi_env env, napi_value obj, const char *key, napi_value *out);
int napi_util_get_u64(napi_env env, napi_value obj, const char *key, uint64_t *out);
int napi_util_get_u32(napi_env env, napi_value obj, const char *key, uint32_t *out);
int napi_util_get_bool(napi_env env, napi_value obj, const char *key, bool *out);
int napi_util_get_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len);

struct nvme_ctrl_info;
struct nvme_ns_info;

/* The JS objects for Identify Controller and Identify Namespace, one shape for every path. */
napi_value napi_util_ctrl_object(napi_env env, const struct nvme_ctrl_info *ci);
napi_value napi_util_ns_object(napi_env env, const struct nvme_ns_info *nsi);

/*
 * For fn(path, nsid?): open the path read-only and resolve the nsid (the
 * node's own when not given). Returns the fd, or -1 with an exception pending.
 */
int napi_util_open_nvme_args(napi_env env, napi_callback_info info, const char *usage, char *path, size_t len,
			     int32_t *nsid);

void napi_util_set_number(napi_env env, napi_value obj, const char *key, double v);
void napi_util_set_string(napi_env env, napi_value obj, const char *key, const char *v);

#endif
