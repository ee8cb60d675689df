#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "engine.h"
#include "series.h"

int series_alloc(struct series **out, uint64_t interval_ns, uint32_t nr_slots)
{
	struct series *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -1;
	s->slots = calloc(nr_slots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -1;
	}
	s->interval_ns = interval_ns;
	s->nr_slots = nr_slots;
	s->next_ns = UINT64_MAX; /* nothing until measuring begins */
	*out = s;
	return 0;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s);
}

static void __series_cpu(uint64_t *user_us, uint64_t *sys_us)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	*user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000ULL + (uint64_t)ru.ru_utime.tv_usec;
	*sys_us = (uint64_t)ru.ru_stime.tv_sec * 1000000ULL + (uint64_t)ru.ru_stime.tv_usec;
}

/* The grid boundary after now: boundaries sit at origin + k * interval for every worker alike. */
static void __series_next(struct series *s, uint64_t now_ns)
{
	uint64_t k = now_ns > s->origin_ns ? (now_ns - s->origin_ns) / s->interval_ns : 0;

	s->index = (uint32_t)k;
	s->next_ns = clock_add_sat(s->origin_ns, clock_mul_sat(k + 1, s->interval_ns));
}

void series_begin(struct worker *w, uint64_t origin_ns, uint64_t now_ns)
{
	struct series *s = w->series;

	s->origin_ns = origin_ns < now_ns ? origin_ns : now_ns;
	s->begin_ns = now_ns;
	s->ios_at = w->done;
	s->bytes_at = w->bytes;
	s->errors_at = w->errors;
	__series_cpu(&s->user_us_at, &s->sys_us_at);
	memcpy(&s->lat_at, &w->lat, sizeof(s->lat_at));
	__series_next(s, now_ns);
}

void series_tick(struct worker *w, uint64_t now_ns, bool last)
{
	struct series *s = w->series;
	uint64_t head = s->head, user_us, sys_us;
	struct series_point *p;
	unsigned i;

	worker_series_flush(w);
	__series_cpu(&user_us, &sys_us);
	if (head - __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE) >= s->nr_slots) {
		store_relaxed(&s->dropped, s->dropped + 1);
	} else {
		p = &s->slots[head % s->nr_slots];
		p->index = s->index;
		p->last = last;
		p->start_ns = s->begin_ns - s->origin_ns;
		p->end_ns = now_ns - s->origin_ns;
		p->ios = w->done - s->ios_at;
		p->bytes = w->bytes - s->bytes_at;
		p->errors = w->errors - s->errors_at;
		p->user_us = user_us - s->user_us_at;
		p->sys_us = sys_us - s->sys_us_at;
		/* The interval's histogram: the run's less what it held at the last boundary (min and max: the run's so far). */
		for (i = 0; i < HIST_BUCKETS; i++)
			p->lat.buckets[i] = w->lat.buckets[i] - s->lat_at.buckets[i];
		p->lat.count = w->lat.count - s->lat_at.count;
		p->lat.sum_ns = w->lat.sum_ns - s->lat_at.sum_ns;
		p->lat.min_ns = w->lat.min_ns;
		p->lat.max_ns = w->lat.max_ns;
		/* Do not let the reader see head before the slot is whole. */
		__atomic_store_n(&s->head, head + 1, __ATOMIC_RELEASE);
	}
	s->begin_ns = now_ns;
	s->ios_at = w->done;
	s->bytes_at = w->bytes;
	s->errors_at = w->errors;
	s->user_us_at = user_us;
	s->sys_us_at = sys_us;
	memcpy(&s->lat_at, &w->lat, sizeof(s->lat_at));
	if (last)
		s->next_ns = UINT64_MAX;
	else
		__series_next(s, now_ns);
}

bool series_read(struct series *s, struct series_point *out)
{
	uint64_t tail = s->tail;

	if (tail == __atomic_load_n(&s->head, __ATOMIC_ACQUIRE))
		return false;
	memcpy(out, &s->slots[tail % s->nr_slots], sizeof(*out));
	/* The slot is copied: the worker may write it again. */
	__atomic_store_n(&s->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}
