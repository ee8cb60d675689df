/*
 * vfioProbe(bdf, nsid?): bring a vfio-pci bound controller up with the
 * userspace driver, Identify it (and a namespace), shut it down again. What
 * the kernel's sysfs cannot say about a device it no longer drives: the
 * target's size, LBA size and model for the vfio engine. Same shape as
 * nvmeIdentify(), plus the CAP fields the driver uses and, with a namespace,
 * `commands`: what nvmeCommandInfo() reads through a kernel node (ONCS, the
 * namespace's copy limits and CSI, the NVM and Zoned Identify data, the
 * Commands Supported and Effects log), for the NVMe command workloads'
 * support checks.
 *
 * vfioReportZones(bdf, nsid, slba, maxZones): nvmeReportZones() for a
 * controller on vfio-pci, over one I/O queue pair brought up for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <node_api.h>

#include "cmd_napi.h"
#include "napi_util.h"
#include "nvme_cmd.h"
#include "nvme_ctrl.h"
#include "nvme_prp.h"

napi_value vfio_napi_probe(napi_env env, napi_callback_info info);
napi_value vfio_napi_report_zones(napi_env env, napi_callback_info info);

static int __vfio_napi_identify(void *ctx, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf)
{
	return nvme_ctrl_identify(ctx, nsid, cns, csi, buf);
}

static int __vfio_napi_get_log(void *ctx, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len)
{
	return nvme_ctrl_get_log(ctx, nsid, lid, csi, buf, len);
}

napi_value vfio_napi_probe(napi_env env, napi_callback_info info)
{
	size_t argc = 2, got;
	napi_value argv[2], out, ctrl, ns, cap, cmds = NULL;
	char bdf[64];
	int32_t nsid = 0;
	struct nvme_ctrl *c;
	struct nvme_ns_info nsi;
	bool have_ns = false;
	int err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_string_utf8(env, argv[0], bdf, sizeof(bdf), &got) != napi_ok)
		return napi_util_throw_errno(env, EINVAL, "vfioProbe(pciAddress, nsid?) needs a PCI address");
	if (argc > 1)
		napi_get_value_int32(env, argv[1], &nsid);
	c = calloc(1, sizeof(*c));
	if (!c)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	if (nvme_ctrl_open(c, bdf, 0, NULL) < 0) {
		char msg[NVME_ERRLEN];

		err = errno;
		snprintf(msg, sizeof(msg), "%s", c->errmsg);
		free(c);
		return napi_util_throw_errno(env, err, msg);
	}
	if (nsid > 0) {
		if (nvme_ctrl_identify_ns(c, (uint32_t)nsid, &nsi) < 0) {
			char msg[NVME_ERRLEN];

			err = errno;
			snprintf(msg, sizeof(msg), "%s", c->errmsg);
			nvme_ctrl_close(c);
			free(c);
			return napi_util_throw_errno(env, err, msg);
		}
		have_ns = true;
		/* The support checks' data, read now: nothing else can reach the controller while it is ours. */
		{
			struct cmd_admin a = { .ctx = c, .where = bdf, .identify = __vfio_napi_identify, .get_log = __vfio_napi_get_log };

			cmds = cmd_napi_info_object(env, &a, (uint32_t)nsid);
			if (!cmds) {
				nvme_ctrl_close(c);
				free(c);
				return NULL; /* the exception is pending */
			}
		}
	}
	napi_create_object(env, &out);
	ctrl = napi_util_ctrl_object(env, &c->info);
	napi_set_named_property(env, out, "ctrl", ctrl);
	if (have_ns) {
		ns = napi_util_ns_object(env, &nsi);
		napi_set_named_property(env, out, "ns", ns);
		napi_set_named_property(env, out, "commands", cmds);
	}
	napi_create_object(env, &cap);
	napi_util_set_number(env, cap, "mqes", c->mqes);
	napi_util_set_number(env, cap, "dstrd", c->dstrd);
	napi_util_set_number(env, cap, "mpsmin", c->mpsmin);
	napi_util_set_number(env, cap, "timeoutMs", c->timeout_ms);
	napi_util_set_number(env, cap, "readyTimeoutMs", c->ready_ms);
	napi_util_set_number(env, cap, "css", c->css);
	napi_util_set_number(env, cap, "maxTransferBytes", c->max_xfer);
	napi_util_set_number(env, cap, "iommuRanges", c->vfio.nr_ranges);
	napi_set_named_property(env, out, "cap", cap);
	nvme_ctrl_close(c);
	free(c);
	return out;
}

/* Report Zones needs an I/O queue: one pair of two entries, the buffer mapped with a PRP list, one command. */
static int __vfio_napi_zones(struct nvme_ctrl *c, uint32_t nsid, uint64_t slba, uint8_t *buf, size_t len)
{
	struct nvme_qpair qp;
	struct nvme_cmd_desc d;
	struct nvme_sqe cmd;
	uint64_t *list = NULL, iova, list_iova = 0, prp1, prp2;
	/* buf is page aligned (mmap): its list pages are those of a transfer at offset 0. */
	int64_t lists = nvme_prp_list_pages(0, len, NVME_PAGE);
	size_t list_size = lists > 0 ? (size_t)lists * NVME_PAGE : 0;
	int ret = -1;

	memset(&qp, 0, sizeof(qp));
	if (lists < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "no PRPs for a report of %zu bytes", len);
		return -1;
	}
	if (iommu_map(&c->vfio, buf, len, &iova, c->errmsg, sizeof(c->errmsg)) < 0)
		return -1;
	if (list_size) {
		list = mmap(NULL, list_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (list == MAP_FAILED) {
			list = NULL;
			snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
			errno = ENOMEM;
			return -1;
		}
		if (iommu_map(&c->vfio, list, list_size, &list_iova, c->errmsg, sizeof(c->errmsg)) < 0)
			goto out;
	}
	if (nvme_prp_build(iova, len, NVME_PAGE, list, list_iova, (uint64_t)lists, &prp1, &prp2) < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "no PRPs for a report of %zu bytes", len);
		goto out;
	}
	if (nvme_qpair_alloc(c, &qp, 1, 2) < 0 || nvme_qpair_create(c, &qp) < 0)
		goto out;
	nvme_cmd_report_zones(&d, nsid, slba, buf, (uint32_t)len);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = d.opcode;
	cmd.nsid = d.nsid;
	cmd.prp1 = prp1; /* d.addr is buf: the PRPs above map it */
	cmd.prp2 = prp2;
	cmd.cdw10 = d.cdw10;
	cmd.cdw11 = d.cdw11;
	cmd.cdw12 = d.cdw12;
	cmd.cdw13 = d.cdw13;
	cmd.cdw14 = d.cdw14;
	cmd.cdw15 = d.cdw15;
	ret = nvme_io_sync(c, &qp, &cmd, NULL);
out:
	if (qp.created_sq || qp.created_cq) {
		int saved = errno;

		nvme_qpair_delete(c, &qp);
		errno = saved;
	}
	nvme_qpair_free(c, &qp);
	/* nvme_ctrl_close undoes the buffer's and the list's mappings with the container. */
	if (list)
		munmap(list, list_size);
	return ret;
}

napi_value vfio_napi_report_zones(napi_env env, napi_callback_info info)
{
	size_t argc = 4, got, len;
	napi_value argv[4], out;
	char bdf[64], msg[NVME_ERRLEN + 128];
	int32_t nsid = 0;
	double slba = 0;
	uint32_t max = 0;
	struct nvme_ctrl *c;
	uint8_t *buf;
	int ret, err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
	    napi_get_value_string_utf8(env, argv[0], bdf, sizeof(bdf), &got) != napi_ok ||
	    napi_get_value_int32(env, argv[1], &nsid) != napi_ok || nsid <= 0 ||
	    napi_get_value_double(env, argv[2], &slba) != napi_ok || slba < 0 ||
	    napi_get_value_uint32(env, argv[3], &max) != napi_ok || !max)
		return napi_util_throw_errno(env, EINVAL, "vfioReportZones(pciAddress, nsid, slba, maxZones)");
	len = nvme_report_zones_len(&max);
	c = calloc(1, sizeof(*c));
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!c || buf == MAP_FAILED) {
		free(c);
		if (buf != MAP_FAILED)
			munmap(buf, len);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	if (nvme_ctrl_open(c, bdf, 1, NULL) < 0) {
		err = errno;
		snprintf(msg, sizeof(msg), "%s", c->errmsg);
		free(c);
		munmap(buf, len);
		return napi_util_throw_errno(env, err, msg);
	}
	ret = __vfio_napi_zones(c, (uint32_t)nsid, (uint64_t)slba, buf, len);
	err = errno;
	if (ret)
		snprintf(msg, sizeof(msg), "Report Zones through %s failed: %s", bdf, c->errmsg);
	nvme_ctrl_close(c);
	free(c);
	if (ret) {
		munmap(buf, len);
		return napi_util_throw_errno(env, ret > 0 ? EIO : err, msg);
	}
	out = cmd_napi_zones_object(env, buf, max);
	munmap(buf, len);
	return out;
}
