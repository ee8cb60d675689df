/*
 * The open-loop schedule's setup and the exponential variate (rate.h). The
 * loop's side, what the worker does while it is ahead of schedule, is in
 * rate_wait.c.
 */
#include <string.h>

#include "rate.h"

uint64_t rate_gap_fp(double iops)
{
	double gap_ns = 1e9 / iops;

	return (uint64_t)(gap_ns * 4294967296.0);
}

void rate_init(struct rate_sched *r, double iops, bool poisson, bool polls, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->gap_fp = rate_gap_fp(iops);
	r->poisson = poisson;
	r->polls = polls;
	r->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	histogram_reset(&r->sched_lat);
}

void rate_start(struct rate_sched *r, uint64_t start_ns)
{
	r->next_ns = start_ns;
	r->next_frac = 0;
	r->full_until_ns = 0;
}

void rate_reset(struct rate_sched *r)
{
	r->issued = 0;
	r->late = 0;
	r->max_lag_ns = 0;
	histogram_reset(&r->sched_lat);
}

/*
 * u = m * 2^e with m in [1, 2) from the bits of x, so -ln(u) = -(e + log2 m) * ln 2.
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1) in [0, 1/3]: the series to s^13 is
 * within 1e-8 of it. A double divide and a few multiplies; no table, no libm.
 */
double rate_exp_variate(uint64_t x)
{
	static const double ln2 = 0.69314718055994530942;
	unsigned lead;
	double m, s, s2, ln_m;
	int e;

	x |= 1;
	lead = (unsigned)__builtin_clzll(x);
	e = -(int)lead - 1;                       /* x / 2^64 = m * 2^e */
	m = (double)(x << lead) / 9223372036854775808.0; /* top bit set: [1, 2) */
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 / 13))))));
	return -((double)e * ln2 + ln_m);
}
