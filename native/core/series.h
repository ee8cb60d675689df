/*
 * Per-interval figures of one worker (--interval): at each boundary the worker
 * itself diffs its running counters and latency histogram against the last
 * boundary and publishes the difference into a fixed ring, allocated at setup.
 * One producer (the worker), one consumer (the JavaScript thread, in
 * series() and in the result): the worker stores the slot, then head with
 * release; the reader loads head with acquire, copies, then stores tail with
 * release. A full ring never blocks the worker: the interval is counted as
 * dropped. Nothing is allocated and no lock taken on the hot path; the
 * boundary check is one compare per loop.
 */
#ifndef NVMEBENCH_SERIES_H
#define NVMEBENCH_SERIES_H

#include <stdint.h>
#include <stdbool.h>

#include "histogram.h"

struct worker;

/* One finished interval of one worker; times are ns since the measured start. */
struct series_point {
	uint32_t index;       /* the interval's number on the run's grid (origin + index * interval) */
	bool last;            /* the partial interval measuring ended in */
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t ios;
	uint64_t bytes;
	uint64_t errors;
	uint64_t user_us;
	uint64_t sys_us;
	struct histogram lat;
};

struct series {
	uint64_t interval_ns;
	uint32_t nr_slots;
	struct series_point *slots;
	uint64_t head;        /* stored by the worker (release) */
	uint64_t tail;        /* stored by the reader (release) */
	uint64_t dropped;     /* intervals lost to a full ring: stored by the worker */
	/* the worker's own bookkeeping */
	uint64_t origin_ns;   /* the measured start on the run's clock (grid origin) */
	uint64_t begin_ns;    /* this interval's start */
	uint64_t next_ns;     /* the next boundary */
	uint32_t index;
	uint64_t ios_at, bytes_at, errors_at, user_us_at, sys_us_at;
	struct histogram lat_at; /* the worker's histogram at the last boundary */
};

int series_alloc(struct series **out, uint64_t interval_ns, uint32_t nr_slots);
void series_free(struct series *s);
/* The worker began measuring at now; origin is the run's measured start. */
void series_begin(struct worker *w, uint64_t origin_ns, uint64_t now_ns);
/* Publish the interval that ended at now (last: measuring ends). */
void series_tick(struct worker *w, uint64_t now_ns, bool last);
/* Reader: the next finished point into out; false when none. */
bool series_read(struct series *s, struct series_point *out);

/* The hook in the worker loop: one compare unless a boundary passed. */
static inline void series_check(struct worker *w, struct series *s, uint64_t now_ns)
{
	if (s && now_ns >= s->next_ns)
		series_tick(w, now_ns, false);
}

#endif
