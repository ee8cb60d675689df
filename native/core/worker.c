/*
 * The worker loop shared by every engine: prepare a batch of I/Os, hand them
 * to the engine, reap completions, time each I/O. In the manner of
 * t/io_uring's submitter: each worker owns everything it touches.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "xorshift.h"
#include "engine.h"
#include "fix.h"
#include "verify.h"
#include "fdp.h"
#include "nvme.h"
#include "nvme_cmd.h"
#include "workload_cmd.h"
#include "worker_done.h"
#include "pi_worker.h"
#include "series.h"

#define WORKER_RES_REPORTED INT64_MIN

static const struct engine_ops *const engine_table[ENGINE_COUNT] = {
	[ENGINE_PSYNC] = &psync_ops,
	[ENGINE_AIO] = &aio_ops,
	[ENGINE_URING] = &uring_ops,
	[ENGINE_URING_POLL] = &uring_poll_ops,
	[ENGINE_PT] = &pt_ops,
	[ENGINE_PT_POLL] = &pt_poll_ops,
	[ENGINE_IOCTL] = &ioctl_ops,
	[ENGINE_VFIO] = &vfio_ops,
	[ENGINE_NOP] = &nop_ops,
};

const struct engine_ops *worker_engine_ops(enum engine_id engine)
{
	return (unsigned)engine < ENGINE_COUNT ? engine_table[engine] : NULL;
}

const char *const engine_names[ENGINE_COUNT] = {
	[ENGINE_PSYNC] = "psync",
	[ENGINE_AIO] = "aio",
	[ENGINE_URING] = "uring",
	[ENGINE_URING_POLL] = "uring-poll",
	[ENGINE_PT] = "pt",
	[ENGINE_PT_POLL] = "pt-poll",
	[ENGINE_IOCTL] = "ioctl",
	[ENGINE_VFIO] = "vfio",
	[ENGINE_NOP] = "nop",
};

static uint64_t __rusage_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000ULL + (uint64_t)tv->tv_usec;
}

static void __run_set_error(struct run *run, const char *msg)
{
	pthread_mutex_lock(&run->errlock);
	if (!run->errmsg[0])
		snprintf(run->errmsg, sizeof(run->errmsg), "%s", msg);
	pthread_mutex_unlock(&run->errlock);
}

/* A fatal worker error: record it and stop every worker. */
void worker_fail(struct worker *w, const char *fmt, ...)
{
	char msg[ENGINE_ERRMSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!w->errmsg[0])
		snprintf(w->errmsg, sizeof(w->errmsg), "%s", msg);
	w->exit_status = -1;
	__run_set_error(w->run, msg);
	__atomic_store_n(&w->run->stop_reason, RUN_STOP_ERROR, __ATOMIC_RELAXED);
	w->run->stop = 1;
}

/* Count one failed I/O; stop the run once errors pass --max-errors. */
void worker_io_error(struct worker *w, struct io_unit *io, const char *what)
{
	struct run *run = w->run;
	uint64_t total;
	char msg[ENGINE_ERRMSG_LEN];

	counter_add(&w->errors, 1);
	if (io->op != IO_OP_RW)
		worker_cmd_error_msg(w, io, what, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s at byte offset %llu (%u bytes): %s", io->is_write ? "write" : "read",
			 (unsigned long long)io->offset, io->len, what);
	__run_set_error(run, msg);
	total = __atomic_add_fetch(&run->errors_total, 1, __ATOMIC_RELAXED);
	if (total > run->job.max_errors) {
		__atomic_store_n(&run->stop_reason, RUN_STOP_ERROR, __ATOMIC_RELAXED);
		run->stop = 1;
	}
}

static inline uint64_t __worker_rand(struct worker *w)
{
	return xorshift64s_next(&w->rand_state);
}

static inline uint64_t __worker_rand_below(struct worker *w, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)__worker_rand(w) * n) >> 64);
}

static inline bool __bitmap_test(const uint8_t *map, uint64_t bit)
{
	return __atomic_load_n(&map[bit >> 3], __ATOMIC_RELAXED) & (1U << (bit & 7));
}

static inline void __bitmap_set(uint8_t *map, uint64_t bit)
{
	__atomic_fetch_or(&map[bit >> 3], (uint8_t)(1U << (bit & 7)), __ATOMIC_RELAXED);
}

#define OVERLAP_NONE UINT16_MAX
#define OVERLAP_TRIES 8

static inline uint32_t __overlap_bucket(const struct worker *w, uint64_t offset)
{
	return (uint32_t)((offset * 0x9e3779b97f4a7c15ULL) >> w->overlap_shift);
}

/* Every I/O of a run is one whole block at a block boundary: overlapping means the same offset. */
static bool __overlap_busy(const struct worker *w, uint64_t offset)
{
	uint16_t slot;

	for (slot = w->overlap_head[__overlap_bucket(w, offset)]; slot != OVERLAP_NONE; slot = w->overlap_next[slot])
		if (w->ios[slot].offset == offset)
			return true;
	return false;
}

static void __overlap_insert(struct worker *w, struct io_unit *io)
{
	uint16_t *head = &w->overlap_head[__overlap_bucket(w, io->offset)];

	w->overlap_next[io->index] = *head;
	*head = io->index;
}

static void __overlap_remove(struct worker *w, struct io_unit *io)
{
	uint16_t *link = &w->overlap_head[__overlap_bucket(w, io->offset)];

	while (*link != io->index)
		link = &w->overlap_next[*link];
	*link = w->overlap_next[io->index];
}

static void __worker_check_read(struct worker *w, struct io_unit *io, bool strict)
{
	char msg[ENGINE_ERRMSG_LEN];
	uint32_t want_seed = w->run->job.verify_seed;
	unsigned bad;

	if (w->cmd) {
		bad = worker_cmd_check_read(w, io, msg, sizeof(msg));
	} else {
		if (!strict) {
			/*
			 * Mixed workloads: the block may still hold an earlier run's data,
			 * so any seed is accepted; address and payload must still match.
			 * Blocks that were never stamped are skipped unless this run wrote
			 * them. (No write races the read: overlapping I/O is serialised.)
			 */
			want_seed = 0;
			if (!io->was_written && *(const uint64_t *)io->buf != VERIFY_MAGIC)
				return;
		}
		bad = pi_io_check(&w->run->job, io, msg, sizeof(msg));
		if (!bad)
			bad = pi_verify_check(&w->run->job.pi, io->buf, io->len, io->offset, want_seed, msg, sizeof(msg));
	}
	if (bad) {
		w->verify_failures += bad;
		worker_io_error(w, io, msg);
	} else {
		w->verified_blocks++;
	}
}

/* For the interval snapshots (series.c): the pending run of equal latencies goes in first. */
void worker_series_flush(struct worker *w)
{
	worker_lat_flush(w);
}

void worker_io_done(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns)
{
	struct run *run = w->run;
	/* fallocate, fsync and the like answer 0 for the whole range */
	bool ok = res == (int64_t)io->len || (io->op != IO_OP_RW && res == 0);

	if (w->overlap_head)
		__overlap_remove(w, io);
	worker_io_release(w, io, now_ns);

	if (!ok) {
		char what[96];

		if (res == WORKER_RES_REPORTED)
			return;
		if (res < 0)
			snprintf(what, sizeof(what), "%s (errno %lld)", strerror((int)-res), (long long)-res);
		else
			snprintf(what, sizeof(what), "short transfer of %lld bytes", (long long)res);
		worker_io_error(w, io, what);
		return;
	}
	if (io->op != IO_OP_RW && !worker_cmd_done(w, io))
		return;
	if (run->job.verify && io->op != IO_OP_ZONE_RESET) {
		if (io->op == IO_OP_RW && !io->is_write)
			__worker_check_read(w, io, run->job.read_percent == 100 || w->verify_pass);
		else if (io->is_write && run->written)
			__bitmap_set(run->written, (io->offset - run->job.offset) / w->block_size);
	}
	if (w->ramping) {
		counter_add(&w->unmeasured_ios, 1);
		counter_add(&w->unmeasured_bytes, io->len);
		return;
	}
	worker_io_account(w, io, now_ns);
}

/* A passthrough completion: 0 is success, > 0 an NVMe status, < 0 an errno. */
void worker_pt_done(struct worker *w, struct io_unit *io, int res, uint64_t now_ns)
{
	char what[128];

	if (res == 0) {
		worker_io_done(w, io, io->len, now_ns);
		return;
	}
	if (res > 0) {
		nvme_status_str((uint16_t)res, what, sizeof(what));
		worker_io_error(w, io, what);
		worker_io_done(w, io, WORKER_RES_REPORTED, now_ns);
		return;
	}
	worker_io_done(w, io, res, now_ns);
}

int worker_open_target(struct worker *w)
{
	const struct job *job = &w->run->job;
	int flags = job_command_writes(job) ? O_RDWR : O_RDONLY;
	struct stat st;

	if (job->direct && !w->ops->nvme)
		flags |= O_DIRECT;
	/*
	 * O_NOATIME (t/io_uring's open): a buffered read of a file otherwise asks
	 * whether to update the access time on every I/O, work of the filesystem
	 * and not of the path measured. Only the file's owner may ask for it.
	 */
	w->fd = open(job->path, flags | O_CLOEXEC | O_NOATIME);
	if (w->fd < 0 && errno == EPERM)
		w->fd = open(job->path, flags | O_CLOEXEC);
	if (w->fd < 0) {
		int err = errno;

		snprintf(w->errmsg, sizeof(w->errmsg), "cannot open %s%s: %s", job->path,
			 flags & O_DIRECT ? " with O_DIRECT" : "", strerror(err));
		errno = err;
		return -1;
	}
	if (w->cmd)
		w->cmd->fd_is_blk = fstat(w->fd, &st) == 0 && S_ISBLK(st.st_mode);
	return 0;
}

/*
 * Synchronous engines (psync, ioctl) keep one I/O in flight: queue() holds
 * it, commit() takes it and completes it in one call, reap() has nothing to do.
 */
int worker_sync_queue(struct worker *w, struct io_unit *io)
{
	w->sync_io = io;
	return 0;
}

/* The queued I/O, counted as one submit and one reap call; NULL when none. */
struct io_unit *worker_sync_take(struct worker *w)
{
	struct io_unit *io = w->sync_io;

	if (!io)
		return NULL;
	w->sync_io = NULL;
	counter_add(&w->submit_calls, 1);
	counter_add(&w->submitted, 1);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, 1);
	return io;
}

int worker_sync_reap(struct worker *w, unsigned min_complete)
{
	return 0;
}

void worker_close_target(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* One pinned worker per CPU: every CPU a job can pin is one the snapshots keep. */
_Static_assert(SYSSTAT_MAX_CPUS >= ENGINE_MAX_THREADS, "sysstat keeps fewer CPUs than a job can pin");

/*
 * The run's end snapshot, once: by the last worker to end measuring, or at
 * join when a worker never got that far (a failed start). Taken after that
 * worker's own getrusage, so the /proc reads are not charged to it.
 */
static void __run_sysstat_end(struct run *run)
{
	int expected = 0;

	if (!run->sysstat || !__atomic_load_n(&run->measure_begun, __ATOMIC_ACQUIRE))
		return;
	if (__atomic_compare_exchange_n(&run->sysstat_ended, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		sysstat_snapshot(run->sysstat, &run->sysstat->end, &run->job.irq_names);
}

static void __worker_begin_measure(struct worker *w)
{
	struct run *run = w->run;
	struct rusage ru;

	/* The first worker to measure snapshots the system, before its own getrusage. */
	if (run->sysstat && __atomic_load_n(&run->measure_begun, __ATOMIC_ACQUIRE) == 0) {
		/* The others wait for it: the interval starts when the snapshot is whole. */
		pthread_mutex_lock(&run->begin_lock);
		if (__atomic_load_n(&run->measure_begun, __ATOMIC_ACQUIRE) == 0)
			sysstat_snapshot(run->sysstat, &run->sysstat->begin, &run->job.irq_names);
		__atomic_add_fetch(&run->measure_begun, 1, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&run->begin_lock);
	} else {
		__atomic_add_fetch(&run->measure_begun, 1, __ATOMIC_ACQ_REL);
	}
	histogram_reset(&w->lat);
	w->lat_run_n = 0;
	if (w->rate)
		rate_reset(w->rate);
	store_relaxed(&w->ramp_errors, w->errors);
	store_relaxed(&w->errors, 0);
	store_relaxed(&w->done, 0);
	store_relaxed(&w->bytes, 0);
	store_relaxed(&w->submit_calls, 0);
	store_relaxed(&w->reap_calls, 0);
	store_relaxed(&w->submitted, 0);
	store_relaxed(&w->reaped, 0);
	store_relaxed(&w->empty_reaps, 0);
	w->read_ios = 0;
	w->write_ios = 0;
	getrusage(RUSAGE_THREAD, &ru);
	w->user_us = __rusage_us(&ru.ru_utime);
	w->sys_us = __rusage_us(&ru.ru_stime);
	w->vcsw = (uint64_t)ru.ru_nvcsw;
	w->nvcsw = (uint64_t)ru.ru_nivcsw;
	w->elapsed_us = clock_now_ns() / 1000;
	perf_sampler_enable(w->perf);
	if (w->series)
		series_begin(w, clock_add_sat(run->start_ns, run->job.ramp_ns), clock_lat_now(&run->clock));
	__atomic_store_n(&w->ramping, false, __ATOMIC_RELAXED);
}

static void __worker_end_measure(struct worker *w)
{
	struct run *run = w->run;
	struct rusage ru;

	perf_sampler_disable(w->perf);
	worker_lat_flush(w);
	if (w->series)
		series_tick(w, clock_lat_now(&run->clock), true);
	getrusage(RUSAGE_THREAD, &ru);
	w->user_us = __rusage_us(&ru.ru_utime) - w->user_us;
	w->sys_us = __rusage_us(&ru.ru_stime) - w->sys_us;
	w->vcsw = (uint64_t)ru.ru_nvcsw - w->vcsw;
	w->nvcsw = (uint64_t)ru.ru_nivcsw - w->nvcsw;
	w->elapsed_us = clock_now_ns() / 1000 - w->elapsed_us;
	/* nr_started is UINT32_MAX until every thread started: the last to end is known only then. */
	if (__atomic_add_fetch(&run->measure_ended, 1, __ATOMIC_ACQ_REL) == __atomic_load_n(&run->nr_started, __ATOMIC_ACQUIRE))
		__run_sysstat_end(run);
}

/*
 * What a worker loop is doing: the setup pass before the clock starts
 * (command runs: zone resets, the pattern for compare and copy --verify),
 * the measured run, the read-back after it.
 */
enum worker_phase {
	PHASE_SETUP,
	PHASE_MAIN,
	PHASE_VERIFY,
};

/* The main phase's next block; false when each candidate overlaps an I/O in flight (--verify with writes). */
static inline bool __worker_next_block(struct worker *w, uint64_t *block)
{
	uint64_t base = w->run->job.offset;
	unsigned tries;

	if (!w->random) {
		*block = w->region_start + w->seq_next;
		if (w->overlap_head && __overlap_busy(w, base + *block * w->block_size))
			return false;
		if (++w->seq_next >= w->region_blocks)
			w->seq_next = 0;
		return true;
	}
	for (tries = 0; tries < OVERLAP_TRIES; tries++) {
		*block = w->region_start + __worker_rand_below(w, w->region_blocks);
		if (!w->overlap_head || !__overlap_busy(w, base + *block * w->block_size))
			return true;
	}
	return false;
}

enum prep_result {
	PREP_DONE, /* nothing left to do */
	PREP_OK,
	PREP_BUSY, /* the next block is in flight: wait for completions */
};

/* A read or a write at the next block. */
static inline enum prep_result __worker_prep_rw(struct worker *w, struct io_unit *io)
{
	const struct job *job = &w->run->job;
	uint64_t block;

	if (!__worker_next_block(w, &block))
		return PREP_BUSY;
	if (w->read_percent == 100)
		io->is_write = false;
	else if (w->read_percent == 0)
		io->is_write = true;
	else
		io->is_write = __worker_rand_below(w, 100) >= w->read_percent;
	if (io->is_write && job->fdp)
		io->dspec = fdp_next_pid(w, job);
	io->offset = job->offset + block * w->block_size;
	if (job->verify) {
		if (io->is_write)
			pi_verify_stamp(&job->pi, io->buf, io->len, io->offset, job->verify_seed, ++w->stamp_gen);
		else if (w->run->written)
			/* Sampled now: a write that completes while this read is in flight must not make its old data count. */
			io->was_written = __bitmap_test(w->run->written, block);
	}
	if (io->is_write && job->pi.generate)
		pi_io_generate(job, io);
	return PREP_OK;
}

/* The job's command; the block comes from the loop unless the command picks its own offset. */
static enum prep_result __worker_prep_cmd(struct worker *w, struct io_unit *io)
{
	uint64_t block = 0;

	if (w->cmd->picks_block && !__worker_next_block(w, &block))
		return PREP_BUSY;
	return worker_cmd_prep(w, io, block) ? PREP_OK : PREP_DONE;
}

/* Read back what this run wrote: the next written block of this worker's share. */
static enum prep_result __worker_prep_verify(struct worker *w, struct io_unit *io)
{
	struct run *run = w->run;
	uint64_t block;

	while (w->verify_next < w->verify_blocks && !__bitmap_test(run->written, w->verify_start + w->verify_next))
		w->verify_next++;
	if (w->verify_next >= w->verify_blocks)
		return PREP_DONE;
	block = w->verify_start + w->verify_next++;
	io->is_write = false;
	io->offset = run->job.offset + block * w->block_size;
	return PREP_OK;
}

/* The start stamp for the next I/O: now for every one, for every Nth, or 0 (not timed). */
static inline uint64_t __worker_lat_stamp(struct worker *w, uint64_t now)
{
	if (w->lat_every == 1)
		return now;
	if (!w->lat_every || --w->lat_countdown)
		return 0;
	w->lat_countdown = w->lat_every;
	return now;
}

/* Fill io for this phase: offset, direction, what it carries. */
static inline enum prep_result __worker_prep_io(struct worker *w, struct io_unit *io, uint64_t now, enum worker_phase phase)
{
	enum prep_result ret;

	io->op = IO_OP_RW;
	io->len = w->block_size;
	if (phase == PHASE_MAIN)
		ret = w->cmd ? __worker_prep_cmd(w, io) : __worker_prep_rw(w, io);
	else if (phase == PHASE_SETUP)
		ret = worker_cmd_prep_setup(w, io) ? PREP_OK : PREP_DONE;
	else
		ret = __worker_prep_verify(w, io);
	if (ret != PREP_OK)
		return ret;
	io->start_ns = __worker_lat_stamp(w, now);
	io->in_flight = true;
	if (w->overlap_head)
		__overlap_insert(w, io);
	return PREP_OK;
}

/* Claim up to want I/Os from the shared --ios budget. */
static uint32_t __worker_claim(struct worker *w, uint32_t want)
{
	struct run *run = w->run;
	uint64_t before, take;

	if (!run->job.io_limit || !want)
		return want;
	/* Never past the limit, so that __worker_unclaim can give back exactly. */
	before = __atomic_load_n(&run->ios_issued, __ATOMIC_RELAXED);
	do {
		if (before >= run->job.io_limit)
			return 0;
		take = run->job.io_limit - before < want ? run->job.io_limit - before : want;
	} while (!__atomic_compare_exchange_n(&run->ios_issued, &before, before + take, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return (uint32_t)take;
}

/*
 * Return claimed I/Os this batch did not issue (their blocks were in flight,
 * or the command had nothing left). A worker that gives back after its blocks
 * were busy must claim again: a worker whose claim came back 0 meanwhile may
 * have left its loop.
 */
static void __worker_unclaim(struct worker *w, uint32_t n)
{
	if (w->run->job.io_limit && n)
		__atomic_fetch_sub(&w->run->ios_issued, n, __ATOMIC_RELAXED);
}

static int __worker_loop(struct worker *w, enum worker_phase phase)
{
	const struct engine_ops *ops = w->ops;
	struct run *run = w->run;
	uint64_t ramp_end = clock_add_sat(run->start_ns, run->job.ramp_ns);
	/* Stamping a batch's buffers takes microseconds per block: the loop's work, not the device's. */
	bool stamps = run->written || (w->cmd && w->cmd->stamps);
	bool budget_left = true;
	/* --rate-iops: the main phase issues on the schedule, not as slots free */
	struct rate_sched *rate = phase == PHASE_MAIN ? w->rate : NULL;

	w->reap_ns = 0; /* a drain's stamp before this phase began is not now */
	if (rate)
		rate_worker_start(w, clock_lat_now(&run->clock));
	for (;;) {
		uint32_t to_prep = 0, wait = 0, i;
		bool claimed_batch = false;
		uint64_t now;
		int reaped;

		if (run->stop)
			break;
		/* The harvest that just ended read the clock: it is now, to within the few instructions since. */
		now = w->reap_ns ? w->reap_ns : clock_lat_now(&run->clock);
		w->reap_ns = 0;
		if (phase == PHASE_MAIN) {
			if (w->ramping && now >= ramp_end)
				__worker_begin_measure(w);
			if (now >= run->end_ns)
				break;
			series_check(w, w->series, now);
		}
		if (budget_left && w->inflight < w->depth) {
			to_prep = w->depth - w->inflight;
			if (to_prep > run->job.batch_submit)
				to_prep = run->job.batch_submit;
			if (rate)
				to_prep = rate_due(rate, now, to_prep);
			if (phase == PHASE_MAIN && !w->ramping) {
				uint32_t claimed = __worker_claim(w, to_prep);

				if (claimed < to_prep)
					budget_left = false;
				to_prep = claimed;
				claimed_batch = true;
			}
		}
		for (i = 0; i < to_prep; i++) {
			struct io_unit *io = &w->ios[w->free_slots[--w->nr_free]];
			enum prep_result prepped = __worker_prep_io(w, io, now, phase);

			if (prepped != PREP_OK) {
				w->nr_free++;
				/* What this batch claimed and did not issue goes back to the --ios budget. */
				if (claimed_batch)
					__worker_unclaim(w, to_prep - i);
				/*
				 * Busy: claim again once completions free the blocks, even
				 * after a short claim (budget_left false above). The I/Os just
				 * given back are owed, and the other workers may already have
				 * found the budget spent and left: nobody else would issue them.
				 */
				budget_left = prepped == PREP_BUSY;
				break;
			}
			if (w->rate) /* --rate-iops runs only: closed-loop runs leave the slot's second cache line alone */
				io->sched_ns = rate ? rate_take(rate, now) : 0;
			if (ops->queue_batch)
				continue;
			if (ops->queue(w, io) < 0) {
				worker_fail(w, "%s", w->errmsg[0] ? w->errmsg : "queueing an I/O failed");
				return -1;
			}
			w->inflight++;
		}
		to_prep = i;
		if (ops->queue_batch && to_prep) {
			/* The slots prepared above, still at the top of the free list's storage. */
			uint32_t queued = ops->queue_batch(w, w->nr_free, to_prep);

			w->inflight += queued;
			if (queued < to_prep) {
				worker_fail(w, "%s", w->errmsg[0] ? w->errmsg : "queueing an I/O failed");
				return -1;
			}
		}
		if (stamps && to_prep) {
			/* Time the batch from its hand-over; its slots are the ones just taken off the free list. */
			uint64_t handed = clock_lat_now(&run->clock);

			for (i = 0; i < to_prep; i++) {
				struct io_unit *io = &w->ios[w->free_slots[w->nr_free + i]];

				if (io->start_ns)
					io->start_ns = handed;
			}
		}
		if (rate && !to_prep && budget_left && w->inflight < w->depth) {
			/* Ahead of schedule: sleep or wait on completions until the next I/O is due (rate_wait.c). */
			if (rate_idle(w, now) < 0) {
				worker_fail(w, "%s: waiting for completions failed: %s", ops->name, strerror(errno));
				return -1;
			}
		} else if (!to_prep && !w->inflight) {
			if (!budget_left)
				break;
			continue;
		}
		if ((!to_prep && (!rate || !budget_left)) || w->inflight >= w->depth)
			/* open loop: the first slot freed goes to the I/O that is due */
			wait = rate ? 1 : w->inflight < run->job.batch_complete ? w->inflight : run->job.batch_complete;
		if (ops->commit(w, to_prep, wait) < 0) {
			worker_fail(w, "%s: submit failed: %s", ops->name, w->errmsg[0] ? w->errmsg : strerror(errno));
			return -1;
		}
		reaped = ops->reap(w, wait);
		if (reaped < 0) {
			worker_fail(w, "%s: reaping completions failed: %s", ops->name,
				    w->errmsg[0] ? w->errmsg : strerror(errno));
			return -1;
		}
		if (!reaped && !w->ramping)
			counter_add(&w->empty_reaps, 1);
	}
	return 0;
}

/*
 * Wait for every I/O still in flight: buffers must not be freed under the
 * device. When that fails (30 s without completions, or the engine cannot
 * reap), the I/Os stay in flight and worker_run_free leaks the buffers they
 * point at rather than free them: closing a ring or an aio context does not
 * wait for the device, which may still write there. The run says so.
 */
static void __worker_drain(struct worker *w)
{
	uint64_t deadline = clock_now_ns() + 30ULL * 1000000000ULL;
	bool timed_out = false;
	char msg[ENGINE_ERRMSG_LEN];
	size_t len;

	__atomic_store_n(&w->ramping, true, __ATOMIC_RELAXED); /* stop counting */
	if (w->drain_failed)
		return; /* already given up on: do not wait another 30 s */
	while (w->inflight) {
		if (clock_now_ns() >= deadline) {
			timed_out = true;
			break;
		}
		if (w->ops->commit(w, 0, 1) < 0 && errno != EINTR && errno != EAGAIN)
			break;
		if (w->ops->reap(w, 1) < 0 && errno != EINTR && errno != EAGAIN)
			break;
	}
	if (!w->inflight)
		return;
	w->drain_failed = true;
	snprintf(msg, sizeof(msg), "%u I/Os of worker %u still in flight %s: their buffers are left allocated (leaked), not freed under the device",
		 w->inflight, w->id, timed_out ? "after waiting 30 s" : "when reaping them failed");
	/* Appended, not first-error-wins: the error that stalled the I/Os is usually already there. */
	pthread_mutex_lock(&w->run->errlock);
	len = strlen(w->run->errmsg);
	snprintf(w->run->errmsg + len, sizeof(w->run->errmsg) - len, "%s%s", len ? "; " : "", msg);
	pthread_mutex_unlock(&w->run->errlock);
	if (!w->errmsg[0])
		snprintf(w->errmsg, sizeof(w->errmsg), "%s", msg);
	w->exit_status = -1;
	__atomic_store_n(&w->run->stop_reason, RUN_STOP_ERROR, __ATOMIC_RELAXED);
	w->run->stop = 1;
}

/*
 * Every worker must finish writing before anyone reads back. A hand-made
 * barrier, because the number of threads is only final once all started.
 */
static void __worker_barrier(struct run *run, uint32_t *arrived)
{
	__atomic_add_fetch(arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(arrived, __ATOMIC_ACQUIRE) < __atomic_load_n(&run->nr_started, __ATOMIC_ACQUIRE))
		usleep(200);
}

static uint64_t __run_end_ns(const struct job *job, uint64_t start_ns)
{
	return job->runtime_ns ? clock_add_sat(clock_add_sat(start_ns, job->ramp_ns), job->runtime_ns) : UINT64_MAX;
}

/*
 * The passes before the measured run, through the same engine: reset the
 * zones zone-append will use, write the pattern compare checks against (and
 * copy --verify copies). Nothing here is counted; when every worker is done,
 * worker 0 restarts the run's clock and the others go with it.
 */
static void __worker_setup(struct worker *w)
{
	struct run *run = w->run;

	__atomic_store_n(&w->ramping, true, __ATOMIC_RELAXED);
	worker_cmd_setup_sync(w);
	__worker_loop(w, PHASE_SETUP);
	__worker_drain(w);
	__worker_barrier(run, &run->prep_arrived);
	if (w->id == 0) {
		uint64_t now = clock_now_ns();

		run->start_ns = now;
		run->end_ns = __run_end_ns(&run->job, now);
		__atomic_store_n(&run->go, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&run->go, __ATOMIC_ACQUIRE))
			usleep(100);
	}
}

/* Several targets: every worker of every target's run sleeps until the one instant they share. */
static void __worker_wait_start(const struct job *job)
{
	struct timespec at = { .tv_sec = (time_t)(job->start_at_ns / 1000000000ULL),
			       .tv_nsec = (long)(job->start_at_ns % 1000000000ULL) };

	if (!job->start_at_ns)
		return;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
}

static void *__worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	bool verify_writes = run->written != NULL;

	if (w->perf) {
		char msg[ENGINE_ERRMSG_LEN];

		if (perf_sampler_open(w->perf, msg, sizeof(msg)) < 0) {
			worker_fail(w, "%s", msg);
			return NULL;
		}
	}
	__worker_wait_start(&run->job);
	if (w->cmd && w->cmd->setup)
		__worker_setup(w);
	if (!run->job.ramp_ns)
		__worker_begin_measure(w);
	__worker_loop(w, PHASE_MAIN);
	if (w->ramping) /* stopped before the ramp ended: nothing measured */
		__worker_begin_measure(w);
	__worker_end_measure(w);
	__worker_drain(w);
	if (w->cmd)
		worker_cmd_finish(w);

	if (verify_writes) {
		__worker_barrier(run, &run->barrier_arrived);
		if (!run->stop) {
			__atomic_store_n(&w->verify_pass, true, __ATOMIC_RELAXED); /* the live line reads it */
			__worker_loop(w, PHASE_VERIFY);
			__worker_drain(w);
		}
	}
	return NULL;
}

/*
 * --verify with writes: a read racing a write to the same block can see a
 * torn block (the page cache does not order them), so no I/O is issued over
 * one in flight, and with --threads each worker keeps to its own slice.
 */
static bool __job_serialises(const struct job *job)
{
	return job->verify && job->command == JOB_CMD_RW && job->read_percent < 100;
}

static int __worker_alloc(struct worker *w)
{
	const struct job *job = &w->run->job;
	size_t stride = pi_buf_stride(job), words;
	uint32_t i;

	if (posix_memalign((void **)&w->ios, _Alignof(struct io_unit), w->depth * sizeof(*w->ios)))
		return -1;
	memset(w->ios, 0, w->depth * sizeof(*w->ios));
	w->free_slots = calloc(w->depth, sizeof(*w->free_slots));
	if (!w->free_slots)
		return -1;
	if (posix_memalign(&w->buffers, 4096, stride * w->depth))
		return -1;
	/* Incompressible data for writes when not verifying. */
	for (words = 0; words < stride * w->depth / 8; words++)
		((uint64_t *)w->buffers)[words] = __worker_rand(w);
	for (i = 0; i < w->depth; i++) {
		w->ios[i].index = (uint16_t)i;
		w->ios[i].buf = (char *)w->buffers + stride * i;
		w->free_slots[i] = (uint16_t)(w->depth - 1 - i);
	}
	w->nr_free = w->depth;
	if (pi_worker_alloc(w) < 0)
		return -1;
	if (__job_serialises(job)) {
		uint32_t bits = 1;

		while ((1U << bits) < 2 * w->depth)
			bits++;
		w->overlap_shift = 64 - bits;
		w->overlap_head = malloc(sizeof(*w->overlap_head) << bits);
		w->overlap_next = malloc(sizeof(*w->overlap_next) * w->depth);
		if (!w->overlap_head || !w->overlap_next)
			return -1;
		memset(w->overlap_head, 0xff, sizeof(*w->overlap_head) << bits);
	}
	return 0;
}

/* Worker i's share of the region and its seed, written before the thread starts. */
static void __worker_init_slice(struct worker *w, uint32_t i, uint64_t blocks)
{
	const struct job *job = &w->run->job;
	uint64_t slice = blocks / job->threads;
	uint64_t main_blocks = worker_cmd_main_blocks(job, blocks);
	uint64_t mslice = main_blocks / job->threads;
	bool last = i == job->threads - 1;

	w->id = i;
	w->cpu = job->ncpus ? job->cpus[i % job->ncpus] : -1;
	w->block_size = job->block_size;
	w->depth = job->io_depth;
	w->random = job->random;
	w->read_percent = job->read_percent;
	w->lat_every = job->lat_every;
	w->lat_countdown = job->lat_every;
	w->rand_state = 0x853c49e6748fea9bULL ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL) ^ job->verify_seed;
	if (job->random && !__job_serialises(job)) {
		w->region_start = 0;
		w->region_blocks = main_blocks;
	} else {
		/* Sequential workers each stream through their own slice; verifying writers keep to theirs. */
		w->region_start = mslice * i;
		w->region_blocks = last ? main_blocks - mslice * i : mslice;
		if (!w->region_blocks)
			w->region_blocks = 1;
	}
	w->verify_start = slice * i;
	w->verify_blocks = last ? blocks - slice * i : slice;
	w->ramping = job->ramp_ns > 0;
	histogram_reset(&w->lat);
}

/* Worker i's slots, its command state and its engine; the run's errmsg says what failed. */
static int __worker_init(struct worker *w, uint32_t i, uint64_t blocks)
{
	struct run *run = w->run;
	int saved;

	__worker_init_slice(w, i, blocks);
	if (__worker_alloc(w) < 0 || worker_cmd_init(w) < 0 || rate_worker_init(w) < 0 ||
	    (run->job.interval_ns && series_alloc(&w->series, run->job.interval_ns, run->job.series_slots) < 0)) {
		snprintf(run->errmsg, sizeof(run->errmsg), "out of memory for %u buffers of %u bytes", w->depth, w->block_size);
		return -1;
	}
	if (w->ops->init(w) < 0) {
		saved = errno;
		snprintf(run->errmsg, sizeof(run->errmsg), "%s", w->errmsg[0] ? w->errmsg : strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

static void __run_start_threads(struct run *run)
{
	uint32_t i;

	for (i = 0; i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];
		pthread_attr_t attr;
		int err;

		/* Pinned from birth: glibc fails the create when the CPU is not one this process may use. */
		pthread_attr_init(&attr);
		if (w->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w->cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		err = pthread_create(&w->thread, &attr, __worker_main, w);
		pthread_attr_destroy(&attr);
		if (err) {
			if (w->cpu >= 0 && err == EINVAL)
				snprintf(run->errmsg, sizeof(run->errmsg), "cannot pin worker thread %u to CPU %d: %s" FIX("pick --cpus from the CPUs this process may use (taskset -p $$, or Cpus_allowed_list in /proc/self/status)"),
					 i, w->cpu, strerror(err));
			else
				snprintf(run->errmsg, sizeof(run->errmsg), "cannot start worker thread %u: %s", i, strerror(err));
			run->stop = 1;
			run->stop_reason = RUN_STOP_ERROR;
			/* Threads already running must see the stop before we join them. */
			break;
		}
		w->thread_started = true;
	}
	__atomic_store_n(&run->nr_started, i, __ATOMIC_RELEASE);
}

/* Set up every worker and its engine, then start the threads. */
int worker_run_start(struct run *run)
{
	struct job *job = &run->job;
	const struct engine_ops *ops = engine_table[job->engine];
	uint64_t blocks = job->size / job->block_size;
	uint32_t i;
	int saved;

	pthread_mutex_init(&run->errlock, NULL);
	pthread_mutex_init(&run->begin_lock, NULL);
	if (!ops) {
		snprintf(run->errmsg, sizeof(run->errmsg), "engine not available in this build");
		errno = ENOTSUP;
		return -1;
	}
	if (!blocks) {
		snprintf(run->errmsg, sizeof(run->errmsg), "region smaller than one block");
		errno = EINVAL;
		return -1;
	}
	/* TypeScript checked the command against the engine and the device (src/engines/commands.ts) */
	if (worker_cmd_run_init(run, blocks) < 0)
		goto fail;
	if (job->verify && (job->read_percent < 100 || job->command != JOB_CMD_RW)) {
		run->written = calloc((blocks + 7) / 8, 1);
		if (!run->written)
			goto fail;
	}
	run->workers = calloc(job->threads, sizeof(*run->workers));
	if (!run->workers)
		goto fail;
	run->nr_workers = job->threads;
	run->nr_started = UINT32_MAX;
	run->sysstat = calloc(1, sizeof(*run->sysstat));
	if (!run->sysstat)
		goto fail;
	for (i = 0; i < job->threads; i++) {
		run->workers[i].run = run;
		run->workers[i].ops = ops;
		run->workers[i].fd = -1;
	}
	for (i = 0; i < job->threads; i++)
		if (__worker_init(&run->workers[i], i, blocks) < 0)
			goto fail;
	if (job->explain) {
		run->perf.samplers = calloc(job->threads, sizeof(*run->perf.samplers));
		if (!run->perf.samplers)
			goto fail;
		run->perf.nr = job->threads;
		for (i = 0; i < job->threads; i++) {
			if (perf_sampler_alloc(&run->workers[i].perf) < 0)
				goto fail;
			run->perf.samplers[i] = run->workers[i].perf;
		}
	}
	if (clock_lat_init(&run->clock, job->clock_mode, run->errmsg, sizeof(run->errmsg)) < 0)
		goto fail;
	run->start_ns = clock_now_ns();
	if (job->start_at_ns) {
		struct timespec ts;
		uint64_t mono;

		/* start_at_ns is CLOCK_MONOTONIC; shift it onto whatever clock_now_ns() counts. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		mono = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		if (job->start_at_ns > mono)
			run->start_ns = clock_add_sat(run->start_ns, job->start_at_ns - mono);
	}
	run->end_ns = __run_end_ns(job, run->start_ns);
	__run_start_threads(run);
	/* Without the reader the rings overflow and samples are lost (counted), nothing worse. */
	if (job->explain)
		perf_reader_start(&run->perf, run->perf.samplers, run->perf.nr);
	__atomic_store_n(&run->launched, true, __ATOMIC_RELEASE);
	return 0;

fail:
	saved = errno;
	worker_run_free(run);
	errno = saved ? saved : ENOMEM;
	return -1;
}

int worker_run_join(struct run *run)
{
	uint32_t i;

	for (i = 0; i < run->nr_workers; i++) {
		if (run->workers[i].thread_started) {
			pthread_join(run->workers[i].thread, NULL);
			run->workers[i].thread_started = false;
		}
	}
	__run_sysstat_end(run);
	perf_reader_stop(&run->perf);
	return 0;
}

/*
 * Close every engine once the threads are joined: rings and fds, and a VFIO
 * controller's shutdown (CC.SHN, up to RTD3E). Run where waiting is fine (the
 * libuv pool thread of wait()), not on the JavaScript thread. The counters and
 * histograms stay for the result; worker_run_free finds nothing left to close.
 */
void worker_run_release(struct run *run)
{
	uint32_t i;

	for (i = 0; run->workers && i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];

		/* Every engine's exit leaves priv NULL and fd -1 (worker_close_target). */
		if (w->ops && (w->priv || w->fd >= 0))
			w->ops->exit(w);
	}
}

void worker_run_free(struct run *run)
{
	uint32_t i;

	perf_reader_stop(&run->perf); /* before the samplers go; a no-op after worker_run_join */

	for (i = 0; run->workers && i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];

		if (w->ops && (w->priv || w->fd >= 0))
			w->ops->exit(w);
		free(w->ios);
		free(w->free_slots);
		/* I/Os the drain gave up on may still land: leak what the device may write or read. */
		if (!w->inflight) {
			free(w->buffers);
			free(w->meta_buffers);
		}
		w->buffers = NULL;
		w->meta_buffers = NULL;
		worker_cmd_free(w);
		free(w->overlap_head);
		free(w->overlap_next);
		free(w->rate);
		w->rate = NULL;
		perf_sampler_free(w->perf);
		w->perf = NULL;
		series_free(w->series);
		w->series = NULL;
	}
	free(run->perf.samplers);
	run->perf.samplers = NULL;
	run->perf.nr = 0;
	free(run->workers);
	run->workers = NULL;
	run->nr_workers = 0;
	free(run->written);
	run->written = NULL;
	free(run->sysstat);
	run->sysstat = NULL;
	worker_cmd_run_free(run);
}
