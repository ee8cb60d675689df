/*
 * The clocks a run reads. CLOCK_MONOTONIC (through the vDSO) is the baseline
 * and keeps every deadline and elapsed time. Latency stamps come from
 * clock_lat_now(): the same CLOCK_MONOTONIC, or, where the TSC is invariant
 * and a calibration against CLOCK_MONOTONIC holds, a TSC read converted to ns
 * with a mult/shift and anchored to CLOCK_MONOTONIC at the run's start (so a
 * TSC stamp can also be compared with a deadline, to within the calibration's
 * error over the run). A latency is always the difference of two stamps from
 * the same worker and the same clock.
 */
#ifndef NVMEBENCH_CLOCK_H
#define NVMEBENCH_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the job asks for; TypeScript has already checked the CPU flags. */
enum clock_mode {
	CLOCK_MODE_MONOTONIC = 0,
	CLOCK_MODE_AUTO,      /* the TSC when its calibration holds, else CLOCK_MONOTONIC */
	CLOCK_MODE_TSC,       /* the TSC, or the run fails */
};

/* Calibrations of two windows this long must agree this closely. */
#define CLOCK_CAL_WINDOW_NS 10000000ULL
#define CLOCK_CAL_TOLERANCE_PPM 1000

struct clock_lat {
	bool tsc;            /* stamps come from the TSC */
	uint64_t tsc_base;   /* the TSC and CLOCK_MONOTONIC read together at the run's start */
	uint64_t ns_base;
	uint64_t mult;       /* ns = ticks * mult >> shift */
	uint32_t shift;
	uint64_t tsc_hz;     /* 0 when the TSC is not used */
	char fallback[160];  /* auto: why the TSC was not used; empty otherwise */
};

uint64_t clock_now_ns(void);

/* The largest shift for which mult stays below 2^32; -1 and EINVAL for 0 Hz. */
int clock_tsc_mult_shift(uint64_t hz, uint64_t *mult, uint32_t *shift);

/* Measure the TSC's rate against CLOCK_MONOTONIC: 0, or -1 with errno and why set. */
int clock_tsc_calibrate(uint64_t *hz, char *why, size_t why_len);

/* Set a run's latency clock up for mode: 0, or -1 with errno and why set (mode tsc only). */
int clock_lat_init(struct clock_lat *c, enum clock_mode mode, char *why, size_t why_len);

/* ticks in ns; 128-bit product, so even 2^64 ticks cannot overflow before the shift. */
static inline uint64_t clock_tsc_ns(uint64_t ticks, uint64_t mult, uint32_t shift)
{
	return (uint64_t)(((unsigned __int128)ticks * mult) >> shift);
}

#if defined(__x86_64__)
/*
 * lfence before rdtsc: rdtsc alone may execute before earlier loads have
 * completed, so the stamp after a reap could be taken before the CQ tail
 * load that saw the completion (and the one at submission before the
 * previous harvest ended), skewing a latency by up to the out-of-order window.
 * lfence waits for those loads; it costs a few cycles once per batch, not
 * per I/O. rdtscp would order the same but also writes TSC_AUX into ecx,
 * which nothing here needs.
 */
static inline uint64_t clock_tsc_read(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}
#define CLOCK_HAVE_TSC 1
#else
static inline uint64_t clock_tsc_read(void)
{
	return 0;
}
#define CLOCK_HAVE_TSC 0
#endif

/* A TSC read as ns on the CLOCK_MONOTONIC scale of the run's start. */
static inline uint64_t clock_tsc_to_ns(const struct clock_lat *c, uint64_t tsc)
{
	/* A CPU whose TSC lags the one that took the base by a few ticks must not wrap. */
	if (tsc < c->tsc_base)
		return c->ns_base - clock_tsc_ns(c->tsc_base - tsc, c->mult, c->shift);
	return c->ns_base + clock_tsc_ns(tsc - c->tsc_base, c->mult, c->shift);
}

/* The stamp for latencies and the loop's deadlines. */
static inline uint64_t clock_lat_now(const struct clock_lat *c)
{
	if (c->tsc)
		return clock_tsc_to_ns(c, clock_tsc_read());
	return clock_now_ns();
}

#endif
