/*
 * vfio: NVMe I/O through our own userspace driver over VFIO, no kernel in the
 * I/O path. The controller is brought up once per run (the first worker's
 * init) and shut down by the last worker's exit; each worker owns one polled
 * I/O queue pair (qid = worker index + 1), its data buffers (and the command
 * buffers of trim and copy) mapped once for DMA and a PRP list per slot built
 * at init. queue() writes an SQE: reads and writes inline, every other
 * command (write-zeroes, trim, verify, compare, flush, copy, zone-append and
 * its zone resets, raw) from nvme_cmd_prep(), its data address turned into
 * the slot's precomputed PRPs. commit() rings the SQ tail doorbell once per
 * batch, reap() polls the CQ by phase tag, keeps CQE dwords 0-1 in
 * io->result (zone append's LBA) and rings the CQ head doorbell. No system
 * calls on that path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine.h"
#include "fix.h"
#include "nvme_cmd.h"
#include "nvme_ctrl.h"
#include "nvme_fdp.h"
#include "nvme_prp.h"
#include "workload_cmd.h"
#include "pi_worker.h"

/* A command that has not completed after this long means the controller is stuck. */
#define VFIO_ENGINE_IO_TIMEOUT_NS (30ULL * 1000000000ULL)

/* One brought-up controller per run, shared by that run's workers. */
struct vfio_engine_ctrl {
	struct vfio_engine_ctrl *next;
	const struct run *run;
	unsigned refs;
	struct nvme_ctrl ctrl;
	struct nvme_ns_info ns;
	unsigned lba_shift;
};

struct vfio_engine_worker {
	struct vfio_engine_ctrl *ec;
	struct nvme_qpair qp;
	uint32_t nsid;
	unsigned lba_shift;
	bool buf_mapped;
	void *prp_mem;
	size_t prp_size;
	bool prp_mapped;
	/* pages of the data transfer the PRPs were built for (block size, or raw's --data-len) */
	uint32_t xfer_pages;
	/* per slot: the two PRP fields of its command, fixed for the run */
	uint64_t *prp1;
	uint64_t *prp2;
	/* the command buffers (DSM ranges, Copy descriptors): one page per slot, mapped once */
	bool cmd_mapped;
	uint64_t cmd_iova;
	/* separate metadata (MPTR): the slots' areas, mapped once */
	bool meta_mapped;
	uint64_t meta_iova;
	size_t meta_stride;
};

static pthread_mutex_t vfio_engine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfio_engine_ctrl *vfio_engine_ctrls;

static int __vfio_engine_fail(struct worker *w, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int __vfio_engine_fail(struct worker *w, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

static unsigned __vfio_engine_log2(uint32_t v)
{
	unsigned s = 0;

	while ((1U << s) < v)
		s++;
	return s;
}

static void __vfio_engine_put(struct vfio_engine_ctrl *ec)
{
	struct vfio_engine_ctrl **pp;

	pthread_mutex_lock(&vfio_engine_lock);
	if (--ec->refs) {
		pthread_mutex_unlock(&vfio_engine_lock);
		return;
	}
	for (pp = &vfio_engine_ctrls; *pp; pp = &(*pp)->next) {
		if (*pp == ec) {
			*pp = ec->next;
			break;
		}
	}
	pthread_mutex_unlock(&vfio_engine_lock);
	/* The last worker is gone: CC.SHN, wait for the shutdown, unmap, close. */
	nvme_ctrl_close(&ec->ctrl);
	free(ec);
}

/* The run's controller, brought up by the first worker that asks. */
static struct vfio_engine_ctrl *__vfio_engine_get(struct worker *w)
{
	const struct job *job = &w->run->job;
	struct vfio_engine_ctrl *ec;
	int err;

	pthread_mutex_lock(&vfio_engine_lock);
	for (ec = vfio_engine_ctrls; ec; ec = ec->next) {
		if (ec->run == w->run) {
			ec->refs++;
			pthread_mutex_unlock(&vfio_engine_lock);
			return ec;
		}
	}
	ec = calloc(1, sizeof(*ec));
	if (!ec) {
		pthread_mutex_unlock(&vfio_engine_lock);
		__vfio_engine_fail(w, ENOMEM, "out of memory");
		return NULL;
	}
	/* A stop (Ctrl-C) while the controller comes up gives up the wait: bring-up runs off the JavaScript thread now. */
	if (nvme_ctrl_open(&ec->ctrl, job->path, job->threads, &w->run->stop) < 0) {
		err = errno;
		__vfio_engine_fail(w, err, "%s", ec->ctrl.errmsg);
		goto fail;
	}
	if (nvme_ctrl_identify_ns(&ec->ctrl, job->nsid, &ec->ns) < 0) {
		err = errno;
		__vfio_engine_fail(w, err, "%s", ec->ctrl.errmsg);
		goto fail_close;
	}
	/* The format TypeScript read from the kernel's Identify must be the one the controller reports now. */
	if (ec->ns.meta_size != job->pi.meta_size || (ec->ns.meta_size && (bool)ec->ns.extended_meta != job->pi.extended)) {
		err = EINVAL;
		__vfio_engine_fail(w, err, "namespace %u of %s is formatted with %u bytes of %s metadata per LBA, not the %u the job was built for",
				   job->nsid, job->path, ec->ns.meta_size, ec->ns.extended_meta ? "extended" : "separate",
				   job->pi.meta_size);
		goto fail_close;
	}
	ec->lba_shift = __vfio_engine_log2(ec->ns.lba_size);
	ec->run = w->run;
	ec->refs = 1;
	ec->next = vfio_engine_ctrls;
	vfio_engine_ctrls = ec;
	pthread_mutex_unlock(&vfio_engine_lock);
	return ec;

fail_close:
	nvme_ctrl_close(&ec->ctrl);
fail:
	pthread_mutex_unlock(&vfio_engine_lock);
	free(ec);
	errno = err;
	return NULL;
}

/* Check the job against what the controller and namespace can do. */
static int __vfio_engine_check(struct worker *w, struct vfio_engine_ctrl *ec)
{
	const struct job *job = &w->run->job;
	const struct nvme_ctrl *c = &ec->ctrl;
	/* nvme_parse_id_ns checked that NSZE blocks fit 64 bits of bytes. */
	uint64_t ns_bytes = ec->ns.size_bytes, region_end;

	if (job->lba_size && job->lba_size != ec->ns.lba_size)
		return __vfio_engine_fail(w, EINVAL, "namespace %u of %s has %u-byte blocks, not %u", job->nsid, job->path,
					  ec->ns.lba_size, job->lba_size);
	if (w->block_size % ec->ns.lba_size)
		return __vfio_engine_fail(w, EINVAL, "block size %u is not a multiple of the %u-byte LBA size of namespace %u",
					  w->block_size, ec->ns.lba_size, job->nsid);
	if (job->offset % ec->ns.lba_size)
		return __vfio_engine_fail(w, EINVAL, "offset %llu is not a multiple of the %u-byte LBA size",
					  (unsigned long long)job->offset, ec->ns.lba_size);
	if (__builtin_add_overflow(job->offset, job->size, &region_end) || region_end > ns_bytes)
		return __vfio_engine_fail(w, EINVAL, "the region (offset %llu + size %llu) is past the end of namespace %u (%llu bytes)",
					  (unsigned long long)job->offset, (unsigned long long)job->size, job->nsid,
					  (unsigned long long)ns_bytes);
	if (c->max_xfer && pi_data_xfer(&job->pi, w->block_size) > c->max_xfer)
		return __vfio_engine_fail(w, EINVAL, "block size %u (%u bytes with its metadata) is over the controller's largest transfer (MDTS) of %u bytes",
					  w->block_size, pi_data_xfer(&job->pi, w->block_size), c->max_xfer);
	if ((uint64_t)(w->block_size >> ec->lba_shift) > 0x10000)
		return __vfio_engine_fail(w, EINVAL, "block size %u is over 65536 LBAs, the most one command moves", w->block_size);
	if (w->id + 1 > c->nr_io_queues)
		return __vfio_engine_fail(w, ENOSPC, "%s grants %u I/O queue pairs; --threads %u needs one each",
					  job->path, c->nr_io_queues, job->threads);
	if (w->depth + 1 > c->mqes)
		return __vfio_engine_fail(w, EINVAL,
					  "--qd %u does not fit the controller's queues of %u entries (CAP.MQES)" FIX("use --qd %u or less"),
					  w->depth, c->mqes, c->mqes - 1);
	return 0;
}

/*
 * Map the worker's buffers once and fill each slot's PRP fields with
 * nvme_prp_build(): a transfer of one page uses PRP1, of two pages PRP1 and
 * PRP2, of more a PRP list whose last entry chains to the next list page when
 * one page of entries is short.
 *
 * A controller moves what the command's length field says, which for raw is
 * the user's (TypeScript checks NLB where the opcode is known to carry it).
 * Should it move more than the PRPs were built for, this layout leaves it
 * only zeros or unmapped addresses:
 *  - one page: PRP2 is 0, which the spec wants (the field is reserved) and
 *    which is safe: IOVA 0 lies below the allocator's floor and is never
 *    mapped, so a second page or a "list" there faults in the IOMMU. A mapped
 *    zero page would be no better: a device-to-host transfer could write it.
 *  - more than two pages: PRP2 is the slot's list, whose entries past the
 *    last data page are zeros (nvme_prp_build clears them), so again IOVA 0.
 *  - exactly two pages, and a list page filled to its last entry: the spec
 *    makes that entry (PRP2, or the list's final slot) a data page, which a
 *    longer transfer would read as a PRP list. No layout avoids that, so raw
 *    commands zero their data pages before each submission (__vfio_engine_cmd):
 *    whatever is read there as a list is zeros, IOVA 0 again.
 */
static int __vfio_engine_prps(struct worker *w, struct vfio_engine_worker *vw)
{
	struct nvme_ctrl *c = &vw->ec->ctrl;
	const struct job *job = &w->run->job;
	size_t stride = pi_buf_stride(job);
	/* Every transfer through a data buffer moves the block (extended LBAs: with its metadata), but raw's moves --data-len. */
	uint32_t xfer = job->command == JOB_CMD_RAW && job->raw_dir != NVME_DIR_NONE && job->raw_data_len ? job->raw_data_len
													     : pi_data_xfer(&job->pi, w->block_size);
	/* The slots' buffers start on page boundaries: each needs the list pages of a transfer at offset 0. */
	int64_t lists = nvme_prp_list_pages(0, xfer, NVME_PAGE);
	uint64_t buf_iova, prp_iova = 0;
	uint32_t i;

	if (lists < 0)
		return __vfio_engine_fail(w, errno, "no PRPs for a transfer of %u bytes", xfer);
	if (iommu_map(&c->vfio, w->buffers, stride * w->depth, &buf_iova, w->errmsg, sizeof(w->errmsg)) < 0)
		return -1;
	vw->buf_mapped = true;
	vw->xfer_pages = (uint32_t)nvme_prp_pages(0, xfer, NVME_PAGE);
	if (w->cmd && w->cmd->bufs) {
		/* NVME_CMD_BUF_SIZE is one page: a command buffer is always PRP1 alone. */
		if (iommu_map(&c->vfio, w->cmd->bufs, (size_t)NVME_CMD_BUF_SIZE * w->depth, &vw->cmd_iova, w->errmsg,
			      sizeof(w->errmsg)) < 0)
			return -1;
		vw->cmd_mapped = true;
	}
	vw->meta_stride = pi_meta_stride(job);
	if (w->meta_buffers) {
		if (iommu_map(&c->vfio, w->meta_buffers, (vw->meta_stride * w->depth + NVME_PAGE - 1) & ~(size_t)(NVME_PAGE - 1),
			      &vw->meta_iova, w->errmsg, sizeof(w->errmsg)) < 0)
			return -1;
		vw->meta_mapped = true;
	}
	vw->prp1 = calloc(w->depth, sizeof(*vw->prp1));
	vw->prp2 = calloc(w->depth, sizeof(*vw->prp2));
	if (!vw->prp1 || !vw->prp2)
		return __vfio_engine_fail(w, ENOMEM, "out of memory");
	if (lists) {
		/* Each slot's list pages, chain included (nvme_prp_list_pages counted them). */
		vw->prp_size = (size_t)lists * NVME_PAGE * w->depth;
		vw->prp_mem = mmap(NULL, vw->prp_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vw->prp_mem == MAP_FAILED) {
			vw->prp_mem = NULL;
			return __vfio_engine_fail(w, ENOMEM, "out of memory for PRP lists (%zu bytes)", vw->prp_size);
		}
		if (iommu_map(&c->vfio, vw->prp_mem, vw->prp_size, &prp_iova, w->errmsg, sizeof(w->errmsg)) < 0)
			return -1;
		vw->prp_mapped = true;
	}
	for (i = 0; i < w->depth; i++) {
		size_t list_off = (size_t)i * (size_t)lists * NVME_PAGE;

		if (nvme_prp_build(buf_iova + (uint64_t)stride * i, xfer, NVME_PAGE, lists ? (char *)vw->prp_mem + list_off : NULL,
				   prp_iova + list_off, (uint64_t)lists, &vw->prp1[i], &vw->prp2[i]) < 0)
			return __vfio_engine_fail(w, errno, "no PRPs for slot %u's %u bytes", i, xfer);
	}
	return 0;
}

static int vfio_engine_init(struct worker *w)
{
	struct vfio_engine_worker *vw = calloc(1, sizeof(*vw));
	struct nvme_ctrl *c;

	if (!vw)
		return __vfio_engine_fail(w, ENOMEM, "out of memory");
	/* Set now, so exit() undoes whatever part of this init got done. */
	w->priv = vw;
	vw->ec = __vfio_engine_get(w);
	if (!vw->ec)
		return -1;
	c = &vw->ec->ctrl;
	vw->nsid = w->run->job.nsid;
	vw->lba_shift = vw->ec->lba_shift;
	if (__vfio_engine_check(w, vw->ec) < 0)
		return -1;
	if (__vfio_engine_prps(w, vw) < 0)
		return -1;
	if (nvme_qpair_alloc(c, &vw->qp, (uint16_t)(w->id + 1), w->depth + 1) < 0 || nvme_qpair_create(c, &vw->qp) < 0)
		return __vfio_engine_fail(w, errno, "queue pair %u on %s: %s", w->id + 1, w->run->job.path, c->errmsg);
	return 0;
}

/*
 * Any command but a read or write: nvme_cmd_prep() builds it, and its data
 * address, which lies in the slot's data buffer or command buffer, becomes
 * that buffer's PRPs, computed at init.
 */
static int __vfio_engine_cmd(struct worker *w, struct vfio_engine_worker *vw, struct io_unit *io, struct nvme_sqe *sqe)
{
	struct nvme_cmd_desc d;

	nvme_cmd_prep(&w->run->job, io, &d);
	nvme_sqe_from_desc(sqe, &d);
	sqe->cid = io->index;
	if (d.data_len) {
		uint32_t pages = (d.data_len + NVME_PAGE - 1) / NVME_PAGE;

		if (d.addr == (uint64_t)(uintptr_t)io->buf && pages <= vw->xfer_pages) {
			/*
			 * raw: the length the controller uses is the user's. Zero the
			 * data pages, so one it takes for a PRP list holds only zeros
			 * (see __vfio_engine_prps); raw writes carry no data of meaning.
			 */
			if (w->run->job.command == JOB_CMD_RAW && pages >= 2)
				memset(io->buf, 0, (size_t)pages * NVME_PAGE);
			sqe->prp1 = vw->prp1[io->index];
			/* PRP2: nothing for one page, the second page for two, the slot's list for more (built for xfer_pages). */
			if (pages == 2)
				sqe->prp2 = sqe->prp1 + NVME_PAGE;
			else if (pages > 2 && pages == vw->xfer_pages)
				sqe->prp2 = vw->prp2[io->index];
			else if (pages > 2)
				goto unmapped;
		} else if (vw->cmd_mapped && d.addr == (uint64_t)(uintptr_t)io->cmd_buf && d.data_len <= NVME_CMD_BUF_SIZE) {
			sqe->prp1 = vw->cmd_iova + (uint64_t)io->index * NVME_CMD_BUF_SIZE;
		} else {
			goto unmapped;
		}
	}
	if (d.meta_len)
		sqe->mptr = vw->meta_iova + (uint64_t)io->index * vw->meta_stride;
	return 0;

unmapped:
	return __vfio_engine_fail(w, EINVAL, "%s: %u bytes of data at an address the vfio engine has no PRPs for",
				  job_command_name(w->run->job.command), d.data_len);
}

static int vfio_engine_queue(struct worker *w, struct io_unit *io)
{
	struct vfio_engine_worker *vw = w->priv;
	struct nvme_qpair *qp = &vw->qp;
	struct nvme_sqe *sqe = &qp->sq[qp->sq_tail];
	uint64_t slba = io->offset >> vw->lba_shift;

	if (io->op != IO_OP_RW) {
		if (__vfio_engine_cmd(w, vw, io, sqe) < 0)
			return -1;
		goto queued;
	}
	sqe->opcode = io->is_write ? NVME_CMD_WRITE : NVME_CMD_READ;
	sqe->flags = 0;
	sqe->cid = io->index;
	sqe->nsid = vw->nsid;
	sqe->cdw2 = 0;
	sqe->cdw3 = 0;
	sqe->mptr = 0;
	sqe->prp1 = vw->prp1[io->index];
	sqe->prp2 = vw->prp2[io->index];
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (io->len >> vw->lba_shift) - 1; /* 0's based */
	sqe->cdw13 = 0;
	sqe->cdw14 = 0;
	sqe->cdw15 = 0;
	if (vw->meta_mapped)
		sqe->mptr = vw->meta_iova + (uint64_t)io->index * vw->meta_stride;
	pi_cmd_dwords(&w->run->job.pi, slba, &sqe->cdw12, &sqe->cdw14, &sqe->cdw15);
	if (io->is_write && w->run->job.fdp)
		nvme_fdp_tag(&sqe->cdw12, &sqe->cdw13, io->dspec);
queued:
	/* The SQ has depth + 1 entries and at most depth commands in flight: it cannot overflow. */
	if (++qp->sq_tail == qp->size)
		qp->sq_tail = 0;
	qp->pending++;
	return 0;
}

static int vfio_engine_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	struct vfio_engine_worker *vw = w->priv;
	struct nvme_qpair *qp = &vw->qp;

	if (!qp->pending)
		return 0;
	/* do not reorder the queue-entry store with the doorbell store */
	nvme_wmb();
	*qp->sq_db = qp->sq_tail;
	counter_add(&w->submit_calls, 1);
	counter_add(&w->submitted, qp->pending);
	qp->pending = 0;
	return 0;
}

static int vfio_engine_reap(struct worker *w, unsigned min_complete)
{
	struct vfio_engine_worker *vw = w->priv;
	struct nvme_qpair *qp = &vw->qp;
	unsigned reaped = 0, spins = 0;
	uint64_t now = 0, since = 0;
	bool fresh = false; /* now still holds for the completion at hand */

	for (;;) {
		volatile struct nvme_cqe *cqe = &qp->cq[qp->cq_head];
		uint16_t status = cqe->status;
		struct io_unit *io;
		uint16_t cid;

		if ((status & 1) != qp->phase) {
			if (reaped >= min_complete)
				break;
			/* Busy-poll for the rest; give up on a controller that stopped answering. */
			fresh = false;
			if (++spins & 0xfff)
				continue;
			if (!since) {
				since = clock_now_ns();
			} else if (clock_now_ns() - since > VFIO_ENGINE_IO_TIMEOUT_NS) {
				struct nvme_ctrl *c = &vw->ec->ctrl;

				return __vfio_engine_fail(w, ETIMEDOUT,
							  "no completion on queue %u for %llu s with %u I/Os in flight (CSTS 0x%x)",
							  qp->qid, VFIO_ENGINE_IO_TIMEOUT_NS / 1000000000ULL, w->inflight,
							  nvme_reg_read32(c, NVME_REG_CSTS));
			}
			continue;
		}
		/* The phase tag is in: the rest of the CQE, and the data, may be read now. */
		nvme_rmb();
		if (!fresh) {
			now = clock_lat_now(&w->run->clock);
			fresh = true;
		}
		since = 0;
		cid = cqe->cid;
		if (cid >= w->depth || !w->ios[cid].in_flight)
			return __vfio_engine_fail(w, EIO, "the controller completed command id %u, which is not in flight", cid);
		io = &w->ios[cid];
		io->result = (uint64_t)cqe->dw0 | ((uint64_t)cqe->dw1 << 32);
		if (++qp->cq_head == qp->size) {
			qp->cq_head = 0;
			qp->phase ^= 1;
		}
		worker_pt_done(w, io, (status >> 1) & 0x7fff, now);
		reaped++;
	}
	if (reaped) {
		/*
		 * do not reorder the queue-entry store with the doorbell store: every
		 * CQE read above is done before the controller may reuse the slots.
		 */
		nvme_wmb();
		*qp->cq_db = qp->cq_head;
		counter_add(&w->reap_calls, 1);
		counter_add(&w->reaped, reaped);
	}
	return (int)reaped;
}

static void vfio_engine_exit(struct worker *w)
{
	struct vfio_engine_worker *vw = w->priv;
	struct nvme_ctrl *c;

	if (!vw)
		return;
	if (vw->ec) {
		c = &vw->ec->ctrl;
		/*
		 * A stop cuts only the bring-up short: the teardown's admin commands
		 * (Delete I/O SQ and CQ) are waited for, however the run ended.
		 * Workers exit one after another on the same thread; no one reads it now.
		 */
		c->abort = NULL;
		/*
		 * Deleting the SQ completes or aborts anything still queued (the
		 * spec's promise for Delete I/O SQ); when it fails, the controller is
		 * disabled (or reset) instead. Either way it is stopped before the
		 * unmaps below, and a device that ignores both only faults on IOVAs
		 * that are no longer mapped.
		 */
		if (nvme_qpair_delete(c, &vw->qp) < 0 && c->vfio_open)
			nvme_ctrl_disable(c);
		nvme_qpair_free(c, &vw->qp);
		if (vw->prp_mapped && c->vfio_open)
			iommu_unmap(&c->vfio, vw->prp_mem);
		if (vw->cmd_mapped && c->vfio_open)
			iommu_unmap(&c->vfio, w->cmd->bufs);
		if (vw->meta_mapped && c->vfio_open)
			iommu_unmap(&c->vfio, w->meta_buffers);
		if (vw->buf_mapped && c->vfio_open)
			iommu_unmap(&c->vfio, w->buffers);
		__vfio_engine_put(vw->ec);
	}
	/* Commands the drain gave up on may still read their PRP lists: leak them with the data buffers (worker.c). */
	if (vw->prp_mem && !w->inflight)
		munmap(vw->prp_mem, vw->prp_size);
	free(vw->prp1);
	free(vw->prp2);
	free(vw);
	w->priv = NULL;
}

const struct engine_ops vfio_ops = {
	.name = "vfio",
	.commands = JOB_CMDS_ALL,
	.init = vfio_engine_init,
	.queue = vfio_engine_queue,
	.commit = vfio_engine_commit,
	.reap = vfio_engine_reap,
	.exit = vfio_engine_exit,
	.nvme = true,
};
