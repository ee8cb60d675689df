/*
 * pt and pt-poll: NVMe read/write as IORING_OP_URING_CMD on the generic char
 * device /dev/ngXnY. The ring uses 128-byte SQEs (the NVMe command rides in
 * the SQE) and 32-byte CQEs (room for the command's result dword).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "nvme.h"
#include "nvme_cmd.h"
#include "uring_engine.h"

static int pt_init(struct worker *w)
{
	return uring_engine_init(w, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
}

static int pt_poll_init(struct worker *w)
{
	return uring_engine_init(w, IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_IOPOLL);
}

/* Fill the NVMe command for io (nvme_cmd_prep builds it) into the 80-byte command area. */
static void __pt_fill_cmd(const struct job *job, struct nvme_uring_cmd *cmd, struct io_unit *io, bool vectored)
{
	struct nvme_cmd_desc d;

	nvme_cmd_prep(job, io, &d);
	cmd->opcode = d.opcode;
	cmd->nsid = d.nsid;
	cmd->cdw10 = d.cdw10;
	cmd->cdw11 = d.cdw11;
	cmd->cdw12 = d.cdw12;
	cmd->cdw13 = d.cdw13;
	cmd->cdw14 = d.cdw14;
	cmd->cdw15 = d.cdw15;
	cmd->metadata = d.meta_addr;
	cmd->metadata_len = d.meta_len;
	if (!d.data_len)
		return;
	if (vectored) {
		io->iov.iov_base = (void *)(uintptr_t)d.addr;
		io->iov.iov_len = d.data_len;
		cmd->addr = (uint64_t)(uintptr_t)&io->iov;
		cmd->data_len = 1; /* number of iovecs */
	} else {
		cmd->addr = d.addr;
		cmd->data_len = d.data_len;
	}
}

static int pt_queue(struct worker *w, struct io_unit *io)
{
	struct uring_engine *ue = w->priv;
	const struct job *job = &w->run->job;
	struct io_uring_sqe *sqe = uring_engine_sqe(w, ue);
	struct nvme_uring_cmd *cmd;
	bool vectored;

	if (!sqe)
		return -1;
	cmd = (struct nvme_uring_cmd *)sqe->cmd;
	sqe->opcode = IORING_OP_URING_CMD;
	__pt_fill_cmd(job, cmd, io, job->vectored);
	vectored = job->vectored && cmd->data_len;
	sqe->cmd_op = vectored ? NVME_URING_CMD_IO_VEC : NVME_URING_CMD_IO;
	/* Registered buffers cover the data buffers only, not the DSM/Copy descriptor buffers. */
	if (ue->fixed_bufs && cmd->data_len && !vectored && cmd->addr == (uint64_t)(uintptr_t)io->buf) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = uring_engine_buf_index(ue, io);
	}
	uring_engine_prep(ue, w, sqe, io);
	return 0;
}

static int pt_reap(struct worker *w, unsigned min_complete)
{
	return uring_engine_reap(w, URING_REAP_PT);
}

/*
 * pt-poll: a zone reset goes synchronously through NVME_IOCTL_IO64_CMD on
 * the same node. Kernels before 6.5 poll passthrough by bio: a command
 * without data never completes on an IOPOLL ring.
 */
static int pt_poll_zone_reset(struct worker *w, struct io_unit *io)
{
	struct nvme_passthru_cmd64 cmd;
	struct nvme_cmd_desc d;

	nvme_cmd_prep(&w->run->job, io, &d);
	nvme_cmd_to_passthru(&d, &cmd);
	return ioctl(w->fd, NVME_IOCTL_IO64_CMD, &cmd);
}

const struct engine_ops pt_ops = {
	.name = "pt",
	.commands = JOB_CMDS_ALL,
	.nvme = true,
	.init = pt_init,
	.queue = pt_queue,
	.commit = uring_engine_commit,
	.reap = pt_reap,
	.exit = uring_engine_exit,
	.wait = uring_engine_wait,
};

const struct engine_ops pt_poll_ops = {
	.name = "pt-poll",
	.commands = JOB_CMDS_ALL,
	.nvme = true,
	.init = pt_poll_init,
	.queue = pt_queue,
	.commit = uring_engine_commit,
	.reap = pt_reap,
	.exit = uring_engine_exit,
	.zone_reset = pt_poll_zone_reset,
};
