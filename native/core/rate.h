/*
 * Open-loop rates (--rate-iops): I/O is due on a schedule of its own, uniform
 * or Poisson, whatever the completions do. Each I/O carries the time it was
 * due, so its latency counts from there (queueing included) beside the
 * service latency from submission. One schedule per worker, on the worker's
 * own clock; nothing here allocates or calls libm on the hot path.
 */
#ifndef NVMEBENCH_RATE_H
#define NVMEBENCH_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "xorshift.h"

/* More than this per worker is refused by TypeScript: a gap under 100 ns is no schedule. */
#define RATE_MAX_IOPS 10000000.0
/* Ahead of schedule with nothing to wait on: sleep until this long before the due time, then spin. */
#define RATE_SPIN_NS 20000ULL

struct rate_sched {
	uint64_t next_ns;        /* when the next I/O is due */
	uint32_t next_frac;      /* and its fraction of a ns, in units of 2^-32 ns */
	uint64_t gap_fp;         /* the mean gap, ns in 32.32 fixed point */
	bool poisson;
	bool polls;              /* the engine polls for completions: spin, never sleep */
	uint64_t rng;            /* xorshift64*, this schedule's own */
	uint64_t full_until_ns;  /* every slot was busy until this time (the last completion that freed one) */

	/* measured interval only (rate_reset) */
	uint64_t issued;         /* I/Os issued on the schedule */
	uint64_t late;           /* of them, due while every slot was busy: they waited for one */
	uint64_t max_lag_ns;     /* the longest any I/O waited past its due time before it was issued */
	struct histogram sched_lat; /* completion less due time */
};

/* gap_fp for a rate: 1e9/iops ns in 32.32. */
uint64_t rate_gap_fp(double iops);

/* A schedule of iops per second; poisson draws exponential gaps from seed. */
void rate_init(struct rate_sched *r, double iops, bool poisson, bool polls, uint64_t seed);

/* The first I/O is due at start_ns. */
void rate_start(struct rate_sched *r, uint64_t start_ns);

/* Measuring begins: counters and the histogram start over, the schedule goes on. */
void rate_reset(struct rate_sched *r);

/* -ln(u) for u = (x | 1) / 2^64 in (0, 1): an exponential variate of mean 1, without libm. */
double rate_exp_variate(uint64_t x);

static inline uint64_t __rate_rand(struct rate_sched *r)
{
	return xorshift64s_next(&r->rng);
}

/* How many of up to max I/Os are due at now (without taking them). */
static inline uint32_t rate_due(const struct rate_sched *r, uint64_t now, uint32_t max)
{
	uint64_t at = r->next_ns, frac = r->next_frac;
	uint32_t n = 0;

	if (r->poisson)
		return at <= now && max ? 1 : 0; /* one at a time: the next gap is drawn when this one is taken */
	while (n < max && at <= now) {
		frac += r->gap_fp;
		at += frac >> 32;
		frac &= 0xffffffffULL;
		n++;
	}
	return n;
}

/* Take the next due time for an I/O issued at now, and advance the schedule. */
static inline uint64_t rate_take(struct rate_sched *r, uint64_t now)
{
	uint64_t due = r->next_ns, gap = r->gap_fp;

	if (r->poisson)
		gap = (uint64_t)((double)gap * rate_exp_variate(__rate_rand(r)));
	gap += r->next_frac;
	r->next_ns += gap >> 32;
	r->next_frac = (uint32_t)gap;
	r->issued++;
	if (due < r->full_until_ns)
		r->late++;
	if (now > due && now - due > r->max_lag_ns)
		r->max_lag_ns = now - due;
	return due;
}

/* A completion freed a slot at now, with every slot busy before it: I/O due until now waited for one. */
static inline void rate_slot_freed(struct rate_sched *r, uint64_t now)
{
	r->full_until_ns = now;
}

/* A measured, timed I/O due at due_ns completed at now. */
static inline void rate_io_timed(struct rate_sched *r, uint64_t due_ns, uint64_t now)
{
	histogram_add(&r->sched_lat, now > due_ns ? now - due_ns : 0);
}

/* How long to wait before the next I/O is due; 0 when one is due now. */
static inline uint64_t rate_wait_ns(const struct rate_sched *r, uint64_t now)
{
	return r->next_ns > now ? r->next_ns - now : 0;
}

struct worker;

/* rate_wait.c: the worker's schedule from its job (none without --rate-iops); -1 and ENOMEM. */
int rate_worker_init(struct worker *w);
/* Called on the worker thread when its main phase begins at now. */
void rate_worker_start(struct worker *w, uint64_t now);
/* Ahead of schedule at now with a slot free: sleep, wait on completions with a timeout, or (polled engines) return to poll. */
int rate_idle(struct worker *w, uint64_t now);

#endif
