/*
 * Controller bring-up, the admin queue, I/O queue pairs and shutdown for the
 * userspace NVMe driver. Everything here runs on the main thread at setup or
 * teardown; the I/O path is in engine_vfio.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "fix.h"
#include "nvme_ctrl.h"
#include "nvme_cmd.h"

#define NVME_ADMIN_TIMEOUT_MS 15000U
#define NVME_SHUTDOWN_TIMEOUT_MS 5000U

void nvme_debug(const char *fmt, ...)
{
	static int on = -1;
	char line[512];
	va_list ap;

	if (on < 0)
		on = getenv("NVMEBENCH_VFIO_DEBUG") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "nvmebench vfio: %s\n", line);
}

static uint64_t __nvme_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}

static int __nvme_fail(struct nvme_ctrl *c, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int __nvme_fail(struct nvme_ctrl *c, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

/* 64-bit registers as two 32-bit accesses, low half first: every controller takes that. */
static uint64_t __nvme_reg_read64(const struct nvme_ctrl *c, unsigned off)
{
	uint64_t lo = nvme_reg_read32(c, off), hi = nvme_reg_read32(c, off + 4);

	return lo | (hi << 32);
}

static void __nvme_reg_write64(struct nvme_ctrl *c, unsigned off, uint64_t v)
{
	nvme_reg_write32(c, off, (uint32_t)v);
	nvme_reg_write32(c, off + 4, (uint32_t)(v >> 32));
}

/*
 * Wait until (CSTS & mask) == want; 0, or -1 on timeout or a fatal status.
 * Waits for the controller to become ready (want RDY) give up early when
 * c->abort is set; waits for a disable or a shutdown always run their course.
 */
static int __nvme_wait_csts(struct nvme_ctrl *c, uint32_t mask, uint32_t want, uint32_t timeout_ms, uint32_t *last)
{
	uint64_t deadline = __nvme_now_ms() + timeout_ms;
	uint32_t csts;

	for (;;) {
		csts = nvme_reg_read32(c, NVME_REG_CSTS);
		if ((want & NVME_CSTS_RDY) && __nvme_now_ms() < c->test_ready_at)
			csts &= ~NVME_CSTS_RDY; /* NVMEBENCH_VFIO_READY_DELAY_MS: not ready yet */
		if (last)
			*last = csts;
		if (csts == 0xffffffffU)
			return -1; /* the device fell off the bus */
		if ((csts & mask) == want)
			return 0;
		if ((csts & NVME_CSTS_CFS) && !(mask & NVME_CSTS_CFS) && want)
			return -1;
		if (__nvme_now_ms() > deadline)
			return -1;
		if ((want & NVME_CSTS_RDY) && c->abort && *c->abort)
			return -1;
		usleep(1000);
	}
}

static void *__nvme_alloc_pages(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Doorbell of queue qid: SQ tail at 2*qid, CQ head at 2*qid + 1, DSTRD apart. */
static int __nvme_doorbells(struct nvme_ctrl *c, struct nvme_qpair *qp)
{
	size_t sq_off = NVME_REG_DBS + (size_t)(2 * qp->qid) * c->db_stride;
	size_t cq_off = sq_off + c->db_stride;

	if (cq_off + 4 > c->vfio.bar0_size)
		return __nvme_fail(c, ERANGE, "the doorbells of queue %u lie outside the mapped BAR0 (%zu bytes)", qp->qid,
				   c->vfio.bar0_size);
	qp->sq_db = (volatile uint32_t *)(c->regs + sq_off);
	qp->cq_db = (volatile uint32_t *)(c->regs + cq_off);
	return 0;
}

static int __nvme_qpair_mem(struct nvme_ctrl *c, struct nvme_qpair *qp, uint16_t qid, uint32_t size)
{
	size_t sq_bytes = ((size_t)size * sizeof(struct nvme_sqe) + NVME_PAGE - 1) & ~(size_t)(NVME_PAGE - 1);
	size_t cq_bytes = ((size_t)size * sizeof(struct nvme_cqe) + NVME_PAGE - 1) & ~(size_t)(NVME_PAGE - 1);
	uint64_t iova;

	memset(qp, 0, sizeof(*qp));
	qp->qid = qid;
	qp->size = size;
	qp->phase = 1;
	qp->mem_size = sq_bytes + cq_bytes;
	qp->mem = __nvme_alloc_pages(qp->mem_size);
	if (!qp->mem)
		return __nvme_fail(c, ENOMEM, "out of memory for queue %u (%zu bytes)", qid, qp->mem_size);
	/* One mapping for both rings: each is contiguous in IOVA space. */
	if (iommu_map(&c->vfio, qp->mem, qp->mem_size, &iova, c->errmsg, sizeof(c->errmsg)) < 0)
		return -1;
	qp->mapped = true;
	qp->sq = qp->mem;
	qp->cq = (volatile struct nvme_cqe *)((char *)qp->mem + sq_bytes);
	qp->sq_iova = iova;
	qp->cq_iova = iova + sq_bytes;
	return __nvme_doorbells(c, qp);
}

int nvme_qpair_alloc(struct nvme_ctrl *c, struct nvme_qpair *qp, uint16_t qid, uint32_t size)
{
	return __nvme_qpair_mem(c, qp, qid, size);
}

void nvme_qpair_free(struct nvme_ctrl *c, struct nvme_qpair *qp)
{
	bool leak = false;

	if (qp->mapped && c->vfio_open && iommu_unmap(&c->vfio, qp->mem) < 0) {
		/* Still mapped for a controller that may write CQEs: leak the rings rather than free them. */
		nvme_debug("%s: unmapping queue %u failed: %s; its memory is leaked", c->vfio.bdf, qp->qid, strerror(errno));
		leak = true;
	}
	qp->mapped = false;
	if (qp->mem && !leak)
		munmap(qp->mem, qp->mem_size);
	qp->mem = NULL;
	qp->sq = NULL;
	qp->cq = NULL;
}

static const char *__nvme_admin_name(uint8_t opcode)
{
	switch (opcode) {
	case NVME_ADMIN_DELETE_SQ: return "Delete I/O Submission Queue";
	case NVME_ADMIN_CREATE_SQ: return "Create I/O Submission Queue";
	case NVME_ADMIN_DELETE_CQ: return "Delete I/O Completion Queue";
	case NVME_ADMIN_CREATE_CQ: return "Create I/O Completion Queue";
	case NVME_ADMIN_IDENTIFY: return "Identify";
	case NVME_ADMIN_SET_FEATURES: return "Set Features";
	case NVME_ADMIN_GET_FEATURES: return "Get Features";
	case NVME_ADMIN_GET_LOG_PAGE: return "Get Log Page";
	default: return "admin command";
	}
}

/*
 * One command on qp, waited for by polling its CQ: the admin queue, or an I/O
 * queue pair with nothing else in flight (the support checks' Report Zones).
 */
static int __nvme_sync(struct nvme_ctrl *c, struct nvme_qpair *qp, struct nvme_sqe *cmd, uint32_t *dw0, uint16_t cid,
		       const char *name)
{
	uint64_t deadline;
	uint16_t status;

	if (c->broken || !c->enabled)
		return __nvme_fail(c, EIO, "the controller is not running");
	cmd->cid = cid;
	qp->sq[qp->sq_tail] = *cmd;
	if (++qp->sq_tail == qp->size)
		qp->sq_tail = 0;
	/* do not reorder the queue-entry store with the doorbell store */
	nvme_wmb();
	*qp->sq_db = qp->sq_tail;

	deadline = __nvme_now_ms() + NVME_ADMIN_TIMEOUT_MS;
	for (;;) {
		status = qp->cq[qp->cq_head].status;
		if ((status & 1) == qp->phase)
			break;
		if (c->abort && *c->abort) {
			/* The command may still complete: only a disable is safe from here on. */
			c->broken = true;
			return __nvme_fail(c, EINTR, "interrupted waiting for %s (opcode 0x%02x)", name, cmd->opcode);
		}
		if (__nvme_now_ms() > deadline) {
			c->broken = true;
			return __nvme_fail(c, ETIMEDOUT, "%s (opcode 0x%02x) got no completion within %u s (CSTS 0x%x)",
					   name, cmd->opcode, NVME_ADMIN_TIMEOUT_MS / 1000, nvme_reg_read32(c, NVME_REG_CSTS));
		}
		usleep(10);
	}
	/* The phase tag is in; the rest of the CQE may be read now. */
	nvme_rmb();
	if (qp->cq[qp->cq_head].cid != cid) {
		c->broken = true;
		return __nvme_fail(c, EIO, "%s completion for command id %u, expected %u", qp->qid ? "I/O" : "admin",
				   qp->cq[qp->cq_head].cid, cid);
	}
	if (dw0)
		*dw0 = qp->cq[qp->cq_head].dw0;
	if (++qp->cq_head == qp->size) {
		qp->cq_head = 0;
		qp->phase ^= 1;
	}
	/* do not reorder the queue-entry store with the doorbell store (here: our CQE reads before the head moves) */
	nvme_wmb();
	*qp->cq_db = qp->cq_head;
	status = (status >> 1) & 0x7fff;
	if (status) {
		char what[128];

		nvme_status_str(status, what, sizeof(what));
		__nvme_fail(c, EIO, "%s (opcode 0x%02x) failed: %s", name, cmd->opcode, what);
	}
	return status;
}

int nvme_admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *dw0)
{
	return __nvme_sync(c, &c->admin, cmd, dw0, nvme_next_cid(&c->admin_cid), __nvme_admin_name(cmd->opcode));
}

int nvme_io_sync(struct nvme_ctrl *c, struct nvme_qpair *qp, struct nvme_sqe *cmd, uint32_t *dw0)
{
	return __nvme_sync(c, qp, cmd, dw0, 0, "I/O command");
}

void nvme_ctrl_disable(struct nvme_ctrl *c)
{
	uint32_t cc;

	if (!c->regs)
		return;
	cc = nvme_reg_read32(c, NVME_REG_CC);
	if (cc != 0xffffffffU && (cc & NVME_CC_EN))
		nvme_reg_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
	if (__nvme_wait_csts(c, NVME_CSTS_RDY, 0, c->timeout_ms ? c->timeout_ms : 5000, NULL) < 0)
		vfio_reset(&c->vfio);
	c->enabled = false;
}

/* Disable the controller as the spec asks: let a pending enable finish first. */
static int __nvme_ctrl_reset(struct nvme_ctrl *c)
{
	uint32_t cc = nvme_reg_read32(c, NVME_REG_CC), csts = nvme_reg_read32(c, NVME_REG_CSTS);

	if (cc == 0xffffffffU || csts == 0xffffffffU)
		return __nvme_fail(c, ENODEV, "%s does not answer (its registers read all ones)", c->vfio.bdf);
	if ((cc & NVME_CC_EN) && !(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS))
		__nvme_wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY, c->ready_ms, NULL);
	if (cc & NVME_CC_EN)
		nvme_reg_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
	if (__nvme_wait_csts(c, NVME_CSTS_RDY, 0, c->timeout_ms, &csts) == 0)
		return 0;
	/* Stuck: a function-level reset, then once more. */
	if (vfio_reset(&c->vfio) == 0) {
		uint16_t cmd;

		/* The reset cleared the command register: memory and bus mastering back on. */
		if (vfio_config_read(&c->vfio, PCI_COMMAND, &cmd, sizeof(cmd)) == 0) {
			cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
			vfio_config_write(&c->vfio, PCI_COMMAND, &cmd, sizeof(cmd));
		}
		cc = nvme_reg_read32(c, NVME_REG_CC);
		if (cc & NVME_CC_EN)
			nvme_reg_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
		if (__nvme_wait_csts(c, NVME_CSTS_RDY, 0, c->timeout_ms, &csts) == 0)
			return 0;
	}
	return __nvme_fail(c, ETIMEDOUT, "%s did not disable within CAP.TO (%u ms; CSTS 0x%x)", c->vfio.bdf, c->timeout_ms,
			   csts);
}

static int __nvme_ctrl_read_cap(struct nvme_ctrl *c)
{
	uint32_t mpsmin_shift;

	c->cap = __nvme_reg_read64(c, NVME_REG_CAP);
	if (c->cap == ~0ULL)
		return __nvme_fail(c, ENODEV, "%s does not answer (its registers read all ones)", c->vfio.bdf);
	c->version = nvme_reg_read32(c, NVME_REG_VS);
	c->mqes = (uint32_t)(c->cap & 0xffff) + 1;
	c->timeout_ms = nvme_ready_timeout_ms(c->cap & ~NVME_CAP_CRMS_CRWMS, 0, NULL);
	/* CRTO exists only where CAP.CRMS says so: reading it elsewhere may fault on a target that lacks it. */
	c->ready_ms = nvme_ready_timeout_ms(c->cap, (c->cap & NVME_CAP_CRMS_CRWMS) ? nvme_reg_read32(c, NVME_REG_CRTO) : 0, NULL);
	c->dstrd = (uint32_t)((c->cap >> 32) & 0xf);
	c->db_stride = 4U << c->dstrd;
	c->css = (uint32_t)((c->cap >> 37) & 0xff);
	mpsmin_shift = (uint32_t)((c->cap >> 48) & 0xf);
	c->mpsmin = 4096U << mpsmin_shift;
	if (c->mqes < 2)
		return __nvme_fail(c, EINVAL, "CAP.MQES of %s is 0: no usable queue size", c->vfio.bdf);
	if (mpsmin_shift)
		return __nvme_fail(c, ENOTSUP, "%s needs memory pages of at least %u bytes (CAP.MPSMIN); this driver uses 4 KiB",
				   c->vfio.bdf, c->mpsmin);
	/*
	 * All supported I/O command sets when the controller offers that, as
	 * Linux does: with CC.CSS = NVM only, a zoned namespace takes no Zone
	 * Append or Zone Management commands.
	 */
	if (c->css & 0x40)
		c->cc_css = 6; /* all supported I/O command sets */
	else if (c->css & 0x01)
		c->cc_css = 0; /* NVM command set */
	else
		return __nvme_fail(c, ENOTSUP, "%s supports no I/O command set this driver knows (CAP.CSS 0x%x)",
				   c->vfio.bdf, c->css);
	return 0;
}

/*
 * For tests: NVMEBENCH_VFIO_READY_DELAY_MS=N makes every controller seem to
 * take N ms to come ready after CC.EN (past the ready timeout: never), so
 * that a slow or wedged bring-up can be shown in the lab. 0 when unset.
 * NVMEBENCH_VFIO_READY_DELAY_SKIP=K spares the process's first K bring-ups
 * (the probe), so that a later one (a zone report, an FDP read) is the slow one.
 */
static uint64_t __nvme_test_ready_at(void)
{
	static unsigned bringups; /* pool threads may bring controllers up at once */
	const char *s = getenv("NVMEBENCH_VFIO_READY_DELAY_MS");
	const char *skip = getenv("NVMEBENCH_VFIO_READY_DELAY_SKIP");
	unsigned long ms = s ? strtoul(s, NULL, 10) : 0;
	unsigned nth = __atomic_fetch_add(&bringups, 1, __ATOMIC_RELAXED);

	if (skip && nth < strtoul(skip, NULL, 10))
		return 0;
	return ms ? __nvme_now_ms() + ms : 0;
}

static int __nvme_ctrl_enable(struct nvme_ctrl *c)
{
	uint32_t cc, csts;

	if (__nvme_ctrl_reset(c) < 0)
		return -1;
	if (__nvme_qpair_mem(c, &c->admin, 0, NVME_ADMIN_QUEUE_SIZE) < 0)
		return -1;
	nvme_reg_write32(c, NVME_REG_AQA, ((NVME_ADMIN_QUEUE_SIZE - 1) << 16) | (NVME_ADMIN_QUEUE_SIZE - 1));
	__nvme_reg_write64(c, NVME_REG_ASQ, c->admin.sq_iova);
	__nvme_reg_write64(c, NVME_REG_ACQ, c->admin.cq_iova);
	cc = (c->cc_css << NVME_CC_CSS_SHIFT) | (0U << NVME_CC_MPS_SHIFT) | (6U << NVME_CC_IOSQES_SHIFT) |
	     (4U << NVME_CC_IOCQES_SHIFT);
	nvme_reg_write32(c, NVME_REG_CC, cc);
	nvme_reg_write32(c, NVME_REG_CC, cc | NVME_CC_EN);
	c->test_ready_at = __nvme_test_ready_at();
	nvme_debug("%s: enabling, ready within %u ms", c->vfio.bdf, c->ready_ms);
	if (__nvme_wait_csts(c, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY, c->ready_ms, &csts) < 0 && c->abort && *c->abort)
		return __nvme_fail(c, EINTR, "interrupted while %s came up", c->vfio.bdf);
	if (!(csts & NVME_CSTS_RDY) || (csts & NVME_CSTS_CFS))
		return __nvme_fail(c, ETIMEDOUT, "%s did not become ready within %s (%u ms; CSTS 0x%x%s)", c->vfio.bdf,
				   c->ready_ms > c->timeout_ms ? "CRTO.CRWMT" : "CAP.TO", c->ready_ms, csts,
				   (csts & NVME_CSTS_CFS) && csts != 0xffffffffU ? ", fatal status" : "");
	c->enabled = true; /* ready: from here on, a shutdown is owed */
	nvme_debug("%s: enabled (CAP.MQES %u, DSTRD %u, MPSMIN %u, TO %u ms, ready within %u ms, CSS 0x%x; NVMe %u.%u)",
		   c->vfio.bdf, c->mqes - 1, c->dstrd, c->mpsmin, c->timeout_ms, c->ready_ms, c->css, c->version >> 16,
		   (c->version >> 8) & 0xff);
	return 0;
}

static int __nvme_identify(struct nvme_ctrl *c, uint32_t nsid, uint32_t cns)
{
	struct nvme_sqe cmd;

	memset(&cmd, 0, sizeof(cmd));
	memset(c->idbuf, 0, NVME_PAGE);
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.nsid = nsid;
	cmd.prp1 = c->idbuf_iova;
	cmd.cdw10 = cns;
	return nvme_admin(c, &cmd, NULL) == 0 ? 0 : -1;
}

int nvme_ctrl_identify(struct nvme_ctrl *c, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf)
{
	struct nvme_sqe cmd;
	int ret;

	memset(&cmd, 0, sizeof(cmd));
	memset(c->idbuf, 0, NVME_PAGE);
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.nsid = nsid;
	cmd.prp1 = c->idbuf_iova;
	cmd.cdw10 = cns;
	cmd.cdw11 = (uint32_t)csi << 24;
	ret = nvme_admin(c, &cmd, NULL);
	if (ret == 0)
		memcpy(buf, c->idbuf, NVME_PAGE);
	return ret;
}

int nvme_ctrl_get_log(struct nvme_ctrl *c, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len)
{
	struct nvme_sqe cmd;
	uint32_t numd = len / 4 - 1; /* 0's based dwords */
	int ret;

	if (!len || len > NVME_PAGE || len % 4)
		return __nvme_fail(c, EINVAL, "log page reads of 4 to %u bytes only", NVME_PAGE);
	memset(&cmd, 0, sizeof(cmd));
	memset(c->idbuf, 0, NVME_PAGE);
	cmd.opcode = NVME_ADMIN_GET_LOG_PAGE;
	cmd.nsid = nsid;
	cmd.prp1 = c->idbuf_iova;
	cmd.cdw10 = lid | ((numd & 0xffff) << 16);
	cmd.cdw11 = numd >> 16;
	cmd.cdw14 = (uint32_t)csi << 24;
	ret = nvme_admin(c, &cmd, NULL);
	if (ret == 0)
		memcpy(buf, c->idbuf, len);
	return ret;
}

static int __nvme_set_num_queues(struct nvme_ctrl *c, unsigned want)
{
	struct nvme_sqe cmd;
	uint32_t dw0 = 0, nsqa, ncqa;
	int ret;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_SET_FEATURES;
	cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
	cmd.cdw11 = ((want - 1) << 16) | (want - 1);
	ret = nvme_admin(c, &cmd, &dw0);
	if (ret)
		return -1;
	nsqa = (dw0 & 0xffff) + 1;
	ncqa = (dw0 >> 16) + 1;
	c->nr_io_queues = nsqa < ncqa ? nsqa : ncqa;
	return 0;
}

int nvme_ctrl_open(struct nvme_ctrl *c, const char *bdf, unsigned want_queues, const volatile int *abort)
{
	uint64_t iova;
	int saved;

	memset(c, 0, sizeof(*c));
	c->abort = abort;
	if (vfio_open(&c->vfio, bdf, c->errmsg, sizeof(c->errmsg)) < 0)
		return -1;
	c->vfio_open = true;
	c->regs = c->vfio.bar0;
	if (__nvme_ctrl_read_cap(c) < 0 || __nvme_ctrl_enable(c) < 0)
		goto fail;

	c->idbuf = __nvme_alloc_pages(NVME_PAGE);
	if (!c->idbuf) {
		__nvme_fail(c, ENOMEM, "out of memory");
		goto fail;
	}
	if (iommu_map(&c->vfio, c->idbuf, NVME_PAGE, &iova, c->errmsg, sizeof(c->errmsg)) < 0)
		goto fail;
	c->idbuf_iova = iova;
	if (__nvme_identify(c, 0, 0x01) < 0)
		goto fail;
	nvme_parse_id_ctrl(c->idbuf, &c->info);
	c->rtd3e_us = nvme_le32((const uint8_t *)c->idbuf + 88);
	c->max_xfer = c->info.mdts ? (c->info.mdts >= 20 ? 0 : c->mpsmin << c->info.mdts) : 0;
	if (want_queues && __nvme_set_num_queues(c, want_queues) < 0)
		goto fail;
	nvme_debug("%s: %s, MDTS %u (%u bytes), VWC 0x%x, ONCS 0x%x, OACS 0x%x, %u namespaces; %u I/O queue pairs asked, %u granted",
		   bdf, c->info.model, c->info.mdts, c->max_xfer, c->info.vwc, c->info.oncs, c->info.oacs, c->info.nn,
		   want_queues, c->nr_io_queues);
	return 0;

fail:
	saved = errno;
	nvme_ctrl_close(c);
	errno = saved;
	return -1;
}

int nvme_ctrl_identify_ns(struct nvme_ctrl *c, uint32_t nsid, struct nvme_ns_info *ns)
{
	if (c->info.nn && nsid > c->info.nn)
		return __nvme_fail(c, ENOENT, "namespace %u does not exist: %s has namespaces 1 to %u" FIX("give --nsid of an active namespace"), nsid, c->vfio.bdf,
				   c->info.nn);
	if (__nvme_identify(c, nsid, 0x00) < 0)
		return -1;
	if (nvme_parse_id_ns(c->idbuf, nsid, ns, c->errmsg, sizeof(c->errmsg)) < 0) {
		char why[NVME_ERRLEN];

		snprintf(why, sizeof(why), "%s", c->errmsg);
		return __nvme_fail(c, EINVAL, "Identify Namespace %u of %s: %s", nsid, c->vfio.bdf, why);
	}
	if (!ns->nsze)
		return __nvme_fail(c, ENOENT, "namespace %u of %s is not active (Identify Namespace reports no blocks)" FIX("give --nsid of an active namespace"),
				   nsid, c->vfio.bdf);
	return 0;
}

int nvme_qpair_create(struct nvme_ctrl *c, struct nvme_qpair *qp)
{
	struct nvme_sqe cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_CREATE_CQ;
	cmd.prp1 = qp->cq_iova;
	cmd.cdw10 = ((qp->size - 1) << 16) | qp->qid;
	cmd.cdw11 = 1; /* PC: physically contiguous; IEN clear: no interrupts */
	if (nvme_admin(c, &cmd, NULL))
		return -1;
	qp->created_cq = true;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_CREATE_SQ;
	cmd.prp1 = qp->sq_iova;
	cmd.cdw10 = ((qp->size - 1) << 16) | qp->qid;
	cmd.cdw11 = ((uint32_t)qp->qid << 16) | 1; /* its own CQ, physically contiguous */
	if (nvme_admin(c, &cmd, NULL))
		return -1;
	qp->created_sq = true;
	nvme_debug("%s: I/O queue pair %u created (%u entries, polled)", c->vfio.bdf, qp->qid, qp->size);
	return 0;
}

int nvme_qpair_delete(struct nvme_ctrl *c, struct nvme_qpair *qp)
{
	struct nvme_sqe cmd;
	int ret = 0;

	if (qp->created_sq) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = NVME_ADMIN_DELETE_SQ;
		cmd.cdw10 = qp->qid;
		if (nvme_admin(c, &cmd, NULL))
			ret = -1;
		qp->created_sq = false;
	}
	if (qp->created_cq && ret == 0) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = NVME_ADMIN_DELETE_CQ;
		cmd.cdw10 = qp->qid;
		if (nvme_admin(c, &cmd, NULL))
			ret = -1;
	}
	if (ret == 0)
		nvme_debug("%s: I/O queue pair %u deleted", c->vfio.bdf, qp->qid);
	qp->created_cq = false;
	return ret;
}

static void __nvme_ctrl_shutdown(struct nvme_ctrl *c)
{
	uint32_t cc, csts = 0, timeout = NVME_SHUTDOWN_TIMEOUT_MS;

	if (!c->regs)
		return;
	if (!c->enabled || c->broken) {
		/* Half up, or an admin command hung: a disable stops everything. */
		nvme_debug("%s: %s: disabling instead of a shutdown", c->vfio.bdf, c->broken ? "controller not answering" : "not up");
		nvme_ctrl_disable(c);
		return;
	}
	if (c->rtd3e_us / 1000 > timeout)
		timeout = c->rtd3e_us / 1000;
	if (timeout > 60000)
		timeout = 60000;
	cc = nvme_reg_read32(c, NVME_REG_CC);
	nvme_reg_write32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	if (__nvme_wait_csts(c, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT, timeout, &csts) < 0) {
		nvme_debug("%s: shutdown did not complete within %u ms (CSTS 0x%x): disabling", c->vfio.bdf, timeout, csts);
		nvme_ctrl_disable(c);
	} else {
		nvme_debug("%s: shutdown complete (CSTS 0x%x)", c->vfio.bdf, csts);
	}
	c->enabled = false;
}

void nvme_ctrl_close(struct nvme_ctrl *c)
{
	if (c->vfio_open) {
		__nvme_ctrl_shutdown(c);
		vfio_close(&c->vfio); /* bus mastering off, every DMA mapping undone */
		c->vfio_open = false;
		nvme_debug("%s: closed", c->vfio.bdf);
	}
	c->regs = NULL;
	nvme_qpair_free(c, &c->admin);
	if (c->idbuf)
		munmap(c->idbuf, NVME_PAGE);
	c->idbuf = NULL;
}

void nvme_sqe_from_desc(struct nvme_sqe *sqe, const struct nvme_cmd_desc *d)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = d->opcode;
	sqe->nsid = d->nsid;
	sqe->cdw10 = d->cdw10;
	sqe->cdw11 = d->cdw11;
	sqe->cdw12 = d->cdw12;
	sqe->cdw13 = d->cdw13;
	sqe->cdw14 = d->cdw14;
	sqe->cdw15 = d->cdw15;
}
