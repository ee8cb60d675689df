/*
 * clock.c: the TSC's mult/shift turns ticks into ns to within a nanosecond
 * a second, without overflow over 50 years of ticks; a TSC read on
 * either side of the run's anchor converts without wrapping; and where the
 * TSC exists, a calibration either agrees with CLOCK_MONOTONIC over 50 ms or
 * says why not.
 */
#include <stdint.h>
#include <time.h>

#include "../core/clock.c"
#include "ctest.h"

/* ns for ticks at hz, exactly (the reference the mult/shift approximates). */
static uint64_t exact_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000ULL) / hz);
}

static void check_rate(uint64_t hz)
{
	static const uint64_t seconds[] = { 0, 1, 10, 3600, 86400 * 365ULL, 86400 * 365ULL * 50 };
	uint64_t mult, ticks, got, want, slack;
	uint32_t shift;
	unsigned i;

	CHECK(clock_tsc_mult_shift(hz, &mult, &shift) == 0);
	CHECK(mult < (1ULL << 32));
	CHECK(mult >= (1ULL << 31) || shift == 63); /* as much precision as 32 bits hold */
	CHECK(clock_tsc_ns(0, mult, shift) == 0);
	for (i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++) {
		ticks = seconds[i] * hz;
		got = clock_tsc_ns(ticks, mult, shift);
		want = exact_ns(ticks, hz);
		/* mult is rounded down by under one unit in 2^31: at most 1 ns a second, plus 1 ns. */
		slack = want / 1000000000ULL + 1;
		CHECK(got <= want && want - got <= slack);
	}
	/* One tick more is never less time. */
	CHECK(clock_tsc_ns(hz + 1, mult, shift) >= clock_tsc_ns(hz, mult, shift));
}

int main(void)
{
	static const uint64_t rates[] = { 1000000000ULL, 2500000000ULL, 2994373000ULL, 3000000001ULL, 100000000ULL,
					  5600000000ULL, 24000000ULL };
	struct clock_lat c;
	uint64_t mult, hz;
	uint32_t shift;
	char why[128] = "";
	unsigned i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		check_rate(rates[i]);
	/* 1 GHz is one ns a tick, exactly. */
	CHECK(clock_tsc_mult_shift(1000000000ULL, &mult, &shift) == 0 && clock_tsc_ns(123456789, mult, shift) == 123456789);
	CHECK(clock_tsc_mult_shift(0, &mult, &shift) == -1 && errno == EINVAL);

	/* Either side of the anchor: 2 GHz, anchored at tick 1000 = 5000 ns. */
	memset(&c, 0, sizeof(c));
	c.tsc = true;
	c.tsc_base = 1000;
	c.ns_base = 5000;
	CHECK(clock_tsc_mult_shift(2000000000ULL, &c.mult, &c.shift) == 0);
	CHECK(clock_tsc_to_ns(&c, 1000) == 5000);
	CHECK(clock_tsc_to_ns(&c, 3000) == 6000);
	CHECK(clock_tsc_to_ns(&c, 800) == 4900);

	/* The calibration, where there is a TSC: it agrees with CLOCK_MONOTONIC, or it says why it does not. */
	if (clock_tsc_calibrate(&hz, why, sizeof(why)) == 0) {
		struct timespec pause = { 0, 50000000L };
		uint64_t t0, n0, t1, n1, ns, mono;

		CHECK(clock_tsc_mult_shift(hz, &mult, &shift) == 0);
		CHECK(hz > 10000000ULL);
		__clock_pair(&t0, &n0);
		nanosleep(&pause, NULL);
		__clock_pair(&t1, &n1);
		ns = clock_tsc_ns(t1 - t0, mult, shift);
		mono = n1 - n0;
		/* The tolerance the calibration promises, and 20 µs of pairing either side. */
		CHECK((ns > mono ? ns - mono : mono - ns) <= mono / 1000 + 20000);
		printf("TSC %llu Hz, mult %llu shift %u; 50 ms: TSC %llu ns, CLOCK_MONOTONIC %llu ns\n",
		       (unsigned long long)hz, (unsigned long long)mult, shift, (unsigned long long)ns,
		       (unsigned long long)mono);
		CHECK(clock_lat_init(&c, CLOCK_MODE_TSC, why, sizeof(why)) == 0 && c.tsc && c.tsc_hz);
		/* A stamp now lies on CLOCK_MONOTONIC's scale. */
		ns = clock_lat_now(&c);
		mono = clock_now_ns();
		CHECK((ns > mono ? ns - mono : mono - ns) < 1000000);
	} else {
		CHECK(why[0] != '\0');
		printf("no TSC calibration: %s\n", why);
		CHECK(clock_lat_init(&c, CLOCK_MODE_TSC, why, sizeof(why)) == -1);
		CHECK(clock_lat_init(&c, CLOCK_MODE_AUTO, why, sizeof(why)) == 0 && !c.tsc && c.fallback[0]);
	}
	CHECK(clock_lat_init(&c, CLOCK_MODE_MONOTONIC, why, sizeof(why)) == 0 && !c.tsc && !c.tsc_hz);
	return ctest_done("clock_test");
}
