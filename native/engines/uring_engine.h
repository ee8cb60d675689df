/*
 * What the uring and pt engines share: a worker-owned ring, registered
 * buffers and files, and the submit/reap steps. Reaping is inlined into each
 * engine so the CQE handling is specialised without an indirect call.
 */
#ifndef NVMEBENCH_URING_ENGINE_H
#define NVMEBENCH_URING_ENGINE_H

#include <errno.h>
#include <stdio.h>

#include "engine.h"
#include "uring.h"

struct uring_engine {
	struct uring ring;
	unsigned pending;  /* queued SQEs not yet taken by the kernel */
	bool iopoll;
	bool sqpoll;
	bool fixed_bufs;
	bool one_buf;      /* the slots' buffers are registered as one: every SQE names buffer 0 */
	bool reg_files;
};

int uring_engine_init(struct worker *w, unsigned ring_flags);
int uring_engine_commit(struct worker *w, unsigned nr, unsigned min_complete);
void uring_engine_exit(struct worker *w);
int uring_engine_wait(struct worker *w, uint64_t timeout_ns);

/* The next free SQE; NULL with EBUSY and the worker's errmsg set when the SQ is full. */
static inline struct io_uring_sqe *uring_engine_sqe(struct worker *w, struct uring_engine *ue)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&ue->ring);

	if (!sqe) {
		snprintf(w->errmsg, sizeof(w->errmsg), "submission queue full");
		errno = EBUSY;
	}
	return sqe;
}

/* The registered buffer that holds io's data. */
static inline uint16_t uring_engine_buf_index(const struct uring_engine *ue, const struct io_unit *io)
{
	return ue->one_buf ? 0 : io->index;
}

/* Fill the parts of the SQE common to every request. */
static inline void uring_engine_prep(struct uring_engine *ue, struct worker *w, struct io_uring_sqe *sqe,
				     struct io_unit *io)
{
	if (ue->reg_files) {
		sqe->fd = 0;
		sqe->flags = IOSQE_FIXED_FILE;
	} else {
		sqe->fd = w->fd;
	}
	sqe->user_data = io->index;
	ue->pending++;
}

/* How a CQE's res reads: bytes transferred, an NVMe status (0 = success), or a NOP's 0. */
enum uring_reap_kind {
	URING_REAP_BLOCK,
	URING_REAP_PT,
	URING_REAP_NOP,
};

/*
 * Harvest every CQE available. The clock is read once per harvest, and only
 * when an I/O in it carries a start stamp (--lat sample:N and off stamp few
 * or none).
 */
static inline int uring_engine_reap(struct worker *w, enum uring_reap_kind kind)
{
	struct uring_engine *ue = w->priv;
	struct uring *ring = &ue->ring;
	unsigned head = *ring->cq_head;
	unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
	unsigned reaped = 0;
	uint64_t now = 0;

	if (head == tail)
		return 0;
	for (; head != tail; head++) {
		struct io_uring_cqe *cqe = uring_cqe_at(ring, head);
		struct io_unit *io = &w->ios[cqe->user_data];

		if (!now && io->start_ns)
			now = clock_lat_now(&w->run->clock);
		if (kind == URING_REAP_PT) {
			/* CQE32: big_cqe[0] holds the command's result dwords 0-1 (zone append: the LBA). */
			io->result = cqe->big_cqe[0];
			worker_pt_done(w, io, cqe->res, now);
		} else if (kind == URING_REAP_NOP) {
			/* A NOP moves no data: 0 is a whole transfer of nothing. */
			worker_io_done(w, io, cqe->res == 0 ? (int64_t)io->len : cqe->res, now);
		} else {
			worker_io_done(w, io, cqe->res, now);
		}
		reaped++;
	}
	/* Release: we are done reading the CQEs before the kernel may reuse them. */
	__atomic_store_n(ring->cq_head, head, __ATOMIC_RELEASE);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, reaped);
	return (int)reaped;
}

#endif
