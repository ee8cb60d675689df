/*
 * uring and uring-poll: io_uring read/write on a block device or file, with
 * interrupt completions or IORING_SETUP_IOPOLL. Also the ring plumbing the
 * passthrough engine reuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/falloc.h>

#include "fix.h"
#include "uring_engine.h"
#include "workload_cmd.h"

int uring_engine_init(struct worker *w, unsigned ring_flags)
{
	const struct job *job = &w->run->job;
	struct uring_engine *ue = calloc(1, sizeof(*ue));
	struct iovec *iovs;
	size_t span;
	unsigned entries = w->depth;
	unsigned i;

	if (!ue)
		return -1;
	w->priv = ue;
	ue->ring.fd = -1;
	ue->iopoll = ring_flags & IORING_SETUP_IOPOLL;
	ue->sqpoll = job->sqpoll;
	ue->fixed_bufs = job->fixed_bufs;
	ue->reg_files = job->reg_files;
	if (worker_open_target(w) < 0)
		return -1;
	/*
	 * The SQPOLL thread posts the CQEs of I/Os that complete inline before
	 * it advances the SQ head past their SQEs, so once those are reaped the
	 * SQ can hold up to depth SQEs the kernel has taken plus depth new
	 * ones: twice the depth never looks full.
	 */
	if (ue->sqpoll) {
		ring_flags |= IORING_SETUP_SQPOLL;
		entries *= 2;
	}
	if (uring_init(&ue->ring, entries, ring_flags, -1) < 0) {
		int err = errno;

		snprintf(w->errmsg, sizeof(w->errmsg), "io_uring_setup(%u%s%s%s) failed: %s", entries,
			 ring_flags & IORING_SETUP_IOPOLL ? ", IOPOLL" : "",
			 ring_flags & IORING_SETUP_SQPOLL ? ", SQPOLL" : "",
			 ring_flags & IORING_SETUP_SQE128 ? ", SQE128|CQE32" : "", strerror(err));
		errno = err;
		return -1;
	}
	w->ring_flags = ue->ring.setup_flags;
	/*
	 * The slots' buffers lie in one allocation: register it as one buffer
	 * (the kernel takes up to 1 GiB), so that every I/O's import reads the
	 * same, cache-hot buffer descriptor rather than one of depth (as
	 * t/io_uring does). Larger, one per slot. Not for passthrough (SQE128):
	 * Linux 6.1's NVMe passthrough refuses with EINVAL an I/O imported from
	 * the middle of one large registered buffer (small blocks at offsets
	 * that are not page aligned; seen at 512 B in the lab), where a buffer
	 * of its own per slot works on every kernel.
	 */
	span = w->depth ? (size_t)((char *)w->ios[w->depth - 1].buf - (char *)w->ios[0].buf) + w->block_size : 0;
	ue->one_buf = ue->fixed_bufs && span <= (1UL << 30) && !(ring_flags & IORING_SETUP_SQE128);
	if (ue->one_buf) {
		struct iovec all = { .iov_base = w->ios[0].buf, .iov_len = span };

		if (uring_register_buffers(&ue->ring, &all, 1) < 0) {
			int err = errno;
			snprintf(w->errmsg, sizeof(w->errmsg), "registering %zu bytes of fixed buffers failed: %s%s", span,
				 strerror(err), err == ENOMEM ? " (fixed buffers count against the memlock limit)" FIX("raise the memlock limit (ulimit -l), or add --no-fixedbufs") : "");
			errno = err;
			return -1;
		}
	} else if (ue->fixed_bufs) {
		iovs = calloc(w->depth, sizeof(*iovs));
		if (!iovs)
			return -1;
		for (i = 0; i < w->depth; i++) {
			iovs[i].iov_base = w->ios[i].buf;
			iovs[i].iov_len = pi_data_xfer(&w->run->job.pi, w->block_size); /* extended LBAs: with their metadata */
		}
		if (uring_register_buffers(&ue->ring, iovs, w->depth) < 0) {
			int err = errno;

			snprintf(w->errmsg, sizeof(w->errmsg), "registering %u fixed buffers failed: %s%s", w->depth,
				 strerror(err), err == ENOMEM ? " (fixed buffers count against the memlock limit)" FIX("raise the memlock limit (ulimit -l), or add --no-fixedbufs") : "");
			free(iovs);
			errno = err;
			return -1;
		}
		free(iovs);
	}
	if (ue->reg_files && uring_register_files(&ue->ring, &w->fd, 1) < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "registering the file failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int uring_engine_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	struct uring_engine *ue = w->priv;
	struct uring *ring = &ue->ring;
	unsigned flags = 0;
	int ret;

	if (__builtin_expect(!ring->attached, 0) && uring_attach(ring) < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "enabling the ring on the worker's thread failed: %s", strerror(errno));
		return -1;
	}
	uring_flush_sq(ring);
	if (ue->sqpoll) {
		/* The SQ thread takes what we published; wake it only when it sleeps. */
		if (uring_sq_needs_wakeup(ring)) {
			uring_enter(ring, 0, 0, IORING_ENTER_SQ_WAKEUP);
			counter_add(&w->submit_calls, 1);
		}
		counter_add(&w->submitted, ue->pending);
		ue->pending = 0;
		if (!min_complete && !ue->iopoll)
			return 0;
		ret = uring_enter(ring, 0, min_complete, IORING_ENTER_GETEVENTS);
		if (ret < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return -1;
		return 0;
	}
	if (min_complete || ue->iopoll)
		flags |= IORING_ENTER_GETEVENTS;
	if (!ue->pending && !flags)
		return 0;
	ret = uring_enter(ring, ue->pending, min_complete, flags);
	counter_add(&w->submit_calls, 1);
	if (ret < 0) {
		/* Out of resources or interrupted: reap, then try again. */
		if (errno == EAGAIN || errno == EBUSY || errno == EINTR)
			return 0;
		return -1;
	}
	counter_add(&w->submitted, (uint64_t)ret);
	ue->pending -= (unsigned)ret;
	return 0;
}

/* --rate-iops ahead of schedule: sleep until a CQE is posted or timeout_ns pass (rate_wait.c). */
int uring_engine_wait(struct worker *w, uint64_t timeout_ns)
{
	struct uring_engine *ue = w->priv;

	if (!ue->ring.attached && uring_attach(&ue->ring) < 0)
		return -1;
	return uring_wait_cqe_timeout(&ue->ring, timeout_ns);
}

void uring_engine_exit(struct worker *w)
{
	struct uring_engine *ue = w->priv;

	if (ue) {
		if (ue->ring.fd >= 0)
			uring_exit(&ue->ring);
		free(ue);
		w->priv = NULL;
	}
	worker_close_target(w);
}

static int uring_block_init(struct worker *w)
{
	return uring_engine_init(w, 0);
}

static int uring_poll_init(struct worker *w)
{
	return uring_engine_init(w, IORING_SETUP_IOPOLL);
}

#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD _IO(0x12, 0) /* linux/blkdev.h, Linux 6.12 */
#endif

/*
 * The block layer's commands through io_uring: IORING_OP_FALLOCATE with
 * ZERO_RANGE for write-zeroes (BLKZEROOUT's path), a discard for trim
 * (BLOCK_URING_CMD_DISCARD on a block device, Linux 6.12 on; fallocate
 * PUNCH_HOLE on a file) and IORING_OP_FSYNC for flush. fallocate and fsync
 * run in io_uring's worker threads: the kernel has no async path for them.
 */
static void __uring_block_command(struct worker *w, struct io_uring_sqe *sqe, struct io_unit *io)
{
	switch (w->run->job.command) {
	case JOB_CMD_TRIM:
		if (w->cmd->fd_is_blk) {
			sqe->opcode = IORING_OP_URING_CMD;
			sqe->cmd_op = BLOCK_URING_CMD_DISCARD;
			sqe->addr = io->offset;
			sqe->addr3 = io->len;
			break;
		}
		/* fall through */
	case JOB_CMD_WRITE_ZEROES:
		sqe->opcode = IORING_OP_FALLOCATE;
		sqe->off = io->offset;
		sqe->addr = io->len; /* fallocate's length rides in addr, its mode in len */
		if (w->run->job.command == JOB_CMD_WRITE_ZEROES)
			sqe->len = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		else
			sqe->len = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		break;
	default: /* flush */
		sqe->opcode = IORING_OP_FSYNC;
		sqe->fsync_flags = IORING_FSYNC_DATASYNC;
		break;
	}
}

static int uring_block_queue(struct worker *w, struct io_unit *io)
{
	struct uring_engine *ue = w->priv;
	struct io_uring_sqe *sqe = uring_engine_sqe64(w, ue);

	if (!sqe)
		return -1;
	if (io->op == IO_OP_CMD)
		__uring_block_command(w, sqe, io);
	else
		uring_engine_fill_rw(sqe, io, ue->fixed_bufs, ue->one_buf);
	uring_engine_prep(ue, w, sqe, io);
	return 0;
}

static uint32_t uring_block_queue_batch(struct worker *w, uint32_t first, uint32_t n)
{
	return uring_engine_queue_batch64(w, first, n, false);
}

static int uring_block_reap(struct worker *w, unsigned min_complete)
{
	return uring_engine_reap(w, URING_REAP_BLOCK);
}

const struct engine_ops uring_ops = {
	.name = "uring",
	.commands = JOB_CMD_BIT(JOB_CMD_WRITE_ZEROES) | JOB_CMD_BIT(JOB_CMD_TRIM) | JOB_CMD_BIT(JOB_CMD_FLUSH),
	.init = uring_block_init,
	.queue = uring_block_queue,
	.queue_batch = uring_block_queue_batch,
	.commit = uring_engine_commit,
	.reap = uring_block_reap,
	.exit = uring_engine_exit,
	.wait = uring_engine_wait,
};

/* io_uring takes only reads and writes on an IOPOLL ring: no commands. */
const struct engine_ops uring_poll_ops = {
	.name = "uring-poll",
	.init = uring_poll_init,
	.queue = uring_block_queue,
	.queue_batch = uring_block_queue_batch,
	.commit = uring_engine_commit,
	.reap = uring_block_reap,
	.exit = uring_engine_exit,
};
