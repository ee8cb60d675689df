/*
 * perf.c's ring reader on a hand-made ring: samples and a LOST record, one
 * sample wrapping the end of the data area, the tail handed back; the IP
 * table counting repeats and dropping what does not fit; and, where the
 * kernel lets this process sample itself, a real cpu-clock event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/perf.c"
#include "ctest.h"

#define DATA_SIZE 4096

static uint8_t *ring_data(struct perf_sampler *s)
{
	return (uint8_t *)s->ring + 4096;
}

/* Write len bytes at position pos of the circular data area, wrapping as the kernel does. */
static void put(struct perf_sampler *s, uint64_t pos, const void *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		ring_data(s)[(pos + i) % DATA_SIZE] = ((const uint8_t *)src)[i];
}

static uint64_t put_sample(struct perf_sampler *s, uint64_t pos, uint64_t ip)
{
	struct { struct perf_event_header h; uint64_t ip; } rec = { { PERF_RECORD_SAMPLE, 0, sizeof(rec) }, ip };

	put(s, pos, &rec, sizeof(rec));
	return pos + sizeof(rec);
}

static uint64_t put_lost(struct perf_sampler *s, uint64_t pos, uint64_t lost)
{
	struct { struct perf_event_header h; uint64_t id, lost; } rec = { { PERF_RECORD_LOST, 0, sizeof(rec) }, 1, lost };

	put(s, pos, &rec, sizeof(rec));
	return pos + sizeof(rec);
}

static uint64_t count_of(const struct perf_sampler *s, uint64_t ip)
{
	uint32_t i;

	for (i = 0; i < PERF_TABLE_SLOTS; i++)
		if (s->table[i].count && s->table[i].ip == ip)
			return s->table[i].count;
	return 0;
}

static void test_fake_ring(void)
{
	struct perf_sampler *s;
	struct perf_event_mmap_page *meta;
	uint64_t pos;

	CHECK(perf_sampler_alloc(&s) == 0);
	s->ring = calloc(1, 4096 + DATA_SIZE);
	meta = s->ring;
	meta->data_offset = 4096;
	meta->data_size = DATA_SIZE;
	s->ready = 1;
	/* Start near the end, so that the third sample's ip straddles the wrap. */
	pos = DATA_SIZE - 40;
	meta->data_tail = pos;
	pos = put_sample(s, pos, 0xffffffff81200010ULL);
	pos = put_sample(s, pos, 0x7f0000001000ULL);
	pos = put_sample(s, pos, 0xffffffff81200010ULL);
	pos = put_lost(s, pos, 7);
	meta->data_head = pos;
	perf_sampler_drain(s);
	CHECK(s->samples == 3);
	CHECK(count_of(s, 0xffffffff81200010ULL) == 2);
	CHECK(count_of(s, 0x7f0000001000ULL) == 1);
	CHECK(s->lost == 7);
	CHECK(s->used == 2);
	CHECK(meta->data_tail == pos);
	/* Nothing new: a second drain changes nothing. */
	perf_sampler_drain(s);
	CHECK(s->samples == 3);
	free(s->ring);
	s->ring = NULL;
	perf_sampler_free(s);
}

static void test_table_full(void)
{
	struct perf_sampler *s;
	uint64_t ip;

	CHECK(perf_sampler_alloc(&s) == 0);
	for (ip = 1; ip <= PERF_TABLE_SLOTS + 3; ip++)
		__perf_count(s, ip * 16);
	CHECK(s->used == PERF_TABLE_SLOTS);
	CHECK(s->dropped == 3);
	CHECK(s->samples == PERF_TABLE_SLOTS + 3);
	perf_sampler_free(s);
}

static void test_real_event(void)
{
	struct perf_sampler *s;
	char msg[256];
	struct timespec t0, t;
	volatile uint64_t spin = 0;

	CHECK(perf_sampler_alloc(&s) == 0);
	setenv("NVMEBENCH_EXPLAIN_EVENT", "cpu-clock", 1);
	if (perf_sampler_open(s, msg, sizeof(msg)) < 0) {
		printf("perf_test: no real event (%s), skipping that part\n", msg);
		perf_sampler_free(s);
		return;
	}
	CHECK(s->kind == PERF_KIND_CPU_CLOCK);
	perf_sampler_enable(s);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do {
		spin++;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) < 100000000LL);
	perf_sampler_disable(s);
	perf_sampler_drain(s);
	/* 100 ms of CPU at one sample per 500 us: about 200. */
	CHECK(s->samples > 100 && s->samples < 400);
	CHECK(s->count >= 90000000ULL && s->count < 200000000ULL);
	CHECK(s->lost == 0);
	perf_sampler_free(s);
}

int main(void)
{
	test_fake_ring();
	test_table_full();
	test_real_event();
	return ctest_done("perf_test");
}
