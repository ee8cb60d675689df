/*
 * series.c: interval snapshots on the run's grid, the histogram difference
 * each carries, a full ring counting drops instead of blocking the worker,
 * and one producer against one consumer on two threads (no torn slot).
 */
#include <pthread.h>
#include <stdlib.h>

#include "../core/histogram.c"
#include "../core/series.c"
#include "ctest.h"

/* worker.c's, stubbed: these tests add straight to w->lat. */
void worker_series_flush(struct worker *w)
{
}

#define MS 1000000ULL

static struct worker *new_worker(uint32_t slots)
{
	struct worker *w = calloc(1, sizeof(*w));

	histogram_reset(&w->lat);
	if (series_alloc(&w->series, 100 * MS, slots) < 0)
		abort();
	return w;
}

static void free_worker(struct worker *w)
{
	series_free(w->series);
	free(w);
}

static void test_grid(void)
{
	struct worker *w = new_worker(8);
	struct series_point p;
	uint64_t origin = 5000 * MS;

	series_begin(w, origin, origin + 2 * MS);
	CHECK(w->series->next_ns == origin + 100 * MS);
	CHECK(!series_read(w->series, &p));
	w->done = 10;
	w->bytes = 40960;
	histogram_add_n(&w->lat, 1500, 10);
	series_check(w, w->series, origin + 99 * MS); /* before the boundary: nothing */
	CHECK(!series_read(w->series, &p));
	series_check(w, w->series, origin + 101 * MS);
	CHECK(series_read(w->series, &p));
	CHECK(p.index == 0 && !p.last);
	CHECK(p.start_ns == 2 * MS && p.end_ns == 101 * MS);
	CHECK(p.ios == 10 && p.bytes == 40960);
	CHECK(p.lat.count == 10 && p.lat.buckets[histogram_index(1500)] == 10);
	/* The next interval holds only what came after the boundary. */
	w->done = 13;
	histogram_add_n(&w->lat, 9000, 3);
	/* A stall over two boundaries: the point is the interval it began in, the next one on the grid. */
	series_check(w, w->series, origin + 350 * MS);
	CHECK(series_read(w->series, &p));
	CHECK(p.index == 1 && p.ios == 3 && p.lat.count == 3);
	CHECK(p.lat.buckets[histogram_index(1500)] == 0 && p.lat.buckets[histogram_index(9000)] == 3);
	CHECK(w->series->index == 3 && w->series->next_ns == origin + 400 * MS);
	series_tick(w, origin + 380 * MS, true);
	CHECK(series_read(w->series, &p));
	CHECK(p.last && p.index == 3 && p.ios == 0);
	CHECK(w->series->next_ns == UINT64_MAX);
	free_worker(w);
}

static void test_full_ring(void)
{
	struct worker *w = new_worker(2);
	struct series_point p;
	uint64_t t = 100 * MS;
	int i;

	series_begin(w, 0, 0);
	for (i = 0; i < 5; i++, t += 100 * MS) {
		w->done += 1;
		series_check(w, w->series, t);
	}
	CHECK(w->series->dropped == 3);
	CHECK(series_read(w->series, &p) && p.index == 0 && p.ios == 1);
	CHECK(series_read(w->series, &p) && p.index == 1 && p.ios == 1);
	CHECK(!series_read(w->series, &p));
	/* Dropped intervals' I/Os are not lost from the next one read: only their interval is. */
	w->done += 1;
	series_check(w, w->series, t);
	CHECK(series_read(w->series, &p) && p.index == 5 && p.ios == 1);
	free_worker(w);
}

#define TICKS 20000

static int producer_done;

static void *producer(void *arg)
{
	struct worker *w = arg;
	uint64_t t;

	for (t = 1; t <= TICKS; t++) {
		w->done += 1;
		histogram_add(&w->lat, 1000 + t);
		series_tick(w, t * 100 * MS, t == TICKS);
	}
	__atomic_store_n(&producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_threads(void)
{
	struct worker *w = new_worker(4);
	struct series_point *p = malloc(sizeof(*p));
	uint64_t seen = 0, ios = 0, last_index = 0;
	bool torn = false, order = true;
	pthread_t th;

	series_begin(w, 0, 0);
	pthread_create(&th, NULL, producer, w);
	for (;;) {
		/* The producer's flag first: a read after it sees every point it published. */
		int finished = __atomic_load_n(&producer_done, __ATOMIC_ACQUIRE);

		if (!series_read(w->series, p)) {
			if (finished)
				break;
			continue;
		}
		/* Every slot is whole: its I/O count and its histogram agree. */
		torn |= p->ios != p->lat.count;
		order &= !seen || p->index > last_index;
		last_index = p->index;
		ios += p->ios;
		seen++;
	}
	pthread_join(th, NULL);
	CHECK(!torn);
	CHECK(order);
	CHECK(seen + __atomic_load_n(&w->series->dropped, __ATOMIC_RELAXED) == TICKS);
	CHECK(ios <= TICKS);
	free(p);
	free_worker(w);
}

int main(void)
{
	test_grid();
	test_full_ring();
	test_threads();
	return ctest_done("series_test");
}
