/*
 * Node-API for the per-interval figures (core/series.h): the job's interval
 * in, each worker's finished intervals out, drained by series(handle) during
 * the run and by the result for what is left.
 */
#include <errno.h>
#include <stdlib.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"
#include "series.h"

/* intervalMs and seriesSlots: optional (absent: no series). Returns the bad field or NULL. */
const char *series_napi_parse_job(napi_env env, napi_value obj, struct job *job)
{
	uint64_t interval_ms = 0;
	uint32_t slots = 0;
	int r = napi_util_get_u64(env, obj, "intervalMs", &interval_ms);

	if (r < 0)
		return "intervalMs";
	if (r == 0 || !interval_ms)
		return NULL;
	if (napi_util_get_u32(env, obj, "seriesSlots", &slots) <= 0 || !slots || slots > 4096)
		return "seriesSlots";
	job->interval_ns = clock_mul_sat(interval_ms, 1000000ULL);
	job->series_slots = slots;
	return NULL;
}

/* One point as an object; lat holds the interval's non-empty buckets as flat [index, count, …] pairs. */
static napi_value __series_point(napi_env env, uint32_t worker, const struct series_point *p)
{
	napi_value o, pairs, v;
	uint32_t i, n = 0;

	napi_create_object(env, &o);
	napi_util_set_number(env, o, "worker", worker);
	napi_util_set_number(env, o, "index", p->index);
	napi_get_boolean(env, p->last, &v);
	napi_set_named_property(env, o, "last", v);
	napi_util_set_number(env, o, "startNs", (double)p->start_ns);
	napi_util_set_number(env, o, "endNs", (double)p->end_ns);
	napi_util_set_number(env, o, "ios", (double)p->ios);
	napi_util_set_number(env, o, "bytes", (double)p->bytes);
	napi_util_set_number(env, o, "errors", (double)p->errors);
	napi_util_set_number(env, o, "userUs", (double)p->user_us);
	napi_util_set_number(env, o, "sysUs", (double)p->sys_us);
	napi_util_set_number(env, o, "latCount", (double)p->lat.count);
	napi_util_set_number(env, o, "latSumNs", (double)p->lat.sum_ns);
	napi_util_set_number(env, o, "latMinNs", p->lat.count ? (double)p->lat.min_ns : 0);
	napi_util_set_number(env, o, "latMaxNs", (double)p->lat.max_ns);
	napi_create_array(env, &pairs);
	for (i = 0; i < HIST_BUCKETS; i++) {
		if (!p->lat.buckets[i])
			continue;
		napi_create_uint32(env, i, &v);
		napi_set_element(env, pairs, n++, v);
		napi_create_double(env, (double)p->lat.buckets[i], &v);
		napi_set_element(env, pairs, n++, v);
	}
	napi_set_named_property(env, o, "lat", pairs);
	return o;
}

/* Every finished interval of every worker not read yet, and the dropped count so far; NULL on failure (thrown). */
napi_value series_napi_drain(napi_env env, const struct run *run)
{
	struct series_point *p;
	napi_value out, points;
	uint64_t dropped = 0;
	uint32_t i, n = 0;

	if (napi_create_object(env, &out) != napi_ok || napi_create_array(env, &points) != napi_ok)
		return NULL;
	p = malloc(sizeof(*p)); /* 15 KiB: not on the stack of the JavaScript thread */
	if (!p)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	for (i = 0; i < run->nr_workers; i++) {
		struct series *s = run->workers[i].series;

		if (!s)
			continue;
		while (series_read(s, p))
			napi_set_element(env, points, n++, __series_point(env, i, p));
		dropped += load_relaxed(&s->dropped);
	}
	free(p);
	napi_set_named_property(env, out, "points", points);
	napi_util_set_number(env, out, "dropped", (double)dropped);
	return out;
}

/* result.series: what the polls left, read after the workers joined. */
void series_napi_result(napi_env env, napi_value out, const struct run *run)
{
	napi_value s;

	if (!run->job.interval_ns || !(s = series_napi_drain(env, run)))
		return;
	napi_set_named_property(env, out, "series", s);
}
