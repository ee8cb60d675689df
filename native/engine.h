/*
 * The worker and the engine ops table. One worker per pthread owns its
 * ring or queue, its counters and its latency histogram; nothing on the hot
 * path is shared. The main thread reads the counters once a second without
 * locks (relaxed atomic loads of values only the worker stores).
 */
#ifndef NVMEBENCH_ENGINE_H
#define NVMEBENCH_ENGINE_H

#include <stdint.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/uio.h>

#include "histogram.h"

#define ENGINE_MAX_THREADS 256
#define ENGINE_MAX_QD 4096
#define ENGINE_ERRMSG_LEN 512

enum engine_id {
	ENGINE_PSYNC,
	ENGINE_AIO,
	ENGINE_URING,
	ENGINE_URING_POLL,
	ENGINE_PT,
	ENGINE_PT_POLL,
	ENGINE_IOCTL,
	ENGINE_VFIO,
	ENGINE_COUNT,
};

/* A job arrives fully specified and already validated by TypeScript. */
struct job {
	enum engine_id engine;
	char path[4096];
	unsigned read_percent;
	bool random;
	uint32_t block_size;
	uint32_t io_depth;
	uint32_t threads;
	int cpus[ENGINE_MAX_THREADS];
	uint32_t ncpus;
	uint64_t runtime_ns;
	uint64_t ramp_ns;
	uint64_t io_limit;
	uint64_t offset;
	uint64_t size;
	uint32_t batch_submit;
	uint32_t batch_complete;
	bool fixed_bufs;
	bool reg_files;
	bool sqpoll;
	bool direct;
	bool verify;
	uint32_t verify_seed;
	uint32_t nsid;
	uint32_t lba_size;
	bool vectored;
	uint64_t max_errors;
};

struct io_unit {
	uint64_t offset;
	uint64_t start_ns;
	void *buf;
	uint32_t len;
	uint16_t index;
	bool is_write;
	bool in_flight;
	struct iovec iov; /* for vectored passthrough */
};

struct run;

struct worker {
	/* identity and setup, written before the thread starts */
	struct run *run;
	const struct engine_ops *ops;
	unsigned id;
	int cpu;
	int fd;
	uint32_t block_size;
	uint32_t depth;
	uint64_t region_start;
	uint64_t region_blocks;  /* random: whole region; sequential: this worker's slice */
	uint64_t seq_next;
	uint64_t rand_state;
	unsigned read_percent;
	bool random;

	/* I/O slots and their buffers, allocated once */
	struct io_unit *ios;
	uint16_t *free_slots;
	uint32_t nr_free;
	void *buffers;
	uint32_t inflight;

	/* the engine's private state (ring, iocbs, queue pair) */
	void *priv;

	/* counters: stored only by this worker, read by the main thread */
	uint64_t done;
	uint64_t bytes;
	uint64_t read_ios;
	uint64_t write_ios;
	uint64_t submit_calls;
	uint64_t reap_calls;
	uint64_t submitted;
	uint64_t reaped;
	uint64_t errors;
	bool ramping;

	/* verify state */
	uint64_t verified_blocks;
	uint64_t verify_failures;
	uint32_t stamp_gen;
	bool verify_pass;        /* reading back what this run wrote: strict checks */
	uint64_t verify_start;   /* the blocks this worker reads back */
	uint64_t verify_blocks;
	uint64_t verify_next;

	/* latency histogram, fixed size */
	struct histogram lat;

	/* CPU time over the measured interval */
	uint64_t user_us;
	uint64_t sys_us;
	uint64_t elapsed_us;

	pthread_t thread;
	bool thread_started;
	int exit_status;
	char errmsg[ENGINE_ERRMSG_LEN];
};

/*
 * Same verbs for every engine. queue() prepares one I/O without a system
 * call; commit() submits what was queued and may wait for min_complete
 * completions; reap() harvests completions and hands each to
 * worker_io_done(). Each returns -1 and sets errno (and w->errmsg) on
 * failure.
 */
struct engine_ops {
	const char *name;
	int (*init)(struct worker *w);
	int (*queue)(struct worker *w, struct io_unit *io);
	int (*commit)(struct worker *w, unsigned nr, unsigned min_complete);
	int (*reap)(struct worker *w, unsigned min_complete);
	void (*exit)(struct worker *w);
};

extern const struct engine_ops psync_ops;
extern const struct engine_ops aio_ops;
extern const struct engine_ops uring_ops;
extern const struct engine_ops pt_ops;
extern const struct engine_ops ioctl_ops;

struct run {
	struct job job;
	struct worker *workers;
	uint32_t nr_workers;
	volatile int stop;       /* set by stop() or by a worker on a fatal error */
	uint64_t start_ns;
	uint64_t measure_start_ns;
	uint64_t end_ns;
	uint64_t ios_issued;     /* shared budget for --ios, atomic */
	uint64_t errors_total;   /* atomic, compared with max_errors */
	uint8_t *written;        /* verify: one bit per block written */
	uint64_t written_bits;
	uint32_t barrier_arrived; /* atomic: workers done writing */
	uint32_t nr_started;      /* threads started; UINT32_MAX until all are */
	int stop_reason;         /* 0 done, 1 interrupted, 2 error */
	char errmsg[ENGINE_ERRMSG_LEN];
	pthread_mutex_t errlock;
};

uint64_t clock_now_ns(void);

/* worker.c */
int worker_run_start(struct run *run);
int worker_run_join(struct run *run);
void worker_run_free(struct run *run);
void worker_io_done(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns);
void worker_io_error(struct worker *w, struct io_unit *io, const char *what);
void worker_fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void worker_pt_done(struct worker *w, struct io_unit *io, int res, uint64_t now_ns);
int worker_open_target(struct worker *w);
void worker_close_target(struct worker *w);

static inline uint64_t load_relaxed(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Bump a counter that only this thread writes: a plain add, published relaxed. */
static inline void counter_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);
}

#endif
