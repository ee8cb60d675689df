/*
 * vfioProbe(bdf, nsid?, abort?): bring a vfio-pci bound controller up with the
 * userspace driver, Identify it (and a namespace), shut it down again, on a
 * pool thread; a promise of the result. What
 * the kernel's sysfs cannot say about a device it no longer drives: the
 * target's size, LBA size and model for the vfio engine. Same shape as
 * nvmeIdentify(), plus the CAP fields the driver uses and, with a namespace,
 * `commands`: what nvmeCommandInfo() reads through a kernel node (ONCS, the
 * namespace's copy limits and CSI, the NVM and Zoned Identify data, the
 * Commands Supported and Effects log), for the NVMe command workloads'
 * support checks.
 *
 * vfioReportZones(bdf, nsid, slba, maxZones, abort?): nvmeReportZones() for a
 * controller on vfio-pci, over one I/O queue pair brought up for it; a
 * promise, on a pool thread like the probe (vfio_async.h).
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
#include "vfio_async.h"

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

/*
 * A probe in flight: what JS gave, and what the bring-up read, carried from
 * the pool thread (__vfio_probe_execute) to the JS thread (__vfio_probe_complete).
 */
struct vfio_probe {
	struct vfio_async a; /* first: bdf, the abort flag, the promise, err and msg */
	uint32_t nsid;
	struct nvme_ctrl_info info;
	struct nvme_ns_info nsi;
	struct cmd_info_pages *cmds; /* with a namespace */
	uint32_t mqes, dstrd, mpsmin, timeout_ms, ready_ms, css, max_xfer, iommu_ranges;
};

/* The bring-up, Identify and shutdown, on a pool thread: no napi here. CAP.TO alone may be 127 s. */
static void __vfio_probe_execute(napi_env env, void *data)
{
	struct vfio_probe *p = data;
	struct nvme_ctrl *c = calloc(1, sizeof(*c));

	(void)env;
	if (!c) {
		p->a.err = ENOMEM;
		snprintf(p->a.msg, sizeof(p->a.msg), "out of memory");
		return;
	}
	if (nvme_ctrl_open(c, p->a.bdf, 0, p->a.abort) < 0) {
		p->a.err = errno;
		snprintf(p->a.msg, sizeof(p->a.msg), "%s", c->errmsg);
		free(c);
		return;
	}
	p->info = c->info;
	p->mqes = c->mqes;
	p->dstrd = c->dstrd;
	p->mpsmin = c->mpsmin;
	p->timeout_ms = c->timeout_ms;
	p->ready_ms = c->ready_ms;
	p->css = c->css;
	p->max_xfer = c->max_xfer;
	p->iommu_ranges = c->vfio.nr_ranges;
	if (p->nsid) {
		if (nvme_ctrl_identify_ns(c, p->nsid, &p->nsi) < 0) {
			p->a.err = errno;
			snprintf(p->a.msg, sizeof(p->a.msg), "%s", c->errmsg);
		} else {
			/* The support checks' data, read now: nothing else can reach the controller while it is ours. */
			struct cmd_admin a = { .ctx = c, .where = p->a.bdf, .identify = __vfio_napi_identify, .get_log = __vfio_napi_get_log };

			p->cmds = malloc(sizeof(*p->cmds));
			if (!p->cmds || cmd_info_read(&a, p->nsid, p->cmds) < 0) {
				p->a.err = ENOMEM;
				snprintf(p->a.msg, sizeof(p->a.msg), "out of memory");
			}
		}
	}
	/* An admin command cut short reads as a failed page: say it was the interrupt. */
	if (!p->a.err)
		vfio_async_check_abort(&p->a, "probing");
	nvme_ctrl_close(c);
	free(c);
}

static napi_value __vfio_probe_object(napi_env env, const struct vfio_probe *p)
{
	napi_value out, cap, cmds = NULL;

	if (p->cmds) {
		cmds = cmd_napi_info_build(env, p->cmds, p->a.bdf);
		if (!cmds)
			return NULL; /* the exception is pending */
	}
	napi_create_object(env, &out);
	napi_set_named_property(env, out, "ctrl", napi_util_ctrl_object(env, &p->info));
	if (p->nsid) {
		napi_set_named_property(env, out, "ns", napi_util_ns_object(env, &p->nsi));
		napi_set_named_property(env, out, "commands", cmds);
	}
	napi_create_object(env, &cap);
	napi_util_set_number(env, cap, "mqes", p->mqes);
	napi_util_set_number(env, cap, "dstrd", p->dstrd);
	napi_util_set_number(env, cap, "mpsmin", p->mpsmin);
	napi_util_set_number(env, cap, "timeoutMs", p->timeout_ms);
	napi_util_set_number(env, cap, "readyTimeoutMs", p->ready_ms);
	napi_util_set_number(env, cap, "css", p->css);
	napi_util_set_number(env, cap, "maxTransferBytes", p->max_xfer);
	napi_util_set_number(env, cap, "iommuRanges", p->iommu_ranges);
	napi_set_named_property(env, out, "cap", cap);
	return out;
}

static void __vfio_probe_complete(napi_env env, napi_status status, void *data)
{
	struct vfio_probe *p = data;

	vfio_async_settle(env, &p->a, status, p->a.err ? NULL : __vfio_probe_object(env, p));
	free(p->cmds);
	free(p);
}

/*
 * vfioProbe(pciAddress, nsid, abort?) → Promise: the bring-up runs on a pool
 * thread, so the JS thread keeps its timers and signals. abort is an
 * Int32Array; a non-zero abort[0] cuts a ready wait or an admin command
 * short (c->abort), and the promise rejects with EINTR.
 */
napi_value vfio_napi_probe(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], promise;
	int32_t nsid = 0;
	struct vfio_probe *p;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
		return napi_util_throw_errno(env, EINVAL, "vfioProbe(pciAddress, nsid?, abort?) needs a PCI address");
	p = calloc(1, sizeof(*p));
	if (!p)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	if (argc > 1)
		napi_get_value_int32(env, argv[1], &nsid); /* absent or undefined: no namespace */
	if (vfio_async_args(env, &p->a, argv[0], argc > 2 ? argv[2] : NULL) < 0) {
		if (p->a.abort_ref)
			napi_delete_reference(env, p->a.abort_ref);
		free(p);
		return napi_util_throw_errno(env, EINVAL, "vfioProbe(pciAddress, nsid?, abort?): a PCI address, a namespace id, an Int32Array");
	}
	p->nsid = nsid > 0 ? (uint32_t)nsid : 0;
	promise = vfio_async_queue(env, &p->a, "nvmebench:vfioProbe", __vfio_probe_execute, __vfio_probe_complete);
	if (!promise)
		free(p);
	return promise;
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
	nvme_sqe_from_desc(&cmd, &d);
	cmd.prp1 = prp1; /* d.addr is buf: the PRPs above map it */
	cmd.prp2 = prp2;
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

/* A Report Zones in flight: the bring-up, the command and the shutdown run on a pool thread. */
struct vfio_zones {
	struct vfio_async a; /* first: the complete callback's data is either */
	uint32_t nsid, max;
	uint64_t slba;
	uint8_t *buf; /* page aligned (mmap), len bytes */
	size_t len;
};

static void __vfio_zones_execute(napi_env env, void *data)
{
	struct vfio_zones *z = data;
	struct nvme_ctrl *c = calloc(1, sizeof(*c));
	int ret;

	(void)env;
	if (!c) {
		z->a.err = ENOMEM;
		snprintf(z->a.msg, sizeof(z->a.msg), "out of memory");
		return;
	}
	if (nvme_ctrl_open(c, z->a.bdf, 1, z->a.abort) < 0) {
		z->a.err = errno;
		snprintf(z->a.msg, sizeof(z->a.msg), "%s", c->errmsg);
		free(c);
		return;
	}
	ret = __vfio_napi_zones(c, z->nsid, z->slba, z->buf, z->len);
	if (ret) {
		z->a.err = ret > 0 ? EIO : errno;
		snprintf(z->a.msg, sizeof(z->a.msg), "Report Zones through %s failed: %s", z->a.bdf, c->errmsg);
	}
	vfio_async_check_abort(&z->a, "reading the zones of");
	nvme_ctrl_close(c);
	free(c);
}

static void __vfio_zones_complete(napi_env env, napi_status status, void *data)
{
	struct vfio_zones *z = data;

	vfio_async_settle(env, &z->a, status, z->a.err ? NULL : cmd_napi_zones_object(env, z->buf, z->max));
	munmap(z->buf, z->len);
	free(z);
}

/* vfioReportZones(pciAddress, nsid, slba, maxZones, abort?) → Promise: as vfioProbe, on a pool thread. */
napi_value vfio_napi_report_zones(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5], promise;
	int32_t nsid = 0;
	double slba = 0;
	struct vfio_zones *z = calloc(1, sizeof(*z));

	if (!z)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
	    vfio_async_args(env, &z->a, argv[0], argc > 4 ? argv[4] : NULL) < 0 ||
	    napi_get_value_int32(env, argv[1], &nsid) != napi_ok || nsid <= 0 ||
	    napi_get_value_double(env, argv[2], &slba) != napi_ok || slba < 0 ||
	    napi_get_value_uint32(env, argv[3], &z->max) != napi_ok || !z->max) {
		if (z->a.abort_ref)
			napi_delete_reference(env, z->a.abort_ref);
		free(z);
		return napi_util_throw_errno(env, EINVAL, "vfioReportZones(pciAddress, nsid, slba, maxZones, abort?)");
	}
	z->nsid = (uint32_t)nsid;
	z->slba = (uint64_t)slba;
	z->len = nvme_report_zones_len(&z->max);
	z->buf = mmap(NULL, z->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z->buf == MAP_FAILED) {
		if (z->a.abort_ref)
			napi_delete_reference(env, z->a.abort_ref);
		free(z);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	promise = vfio_async_queue(env, &z->a, "nvmebench:vfioReportZones", __vfio_zones_execute, __vfio_zones_complete);
	if (!promise) {
		munmap(z->buf, z->len);
		free(z);
	}
	return promise;
}
