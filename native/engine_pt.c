/*
 * pt and pt-poll: NVMe read/write as IORING_OP_URING_CMD on the generic char
 * device /dev/ngXnY. The ring uses 128-byte SQEs (the NVMe command rides in
 * the SQE) and 32-byte CQEs (room for the command's result dword).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/nvme_ioctl.h>

#include "nvme.h"
#include "uring_engine.h"

static int pt_init(struct worker *w)
{
	unsigned flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;

	if (w->run->job.engine == ENGINE_PT_POLL)
		flags |= IORING_SETUP_IOPOLL;
	return uring_engine_init(w, flags);
}

/* Fill an NVMe read or write for io into the 80-byte command area. */
void pt_fill_rw(const struct job *job, struct nvme_uring_cmd *cmd, struct io_unit *io, bool vectored)
{
	uint64_t slba = io->offset / job->lba_size;
	uint32_t nlb = io->len / job->lba_size - 1; /* 0's based */

	cmd->opcode = io->is_write ? NVME_CMD_WRITE : NVME_CMD_READ;
	cmd->nsid = job->nsid;
	cmd->cdw10 = (uint32_t)slba;
	cmd->cdw11 = (uint32_t)(slba >> 32);
	cmd->cdw12 = nlb;
	if (vectored) {
		io->iov.iov_base = io->buf;
		io->iov.iov_len = io->len;
		cmd->addr = (uint64_t)(uintptr_t)&io->iov;
		cmd->data_len = 1; /* number of iovecs */
	} else {
		cmd->addr = (uint64_t)(uintptr_t)io->buf;
		cmd->data_len = io->len;
	}
}

static int pt_queue(struct worker *w, struct io_unit *io)
{
	struct uring_engine *ue = w->priv;
	const struct job *job = &w->run->job;
	struct io_uring_sqe *sqe = uring_get_sqe(&ue->ring);

	if (!sqe) {
		snprintf(w->errmsg, sizeof(w->errmsg), "submission queue full");
		errno = EBUSY;
		return -1;
	}
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->cmd_op = job->vectored ? NVME_URING_CMD_IO_VEC : NVME_URING_CMD_IO;
	if (ue->fixed_bufs) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = io->index;
	}
	pt_fill_rw(job, (struct nvme_uring_cmd *)sqe->cmd, io, job->vectored);
	uring_engine_prep(ue, w, sqe, io);
	return 0;
}

static int pt_reap(struct worker *w, unsigned min_complete)
{
	return uring_engine_reap(w, true);
}

const struct engine_ops pt_ops = {
	.name = "pt",
	.init = pt_init,
	.queue = pt_queue,
	.commit = uring_engine_commit,
	.reap = pt_reap,
	.exit = uring_engine_exit,
};
