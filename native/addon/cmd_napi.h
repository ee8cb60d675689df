/*
 * What cmd_napi.c shares with the rest of the addon: the job's command
 * fields, the result's zone-append counters, and the support-check data
 * (Identify for the I/O command sets, the effects log, Report Zones) built
 * the same way whether the kernel's admin ioctl or the vfio driver's own
 * admin queue carries the commands.
 */
#ifndef NVMEBENCH_CMD_NAPI_H
#define NVMEBENCH_CMD_NAPI_H

#include <stdint.h>
#include <node_api.h>

#include "engine.h"

/* How the support checks reach a controller. Each call: 0, > 0 an NVMe status, -1 with errno set. */
struct cmd_admin {
	void *ctx;
	const char *where; /* for messages: the node, or the PCI address */
	int (*identify)(void *ctx, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf);
	int (*get_log)(void *ctx, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len);
};

/* One admin command's page, and how it ended: ret 0, > 0 an NVMe status, -1 with err (an errno). */
struct cmd_info_page {
	int ret;
	int err;
	uint8_t data[4096];
};

/* Every page the support checks read (cmd_info_read), kept apart from the object built of them: a vfio probe reads off the JS thread. */
struct cmd_info_pages {
	uint32_t nsid;
	int csi; /* from the Namespace Identification Descriptors; -1 when none is given */
	struct cmd_info_page ctrl, ns, desc, nvm_ctrl, zns_ns, zns_ctrl, effects;
};

/* Read the pages through a (no napi: any thread). 0, or -1 with errno when out of memory. */
int cmd_info_read(const struct cmd_admin *a, uint32_t nsid, struct cmd_info_pages *p);
/* nvmeCommandInfo's object from the pages; NULL with an exception pending when Identify Controller failed. */
napi_value cmd_napi_info_build(napi_env env, const struct cmd_info_pages *p, const char *where);
/* Both at once, on the JS thread. */
napi_value cmd_napi_info_object(napi_env env, const struct cmd_admin *a, uint32_t nsid);
/* nvmeReportZones' object from a Zone Management Receive buffer of at most max descriptors. */
napi_value cmd_napi_zones_object(napi_env env, const uint8_t *buf, uint32_t max);

const char *cmd_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void cmd_napi_result(napi_env env, napi_value out, const struct run *run);
void cmd_napi_register(napi_env env, napi_value exports);

#endif
