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

/* nvmeCommandInfo's object for nsid (see cmd_napi.c); NULL with an exception pending when Identify Controller fails. */
napi_value cmd_napi_info_object(napi_env env, const struct cmd_admin *a, uint32_t nsid);
/* nvmeReportZones' object from a Zone Management Receive buffer of at most max descriptors. */
napi_value cmd_napi_zones_object(napi_env env, const uint8_t *buf, uint32_t max);

const char *cmd_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void cmd_napi_result(napi_env env, napi_value out, const struct run *run);
void cmd_napi_register(napi_env env, napi_value exports);

#endif
