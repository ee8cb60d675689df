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

#include "clock.h"
#include "histogram.h"
#include "sysstat.h"
#include "perf.h"
#include "pi.h"
#include "rate.h"

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
	ENGINE_NOP,
	ENGINE_COUNT,
};

/*
 * What a job runs: plain reads and writes, or one NVMe command over the
 * region (nvme_cmd.c builds them for the passthrough engines; the block
 * engines map the ones the block layer has onto fallocate/ioctl/fsync).
 */
enum job_command {
	JOB_CMD_RW = 0,
	JOB_CMD_WRITE_ZEROES,
	JOB_CMD_TRIM,
	JOB_CMD_VERIFY,
	JOB_CMD_COMPARE,
	JOB_CMD_FLUSH,
	JOB_CMD_COPY,
	JOB_CMD_ZONE_APPEND,
	JOB_CMD_RAW,
	JOB_CMD_COUNT,
};

#define JOB_CMD_BIT(c) (1U << (c))
#define JOB_CMDS_ALL ((1U << JOB_CMD_COUNT) - 1)

/* --fdp-scheme: how a write's placement identifier is chosen from the job's list. */
enum job_fdp_scheme {
	JOB_FDP_ROUNDROBIN = 0, /* each worker steps through the list */
	JOB_FDP_RANDOM,         /* uniformly, per write */
	JOB_FDP_PER_WORKER,     /* worker i always uses entry i mod n */
};
#define JOB_FDP_MAX_PIDS 128

/* What one I/O slot carries this time. */
enum io_op {
	IO_OP_RW = 0,     /* a read or a write, by is_write */
	IO_OP_CMD,        /* the job's command */
	IO_OP_ZONE_RESET, /* Zone Management Send, Reset Zone at offset (zone-append setup) */
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
	uint64_t start_at_ns;     /* CLOCK_MONOTONIC: workers wait for it (several targets start together); 0: at once */
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
	uint32_t lat_every;       /* time every Nth I/O: 1 all (--lat all), N (--lat sample:N), 0 none (--lat off) */
	struct sysstat_irq_names irq_names; /* the controller's /proc/interrupts action prefixes; none: not counted */
	bool explain;             /* --explain: sample each worker thread (perf.h) */
	enum clock_mode clock_mode; /* --clock: what stamps latencies (clock.h) */
	double rate_iops;         /* --rate-iops, this worker's share; 0: closed loop (rate.h) */
	bool rate_poisson;        /* --arrival poisson */
	uint64_t interval_ns;     /* --interval: per-interval figures (series.h); 0 none */
	uint32_t series_slots;    /* finished intervals each worker holds until read */

	/* NVMe command workloads (command != JOB_CMD_RW); see nvme_cmd.h */
	enum job_command command;
	uint8_t raw_opcode;
	uint8_t raw_dir;          /* enum nvme_data_dir */
	uint32_t raw_cdw[6];      /* cdw10..cdw15, as given */
	uint32_t raw_data_len;
	uint32_t copy_ranges;     /* source ranges per Copy */
	uint32_t zones;           /* zone-append: zones open at once, over all workers */
	uint64_t zone_bytes;      /* zone-append: zone size */
	uint64_t zone_cap_bytes;  /* zone-append: writable capacity of every zone */
	char dump_path[4096];     /* raw --dump: the data of the last command is written here */
	/* metadata and protection information (pi.h): the namespace's format and --pi-* */
	struct pi_format pi;
	/* --fdp: writes carry a placement identifier (nvme_fdp.h), chosen per I/O from fdp_pids by fdp_scheme */
	bool fdp;
	uint8_t fdp_scheme;       /* enum job_fdp_scheme */
	uint32_t fdp_npids;
	uint16_t fdp_pids[JOB_FDP_MAX_PIDS];
	/* derived by worker_cmd_run_init */
	uint64_t copy_src_blocks; /* copy: sources in blocks [0, n), destinations in [n, 2n) */
};

struct io_unit {
	uint64_t offset;
	uint64_t start_ns;        /* 0: not timed (--lat sample:N, off) */
	void *buf;
	uint32_t len;
	uint16_t index;
	bool is_write;
	bool in_flight;
	bool was_written; /* verify, mixed workloads: this run had written the block when the read was issued */
	struct iovec iov; /* for vectored passthrough */
	uint8_t op;       /* enum io_op */
	void *cmd_buf;    /* NVME_CMD_BUF_SIZE bytes per slot: DSM ranges, Copy source descriptors */
	uint64_t result;  /* completion dwords 0-1 (zone append: the LBA written) */
	uint32_t tag;     /* zone-append --verify: the stamp's generation */
	uint16_t dspec;   /* --fdp writes: the placement identifier */
	void *meta;       /* separate metadata (mset=0): this slot's, else NULL */
	uint64_t sched_ns; /* --rate-iops: when the schedule had it due; 0 otherwise */
} __attribute__((aligned(64))); /* what a read or write touches (through op) in one cache line: allocate with posix_memalign */

struct run;
struct worker_cmd;
struct series;

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
	uint32_t lat_every;      /* the job's, copied: 0 times nothing */
	uint32_t lat_countdown;  /* I/Os until the next one timed */

	/* I/O slots and their buffers, allocated once */
	struct io_unit *ios;
	uint16_t *free_slots;
	uint32_t nr_free;
	void *buffers;
	void *meta_buffers;      /* separate metadata, one area per slot (pi.h); NULL without */
	uint32_t inflight;       /* still > 0 after a failed drain: buffers and cmd_bufs are leaked, never freed */
	bool drain_failed;
	/* --verify with writes: the offsets in flight, so that no two I/Os overlap (fio's serialize_overlap) */
	uint16_t *overlap_head;  /* hash buckets: the first slot in each, or UINT16_MAX */
	uint16_t *overlap_next;  /* per slot: the next slot in its bucket */
	uint32_t overlap_shift;

	/* the engine's private state (ring, iocbs, queue pair) */
	void *priv;
	/* io_uring engines: the setup flags the kernel took (uring.c falls back on older kernels); 0 otherwise */
	unsigned ring_flags;
	/* synchronous engines: the one I/O queued for the next commit */
	struct io_unit *sync_io;

	/* counters: stored only by this worker, read by the main thread */
	uint64_t done;
	uint64_t bytes;
	uint64_t read_ios;
	uint64_t write_ios;
	uint64_t submit_calls;
	uint64_t reap_calls;
	uint64_t submitted;
	uint64_t reaped;
	uint64_t empty_reaps;  /* reap calls that found no completion (polled engines: wasted polls) */
	uint64_t errors;      /* measured: reset when measuring begins */
	uint64_t ramp_errors; /* before measuring began: in the --max-errors budget, not in the measured count */
	bool ramping;
	/* I/Os outside the measured interval (ramp, setup, drain, read-back): for the live line only */
	uint64_t unmeasured_ios;
	uint64_t unmeasured_bytes;

	/* verify state */
	uint64_t verified_blocks;
	uint64_t verify_failures;
	uint32_t stamp_gen;
	bool verify_pass;        /* reading back what this run wrote: strict checks */
	uint64_t verify_start;   /* the blocks this worker reads back */
	uint64_t verify_blocks;
	uint64_t verify_next;

	/* --fdp: the next entry of the job's placement list (roundrobin), or a random state */
	uint32_t fdp_next;

	/* NVMe command workloads (workload_cmd.h); NULL for reads and writes */
	struct worker_cmd *cmd;

	/* latency histogram, fixed size */
	struct histogram lat;
	/* the latest run of equal latencies, not yet in lat (worker_io_done) */
	uint64_t lat_run_ns;
	uint64_t lat_run_n;
	/*
	 * The stamp the last harvest read (uring_engine_reap), 0 when it read
	 * none: the loop takes it as its next "now" rather than read the clock
	 * again a few instructions later (one clock read per batch, not two).
	 */
	uint64_t reap_ns;

	/* --rate-iops: the open-loop schedule and its latencies from the due time; NULL without */
	struct rate_sched *rate;

	/* --explain: this thread's sampler; NULL without */
	struct perf_sampler *perf;
	/* --interval: this worker's finished intervals (series.h); NULL without */
	struct series *series;

	/* CPU time over the measured interval */
	uint64_t user_us;
	uint64_t sys_us;
	uint64_t elapsed_us;
	uint64_t vcsw;           /* voluntary and involuntary context switches, same interval */
	uint64_t nvcsw;

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
	/*
	 * Optional: queue() for the n slots just taken off the free list,
	 * w->free_slots[first .. first + n), in one call rather than n indirect
	 * ones. Returns how many it queued, in order; fewer than n sets errno
	 * (and w->errmsg).
	 */
	uint32_t (*queue_batch)(struct worker *w, uint32_t first, uint32_t n);
	int (*commit)(struct worker *w, unsigned nr, unsigned min_complete);
	int (*reap)(struct worker *w, unsigned min_complete);
	void (*exit)(struct worker *w);
	/*
	 * Optional: one Reset Zone at io->offset, synchronously and outside the
	 * ring, for an engine whose ring cannot complete a command that carries
	 * no data. Returns 0, an NVMe status (> 0), or -1 and sets errno.
	 */
	int (*zone_reset)(struct worker *w, struct io_unit *io);
	/*
	 * Optional (--rate-iops, rate_wait.c): block until a completion is ready
	 * or timeout_ns pass, whichever is first; may reap. 0, or -1 and errno.
	 */
	int (*wait)(struct worker *w, uint64_t timeout_ns);
	/* JOB_CMD_BIT()s of the commands this engine issues besides read/write (0: none) */
	unsigned commands;
	/* issues NVMe commands (passthrough): needs the namespace id and LBA size; no O_DIRECT on the node */
	bool nvme;
	/* one I/O at a time: queue() holds it, commit() completes it; the queue depth is 1 */
	bool sync;
};

extern const struct engine_ops psync_ops;
extern const struct engine_ops aio_ops;
extern const struct engine_ops uring_ops;
extern const struct engine_ops uring_poll_ops;
extern const struct engine_ops pt_ops;
extern const struct engine_ops pt_poll_ops;
extern const struct engine_ops ioctl_ops;
extern const struct engine_ops vfio_ops;
extern const struct engine_ops nop_ops;

/* Why a run ended; the result's 'stopped' names them in this order. */
enum run_stop {
	RUN_STOP_DONE = 0,
	RUN_STOP_INTERRUPTED, /* stop(), or the environment going away */
	RUN_STOP_ERROR,       /* a fatal error, or --max-errors passed */
};

struct run {
	struct job job;
	struct worker *workers;
	uint32_t nr_workers;
	volatile int stop;       /* set by stop() or by a worker on a fatal error */
	/*
	 * The workers are set up and their threads started (release, by
	 * worker_run_start on a libuv pool thread): before that, stats() on the
	 * JavaScript thread must not look at workers[].
	 */
	bool launched;
	uint64_t start_ns;
	struct clock_lat clock;  /* latency stamps and the loop's deadlines: clock_lat_now() */
	uint64_t measure_start_ns;
	uint64_t end_ns;
	uint64_t ios_issued;     /* shared budget for --ios, atomic */
	uint64_t errors_total;   /* atomic, compared with max_errors */
	uint8_t *written;        /* verify: one bit per block written */
	uint32_t barrier_arrived; /* atomic: workers done writing */
	uint32_t nr_started;      /* threads started; UINT32_MAX until all are */
	uint32_t prep_arrived;    /* atomic: workers done with the setup passes (zone resets, pattern) */
	int go;                   /* atomic: setup done, the clock restarted, measure */
	uint32_t *za_tags;        /* zone-append --verify: the stamp generation found at each block */
	enum run_stop stop_reason;
	struct perf_reader perf;  /* --explain: drains the workers' samplers */
	char errmsg[ENGINE_ERRMSG_LEN];
	pthread_mutex_t errlock;
	pthread_mutex_t begin_lock; /* the first worker to measure snapshots the system; per run, so targets do not queue */
	/* whole-system snapshots: the first worker to begin measuring takes one, the last to end the other */
	struct sysstat_run *sysstat;
	uint32_t measure_begun;   /* atomic: workers that began measuring */
	uint32_t measure_ended;   /* atomic: workers that ended */
	int sysstat_ended;        /* atomic: the end snapshot is taken (or being taken) */
};

extern const char *const engine_names[ENGINE_COUNT];

/* Clock arithmetic saturates: a deadline past the end of time is never, not a moment ago. */
static inline uint64_t clock_add_sat(uint64_t a, uint64_t b)
{
	uint64_t sum;

	return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

static inline uint64_t clock_mul_sat(uint64_t a, uint64_t b)
{
	uint64_t prod;

	return __builtin_mul_overflow(a, b, &prod) ? UINT64_MAX : prod;
}

/* worker.c */
int worker_run_start(struct run *run);
int worker_run_join(struct run *run);
void worker_run_release(struct run *run);
void worker_run_free(struct run *run);
void worker_io_done(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns);
void worker_series_flush(struct worker *w);
void worker_io_error(struct worker *w, struct io_unit *io, const char *what);
void worker_fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* res: 0 success, > 0 an NVMe status, < 0 an errno; io->result holds completion dwords 0-1 */
void worker_pt_done(struct worker *w, struct io_unit *io, int res, uint64_t now_ns);
const struct engine_ops *worker_engine_ops(enum engine_id engine);
int worker_open_target(struct worker *w);
int worker_sync_queue(struct worker *w, struct io_unit *io);
struct io_unit *worker_sync_take(struct worker *w);
int worker_sync_reap(struct worker *w, unsigned min_complete);
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
