#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "uring.h"

#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16) /* linux/io_uring.h, Linux 6.6 */
#endif

static int __uring_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

#if defined(__x86_64__)
/*
 * io_uring_enter without libc's syscall(): its wrapper shuffles six
 * arguments through registers and the stack on every call, and this is the
 * submit and reap path, once per batch. The kernel returns -errno.
 */
static inline long __uring_enter_raw(long fd, long to_submit, long min_complete, long flags)
{
	register long r10 __asm__("r10") = flags;
	register long r8 __asm__("r8") = 0; /* sigset: none */
	register long r9 __asm__("r9") = 0; /* its size */
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"((long)__NR_io_uring_enter), "D"(fd), "S"(to_submit), "d"(min_complete), "r"(r10), "r"(r8),
			       "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

int uring_enter(struct uring *ring, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	long ret;

	/* DEFER_TASKRUN: completions are posted only while we wait for events; min_complete 0 still returns at once. */
	if (ring->defer_taskrun)
		flags |= IORING_ENTER_GETEVENTS;
	ret = __uring_enter_raw(ring->enter_fd, to_submit, min_complete, flags | ring->enter_flags);

	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}
#else
int uring_enter(struct uring *ring, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	int ret;

	if (ring->defer_taskrun)
		flags |= IORING_ENTER_GETEVENTS;
	ret = (int)syscall(__NR_io_uring_enter, ring->enter_fd, to_submit, min_complete, flags | ring->enter_flags, NULL, 0);

	return ret < 0 ? -1 : ret;
}
#endif

/*
 * Wait for one CQE, at most timeout_ns (IORING_ENTER_EXT_ARG, Linux 5.11):
 * the open-loop idle path, not the hot one, so plain syscall(). A timeout or
 * a signal is not an error.
 */
int uring_wait_cqe_timeout(struct uring *ring, uint64_t timeout_ns)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(timeout_ns / 1000000000ULL),
					.tv_nsec = (long long)(timeout_ns % 1000000000ULL) };
	struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
	int ret = (int)syscall(__NR_io_uring_enter, ring->enter_fd, 0, 1,
			       IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | ring->enter_flags, &arg, sizeof(arg));

	if (ret < 0 && (errno == ETIME || errno == EINTR || errno == EAGAIN || errno == EBUSY))
		return 0;
	return ret < 0 ? -1 : 0;
}

static int __uring_register(struct uring *ring, unsigned opcode, const void *arg, unsigned nr)
{
	return (int)syscall(__NR_io_uring_register, ring->fd, opcode, arg, nr);
}

int uring_register_buffers(struct uring *ring, const struct iovec *iovs, unsigned nr)
{
	return __uring_register(ring, IORING_REGISTER_BUFFERS, iovs, nr) < 0 ? -1 : 0;
}

int uring_register_files(struct uring *ring, const int *fds, unsigned nr)
{
	return __uring_register(ring, IORING_REGISTER_FILES, fds, nr) < 0 ? -1 : 0;
}

/*
 * Register the ring's own fd with the calling thread (Linux 5.18 on), so
 * that each io_uring_enter skips looking the fd up (t/io_uring's -X). The
 * registration belongs to the thread that makes it: the worker calls this
 * from its own thread, on its first submission (uring_attach). Where the kernel refuses, the
 * ring goes on by its fd. Returns 0 when registered, -1 otherwise.
 */
int uring_register_ring(struct uring *ring)
{
	struct io_uring_rsrc_update reg = { .offset = -1U, .data = (uint64_t)ring->fd };

	if (__uring_register(ring, IORING_REGISTER_RING_FDS, &reg, 1) != 1)
		return -1;
	ring->enter_fd = (int)reg.offset;
	ring->enter_flags = IORING_ENTER_REGISTERED_RING;
	return 0;
}

/*
 * What a ring takes beyond the caller's flags, best first, where the kernel
 * has it (t/io_uring asks for the same):
 * - SINGLE_ISSUER|DEFER_TASKRUN (Linux 6.1): one thread submits, so the
 *   kernel posts CQEs without the completion lock, and completions that
 *   arrive by interrupt wait as task work until that thread enters with
 *   GETEVENTS (uring_enter adds it) rather than interrupting it.
 * - R_DISABLED with them: the ring is set up on the thread that prepares the
 *   run, not the worker's; the issuer is the thread that enables it
 *   (uring_attach, on the worker's first submit).
 * - NO_SQARRAY (6.6): the kernel reads SQEs at tail & mask, with no index
 *   array to load per SQE; ours was the identity map anyway.
 * - COOP_TASKRUN (5.19) where DEFER_TASKRUN is refused: task work waits
 *   for the next transition to the kernel, not an IPI.
 * An older kernel refuses an unknown flag with EINVAL: drop the newest and
 * try again. SQPOLL rings take none (DEFER_TASKRUN needs the submitter to
 * enter; with SQPOLL the kernel thread submits).
 */
static const unsigned __uring_extra_flags[] = {
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED | IORING_SETUP_NO_SQARRAY,
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
	IORING_SETUP_COOP_TASKRUN,
	0,
};

int uring_init(struct uring *ring, unsigned entries, unsigned flags, int sq_thread_cpu)
{
	struct io_uring_params p;
	void *sq_ptr, *cq_ptr, *sqes;
	unsigned i;
	int fd, saved;

	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	if ((flags & IORING_SETUP_SQPOLL) && sq_thread_cpu >= 0) {
		p.flags |= IORING_SETUP_SQ_AFF;
		p.sq_thread_cpu = (unsigned)sq_thread_cpu;
	}
	if (flags & IORING_SETUP_SQPOLL)
		p.sq_thread_idle = 1000;

	for (i = (flags & IORING_SETUP_SQPOLL) ? 3 : 0;; i++) {
		struct io_uring_params tried = p;

		tried.flags |= __uring_extra_flags[i];
		fd = __uring_setup(entries, &tried);
		if (fd >= 0 || errno != EINVAL || !__uring_extra_flags[i]) {
			p = tried;
			break;
		}
	}
	if (fd < 0)
		return -1;
	ring->fd = fd;
	ring->setup_flags = p.flags;
	ring->disabled = p.flags & IORING_SETUP_R_DISABLED;
	ring->defer_taskrun = p.flags & IORING_SETUP_DEFER_TASKRUN;
	ring->enter_fd = fd;
	ring->sq_entries = p.sq_entries;
	ring->cq_entries = p.cq_entries;
	ring->sqe_shift = (p.flags & IORING_SETUP_SQE128) ? 7 : 6;
	ring->cqe_shift = (p.flags & IORING_SETUP_CQE32) ? 5 : 4;

	/* Without the array (NO_SQARRAY, sq_off.array 0) the SQ ring is the shared header: SINGLE_MMAP sizes it with the CQ. */
	ring->sq_ring_size = (p.flags & IORING_SETUP_NO_SQARRAY) ? 0 : p.sq_off.array + p.sq_entries * sizeof(unsigned);
	ring->cq_ring_size = p.cq_off.cqes + ((size_t)p.cq_entries << ring->cqe_shift);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (ring->cq_ring_size > ring->sq_ring_size)
			ring->sq_ring_size = ring->cq_ring_size;
		ring->cq_ring_size = ring->sq_ring_size;
	}
	sq_ptr = mmap(NULL, ring->sq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		      IORING_OFF_SQ_RING);
	if (sq_ptr == MAP_FAILED)
		goto fail;
	ring->sq_ring_ptr = sq_ptr;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		cq_ptr = sq_ptr;
	} else {
		cq_ptr = mmap(NULL, ring->cq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			      IORING_OFF_CQ_RING);
		if (cq_ptr == MAP_FAILED)
			goto fail;
	}
	ring->cq_ring_ptr = cq_ptr;
	ring->sqes_size = (size_t)p.sq_entries << ring->sqe_shift;
	sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (sqes == MAP_FAILED)
		goto fail;
	ring->sqes = sqes;

	ring->sq_head = (unsigned *)((char *)sq_ptr + p.sq_off.head);
	ring->sq_tail = (unsigned *)((char *)sq_ptr + p.sq_off.tail);
	ring->sq_mask = *(unsigned *)((char *)sq_ptr + p.sq_off.ring_mask);
	ring->sq_flags = (unsigned *)((char *)sq_ptr + p.sq_off.flags);
	ring->sq_local_tail = *ring->sq_tail;
	ring->cq_head = (unsigned *)((char *)cq_ptr + p.cq_off.head);
	ring->cq_tail = (unsigned *)((char *)cq_ptr + p.cq_off.tail);
	ring->cq_mask = *(unsigned *)((char *)cq_ptr + p.cq_off.ring_mask);
	ring->cqes = (char *)cq_ptr + p.cq_off.cqes;

	if (!(p.flags & IORING_SETUP_NO_SQARRAY)) {
		/* Identity map the SQ index array once, so submitting is just a tail bump. */
		ring->sq_array = (unsigned *)((char *)sq_ptr + p.sq_off.array);
		for (i = 0; i < p.sq_entries; i++)
			ring->sq_array[i] = i;
	}
	return 0;

fail:
	saved = errno;
	uring_exit(ring);
	errno = saved;
	return -1;
}

void uring_exit(struct uring *ring)
{
	if (ring->sqes)
		munmap(ring->sqes, ring->sqes_size);
	if (ring->cq_ring_ptr && ring->cq_ring_ptr != ring->sq_ring_ptr)
		munmap(ring->cq_ring_ptr, ring->cq_ring_size);
	if (ring->sq_ring_ptr)
		munmap(ring->sq_ring_ptr, ring->sq_ring_size);
	if (ring->fd >= 0)
		close(ring->fd);
	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	ring->enter_fd = -1;
}

/*
 * Make the calling thread the ring's own, on its first submit or wait: enable
 * a ring set up disabled (its single issuer becomes this thread) and register
 * the ring fd with it. 0, or -1 and errno when the ring cannot be enabled
 * (then nothing can be submitted).
 */
int uring_attach(struct uring *ring)
{
	ring->attached = true;
	if (ring->disabled) {
		if (__uring_register(ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
			return -1;
		ring->disabled = false;
	}
	uring_register_ring(ring);
	return 0;
}


/*
 * The setup flags a record shows, by their uapi names less IORING_SETUP_,
 * comma-separated into buf: what the ring ran with, where a kernel took fewer
 * than asked. R_DISABLED is how the ring reaches its worker, not how it runs.
 * Returns the length written.
 */
size_t uring_setup_names(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {
		{ IORING_SETUP_IOPOLL, "IOPOLL" },
		{ IORING_SETUP_SQPOLL, "SQPOLL" },
		{ IORING_SETUP_SQ_AFF, "SQ_AFF" },
		{ IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
		{ IORING_SETUP_SQE128, "SQE128" },
		{ IORING_SETUP_CQE32, "CQE32" },
		{ IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER" },
		{ IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN" },
		{ IORING_SETUP_NO_SQARRAY, "NO_SQARRAY" },
	};
	size_t used = 0, i;

	if (len)
		buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(flags & names[i].flag))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return used;
}
