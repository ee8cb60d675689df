/*
 * A minimal io_uring ring over the raw system calls, in the manner of
 * t/io_uring: no liburing; the SQ index array, where the kernel still has
 * one, mapped 1:1 once at setup.
 * Supports 64- and 128-byte SQEs and 16- and 32-byte CQEs for passthrough.
 */
#ifndef NVMEBENCH_URING_H
#define NVMEBENCH_URING_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/io_uring.h>

struct uring {
	int fd;
	int enter_fd;          /* what io_uring_enter takes: fd, or its registered index (uring_register_ring) */
	unsigned enter_flags;  /* IORING_ENTER_REGISTERED_RING with a registered index */
	bool attached;         /* uring_attach ran on the thread that submits */
	bool disabled;         /* set up with R_DISABLED: uring_attach enables it */
	bool defer_taskrun;    /* DEFER_TASKRUN: completions are posted only in an enter with GETEVENTS */
	unsigned setup_flags;  /* what io_uring_setup took, after falling back */
	unsigned sq_entries;
	unsigned cq_entries;
	unsigned sqe_shift; /* 6 for 64-byte SQEs, 7 for SQE128 */
	unsigned cqe_shift; /* 4 for 16-byte CQEs, 5 for CQE32 */

	unsigned *sq_head;
	unsigned *sq_tail;
	unsigned sq_mask;
	unsigned *sq_flags;
	unsigned *sq_array;
	unsigned sq_local_tail;

	unsigned *cq_head;
	unsigned *cq_tail;
	unsigned cq_mask;

	char *sqes;
	char *cqes;

	void *sq_ring_ptr;
	size_t sq_ring_size;
	void *cq_ring_ptr;
	size_t cq_ring_size;
	size_t sqes_size;
};

int uring_init(struct uring *ring, unsigned entries, unsigned flags, int sq_thread_cpu);
void uring_exit(struct uring *ring);
int uring_enter(struct uring *ring, unsigned to_submit, unsigned min_complete, unsigned flags);
int uring_wait_cqe_timeout(struct uring *ring, uint64_t timeout_ns);
int uring_register_buffers(struct uring *ring, const struct iovec *iovs, unsigned nr);
int uring_register_files(struct uring *ring, const int *fds, unsigned nr);
int uring_register_ring(struct uring *ring);
int uring_attach(struct uring *ring);
size_t uring_setup_names(unsigned flags, char *buf, size_t len);

/*
 * Next free SQE, zeroed, or NULL when the SQ is full. sqe_shift is the
 * ring's (6, or 7 with SQE128): a caller that knows it passes a constant, so
 * that the address is a fixed shift and the clear a few stores.
 */
static inline struct io_uring_sqe *uring_get_sqe_shift(struct uring *ring, unsigned sqe_shift)
{
	unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (ring->sq_local_tail - head >= ring->sq_entries)
		return NULL;
	sqe = (struct io_uring_sqe *)(ring->sqes + ((size_t)(ring->sq_local_tail & ring->sq_mask) << sqe_shift));
	ring->sq_local_tail++;
	/* Constant sizes, so the compiler clears the SQE inline rather than calling memset per I/O. */
	if (sqe_shift == 6)
		__builtin_memset(sqe, 0, 64);
	else
		__builtin_memset(sqe, 0, 128);
	return sqe;
}

static inline struct io_uring_sqe *uring_get_sqe(struct uring *ring)
{
	return uring_get_sqe_shift(ring, ring->sqe_shift);
}

/*
 * Publish queued SQEs: the release store orders the SQE contents before the
 * tail the kernel (or the SQPOLL thread) reads.
 */
static inline void uring_flush_sq(struct uring *ring)
{
	__atomic_store_n(ring->sq_tail, ring->sq_local_tail, __ATOMIC_RELEASE);
}

static inline int uring_sq_needs_wakeup(struct uring *ring)
{
	/* Full barrier: the tail store must be visible before we read the flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(ring->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_NEED_WAKEUP;
}

static inline struct io_uring_cqe *uring_cqe_at(struct uring *ring, unsigned index)
{
	return (struct io_uring_cqe *)(ring->cqes + ((size_t)(index & ring->cq_mask) << ring->cqe_shift));
}

#endif
