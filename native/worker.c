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

#include "engine.h"
#include "verify.h"
#include "nvme.h"
#include "nvme_cmd.h"

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
};

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

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
	enum job_command command = run->job.command;
	uint64_t total;
	char msg[ENGINE_ERRMSG_LEN];

	counter_add(&w->errors, 1);
	if (io->op == IO_OP_ZONE_RESET)
		snprintf(msg, sizeof(msg), "zone reset at byte offset %llu: %s", (unsigned long long)io->offset, what);
	else if (io->op == IO_OP_CMD && command == JOB_CMD_FLUSH)
		snprintf(msg, sizeof(msg), "flush: %s", what);
	else if (io->op == IO_OP_CMD && command == JOB_CMD_RAW)
		snprintf(msg, sizeof(msg), "raw opcode 0x%02x: %s", run->job.raw_opcode, what);
	else
		snprintf(msg, sizeof(msg), "%s at byte offset %llu (%u bytes): %s",
			 io->op == IO_OP_CMD ? job_command_name(command) : io->is_write ? "write" : "read",
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
	/* xorshift64*: fast and good enough to spread offsets. */
	uint64_t x = w->rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rand_state = x;
	return x * 0x2545f4914f6cdd1dULL;
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

/* Read back after an NVMe command workload: what the command should have left there. */
static unsigned __worker_check_command(struct worker *w, struct io_unit *io, char *msg, size_t len)
{
	const struct job *job = &w->run->job;
	uint64_t block = (io->offset - job->offset) / w->block_size;
	uint32_t pos, i, n;
	unsigned bad = 0;

	switch (job->command) {
	case JOB_CMD_WRITE_ZEROES:
		for (pos = 0; pos < io->len; pos += VERIFY_SECTOR) {
			const uint64_t *q = (const uint64_t *)((const char *)io->buf + pos);

			for (i = 0; i < VERIFY_SECTOR / 8; i++)
				if (q[i])
					break;
			if (i == VERIFY_SECTOR / 8)
				continue;
			if (!bad)
				snprintf(msg, len, "verify failed at byte offset %llu (sector %llu): not zeroes after write-zeroes",
					 (unsigned long long)(io->offset + pos), (unsigned long long)((io->offset + pos) / VERIFY_SECTOR));
			bad++;
		}
		return bad;
	case JOB_CMD_COPY:
		/* Sources hold the pattern at their own address; each destination the pattern of its sources. */
		if (block < job->copy_src_blocks)
			return verify_check(io->buf, io->len, io->offset, job->verify_seed, msg, len);
		n = job->copy_ranges;
		for (i = 0; i < n; i++) {
			uint32_t chunk = io->len / n;
			uint64_t src = nvme_copy_source(job, io->offset, i);
			char one[ENGINE_ERRMSG_LEN];
			unsigned b = verify_check((const char *)io->buf + (size_t)i * chunk, chunk, src, job->verify_seed, one, sizeof(one));

			if (b && !bad)
				snprintf(msg, len, "copy destination at byte offset %llu, range %u from byte offset %llu: %s",
					 (unsigned long long)(io->offset + (uint64_t)i * chunk), i, (unsigned long long)src, one);
			bad += b;
		}
		return bad;
	case JOB_CMD_ZONE_APPEND: {
		/* Stamped for the zone's start, with the tag of the append the device placed here. */
		uint64_t zstart = job->offset + (io->offset - job->offset) / job->zone_bytes * job->zone_bytes;
		uint32_t want = w->run->za_tags ? w->run->za_tags[block] : 0;

		bad = verify_check(io->buf, io->len, zstart, job->verify_seed, msg, len);
		if (!bad && verify_gen(io->buf) != want) {
			snprintf(msg, len, "verify failed at byte offset %llu (LBA %llu): it holds append #%u, but the device reported append #%u there",
				 (unsigned long long)io->offset, (unsigned long long)(io->offset / job->lba_size), verify_gen(io->buf), want);
			bad = io->len / VERIFY_SECTOR;
		}
		return bad;
	}
	default:
		return verify_check(io->buf, io->len, io->offset, job->verify_seed, msg, len);
	}
}

static void __worker_check_read(struct worker *w, struct io_unit *io, bool strict)
{
	struct run *run = w->run;
	char msg[ENGINE_ERRMSG_LEN];
	uint32_t want_seed = run->job.verify_seed;
	unsigned bad;

	if (run->job.command != JOB_CMD_RW) {
		bad = __worker_check_command(w, io, msg, sizeof(msg));
		if (bad) {
			w->verify_failures += bad;
			worker_io_error(w, io, msg);
		} else {
			w->verified_blocks++;
		}
		return;
	}
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
	bad = verify_check(io->buf, io->len, io->offset, want_seed, msg, sizeof(msg));
	if (bad) {
		w->verify_failures += bad;
		worker_io_error(w, io, msg);
	} else {
		w->verified_blocks++;
	}
}

/* zone-append: the LBA the device wrote (CQE dwords 0-1) must lie in the zone appended to. */
static bool __worker_append_landed(struct worker *w, struct io_unit *io)
{
	const struct job *job = &w->run->job;
	uint64_t zstart = io->offset, landed = io->result * job->lba_size;
	char what[ENGINE_ERRMSG_LEN];

	w->zone_appends_checked++;
	if (landed >= zstart && landed + io->len <= zstart + job->zone_cap_bytes && !((landed - zstart) % io->len)) {
		io->offset = landed;
		return true;
	}
	w->zone_outside++;
	snprintf(what, sizeof(what), "the device placed the append at LBA %llu, outside the zone appended to (LBA %llu to %llu, %u-LBA appends)",
		 (unsigned long long)io->result, (unsigned long long)(zstart / job->lba_size),
		 (unsigned long long)((zstart + job->zone_cap_bytes) / job->lba_size - 1), io->len / job->lba_size);
	worker_io_error(w, io, what);
	return false;
}

void worker_io_done(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns)
{
	struct run *run = w->run;
	/* fallocate, fsync and the like answer 0 for the whole range */
	bool ok = res == (int64_t)io->len || (io->op != IO_OP_RW && res == 0);

	io->in_flight = false;
	if (w->overlap_head)
		__overlap_remove(w, io);
	w->free_slots[w->nr_free++] = io->index;
	w->inflight--;

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
	if (io->op == IO_OP_CMD) {
		if (run->job.command == JOB_CMD_ZONE_APPEND && !__worker_append_landed(w, io))
			return;
		if (run->job.command == JOB_CMD_RAW)
			w->dump_slot = io->index;
	}
	if (run->job.verify && io->op != IO_OP_ZONE_RESET) {
		if (io->op == IO_OP_RW && !io->is_write) {
			__worker_check_read(w, io, run->job.read_percent == 100 || w->verify_pass);
		} else if (io->is_write && run->written) {
			uint64_t block = (io->offset - run->job.offset) / w->block_size;

			if (run->za_tags)
				run->za_tags[block] = io->tag;
			__bitmap_set(run->written, block);
		}
	}
	if (w->ramping) {
		counter_add(&w->unmeasured_ios, 1);
		counter_add(&w->unmeasured_bytes, io->len);
		return;
	}
	counter_add(&w->done, 1);
	counter_add(&w->bytes, io->len);
	if (io->is_write)
		w->write_ios++;
	else
		w->read_ios++;
	histogram_add(&w->lat, now_ns - io->start_ns);
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
	w->fd = open(job->path, flags | O_CLOEXEC);
	if (w->fd < 0) {
		int err = errno;

		snprintf(w->errmsg, sizeof(w->errmsg), "cannot open %s%s: %s", job->path,
			 flags & O_DIRECT ? " with O_DIRECT" : "", strerror(err));
		errno = err;
		return -1;
	}
	w->fd_is_blk = fstat(w->fd, &st) == 0 && S_ISBLK(st.st_mode);
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

static void __worker_begin_measure(struct worker *w)
{
	struct rusage ru;

	histogram_reset(&w->lat);
	store_relaxed(&w->done, 0);
	store_relaxed(&w->bytes, 0);
	store_relaxed(&w->submit_calls, 0);
	store_relaxed(&w->reap_calls, 0);
	store_relaxed(&w->submitted, 0);
	store_relaxed(&w->reaped, 0);
	w->read_ios = 0;
	w->write_ios = 0;
	getrusage(RUSAGE_THREAD, &ru);
	w->user_us = __rusage_us(&ru.ru_utime);
	w->sys_us = __rusage_us(&ru.ru_stime);
	w->elapsed_us = clock_now_ns() / 1000;
	__atomic_store_n(&w->ramping, false, __ATOMIC_RELAXED);
}

static void __worker_end_measure(struct worker *w)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	w->user_us = __rusage_us(&ru.ru_utime) - w->user_us;
	w->sys_us = __rusage_us(&ru.ru_stime) - w->sys_us;
	w->elapsed_us = clock_now_ns() / 1000 - w->elapsed_us;
}

/*
 * What a worker loop is doing: the setup passes before the clock starts
 * (zone resets, the pattern for compare and copy --verify), the measured
 * run, the read-back after it.
 */
enum worker_phase {
	PHASE_ZONE_RESET,
	PHASE_PREFILL,
	PHASE_MAIN,
	PHASE_VERIFY,
};

/* zone-append: the next open zone round robin, opening a fresh one for each that filled; 0 when none is left. */
static int __worker_prep_append(struct worker *w, struct io_unit *io)
{
	const struct job *job = &w->run->job;
	uint32_t tries;

	for (tries = 0; tries <= w->nr_zones_open; tries++) {
		struct worker_zone *z = &w->zones_open[w->zone_rr];

		if (++w->zone_rr == w->nr_zones_open)
			w->zone_rr = 0;
		if (z->active && z->reserved + w->block_size > job->zone_cap_bytes)
			z->active = false;
		if (!z->active) {
			if (w->zone_next >= w->zone_end)
				continue;
			z->index = w->zone_next++;
			z->reserved = 0;
			z->active = true;
			w->zones_used++;
		}
		z->reserved += w->block_size;
		io->op = IO_OP_CMD;
		io->is_write = true;
		io->zone = z->index;
		io->offset = job->offset + z->index * job->zone_bytes;
		return 1;
	}
	return 0;
}

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

/* Pick the next offset and direction. */
static enum prep_result __worker_prep_io(struct worker *w, struct io_unit *io, uint64_t now, enum worker_phase phase)
{
	struct run *run = w->run;
	const struct job *job = &run->job;
	uint64_t block;

	io->op = IO_OP_RW;
	io->len = w->block_size;
	switch (phase) {
	case PHASE_VERIFY:
		while (w->verify_next < w->verify_blocks && !__bitmap_test(run->written, w->verify_start + w->verify_next))
			w->verify_next++;
		if (w->verify_next >= w->verify_blocks)
			return PREP_DONE;
		block = w->verify_start + w->verify_next++;
		io->is_write = false;
		io->offset = job->offset + block * w->block_size;
		break;
	case PHASE_PREFILL:
		if (w->prefill_next >= w->prefill_blocks)
			return PREP_DONE;
		block = w->prefill_start + w->prefill_next++;
		io->is_write = true;
		io->offset = job->offset + block * w->block_size;
		verify_stamp(io->buf, io->len, io->offset, job->verify_seed, NVME_PATTERN_GEN);
		break;
	case PHASE_ZONE_RESET:
		if (w->zone_reset_next >= w->zone_end)
			return PREP_DONE;
		io->op = IO_OP_ZONE_RESET;
		io->is_write = true;
		io->offset = job->offset + w->zone_reset_next++ * job->zone_bytes;
		io->len = 0;
		break;
	case PHASE_MAIN:
		if (job->command == JOB_CMD_ZONE_APPEND) {
			if (!__worker_prep_append(w, io))
				return PREP_DONE;
			if (job->verify) {
				io->tag = ++w->stamp_gen;
				verify_stamp(io->buf, io->len, io->offset, job->verify_seed, io->tag);
			}
			break;
		}
		if (job->command == JOB_CMD_FLUSH || job->command == JOB_CMD_RAW) {
			/* The same command every time: no offset of ours in it. */
			io->op = IO_OP_CMD;
			io->is_write = job->read_percent < 100;
			io->offset = job->offset;
			io->len = job->command == JOB_CMD_RAW ? job->raw_data_len : 0;
			break;
		}
		if (!__worker_next_block(w, &block))
			return PREP_BUSY;
		if (job->command != JOB_CMD_RW) {
			io->op = IO_OP_CMD;
			io->is_write = job->read_percent < 100;
			if (job->command == JOB_CMD_COPY)
				block += job->copy_src_blocks; /* the destination, in the upper half */
		} else if (w->read_percent == 100) {
			io->is_write = false;
		} else if (w->read_percent == 0) {
			io->is_write = true;
		} else {
			io->is_write = __worker_rand_below(w, 100) >= w->read_percent;
		}
		io->offset = job->offset + block * w->block_size;
		if (io->op == IO_OP_RW && io->is_write && job->verify)
			verify_stamp(io->buf, io->len, io->offset, job->verify_seed, ++w->stamp_gen);
		else if (io->op == IO_OP_RW && job->verify && w->run->written)
			/* Sampled now: a write that completes while this read is in flight must not make its old data count. */
			io->was_written = __bitmap_test(w->run->written, block);
		else if (job->command == JOB_CMD_COMPARE)
			verify_stamp(io->buf, io->len, io->offset, job->verify_seed, NVME_PATTERN_GEN);
		break;
	}
	io->start_ns = now;
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

/* Return claimed I/Os this batch did not issue (their blocks were in flight). */
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
	bool stamps = run->written || run->job.command == JOB_CMD_COMPARE;
	bool budget_left = true;

	for (;;) {
		uint32_t to_prep = 0, wait = 0, i;
		bool claimed_batch = false;
		uint64_t now;

		if (run->stop)
			break;
		now = clock_now_ns();
		if (phase == PHASE_MAIN) {
			if (w->ramping && now >= ramp_end)
				__worker_begin_measure(w);
			if (now >= run->end_ns)
				break;
		}
		if (budget_left && w->inflight < w->depth) {
			to_prep = w->depth - w->inflight;
			if (to_prep > run->job.batch_submit)
				to_prep = run->job.batch_submit;
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
				if (prepped == PREP_DONE)
					budget_left = false;
				else if (claimed_batch)
					__worker_unclaim(w, to_prep - i);
				break;
			}
			if (ops->queue(w, io) < 0) {
				worker_fail(w, "%s", w->errmsg[0] ? w->errmsg : "queueing an I/O failed");
				return -1;
			}
			w->inflight++;
		}
		to_prep = i;
		if (stamps && to_prep) {
			/* Time the batch from its hand-over; its slots are the ones just taken off the free list. */
			uint64_t handed = clock_now_ns();

			for (i = 0; i < to_prep; i++)
				w->ios[w->free_slots[w->nr_free + i]].start_ns = handed;
		}
		if (!to_prep && !w->inflight) {
			if (!budget_left)
				break;
			continue;
		}
		if (!to_prep || w->inflight >= w->depth)
			wait = w->inflight < run->job.batch_complete ? w->inflight : run->job.batch_complete;
		if (ops->commit(w, to_prep, wait) < 0) {
			worker_fail(w, "%s: submit failed: %s", ops->name, w->errmsg[0] ? w->errmsg : strerror(errno));
			return -1;
		}
		if (ops->reap(w, wait) < 0) {
			worker_fail(w, "%s: reaping completions failed: %s", ops->name,
				    w->errmsg[0] ? w->errmsg : strerror(errno));
			return -1;
		}
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

/* The zone resets one at a time through the engine's zone_reset op, outside the ring. */
static void __worker_reset_zones_sync(struct worker *w)
{
	const struct job *job = &w->run->job;
	struct io_unit io = { .op = IO_OP_ZONE_RESET, .is_write = true };
	char what[128];
	int ret;

	for (; w->zone_reset_next < w->zone_end && !w->run->stop; w->zone_reset_next++) {
		io.offset = job->offset + w->zone_reset_next * job->zone_bytes;
		ret = w->ops->zone_reset(w, &io);
		if (ret) {
			if (ret > 0)
				nvme_status_str((uint16_t)ret, what, sizeof(what));
			else
				snprintf(what, sizeof(what), "%s", strerror(errno));
			worker_io_error(w, &io, what);
			return;
		}
	}
}

static uint64_t __run_end_ns(const struct job *job, uint64_t start_ns)
{
	return job->runtime_ns ? clock_add_sat(clock_add_sat(start_ns, job->ramp_ns), job->runtime_ns) : UINT64_MAX;
}

static bool __job_has_setup(const struct job *job)
{
	return job->command == JOB_CMD_ZONE_APPEND || job->command == JOB_CMD_COMPARE ||
	       (job->command == JOB_CMD_COPY && job->verify);
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
	if (run->job.command == JOB_CMD_ZONE_APPEND && w->ops->zone_reset) {
		__worker_reset_zones_sync(w);
	} else if (run->job.command == JOB_CMD_ZONE_APPEND) {
		__worker_loop(w, PHASE_ZONE_RESET);
		__worker_drain(w);
	}
	if (w->prefill_blocks) {
		__worker_loop(w, PHASE_PREFILL);
		__worker_drain(w);
	}
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

/* raw --dump: the data the last good command moved, from worker 0. */
static void __worker_dump(struct worker *w)
{
	const struct job *job = &w->run->job;
	const struct io_unit *io;
	ssize_t done;
	int fd;

	if (w->id || !job->dump_path[0] || w->dump_slot < 0)
		return;
	io = &w->ios[w->dump_slot];
	fd = open(job->dump_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		worker_fail(w, "cannot write --dump file %s: %s", job->dump_path, strerror(errno));
		return;
	}
	done = write(fd, io->buf, job->raw_data_len);
	if (done != (ssize_t)job->raw_data_len)
		worker_fail(w, "cannot write --dump file %s: %s", job->dump_path, done < 0 ? strerror(errno) : "short write");
	close(fd);
}

static void *__worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	bool verify_writes = run->written != NULL;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (__job_has_setup(&run->job))
		__worker_setup(w);
	if (!run->job.ramp_ns)
		__worker_begin_measure(w);
	__worker_loop(w, PHASE_MAIN);
	if (w->ramping) /* stopped before the ramp ended: nothing measured */
		__worker_begin_measure(w);
	__worker_end_measure(w);
	__worker_drain(w);
	__worker_dump(w);

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
	size_t stride = (job->block_size + 4095) & ~(size_t)4095, words;
	uint32_t i;

	w->ios = calloc(w->depth, sizeof(*w->ios));
	w->free_slots = calloc(w->depth, sizeof(*w->free_slots));
	if (!w->ios || !w->free_slots)
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
	w->dump_slot = -1;
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
	/* DSM ranges and Copy descriptors: a buffer per slot, filled by nvme_cmd_prep. */
	if (job->command == JOB_CMD_TRIM || job->command == JOB_CMD_COPY) {
		if (posix_memalign(&w->cmd_bufs, 4096, (size_t)NVME_CMD_BUF_SIZE * w->depth))
			return -1;
		memset(w->cmd_bufs, 0, (size_t)NVME_CMD_BUF_SIZE * w->depth);
		for (i = 0; i < w->depth; i++)
			w->ios[i].cmd_buf = (char *)w->cmd_bufs + (size_t)NVME_CMD_BUF_SIZE * i;
	}
	if (job->command == JOB_CMD_ZONE_APPEND) {
		w->zones_open = calloc(w->nr_zones_open, sizeof(*w->zones_open));
		if (!w->zones_open)
			return -1;
	}
	return 0;
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
	if (job->command == JOB_CMD_COPY)
		job->copy_src_blocks = blocks / 2;
	if (job->verify && (job->read_percent < 100 || job->command != JOB_CMD_RW)) {
		run->written = calloc((blocks + 7) / 8, 1);
		if (!run->written)
			return -1;
		if (job->command == JOB_CMD_ZONE_APPEND) {
			run->za_tags = calloc(blocks, sizeof(*run->za_tags));
			if (!run->za_tags) {
				free(run->written);
				run->written = NULL;
				return -1;
			}
		}
	}
	run->workers = calloc(job->threads, sizeof(*run->workers));
	if (!run->workers)
		return -1;
	run->nr_workers = job->threads;
	run->nr_started = UINT32_MAX;
	for (i = 0; i < job->threads; i++) {
		run->workers[i].run = run;
		run->workers[i].ops = ops;
		run->workers[i].fd = -1;
	}
	for (i = 0; i < job->threads; i++) {
		struct worker *w = &run->workers[i];
		uint64_t slice = blocks / job->threads;
		/* copy picks destinations: the upper half, sources in the lower one */
		uint64_t main_blocks = job->command == JOB_CMD_COPY ? job->copy_src_blocks : blocks;
		uint64_t mslice = main_blocks / job->threads;
		bool last = i == job->threads - 1;

		w->id = i;
		w->cpu = job->ncpus ? job->cpus[i % job->ncpus] : -1;
		w->block_size = job->block_size;
		w->depth = job->io_depth;
		w->random = job->random;
		w->read_percent = job->read_percent;
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
		if (job->command == JOB_CMD_COMPARE) {
			/* the pattern compare checks against, over the whole region */
			w->prefill_start = w->verify_start;
			w->prefill_blocks = w->verify_blocks;
		} else if (job->command == JOB_CMD_COPY && job->verify) {
			/* the pattern the copies carry, over the sources */
			w->prefill_start = mslice * i;
			w->prefill_blocks = last ? main_blocks - mslice * i : mslice;
		} else if (job->command == JOB_CMD_ZONE_APPEND) {
			/* each worker appends to its own zones, --zones of them open at a time in all */
			uint64_t nzones = job->size / job->zone_bytes, zslice = nzones / job->threads;
			uint64_t blocks_per_zone = job->zone_bytes / job->block_size;

			w->zone_first = zslice * i;
			w->zone_end = last ? nzones : zslice * (i + 1);
			w->zone_next = w->zone_first;
			w->zone_reset_next = w->zone_first;
			w->nr_zones_open = job->zones / job->threads + (i < job->zones % job->threads ? 1 : 0);
			w->verify_start = w->zone_first * blocks_per_zone;
			w->verify_blocks = (w->zone_end - w->zone_first) * blocks_per_zone;
		}
		w->ramping = job->ramp_ns > 0;
		histogram_reset(&w->lat);
		if (__worker_alloc(w) < 0) {
			snprintf(run->errmsg, sizeof(run->errmsg), "out of memory for %u buffers of %u bytes",
				 w->depth, job->block_size);
			goto fail;
		}
		if (ops->init(w) < 0) {
			saved = errno;
			snprintf(run->errmsg, sizeof(run->errmsg), "%s", w->errmsg[0] ? w->errmsg : strerror(saved));
			errno = saved;
			goto fail;
		}
	}
	run->start_ns = clock_now_ns();
	run->end_ns = __run_end_ns(job, run->start_ns);
	for (i = 0; i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];

		if (pthread_create(&w->thread, NULL, __worker_main, w)) {
			snprintf(run->errmsg, sizeof(run->errmsg), "cannot start worker thread %u", i);
			run->stop = 1;
			run->stop_reason = RUN_STOP_ERROR;
			/* Threads already running must see the stop before we join them. */
			break;
		}
		w->thread_started = true;
	}
	__atomic_store_n(&run->nr_started, i, __ATOMIC_RELEASE);
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
	return 0;
}

void worker_run_free(struct run *run)
{
	uint32_t i;

	for (i = 0; run->workers && i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];

		if (w->ops && (w->priv || w->fd >= 0))
			w->ops->exit(w);
		free(w->ios);
		free(w->free_slots);
		/* I/Os the drain gave up on may still land: leak what the device may write or read. */
		if (!w->inflight) {
			free(w->buffers);
			free(w->cmd_bufs);
		}
		w->buffers = NULL;
		w->cmd_bufs = NULL;
		free(w->zones_open);
		free(w->overlap_head);
		free(w->overlap_next);
	}
	free(run->workers);
	run->workers = NULL;
	run->nr_workers = 0;
	free(run->written);
	run->written = NULL;
	free(run->za_tags);
	run->za_tags = NULL;
}
