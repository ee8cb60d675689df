/*
 * What the uring and pt engines share: a worker-owned ring, registered
 * buffers and files, and the submit/reap steps. Reaping is inlined into each
 * engine so the CQE handling is specialised without an indirect call.
 */
#ifndef NVMEBENCH_URING_ENGINE_H
#define NVMEBENCH_URING_ENGINE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "uring.h"
#include "worker_done.h"

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

/* The same on a ring of 64-byte SQEs (uring, nop): a fixed shift and clear. */
static inline struct io_uring_sqe *uring_engine_sqe64(struct worker *w, struct uring_engine *ue)
{
	struct io_uring_sqe *sqe = uring_get_sqe_shift(&ue->ring, 6);

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

/*
 * A plain read or write on a block device or file: the opcode (fixed or
 * not), the registered buffer, and where. fixed and one_buf are the
 * engine's, passed in so that a caller looping over a batch keeps them in
 * registers.
 */
static inline void uring_engine_fill_rw(struct io_uring_sqe *sqe, const struct io_unit *io, bool fixed, bool one_buf)
{
	if (fixed) {
		sqe->opcode = io->is_write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED;
		sqe->buf_index = one_buf ? 0 : io->index;
	} else {
		sqe->opcode = io->is_write ? IORING_OP_WRITE : IORING_OP_READ;
	}
	sqe->addr = (uint64_t)(uintptr_t)io->buf;
	sqe->len = io->len;
	sqe->off = io->offset;
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

/*
 * queue_batch for 64-byte SQEs: the n slots w->free_slots[first..first+n),
 * plain reads and writes (or NOPs), with the ring's tail, mask and base in
 * locals for the whole batch rather than reloaded per I/O. Anything else (a
 * command slot, an SQ without room for all n) goes through queue one by one.
 */
static inline uint32_t uring_engine_queue_batch64(struct worker *w, uint32_t first, uint32_t n, bool nop)
{
	struct uring_engine *ue = w->priv;
	struct uring *ring = &ue->ring;
	const uint16_t *slots = w->free_slots + first;
	struct io_unit *ios = w->ios;
	unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
	unsigned tail = ring->sq_local_tail, mask = ring->sq_mask;
	char *sqes = ring->sqes;
	bool fixed = ue->fixed_bufs, one_buf = ue->one_buf, reg_files = ue->reg_files;
	int fd = w->fd;
	uint32_t i;

	if (w->cmd || tail - head + n > ring->sq_entries) {
		for (i = 0; i < n; i++)
			if (w->ops->queue(w, &ios[slots[i]]) < 0)
				break;
		return i;
	}
	for (i = 0; i < n; i++) {
		struct io_unit *io = &ios[slots[i]];
		struct io_uring_sqe *sqe = (struct io_uring_sqe *)(sqes + ((size_t)(tail++ & mask) << 6));

		__builtin_memset(sqe, 0, 64);
		sqe->user_data = io->index;
		if (nop) {
			sqe->opcode = IORING_OP_NOP;
			sqe->fd = -1;
			continue;
		}
		uring_engine_fill_rw(sqe, io, fixed, one_buf);
		if (reg_files)
			sqe->flags = IOSQE_FIXED_FILE; /* fd 0: the one registered file */
		else
			sqe->fd = fd;
	}
	ring->sq_local_tail = tail;
	ue->pending += n;
	return n;
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
 * or none): every I/O of a harvest gets the same end stamp, as t/io_uring's
 * do. A clock read per CQE would differ only by the handling of the CQEs
 * before it here, a few ns each; both are at or after the completion, late
 * by however long the CQE sat in the ring before io_uring_enter returned.
 *
 * Plain completions (a full read or write, a NOP, a passthrough success,
 * while measuring with nothing to check) end here inline, with no call into
 * worker.c (worker_done.h); the rest go through worker_io_done.
 */
static inline int uring_engine_reap(struct worker *w, enum uring_reap_kind kind)
{
	struct uring_engine *ue = w->priv;
	struct uring *ring = &ue->ring;
	unsigned head = *ring->cq_head;
	unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
	unsigned reaped = tail - head;
	/* Read once: the stores below may alias them as far as the compiler knows. CQE32 for passthrough. */
	const char *cqes = ring->cqes;
	unsigned mask = ring->cq_mask, shift = kind == URING_REAP_PT ? 5 : 4;
	struct io_unit *ios = w->ios;
	uint64_t now = 0;
	struct worker_harvest h;
	bool plain;

	if (!reaped)
		return 0;
	plain = worker_done_plain(w);
	worker_harvest_begin(&h);
	for (; head != tail; head++) {
		const struct io_uring_cqe *cqe = (const struct io_uring_cqe *)(cqes + ((size_t)(head & mask) << shift));
		struct io_unit *io = &ios[cqe->user_data];
		int64_t res = cqe->res;

		/* The next slot is somewhere in L2 by now (the data copies pass through L1): start fetching it. */
		if (head + 1 != tail)
			__builtin_prefetch(&ios[((const struct io_uring_cqe *)(cqes + ((size_t)((head + 1) & mask) << shift)))->user_data], 1);
		if (!now && io->start_ns)
			now = clock_lat_now(&w->run->clock);
		if (kind == URING_REAP_PT) {
			/* CQE32: big_cqe[0] holds the command's result dwords 0-1 (zone append: the LBA). */
			io->result = cqe->big_cqe[0];
			if (res) {
				worker_pt_done(w, io, (int)res, now);
				continue;
			}
			res = io->len; /* NVMe success: the whole transfer */
		} else if (kind == URING_REAP_NOP && res == 0) {
			res = io->len; /* a NOP moves no data: 0 is a whole transfer of nothing */
		}
		worker_io_done_inline(w, io, res, now, plain, &h);
	}
	worker_harvest_end(w, &h);
	w->reap_ns = now;
	/* Release: we are done reading the CQEs before the kernel may reuse them. */
	__atomic_store_n(ring->cq_head, head, __ATOMIC_RELEASE);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, reaped);
	return (int)reaped;
}

#endif
