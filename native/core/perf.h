/*
 * --explain: sample where each worker thread spends its CPU. One perf event
 * per worker, opened on the thread itself (pid = its tid, any CPU), counting
 * only between the measure boundaries. A reader thread drains the rings into
 * a fixed table of instruction pointers and counts; TypeScript symbolises them.
 */
#ifndef NVMEBENCH_PERF_H
#define NVMEBENCH_PERF_H

#include <stdint.h>
#include <stdbool.h>
#include <pthread.h>

#define PERF_TABLE_SLOTS 16384   /* distinct IPs per worker; more are counted in 'dropped' */
#define PERF_RING_PAGES 64       /* data pages of the ring: ~16K samples, drained every 100 ms */
#ifndef PERF_CLOCK_PERIOD_NS /* -D to measure the sampling's cost at a higher rate */
#define PERF_CLOCK_PERIOD_NS 500000ULL /* cpu-clock: one sample per 500 us of the thread's CPU (2 kHz); a sample costs ~5 us in a VM, so ~1% */
#endif
#define PERF_CYCLES_PERIOD 1000000ULL  /* cycles: ~3 kHz at 3 GHz */

enum perf_event_kind {
	PERF_KIND_NONE = 0,
	PERF_KIND_CYCLES,
	PERF_KIND_CPU_CLOCK,
};

struct perf_slot {
	uint64_t ip;
	uint64_t count;
};

struct perf_sampler {
	int fd;
	void *ring;               /* metadata page + PERF_RING_PAGES data pages */
	size_t ring_len;
	int ready;                /* atomic: set by the worker once fd and ring are up */
	enum perf_event_kind kind;
	uint64_t period;          /* ns for cpu-clock, cycles for cycles */
	uint64_t count;           /* the event's total at disable: ns of the thread's CPU (cpu-clock), or cycles */
	uint64_t samples;
	uint64_t lost;            /* PERF_RECORD_LOST: the ring overflowed */
	uint64_t dropped;         /* samples whose IP found no free slot in the table */
	uint64_t used;            /* slots in use */
	struct perf_slot *table;  /* PERF_TABLE_SLOTS, open addressing */
	pthread_mutex_t lock;     /* reader thread against the final drain */
};

struct perf_reader {
	pthread_t thread;
	bool started;
	volatile int stop;
	struct perf_sampler **samplers;
	uint32_t nr;
};

int perf_sampler_alloc(struct perf_sampler **out);
/* From the worker thread itself: open a disabled event on this thread and map its ring. */
int perf_sampler_open(struct perf_sampler *s, char *errmsg, size_t errlen);
void perf_sampler_enable(struct perf_sampler *s);
void perf_sampler_disable(struct perf_sampler *s);
void perf_sampler_drain(struct perf_sampler *s);
void perf_sampler_free(struct perf_sampler *s);

int perf_reader_start(struct perf_reader *r, struct perf_sampler **samplers, uint32_t nr);
/* Stop the reader thread and drain every ring one last time. */
void perf_reader_stop(struct perf_reader *r);

#endif
