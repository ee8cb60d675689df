/*
 * CLOCK_MONOTONIC, and the TSC calibrated against it (clock.h). The
 * calibration runs once per process: two 10 ms windows, each bounded by TSC
 * reads taken around one CLOCK_MONOTONIC read, must agree within
 * CLOCK_CAL_TOLERANCE_PPM, else the TSC is not used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int clock_tsc_mult_shift(uint64_t hz, uint64_t *mult, uint32_t *shift)
{
	uint32_t s = 0;

	if (!hz) {
		errno = EINVAL;
		return -1;
	}
	/* More shift is more precision; mult below 2^32 keeps ticks * mult in 96 bits. */
	while (s < 63 && (((unsigned __int128)1000000000ULL << (s + 1)) / hz) < (1ULL << 32))
		s++;
	*shift = s;
	*mult = (uint64_t)(((unsigned __int128)1000000000ULL << s) / hz);
	return 0;
}

/* One TSC reading paired with CLOCK_MONOTONIC: the midpoint of the tightest of a few brackets. */
static void __clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t before = clock_tsc_read();
		uint64_t now = clock_now_ns();
		uint64_t after = clock_tsc_read();

		/* A bracket that took long was preempted or interrupted: its pairing is loose. */
		if (after - before < best) {
			best = after - before;
			*tsc = before + (after - before) / 2;
			*ns = now;
		}
	}
}

static uint64_t __clock_hz(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1)
{
	if (ns1 <= ns0 || tsc1 <= tsc0)
		return 0;
	return (uint64_t)(((unsigned __int128)(tsc1 - tsc0) * 1000000000ULL) / (ns1 - ns0));
}

int clock_tsc_calibrate(uint64_t *hz, char *why, size_t why_len)
{
	struct timespec window = { 0, (long)CLOCK_CAL_WINDOW_NS };
	uint64_t tsc[3], ns[3], hz1, hz2, diff;
	int i;

	if (!CLOCK_HAVE_TSC) {
		snprintf(why, why_len, "no TSC on this architecture");
		errno = ENOTSUP;
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (i)
			nanosleep(&window, NULL);
		__clock_pair(&tsc[i], &ns[i]);
	}
	hz1 = __clock_hz(tsc[0], ns[0], tsc[1], ns[1]);
	hz2 = __clock_hz(tsc[1], ns[1], tsc[2], ns[2]);
	if (!hz1 || !hz2) {
		snprintf(why, why_len, "the TSC did not advance with CLOCK_MONOTONIC during calibration");
		errno = EIO;
		return -1;
	}
	diff = hz1 > hz2 ? hz1 - hz2 : hz2 - hz1;
	if (diff > hz1 / (1000000 / CLOCK_CAL_TOLERANCE_PPM)) {
		snprintf(why, why_len, "two 10 ms TSC calibrations disagree (%llu and %llu Hz, over %u ppm apart)",
			 (unsigned long long)hz1, (unsigned long long)hz2, CLOCK_CAL_TOLERANCE_PPM);
		errno = EIO;
		return -1;
	}
	*hz = __clock_hz(tsc[0], ns[0], tsc[2], ns[2]);
	return 0;
}

/* Calibrated once per process, whoever asks first; a failure is remembered with its reason. */
static pthread_mutex_t clock_cal_lock = PTHREAD_MUTEX_INITIALIZER;
static bool clock_cal_done;
static int clock_cal_errno;
static uint64_t clock_cal_hz;
static char clock_cal_why[128];

int clock_lat_init(struct clock_lat *c, enum clock_mode mode, char *why, size_t why_len)
{
	int err;

	memset(c, 0, sizeof(*c));
	if (mode == CLOCK_MODE_MONOTONIC)
		return 0;
	pthread_mutex_lock(&clock_cal_lock);
	if (!clock_cal_done) {
		clock_cal_errno = clock_tsc_calibrate(&clock_cal_hz, clock_cal_why, sizeof(clock_cal_why)) < 0 ? errno : 0;
		clock_cal_done = true;
	}
	err = clock_cal_errno;
	pthread_mutex_unlock(&clock_cal_lock);
	if (!err && clock_tsc_mult_shift(clock_cal_hz, &c->mult, &c->shift) < 0)
		err = errno;
	if (err) {
		if (mode == CLOCK_MODE_TSC) {
			snprintf(why, why_len, "--clock tsc: %s", clock_cal_why[0] ? clock_cal_why : strerror(err));
			errno = err;
			return -1;
		}
		snprintf(c->fallback, sizeof(c->fallback), "%s", clock_cal_why[0] ? clock_cal_why : strerror(err));
		return 0;
	}
	c->tsc = true;
	c->tsc_hz = clock_cal_hz;
	/* The anchor: the TSC and CLOCK_MONOTONIC at (almost) the same instant. */
	__clock_pair(&c->tsc_base, &c->ns_base);
	return 0;
}
