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

#include "engine.h"
#include "verify.h"
#include "nvme.h"

#define WORKER_RES_REPORTED INT64_MIN

static const struct engine_ops *const engine_table[ENGINE_COUNT] = {
	[ENGINE_PSYNC] = &psync_ops,
	[ENGINE_AIO] = &aio_ops,
	[ENGINE_URING] = &uring_ops,
	[ENGINE_URING_POLL] = &uring_ops,
	[ENGINE_PT] = &pt_ops,
	[ENGINE_PT_POLL] = &pt_ops,
	[ENGINE_IOCTL] = &ioctl_ops,
	[ENGINE_VFIO] = NULL,
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
	__atomic_store_n(&w->run->stop_reason, 2, __ATOMIC_RELAXED);
	w->run->stop = 1;
}

/* Count one failed I/O; stop the run once errors pass --max-errors. */
void worker_io_error(struct worker *w, struct io_unit *io, const char *what)
{
	struct run *run = w->run;
	uint64_t total;
	char msg[ENGINE_ERRMSG_LEN];

	counter_add(&w->errors, 1);
	snprintf(msg, sizeof(msg), "%s at byte offset %llu (%u bytes): %s", io->is_write ? "write" : "read",
		 (unsigned long long)io->offset, io->len, what);
	__run_set_error(run, msg);
	total = __atomic_add_fetch(&run->errors_total, 1, __ATOMIC_RELAXED);
	if (total > run->job.max_errors) {
		__atomic_store_n(&run->stop_reason, 2, __ATOMIC_RELAXED);
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

static void __worker_check_read(struct worker *w, struct io_unit *io, bool strict)
{
	struct run *run = w->run;
	char msg[ENGINE_ERRMSG_LEN];
	uint64_t block = (io->offset - run->job.offset) / w->block_size;
	uint32_t want_seed = run->job.verify_seed;
	unsigned bad;

	if (!strict) {
		/*
		 * Mixed workloads: a read may race a write to the same block, and
		 * the block may still hold an earlier run's data, so any seed is
		 * accepted; address and payload must still match. Blocks that were
		 * never stamped are skipped unless this run wrote them.
		 */
		want_seed = 0;
		if (!(run->written && __bitmap_test(run->written, block)) && *(const uint64_t *)io->buf != VERIFY_MAGIC)
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

void worker_io_done(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns)
{
	struct run *run = w->run;
	bool ok = res == (int64_t)io->len;

	io->in_flight = false;
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
	if (run->job.verify) {
		if (io->is_write) {
			if (run->written)
				__bitmap_set(run->written, (io->offset - run->job.offset) / w->block_size);
		} else {
			__worker_check_read(w, io, run->job.read_percent == 100 || w->verify_pass);
		}
	}
	if (w->ramping)
		return;
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
	int flags = job->read_percent == 100 ? O_RDONLY : O_RDWR;

	if (job->direct && job->engine != ENGINE_PT && job->engine != ENGINE_PT_POLL && job->engine != ENGINE_IOCTL)
		flags |= O_DIRECT;
	w->fd = open(job->path, flags | O_CLOEXEC);
	if (w->fd < 0) {
		int err = errno;

		snprintf(w->errmsg, sizeof(w->errmsg), "cannot open %s%s: %s", job->path,
			 flags & O_DIRECT ? " with O_DIRECT" : "", strerror(err));
		errno = err;
		return -1;
	}
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

/* Pick the next offset and direction; 0 when there is nothing left to do. */
static int __worker_prep_io(struct worker *w, struct io_unit *io, uint64_t now, bool verify_pass)
{
	struct run *run = w->run;
	uint64_t block;

	if (verify_pass) {
		while (w->verify_next < w->verify_blocks && !__bitmap_test(run->written, w->verify_start + w->verify_next))
			w->verify_next++;
		if (w->verify_next >= w->verify_blocks)
			return 0;
		block = w->verify_start + w->verify_next++;
		io->is_write = false;
	} else {
		if (w->random) {
			block = __worker_rand_below(w, w->region_blocks);
		} else {
			block = w->region_start + w->seq_next;
			if (++w->seq_next >= w->region_blocks)
				w->seq_next = 0;
		}
		if (w->read_percent == 100)
			io->is_write = false;
		else if (w->read_percent == 0)
			io->is_write = true;
		else
			io->is_write = __worker_rand_below(w, 100) >= w->read_percent;
	}
	io->offset = run->job.offset + block * w->block_size;
	io->len = w->block_size;
	io->start_ns = now;
	io->in_flight = true;
	if (io->is_write && run->job.verify)
		verify_stamp(io->buf, io->len, io->offset, run->job.verify_seed, ++w->stamp_gen);
	return 1;
}

/* Claim up to want I/Os from the shared --ios budget. */
static uint32_t __worker_claim(struct worker *w, uint32_t want)
{
	struct run *run = w->run;
	uint64_t before;

	if (!run->job.io_limit || !want)
		return want;
	before = __atomic_fetch_add(&run->ios_issued, want, __ATOMIC_RELAXED);
	if (before >= run->job.io_limit)
		return 0;
	if (before + want > run->job.io_limit)
		return (uint32_t)(run->job.io_limit - before);
	return want;
}

static int __worker_loop(struct worker *w, bool verify_pass)
{
	const struct engine_ops *ops = w->ops;
	struct run *run = w->run;
	uint64_t ramp_end = run->start_ns + run->job.ramp_ns;
	bool budget_left = true;

	for (;;) {
		uint32_t to_prep = 0, wait = 0, i;
		uint64_t now;

		if (run->stop)
			break;
		now = clock_now_ns();
		if (!verify_pass) {
			if (w->ramping && now >= ramp_end)
				__worker_begin_measure(w);
			if (now >= run->end_ns)
				break;
		}
		if (budget_left && w->inflight < w->depth) {
			to_prep = w->depth - w->inflight;
			if (to_prep > run->job.batch_submit)
				to_prep = run->job.batch_submit;
			if (!verify_pass && !w->ramping) {
				uint32_t claimed = __worker_claim(w, to_prep);

				if (claimed < to_prep)
					budget_left = false;
				to_prep = claimed;
			}
		}
		for (i = 0; i < to_prep; i++) {
			struct io_unit *io = &w->ios[w->free_slots[--w->nr_free]];

			if (!__worker_prep_io(w, io, now, verify_pass)) {
				w->nr_free++;
				budget_left = false;
				break;
			}
			if (ops->queue(w, io) < 0) {
				worker_fail(w, "%s", w->errmsg[0] ? w->errmsg : "queueing an I/O failed");
				return -1;
			}
			w->inflight++;
		}
		to_prep = i;
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

/* Wait for every I/O still in flight: buffers must not be freed under the device. */
static void __worker_drain(struct worker *w)
{
	uint64_t deadline = clock_now_ns() + 30ULL * 1000000000ULL;

	__atomic_store_n(&w->ramping, true, __ATOMIC_RELAXED); /* stop counting */
	while (w->inflight && clock_now_ns() < deadline) {
		if (w->ops->commit(w, 0, 1) < 0 && errno != EINTR && errno != EAGAIN)
			break;
		if (w->ops->reap(w, 1) < 0 && errno != EINTR && errno != EAGAIN)
			break;
	}
}

/*
 * Every worker must finish writing before anyone reads back. A hand-made
 * barrier, because the number of threads is only final once all started.
 */
static void __worker_barrier(struct run *run)
{
	__atomic_add_fetch(&run->barrier_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&run->barrier_arrived, __ATOMIC_ACQUIRE) <
	       __atomic_load_n(&run->nr_started, __ATOMIC_ACQUIRE))
		usleep(200);
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
	if (!run->job.ramp_ns)
		__worker_begin_measure(w);
	__worker_loop(w, false);
	if (w->ramping) /* stopped before the ramp ended: nothing measured */
		__worker_begin_measure(w);
	__worker_end_measure(w);
	__worker_drain(w);

	if (verify_writes) {
		__worker_barrier(run);
		if (!run->stop) {
			w->verify_pass = true;
			__worker_loop(w, true);
			__worker_drain(w);
		}
	}
	return NULL;
}

static int __worker_alloc(struct worker *w)
{
	const struct job *job = &w->run->job;
	size_t stride = (job->block_size + 4095) & ~(size_t)4095;
	uint32_t i;

	w->ios = calloc(w->depth, sizeof(*w->ios));
	w->free_slots = calloc(w->depth, sizeof(*w->free_slots));
	if (!w->ios || !w->free_slots)
		return -1;
	if (posix_memalign(&w->buffers, 4096, stride * w->depth))
		return -1;
	/* Incompressible data for writes when not verifying. */
	for (i = 0; i < stride * w->depth / 8; i++)
		((uint64_t *)w->buffers)[i] = __worker_rand(w);
	for (i = 0; i < w->depth; i++) {
		w->ios[i].index = (uint16_t)i;
		w->ios[i].buf = (char *)w->buffers + stride * i;
		w->free_slots[i] = (uint16_t)(w->depth - 1 - i);
	}
	w->nr_free = w->depth;
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
	if (job->verify && job->read_percent < 100) {
		run->written_bits = blocks;
		run->written = calloc((blocks + 7) / 8, 1);
		if (!run->written)
			return -1;
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

		w->id = i;
		w->cpu = job->ncpus ? job->cpus[i % job->ncpus] : -1;
		w->block_size = job->block_size;
		w->depth = job->io_depth;
		w->random = job->random;
		w->read_percent = job->read_percent;
		w->rand_state = 0x853c49e6748fea9bULL ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL) ^ job->verify_seed;
		if (job->random) {
			w->region_start = 0;
			w->region_blocks = blocks;
		} else {
			/* Sequential workers each stream through their own slice. */
			w->region_start = slice * i;
			w->region_blocks = i == job->threads - 1 ? blocks - slice * i : slice;
			if (!w->region_blocks)
				w->region_blocks = 1;
		}
		w->verify_start = slice * i;
		w->verify_blocks = i == job->threads - 1 ? blocks - slice * i : slice;
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
	run->end_ns = job->runtime_ns ? run->start_ns + job->ramp_ns + job->runtime_ns : UINT64_MAX;
	for (i = 0; i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];

		if (pthread_create(&w->thread, NULL, __worker_main, w)) {
			snprintf(run->errmsg, sizeof(run->errmsg), "cannot start worker thread %u", i);
			run->stop = 1;
			run->stop_reason = 2;
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
		free(w->buffers);
	}
	free(run->workers);
	run->workers = NULL;
	run->nr_workers = 0;
	free(run->written);
	run->written = NULL;
}
