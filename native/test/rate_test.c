/*
 * rate.c on a synthetic clock: a uniform schedule is exactly spaced (a
 * fractional gap neither drifts nor rounds away over a million I/Os), a
 * Poisson one has the mean gap asked for and exponential spread, -ln(u)
 * matches reference values to 1e-7, and an I/O due while every slot was busy counts
 * as late, one due with a slot free does not.
 */
#include <stdint.h>

#include "../core/histogram.c"
#include "../core/rate.c"
#include "ctest.h"

static void test_uniform(void)
{
	struct rate_sched r;
	uint64_t due, prev = 0, i;

	/* 3 IOPS: a gap of 333333333.33 ns */
	rate_init(&r, 3, false, false, 1);
	rate_start(&r, 1000);
	CHECK(rate_due(&r, 999, 8) == 0);
	CHECK(rate_due(&r, 1000, 8) == 1);
	CHECK(rate_due(&r, 1000 + 333333334, 8) == 2);
	for (i = 0; i < 3000000; i++) {
		due = rate_take(&r, 0);
		if (i)
			CHECK(due - prev == 333333333 || due - prev == 333333334);
		prev = due;
	}
	/* 3 million I/Os at 3/s are 1e6 s: the last is due at 999999 s + 2/3 s, to the ns */
	CHECK(due == 1000 + 999999666666666ULL || due == 1000 + 999999666666667ULL);
	CHECK(r.issued == 3000000 && r.late == 0);

	/* 1M IOPS: 1000 ns apart, and rate_due counts them against the clock */
	rate_init(&r, 1e6, false, false, 1);
	rate_start(&r, 0);
	CHECK(rate_due(&r, 9999, 64) == 10);
	CHECK(rate_due(&r, 9999, 4) == 4);
	for (i = 0; i < 10; i++)
		CHECK(rate_take(&r, 9999) == i * 1000);
	CHECK(rate_due(&r, 9999, 64) == 0);
	CHECK(rate_wait_ns(&r, 9999) == 1);
	CHECK(r.max_lag_ns == 9999);
}

/* -ln(x / 2^64), worked out to double precision elsewhere (Python's math.log): the test links no libm. */
static void test_exp_variate(void)
{
	static const struct { uint64_t x; double want; } cases[] = {
		{ 1, 44.3614195558365 },
		{ 3, 43.26280726716839 },
		{ 0x8000000000000001ULL, 0.6931471805599453 },
		{ 0xffffffffffffffffULL, 0.0 },
		{ 0x123456789abcdefULL, 5.41610040220442 },
		{ 0x5555555555555555ULL, 1.0986122886681098 },
		{ (1ULL << 40) | 1, 16.635532333437776 },
		{ 0xc000000000000001ULL, 0.2876820724517809 },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = rate_exp_variate(cases[i].x), err = got - cases[i].want;

		CHECK(err <= 1e-7 && err >= -1e-7);
		CHECK(got >= 0);
	}
}

static void test_poisson(void)
{
	struct rate_sched r;
	uint64_t prev, due, gap, n = 200000, i, over_mean = 0, over_3 = 0;
	double sum = 0, sumsq = 0, mean, var;

	rate_init(&r, 100000, true, false, 42); /* mean gap 10 µs */
	rate_start(&r, 0);
	prev = rate_take(&r, 0);
	for (i = 0; i < n; i++) {
		due = rate_take(&r, 0);
		gap = due - prev;
		prev = due;
		sum += (double)gap;
		sumsq += (double)gap * (double)gap;
		over_mean += gap > 10000;
		over_3 += gap > 30000;
	}
	mean = sum / (double)n;
	var = sumsq / (double)n - mean * mean;
	/* the mean within 1% (its standard error is 0.22%); variance = mean^2 for an exponential, within 6% */
	CHECK(mean > 9900 && mean < 10100);
	CHECK(var > 0.94e8 && var < 1.06e8);
	/* P(gap > mean) = e^-1 = 0.368, P(gap > 3 mean) = e^-3 = 0.0498 */
	CHECK((double)over_mean / (double)n > 0.3579 && (double)over_mean / (double)n < 0.3779);
	CHECK((double)over_3 / (double)n > 0.0448 && (double)over_3 / (double)n < 0.0548);
	/* Poisson arrivals are taken one at a time */
	rate_start(&r, 0);
	CHECK(rate_due(&r, 1000000, 32) == 1);
}

static void test_late(void)
{
	struct rate_sched r;

	/* QD1 at 100K IOPS (due every 10 µs) on a path that takes 25 µs */
	rate_init(&r, 100000, false, false, 1);
	rate_start(&r, 0);
	CHECK(rate_take(&r, 0) == 0);           /* issued on time, the one slot now busy */
	rate_slot_freed(&r, 25000);            /* it completes: I/Os due at 10 and 20 µs waited */
	rate_io_timed(&r, 0, 25000);
	CHECK(rate_due(&r, 25000, 1) == 1);
	CHECK(rate_take(&r, 25000) == 10000);  /* late: due while the slot was busy */
	CHECK(r.late == 1 && r.max_lag_ns == 15000);
	rate_slot_freed(&r, 50000);
	CHECK(rate_take(&r, 50000) == 20000);  /* late */
	CHECK(r.late == 2);
	/* the path catches up: a slot is free before the next due time */
	r.next_ns = 60000;
	CHECK(rate_due(&r, 55000, 1) == 0);
	CHECK(rate_take(&r, 60000) == 60000);
	CHECK(r.late == 2 && r.issued == 4);
	rate_io_timed(&r, 60000, 62000);
	CHECK(r.sched_lat.count == 2 && r.sched_lat.max_ns == 25000 && r.sched_lat.min_ns == 2000);
	/* measuring begins: counters start over, the schedule goes on */
	rate_reset(&r);
	CHECK(r.late == 0 && r.issued == 0 && r.sched_lat.count == 0 && r.next_ns == 70000);
}

int main(void)
{
	test_uniform();
	test_exp_variate();
	test_poisson();
	test_late();
	return ctest_done("rate_test");
}
