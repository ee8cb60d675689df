/*
 * Node-API for Flexible Data Placement: the job's --fdp fields, and
 * nvmeFdpInfo(path, nsid) / vfioFdpInfo(bdf, nsid): whether the controller
 * supports FDP (CTRATT.FDPS), whether the namespace's endurance group has it
 * enabled (Get Features 1Dh) and with which configuration (FDP
 * Configurations log), the namespace's placement identifiers (Reclaim Unit
 * Handle Status, kernel nodes only: it is an I/O command) and the FDP
 * Statistics log. The same reads go through the kernel's ioctls or the
 * vfio driver's admin queue (vfioFdpInfo: a promise, the bring-up on a pool
 * thread); parts that fail come back null with an "...Error" string beside
 * them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"
#include "nvme.h"
#include "nvme_cmd.h"
#include "nvme_ctrl.h"
#include "nvme_fdp.h"
#include "vfio_async.h"

const char *fdp_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void fdp_napi_register(napi_env env, napi_value exports);

/* How the reads reach the controller: 0, > 0 an NVMe status, -1 with errno set. io NULL: no I/O queue. */
struct fdp_xport {
	void *ctx;
	int (*admin)(void *ctx, const struct nvme_cmd_desc *d, uint32_t *dw0);
	int (*io)(void *ctx, const struct nvme_cmd_desc *d);
};

/* The job's fdp, fdpScheme and fdpPids; TypeScript resolved the identifiers, so only their count is checked. */
const char *fdp_napi_parse_job(napi_env env, napi_value obj, struct job *job)
{
	char scheme[16];
	napi_value arr;
	uint32_t i, n;
	int r;

	if (napi_util_get_bool(env, obj, "fdp", &job->fdp) < 0)
		return "fdp";
	if (!job->fdp)
		return NULL;
	r = napi_util_get_string(env, obj, "fdpScheme", scheme, sizeof(scheme));
	if (r < 0)
		return "fdpScheme";
	job->fdp_scheme = JOB_FDP_ROUNDROBIN;
	if (r > 0 && !strcmp(scheme, "random"))
		job->fdp_scheme = JOB_FDP_RANDOM;
	else if (r > 0 && !strcmp(scheme, "per-worker"))
		job->fdp_scheme = JOB_FDP_PER_WORKER;
	else if (r > 0 && strcmp(scheme, "roundrobin"))
		return "fdpScheme";
	if (napi_util_get(env, obj, "fdpPids", &arr) <= 0 || napi_get_array_length(env, arr, &n) != napi_ok || !n || n > JOB_FDP_MAX_PIDS)
		return "fdpPids (1 to 128 placement identifiers)";
	for (i = 0; i < n; i++) {
		napi_value v;
		uint32_t pid;

		if (napi_get_element(env, arr, i, &v) != napi_ok || napi_get_value_uint32(env, v, &pid) != napi_ok || pid > 0xffff)
			return "fdpPids";
		job->fdp_pids[i] = (uint16_t)pid;
	}
	job->fdp_npids = n;
	return NULL;
}

/* What the reads found, gathered with no napi (a pool thread may do it), then built into the object. */
struct fdp_read {
	int id_ret, id_err; /* Identify Controller: the rest needs it */
	uint32_t ctratt;
	uint16_t endgid;
	int feat_ret, feat_err; /* Get Features 1Dh, read when FDPS is set */
	uint32_t dw0;
	int cfg_ret, cfg_err, cfg_bad; /* the configurations log; cfg_bad: it did not parse (cfg_why) */
	char cfg_why[200];
	struct nvme_fdp_config cfg;
	int ruhs_tried, ruhs_ret, ruhs_err; /* Reclaim Unit Handle Status: kernel nodes only */
	uint32_t ruhs_n;
	uint16_t pids[NVME_FDP_MAX_RUH];
	uint64_t ruamw[NVME_FDP_MAX_RUH];
	int st_ret, st_err;
	struct nvme_fdp_stats st;
};

static void __fdp_err(napi_env env, napi_value out, const char *key, const char *what, int ret, int err)
{
	char st[160], msg[256];

	if (ret > 0)
		nvme_status_str((uint16_t)ret, st, sizeof(st));
	else
		snprintf(st, sizeof(st), "%s", strerror(err));
	snprintf(msg, sizeof(msg), "%s failed: %s", what, st);
	napi_util_set_string(env, out, key, msg);
}

static void __fdp_null(napi_env env, napi_value obj, const char *key)
{
	napi_value v;

	napi_get_null(env, &v);
	napi_set_named_property(env, obj, key, v);
}

static void __fdp_bool(napi_env env, napi_value obj, const char *key, bool b)
{
	napi_value v;

	napi_get_boolean(env, b, &v);
	napi_set_named_property(env, obj, key, v);
}

static int __fdp_identify(const struct fdp_xport *x, uint32_t nsid, uint8_t cns, uint8_t *buf)
{
	struct nvme_cmd_desc d;

	memset(&d, 0, sizeof(d));
	memset(buf, 0, NVME_FDP_LOG_LEN);
	d.opcode = NVME_ADMIN_IDENTIFY;
	d.nsid = nsid;
	d.cdw10 = cns;
	d.addr = (uint64_t)(uintptr_t)buf;
	d.data_len = 4096;
	d.dir = NVME_DIR_FROM_DEV;
	return x->admin(x->ctx, &d, NULL);
}

/* The reads, in order; buf is one page. Each part that fails keeps its status and errno for the object. */
static void __fdp_read_all(const struct fdp_xport *x, uint32_t nsid, uint8_t *buf, struct fdp_read *r)
{
	struct nvme_cmd_desc d;
	uint16_t endgid;
	unsigned index;

	r->id_ret = __fdp_identify(x, 0, 0x01, buf);
	r->id_err = errno;
	if (r->id_ret)
		return;
	r->ctratt = nvme_fdp_ctratt(buf);
	r->endgid = __fdp_identify(x, nsid, 0x00, buf) ? 0 : nvme_fdp_endgid(buf);
	endgid = r->endgid;
	if (!(r->ctratt & NVME_CTRATT_FDPS))
		return; /* the rest is not there to read */
	nvme_fdp_cmd_feature(&d, endgid);
	r->feat_ret = x->admin(x->ctx, &d, &r->dw0);
	r->feat_err = errno;
	if (r->feat_ret || !(r->dw0 & 1))
		return;
	index = (r->dw0 >> 8) & 0xff;
	memset(buf, 0, NVME_FDP_LOG_LEN);
	nvme_fdp_cmd_log(&d, NVME_LOG_FDP_CONFIGS, endgid, buf, NVME_FDP_LOG_LEN);
	r->cfg_ret = x->admin(x->ctx, &d, NULL);
	r->cfg_err = errno;
	if (!r->cfg_ret && nvme_fdp_parse_config(buf, NVME_FDP_LOG_LEN, index, &r->cfg, r->cfg_why, sizeof(r->cfg_why)) < 0)
		r->cfg_bad = 1;
	if (x->io) {
		r->ruhs_tried = 1;
		memset(buf, 0, NVME_FDP_LOG_LEN);
		nvme_fdp_cmd_ruhs(&d, nsid, buf, NVME_FDP_LOG_LEN);
		r->ruhs_ret = x->io(x->ctx, &d);
		r->ruhs_err = errno;
		if (!r->ruhs_ret)
			r->ruhs_n = nvme_fdp_parse_ruhs(buf, NVME_FDP_LOG_LEN, r->pids, r->ruamw, NVME_FDP_MAX_RUH);
	}
	memset(buf, 0, NVME_FDP_LOG_LEN);
	nvme_fdp_cmd_log(&d, NVME_LOG_FDP_STATS, endgid, buf, 64);
	r->st_ret = x->admin(x->ctx, &d, NULL);
	r->st_err = errno;
	if (!r->st_ret)
		nvme_fdp_parse_stats(buf, &r->st);
}

static void __fdp_config(napi_env env, napi_value out, const struct fdp_read *r)
{
	const struct nvme_fdp_config *cfg = &r->cfg;
	napi_value o, arr;
	unsigned i;

	if (r->cfg_ret) {
		__fdp_null(env, out, "config");
		__fdp_err(env, out, "configError", "Get Log Page, FDP Configurations (20h)", r->cfg_ret, r->cfg_err);
		return;
	}
	if (r->cfg_bad) {
		__fdp_null(env, out, "config");
		napi_util_set_string(env, out, "configError", r->cfg_why);
		return;
	}
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "index", (r->dw0 >> 8) & 0xff);
	napi_util_set_number(env, o, "fdpa", cfg->fdpa);
	napi_util_set_number(env, o, "rgif", cfg->fdpa & 0xf);
	__fdp_bool(env, o, "valid", (cfg->fdpa & 0x80) != 0);
	napi_util_set_number(env, o, "nrg", cfg->nrg);
	napi_util_set_number(env, o, "nruh", cfg->nruh);
	napi_util_set_number(env, o, "maxpids", cfg->maxpids);
	napi_util_set_number(env, o, "nnss", cfg->nnss);
	napi_util_set_number(env, o, "runs", (double)cfg->runs);
	napi_util_set_number(env, o, "erutl", cfg->erutl);
	napi_create_array_with_length(env, cfg->nruht, &arr);
	for (i = 0; i < cfg->nruht; i++) {
		napi_value v;

		napi_create_uint32(env, cfg->ruht[i], &v);
		napi_set_element(env, arr, i, v);
	}
	napi_set_named_property(env, o, "ruht", arr);
	napi_set_named_property(env, out, "config", o);
}

static void __fdp_stats(napi_env env, napi_value out, const struct fdp_read *r)
{
	napi_value o;

	if (r->st_ret) {
		__fdp_null(env, out, "stats");
		__fdp_err(env, out, "statsError", "Get Log Page, FDP Statistics (22h)", r->st_ret, r->st_err);
		return;
	}
	napi_create_object(env, &o);
	/* Numbers: exact to 2^53 bytes (8 PiB); hi says a count went past 2^64. */
	napi_util_set_number(env, o, "hostBytes", (double)r->st.hbmw);
	napi_util_set_number(env, o, "mediaBytes", (double)r->st.mbmw);
	napi_util_set_number(env, o, "erasedBytes", (double)r->st.mbe);
	__fdp_bool(env, o, "overflow", r->st.hi != 0);
	napi_set_named_property(env, out, "stats", o);
}

static void __fdp_ruhs(napi_env env, napi_value out, const struct fdp_read *r)
{
	napi_value o, arr, left;
	uint32_t n = r->ruhs_n, i;

	if (!r->ruhs_tried) {
		__fdp_null(env, out, "ruhs");
		return;
	}
	if (r->ruhs_ret) {
		__fdp_null(env, out, "ruhs");
		__fdp_err(env, out, "ruhsError", "I/O Management Receive, Reclaim Unit Handle Status", r->ruhs_ret, r->ruhs_err);
		return;
	}
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "reported", n);
	if (n > NVME_FDP_MAX_RUH)
		n = NVME_FDP_MAX_RUH;
	if (16 + 32 * n > NVME_FDP_LOG_LEN)
		n = (NVME_FDP_LOG_LEN - 16) / 32;
	napi_create_array_with_length(env, n, &arr);
	napi_create_array_with_length(env, n, &left);
	for (i = 0; i < n; i++) {
		napi_value v;

		napi_create_uint32(env, r->pids[i], &v);
		napi_set_element(env, arr, i, v);
		napi_create_double(env, (double)r->ruamw[i], &v);
		napi_set_element(env, left, i, v);
	}
	napi_set_named_property(env, o, "pids", arr);
	napi_set_named_property(env, o, "ruamw", left);
	napi_set_named_property(env, out, "ruhs", o);
}

/* The info object from what was read; NULL with an exception pending when Identify Controller failed. */
static napi_value __fdp_info_build(napi_env env, const struct fdp_read *r, const char *where, uint32_t nsid)
{
	napi_value out;

	if (r->id_ret) {
		char msg[4300];

		snprintf(msg, sizeof(msg), "Identify Controller through %s failed: %s", where, r->id_ret > 0 ? "NVMe error" : strerror(r->id_err));
		return napi_util_throw_errno(env, r->id_ret > 0 ? EIO : r->id_err, msg);
	}
	napi_create_object(env, &out);
	napi_util_set_number(env, out, "nsid", nsid);
	napi_util_set_number(env, out, "ctratt", r->ctratt);
	__fdp_bool(env, out, "fdps", (r->ctratt & NVME_CTRATT_FDPS) != 0);
	napi_util_set_number(env, out, "endgid", r->endgid);
	if (!(r->ctratt & NVME_CTRATT_FDPS))
		return out;
	if (r->feat_ret) {
		__fdp_null(env, out, "enabled");
		__fdp_err(env, out, "featureError", "Get Features, Flexible Data Placement (1Dh)", r->feat_ret, r->feat_err);
		return out;
	}
	__fdp_bool(env, out, "enabled", r->dw0 & 1);
	napi_util_set_number(env, out, "fdpcidx", (r->dw0 >> 8) & 0xff);
	if (r->dw0 & 1) {
		__fdp_config(env, out, r);
		__fdp_ruhs(env, out, r);
		__fdp_stats(env, out, r);
	}
	return out;
}

/* Read and build on the JS thread: a kernel node answers at once. */
static napi_value __fdp_info_object(napi_env env, const struct fdp_xport *x, const char *where, uint32_t nsid)
{
	struct fdp_read *r = calloc(1, sizeof(*r));
	uint8_t *buf = NULL;
	napi_value out;

	if (!r || posix_memalign((void **)&buf, 4096, NVME_FDP_LOG_LEN)) {
		free(r);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	__fdp_read_all(x, nsid, buf, r);
	out = __fdp_info_build(env, r, where, nsid);
	free(buf);
	free(r);
	return out;
}

/* The kernel's ioctls on a node: admin on the controller behind it, I/O on the namespace. */
static int __fdp_fd_admin(void *ctx, const struct nvme_cmd_desc *d, uint32_t *dw0)
{
	struct nvme_passthru_cmd cmd;
	int ret;

	nvme_cmd_to_admin(d, &cmd);
	ret = ioctl(*(int *)ctx, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (ret == 0 && dw0)
		*dw0 = cmd.result;
	return ret;
}

static int __fdp_fd_io(void *ctx, const struct nvme_cmd_desc *d)
{
	struct nvme_passthru_cmd64 cmd;

	nvme_cmd_to_passthru(d, &cmd);
	return ioctl(*(int *)ctx, NVME_IOCTL_IO64_CMD, &cmd);
}

static napi_value fdp_napi_info(napi_env env, napi_callback_info info)
{
	napi_value out;
	char path[4096];
	int32_t nsid;
	int fd;
	struct fdp_xport x = { .ctx = &fd, .admin = __fdp_fd_admin, .io = __fdp_fd_io };

	fd = napi_util_open_nvme_args(env, info, "nvmeFdpInfo(path, nsid?) needs a path", path, sizeof(path), &nsid);
	if (fd < 0)
		return NULL;
	out = __fdp_info_object(env, &x, path, (uint32_t)nsid);
	close(fd);
	return out;
}

/* The vfio driver's admin queue: its one-page bounce buffer carries the data. */
static int __fdp_vfio_admin(void *ctx, const struct nvme_cmd_desc *d, uint32_t *dw0)
{
	struct nvme_ctrl *c = ctx;
	struct nvme_sqe cmd;
	int ret;

	if (d->data_len > NVME_PAGE) {
		errno = EINVAL;
		return -1;
	}
	memset(c->idbuf, 0, NVME_PAGE);
	nvme_sqe_from_desc(&cmd, d);
	if (d->data_len)
		cmd.prp1 = c->idbuf_iova;
	ret = nvme_admin(c, &cmd, dw0);
	if (ret == 0 && d->data_len)
		memcpy((void *)(uintptr_t)d->addr, c->idbuf, d->data_len);
	return ret;
}

/* vfioFdpInfo in flight: bring-up, reads and shutdown on a pool thread, the object built on the JS thread. */
struct fdp_vfio_call {
	struct vfio_async a; /* first: the complete callback's data is either */
	uint32_t nsid;
	struct fdp_read r;
};

static void __fdp_vfio_execute(napi_env env, void *data)
{
	struct fdp_vfio_call *f = data;
	struct nvme_ctrl *c = calloc(1, sizeof(*c));
	uint8_t *buf = NULL;

	(void)env;
	if (!c || posix_memalign((void **)&buf, 4096, NVME_FDP_LOG_LEN)) {
		free(c);
		f->a.err = ENOMEM;
		snprintf(f->a.msg, sizeof(f->a.msg), "out of memory");
		return;
	}
	if (nvme_ctrl_open(c, f->a.bdf, 0, f->a.abort) < 0) {
		f->a.err = errno;
		snprintf(f->a.msg, sizeof(f->a.msg), "%s", c->errmsg);
	} else {
		struct fdp_xport x = { .ctx = c, .admin = __fdp_vfio_admin, .io = NULL };

		__fdp_read_all(&x, f->nsid, buf, &f->r);
		vfio_async_check_abort(&f->a, "reading the FDP state of");
		nvme_ctrl_close(c);
	}
	free(buf);
	free(c);
}

static void __fdp_vfio_complete(napi_env env, napi_status status, void *data)
{
	struct fdp_vfio_call *f = data;

	vfio_async_settle(env, &f->a, status, f->a.err ? NULL : __fdp_info_build(env, &f->r, f->a.bdf, f->nsid));
	free(f);
}

/* vfioFdpInfo(pciAddress, nsid, abort?) → Promise: as vfioProbe, on a pool thread. */
static napi_value fdp_napi_vfio_info(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], promise;
	int32_t nsid = 0;
	struct fdp_vfio_call *f = calloc(1, sizeof(*f));

	if (!f)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
	    vfio_async_args(env, &f->a, argv[0], argc > 2 ? argv[2] : NULL) < 0 ||
	    napi_get_value_int32(env, argv[1], &nsid) != napi_ok || nsid <= 0) {
		if (f->a.abort_ref)
			napi_delete_reference(env, f->a.abort_ref);
		free(f);
		return napi_util_throw_errno(env, EINVAL, "vfioFdpInfo(pciAddress, nsid, abort?)");
	}
	f->nsid = (uint32_t)nsid;
	promise = vfio_async_queue(env, &f->a, "nvmebench:vfioFdpInfo", __fdp_vfio_execute, __fdp_vfio_complete);
	if (!promise)
		free(f);
	return promise;
}

void fdp_napi_register(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "nvmeFdpInfo", NULL, fdp_napi_info, NULL, NULL, NULL, napi_default, NULL },
		{ "vfioFdpInfo", NULL, fdp_napi_vfio_info, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
