/*
 * Log-linear latency histogram in the manner of fio: values below 2^(BITS+1)
 * get a bucket each, above that every power of two is split into 2^BITS
 * linear buckets, so the error is at most 1/2^BITS (1.6% at BITS=6). Fixed
 * size, no allocation, one increment per I/O.
 */
#ifndef NVMEBENCH_HISTOGRAM_H
#define NVMEBENCH_HISTOGRAM_H

#include <stdint.h>

#define HIST_BITS 6
#define HIST_VAL (1U << HIST_BITS)
#define HIST_GROUPS 29
#define HIST_BUCKETS (HIST_GROUPS * HIST_VAL)

struct histogram {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t buckets[HIST_BUCKETS];
};

static inline unsigned histogram_index(uint64_t ns)
{
	unsigned msb, error_bits, idx;

	if (ns < (HIST_VAL << 1))
		return (unsigned)ns;
	msb = 63 - (unsigned)__builtin_clzll(ns);
	error_bits = msb - HIST_BITS;
	idx = ((error_bits + 1) << HIST_BITS) + (unsigned)((ns >> error_bits) & (HIST_VAL - 1));
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static inline void histogram_add(struct histogram *h, uint64_t ns)
{
	h->buckets[histogram_index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

/* n values of ns at once: what n histogram_add(h, ns) calls would do. */
static inline void histogram_add_n(struct histogram *h, uint64_t ns, uint64_t n)
{
	h->buckets[histogram_index(ns)] += n;
	h->count += n;
	h->sum_ns += ns * n;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void histogram_reset(struct histogram *h);
void histogram_merge(struct histogram *dst, const struct histogram *src);
uint64_t histogram_bucket_low(unsigned idx);

#endif
