/*
 * Node-API for the NVMe command workloads: the job's command fields, the
 * zone-append counters in the result, what a namespace supports (Identify
 * for the I/O command sets, the Commands Supported and Effects log), Report
 * Zones, and which engine issues which command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <node_api.h>

#include "cmd_napi.h"
#include "engine.h"
#include "napi_util.h"
#include "nvme.h"
#include "nvme_cmd.h"
#include "workload_cmd.h"

/* The command fields of a job, copied; all optional (absent: plain reads and writes). Returns the bad field or NULL. */
const char *cmd_napi_parse_job(napi_env env, napi_value obj, struct job *job)
{
	char name[32], dir[16];
	napi_value arr;
	uint32_t i, n, opcode = 0;
	int r;

	job->command = JOB_CMD_RW;
	r = napi_util_get_string(env, obj, "command", name, sizeof(name));
	if (r < 0)
		return "command";
	if (r > 0) {
		int c = job_command_parse(name);

		if (c < 0)
			return "command";
		job->command = (enum job_command)c;
	}
	if (napi_util_get_u32(env, obj, "rawOpcode", &opcode) < 0)
		return "rawOpcode";
	job->raw_opcode = (uint8_t)opcode;
	if (napi_util_get(env, obj, "rawCdw", &arr) > 0) {
		/* raw_cdw holds cdw10..cdw15: a longer list is refused, not written past it. */
		if (napi_get_array_length(env, arr, &n) != napi_ok || n > 6)
			return "rawCdw";
		for (i = 0; i < n; i++) {
			napi_value v;

			if (napi_get_element(env, arr, i, &v) != napi_ok || napi_get_value_uint32(env, v, &job->raw_cdw[i]) != napi_ok)
				return "rawCdw";
		}
	}
	if (napi_util_get_u32(env, obj, "rawDataLen", &job->raw_data_len) < 0)
		return "rawDataLen";
	r = napi_util_get_string(env, obj, "rawDir", dir, sizeof(dir));
	if (r < 0)
		return "rawDir";
	job->raw_dir = NVME_DIR_NONE;
	if (r > 0) {
		if (!strcmp(dir, "write"))
			job->raw_dir = NVME_DIR_TO_DEV;
		else if (!strcmp(dir, "read"))
			job->raw_dir = NVME_DIR_FROM_DEV;
		else if (strcmp(dir, "none"))
			return "rawDir";
	}
	job->copy_ranges = 1;
	if (napi_util_get_u32(env, obj, "copyRanges", &job->copy_ranges) < 0)
		return "copyRanges";
	if (napi_util_get_u32(env, obj, "zones", &job->zones) < 0)
		return "zones";
	if (napi_util_get_u64(env, obj, "zoneBytes", &job->zone_bytes) < 0)
		return "zoneBytes";
	if (napi_util_get_u64(env, obj, "zoneCapBytes", &job->zone_cap_bytes) < 0)
		return "zoneCapBytes";
	if (napi_util_get_string(env, obj, "dumpPath", job->dump_path, sizeof(job->dump_path)) < 0)
		return "dumpPath";
	return NULL;
}

/* The zone-append counters, summed over the workers. */
void cmd_napi_result(napi_env env, napi_value out, const struct run *run)
{
	uint64_t used = 0, checked = 0, outside = 0;
	uint32_t i;

	if (run->job.command != JOB_CMD_ZONE_APPEND)
		return;
	for (i = 0; i < run->nr_workers; i++) {
		const struct worker_cmd *c = run->workers[i].cmd;

		if (!c)
			continue;
		used += c->zones_used;
		checked += c->zone_appends_checked;
		outside += c->zone_outside;
	}
	napi_util_set_number(env, out, "zonesUsed", (double)used);
	napi_util_set_number(env, out, "zoneAppendsChecked", (double)checked);
	napi_util_set_number(env, out, "zoneAppendsOutside", (double)outside);
}

static void __status_prop(napi_env env, napi_value obj, const char *key, int ret, int err)
{
	char buf[160];
	napi_value s;

	if (ret > 0)
		nvme_status_str((uint16_t)ret, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", strerror(err));
	napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s);
	napi_set_named_property(env, obj, key, s);
}

static int __fd_identify(void *ctx, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf)
{
	return nvme_identify_cns(*(int *)ctx, nsid, cns, csi, buf);
}

static int __fd_get_log(void *ctx, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len)
{
	return nvme_get_log_page(*(int *)ctx, nsid, lid, csi, buf, len);
}

static void __null_prop(napi_env env, napi_value obj, const char *key)
{
	napi_value v;

	napi_get_null(env, &v);
	napi_set_named_property(env, obj, key, v);
}

/* The page of one admin command, and how it ended: 0, > 0 an NVMe status, -1 with err. */
static int __read_page(struct cmd_info_page *pg, uint8_t *scratch, int ret)
{
	pg->ret = ret;
	pg->err = ret < 0 ? errno : 0;
	if (!ret)
		memcpy(pg->data, scratch, sizeof(pg->data));
	return ret;
}

int cmd_info_read(const struct cmd_admin *a, uint32_t nsid, struct cmd_info_pages *p)
{
	uint8_t *buf;

	if (posix_memalign((void **)&buf, 4096, 4096)) {
		errno = ENOMEM;
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->nsid = nsid;
	p->csi = -1;
#define READ(pg, call) (memset(buf, 0, 4096), __read_page(&p->pg, buf, (call)))
	if (READ(ctrl, a->identify(a->ctx, 0, 0x01, 0, buf)) == 0) {
		READ(ns, a->identify(a->ctx, nsid, 0x00, 0, buf));
		if (READ(desc, a->identify(a->ctx, nsid, 0x03, 0, buf)) == 0)
			p->csi = nvme_parse_ns_csi(p->desc.data);
		READ(nvm_ctrl, a->identify(a->ctx, 0, 0x06, 0x00, buf));
		if (p->csi == 0x02 && READ(zns_ns, a->identify(a->ctx, nsid, 0x05, 0x02, buf)) == 0)
			READ(zns_ctrl, a->identify(a->ctx, 0, 0x06, 0x02, buf));
		READ(effects, a->get_log(a->ctx, 0, 0x05, (uint8_t)(p->csi < 0 ? 0 : p->csi), buf, 4096));
	}
#undef READ
	free(buf);
	return 0;
}

/* Identify Controller: ONCS, LPA, OCFS, MDTS, VWC. -1 with an exception pending when it failed. */
static int __info_ctrl(napi_env env, napi_value out, const struct cmd_info_page *pg, const char *where)
{
	struct nvme_ctrl_info ci;
	napi_value o;
	char msg[4300];

	if (pg->ret) {
		snprintf(msg, sizeof(msg), "Identify Controller through %s failed: %s", where, pg->ret > 0 ? "NVMe error" : strerror(pg->err));
		napi_util_throw_errno(env, pg->ret > 0 ? EIO : pg->err, msg);
		return -1;
	}
	nvme_parse_id_ctrl(pg->data, &ci);
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "oncs", ci.oncs);
	napi_util_set_number(env, o, "lpa", ci.lpa);
	napi_util_set_number(env, o, "ocfs", ci.ocfs);
	napi_util_set_number(env, o, "mdts", ci.mdts);
	napi_util_set_number(env, o, "vwc", ci.vwc);
	napi_util_set_number(env, o, "ctratt", nvme_le32(pg->data + 96)); /* FDPS (bit 19): whether a write run reads FDP statistics */
	napi_set_named_property(env, out, "ctrl", o);
	return 0;
}

/* Identify Namespace: NSZE, the LBA size, DLFEAT and the Copy limits. Returns the formatted LBA format (0 without one). */
static unsigned __info_ns(napi_env env, napi_value out, const struct cmd_info_page *pg, uint32_t nsid)
{
	struct nvme_ns_info nsi;
	napi_value o;
	char why[256];

	if (pg->ret) {
		__null_prop(env, out, "ns");
		__status_prop(env, out, "nsError", pg->ret, pg->err);
		return 0;
	}
	if (nvme_parse_id_ns(pg->data, nsid, &nsi, why, sizeof(why)) < 0) {
		/* LBADS or NSZE that make no sense: no namespace data, and why. */
		__null_prop(env, out, "ns");
		napi_util_set_string(env, out, "nsError", why);
		return 0;
	}
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "nsze", (double)nsi.nsze);
	napi_util_set_number(env, o, "lbaSize", (double)nsi.lba_size);
	napi_util_set_number(env, o, "dlfeat", nsi.dlfeat);
	napi_util_set_number(env, o, "mssrl", nsi.mssrl);
	napi_util_set_number(env, o, "mcl", nsi.mcl);
	napi_util_set_number(env, o, "msrc", nsi.msrc);
	napi_set_named_property(env, out, "ns", o);
	return nsi.lba_format;
}

/* I/O Command Set specific Identify Controller for NVM: VSL, WZSL, DMRL, DMRSL; null when the controller has none. */
static void __info_nvm_ctrl(napi_env env, napi_value out, const struct cmd_info_page *pg)
{
	struct nvme_nvm_ctrl_info nvm;
	napi_value o;

	if (pg->ret) {
		__null_prop(env, out, "nvmCtrl");
		return;
	}
	nvme_parse_id_ctrl_nvm(pg->data, &nvm);
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "vsl", nvm.vsl);
	napi_util_set_number(env, o, "wzsl", nvm.wzsl);
	napi_util_set_number(env, o, "dmrl", nvm.dmrl);
	napi_util_set_number(env, o, "dmrsl", nvm.dmrsl);
	napi_set_named_property(env, out, "nvmCtrl", o);
}

/* Zoned: Identify Namespace and Controller for CSI 02h. */
static void __info_zns(napi_env env, napi_value out, const struct cmd_info_pages *p, unsigned fmt)
{
	struct nvme_zns_ns_info zns;
	napi_value o;

	if (p->zns_ns.ret) {
		__null_prop(env, out, "zns");
		__status_prop(env, out, "znsError", p->zns_ns.ret, p->zns_ns.err);
		return;
	}
	nvme_parse_id_ns_zns(p->zns_ns.data, fmt, &zns);
	napi_create_object(env, &o);
	napi_util_set_number(env, o, "zoc", zns.zoc);
	napi_util_set_number(env, o, "ozcs", zns.ozcs);
	napi_util_set_number(env, o, "mar", zns.mar);
	napi_util_set_number(env, o, "mor", zns.mor);
	napi_util_set_number(env, o, "zsze", (double)zns.zsze);
	napi_util_set_number(env, o, "zdes", zns.zdes);
	napi_util_set_number(env, o, "zasl", p->zns_ctrl.ret == 0 ? nvme_parse_id_ctrl_zns_zasl(p->zns_ctrl.data) : 0);
	napi_set_named_property(env, out, "zns", o);
}

/* Commands Supported and Effects (log 05h) for the namespace's command set: the 256 I/O entries. */
static void __info_effects(napi_env env, napi_value out, const struct cmd_info_page *pg)
{
	napi_value arr;
	unsigned i;

	if (pg->ret) {
		__null_prop(env, out, "effects");
		__status_prop(env, out, "effectsError", pg->ret, pg->err);
		return;
	}
	napi_create_array_with_length(env, 256, &arr);
	for (i = 0; i < 256; i++) {
		napi_value v;

		napi_create_double(env, nvme_le32(pg->data + 1024 + 4 * i), &v);
		napi_set_element(env, arr, i, v);
	}
	napi_set_named_property(env, out, "effects", arr);
}

/*
 * What the support checks read: Identify Controller (ONCS, LPA, OCFS),
 * Identify Namespace (MSSRL, MCL, MSRC, DLFEAT), the namespace's CSI,
 * Identify for the NVM command set (VSL, WZSL, DMRSL), for the Zoned command
 * set (zone size, ZASL, MOR/MAR), and the Commands Supported and Effects log
 * for the namespace's command set. Parts that fail come back null with an
 * "...Error" string beside them; only Identify Controller failing throws.
 * The offsets are nvme.c's parsers'.
 */
napi_value cmd_napi_info_build(napi_env env, const struct cmd_info_pages *p, const char *where)
{
	napi_value out;
	unsigned fmt;

	napi_create_object(env, &out);
	napi_util_set_number(env, out, "nsid", p->nsid);
	if (__info_ctrl(env, out, &p->ctrl, where) < 0)
		return NULL;
	fmt = __info_ns(env, out, &p->ns, p->nsid);
	napi_util_set_number(env, out, "csi", p->csi);
	if (p->desc.ret)
		__status_prop(env, out, "csiError", p->desc.ret, p->desc.err);
	__info_nvm_ctrl(env, out, &p->nvm_ctrl);
	if (p->csi == 0x02)
		__info_zns(env, out, p, fmt);
	else
		__null_prop(env, out, "zns");
	__info_effects(env, out, &p->effects);
	return out;
}

napi_value cmd_napi_info_object(napi_env env, const struct cmd_admin *a, uint32_t nsid)
{
	struct cmd_info_pages *p = malloc(sizeof(*p));
	napi_value out;

	if (!p || cmd_info_read(a, nsid, p) < 0) {
		free(p);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	out = cmd_napi_info_build(env, p, a->where);
	free(p);
	return out;
}

/* nvmeCommandInfo(path, nsid): cmd_napi_info_object through the kernel's admin ioctl on the node. */
static napi_value cmd_napi_info(napi_env env, napi_callback_info info)
{
	napi_value out;
	char path[4096];
	int32_t nsid;
	int fd;
	struct cmd_admin a = { .ctx = &fd, .where = path, .identify = __fd_identify, .get_log = __fd_get_log };

	fd = napi_util_open_nvme_args(env, info, "nvmeCommandInfo(path, nsid?) needs a path", path, sizeof(path), &nsid);
	if (fd < 0)
		return NULL;
	out = cmd_napi_info_object(env, &a, (uint32_t)nsid);
	close(fd);
	return out;
}

napi_value cmd_napi_zones_object(napi_env env, const uint8_t *buf, uint32_t max)
{
	napi_value out, arr;
	uint32_t n = (uint32_t)nvme_le64(buf), i;

	if (n > max)
		n = max;
	napi_create_object(env, &out);
	napi_util_set_number(env, out, "reported", n);
	napi_create_array_with_length(env, n, &arr);
	for (i = 0; i < n; i++) {
		const uint8_t *z = buf + 64 + (size_t)64 * i;
		napi_value zo;

		napi_create_object(env, &zo);
		napi_util_set_number(env, zo, "type", z[0] & 0xf);
		napi_util_set_number(env, zo, "state", z[1] >> 4);
		napi_util_set_number(env, zo, "cap", (double)nvme_le64(z + 8));
		napi_util_set_number(env, zo, "slba", (double)nvme_le64(z + 16));
		napi_util_set_number(env, zo, "wp", (double)nvme_le64(z + 24));
		napi_set_element(env, arr, i, zo);
	}
	napi_set_named_property(env, out, "zones", arr);
	return out;
}

/* nvmeReportZones(path, nsid, slba, maxZones): { reported, zones: [{ slba, cap, wp, state, type }] } */
static napi_value cmd_napi_report_zones(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], out;
	char path[4096], msg[4400];
	size_t got, len;
	int32_t nsid = 0;
	double slba_d = 0;
	uint32_t max = 0;
	uint8_t *buf;
	int fd, ret, err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
	    napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &got) != napi_ok ||
	    napi_get_value_int32(env, argv[1], &nsid) != napi_ok || napi_get_value_double(env, argv[2], &slba_d) != napi_ok ||
	    napi_get_value_uint32(env, argv[3], &max) != napi_ok || !max)
		return napi_util_throw_errno(env, EINVAL, "nvmeReportZones(path, nsid, slba, maxZones)");
	len = nvme_report_zones_len(&max);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(err));
		return napi_util_throw_errno(env, err, msg);
	}
	if (posix_memalign((void **)&buf, 4096, len)) {
		close(fd);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	memset(buf, 0, len);
	ret = nvme_report_zones(fd, (uint32_t)nsid, (uint64_t)slba_d, buf, (uint32_t)len);
	err = errno;
	close(fd);
	if (ret) {
		char st[160];

		if (ret > 0)
			nvme_status_str((uint16_t)ret, st, sizeof(st));
		else
			snprintf(st, sizeof(st), "%s", strerror(err));
		snprintf(msg, sizeof(msg), "Report Zones through %s failed: %s", path, st);
		free(buf);
		return napi_util_throw_errno(env, ret > 0 ? EIO : err, msg);
	}
	out = cmd_napi_zones_object(env, buf, max);
	free(buf);
	return out;
}

/* engineCommands(): { psync: ['write-zeroes', ...], ... }, the commands each engine issues besides read/write. */
static napi_value cmd_napi_engine_commands(napi_env env, napi_callback_info info)
{
	napi_value out;
	int e, c;

	napi_create_object(env, &out);
	for (e = 0; e < ENGINE_COUNT; e++) {
		const struct engine_ops *ops = worker_engine_ops((enum engine_id)e);
		unsigned bits = ops ? ops->commands : 0;
		napi_value arr;
		uint32_t n = 0;

		napi_create_array(env, &arr);
		for (c = 1; c < JOB_CMD_COUNT; c++) {
			if (bits & JOB_CMD_BIT(c)) {
				napi_value s;

				napi_create_string_utf8(env, job_command_id(c), NAPI_AUTO_LENGTH, &s);
				napi_set_element(env, arr, n++, s);
			}
		}
		napi_set_named_property(env, out, engine_names[e], arr);
	}
	return out;
}

void cmd_napi_register(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "nvmeCommandInfo", NULL, cmd_napi_info, NULL, NULL, NULL, napi_default, NULL },
		{ "nvmeReportZones", NULL, cmd_napi_report_zones, NULL, NULL, NULL, napi_default, NULL },
		{ "engineCommands", NULL, cmd_napi_engine_commands, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
