/*
 * nop: IORING_OP_NOP through the worker loop, with uring's batching,
 * histogram and accounting, and no target. What is left is what nvmebench
 * and io_uring cost per I/O: the yardstick the other engines sit above.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uring_engine.h"

static int nop_init(struct worker *w)
{
	struct uring_engine *ue = calloc(1, sizeof(*ue));
	unsigned ring_flags = 0;

	if (!ue)
		return -1;
	w->priv = ue;
	ue->ring.fd = -1;
	/* No file and no data: registered files and buffers do not apply. */
	ue->sqpoll = w->run->job.sqpoll;
	if (ue->sqpoll)
		ring_flags |= IORING_SETUP_SQPOLL;
	if (uring_init(&ue->ring, w->depth, ring_flags, -1) < 0) {
		int err = errno;

		snprintf(w->errmsg, sizeof(w->errmsg), "io_uring_setup(%u%s) failed: %s", w->depth,
			 ue->sqpoll ? ", SQPOLL" : "", strerror(err));
		errno = err;
		return -1;
	}
	w->ring_flags = ue->ring.setup_flags;
	return 0;
}

static int nop_queue(struct worker *w, struct io_unit *io)
{
	struct uring_engine *ue = w->priv;
	struct io_uring_sqe *sqe = uring_engine_sqe64(w, ue);

	if (!sqe)
		return -1;
	sqe->opcode = IORING_OP_NOP;
	sqe->fd = -1;
	sqe->user_data = io->index;
	ue->pending++;
	return 0;
}

static uint32_t nop_queue_batch(struct worker *w, uint32_t first, uint32_t n)
{
	return uring_engine_queue_batch64(w, first, n, true);
}

static int nop_reap(struct worker *w, unsigned min_complete)
{
	return uring_engine_reap(w, URING_REAP_NOP);
}

const struct engine_ops nop_ops = {
	.name = "nop",
	.init = nop_init,
	.queue = nop_queue,
	.queue_batch = nop_queue_batch,
	.commit = uring_engine_commit,
	.reap = nop_reap,
	.exit = uring_engine_exit,
	.wait = uring_engine_wait,
};
