/*
 * histogram.c's bucket layout: histogram_bucket_low inverts histogram_index,
 * the lows rise, and the top bucket takes everything above. With --layout it
 * prints every bucket's low, one a line: test/histogram.test.ts compares them
 * with the TypeScript mirror (src/analysis/histogram.ts), which reads the
 * results the addon returns.
 */
#include <stdint.h>
#include <string.h>

#include "../core/histogram.c"
#include "ctest.h"

int main(int argc, char **argv)
{
	unsigned i, bad = 0;

	if (argc > 1 && !strcmp(argv[1], "--layout")) {
		for (i = 0; i < HIST_BUCKETS; i++)
			printf("%llu\n", (unsigned long long)histogram_bucket_low(i));
		return 0;
	}
	for (i = 0; i < HIST_BUCKETS; i++) {
		uint64_t low = histogram_bucket_low(i);

		bad += histogram_index(low) != i;
		bad += i && low <= histogram_bucket_low(i - 1);
		/* The value just below a bucket's low lands in the bucket before. */
		bad += i && histogram_index(low - 1) != i - 1;
	}
	CHECK(bad == 0);
	CHECK(histogram_index(0) == 0 && histogram_index(UINT64_MAX) == HIST_BUCKETS - 1);
	CHECK(histogram_bucket_low(HIST_VAL * 2) == HIST_VAL * 2);
	{
		struct histogram a, b;

		histogram_reset(&a);
		histogram_reset(&b);
		histogram_add(&a, 1000);
		histogram_add(&b, 5);
		histogram_add(&b, 1u << 20);
		histogram_merge(&a, &b);
		CHECK(a.count == 3 && a.min_ns == 5 && a.max_ns == 1u << 20 && a.sum_ns == 1000 + 5 + (1u << 20));
		CHECK(a.buckets[histogram_index(1000)] == 1 && a.buckets[5] == 1);
	}
	{
		/* n equal values at once are n adds (worker_io_done's runs of equal latencies). */
		static const uint64_t values[] = { 0, 7, 128, 1000, 123456789 };
		struct histogram one, many;
		unsigned v, k;

		histogram_reset(&one);
		histogram_reset(&many);
		for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			for (k = 0; k < 32 + v; k++)
				histogram_add(&one, values[v]);
			histogram_add_n(&many, values[v], 32 + v);
		}
		CHECK(memcmp(&one, &many, sizeof(one)) == 0);
	}
	return ctest_done("histogram_test");
}
