#include <string.h>
#include "histogram.h"

void histogram_reset(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

/* Lowest value that lands in bucket idx (the inverse of histogram_index). */
uint64_t histogram_bucket_low(unsigned idx)
{
	unsigned error_bits;

	if (idx < (HIST_VAL << 1))
		return idx;
	error_bits = (idx >> HIST_BITS) - 1;
	return ((uint64_t)1 << (error_bits + HIST_BITS)) + ((uint64_t)(idx & (HIST_VAL - 1)) << error_bits);
}
