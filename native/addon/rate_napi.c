/*
 * Node-API for open-loop rates (core/rate.h): rateIops and ratePoisson in
 * the job, result.rate out: the workers' schedules summed, their latency
 * from the due time merged into one histogram.
 */
#include <stdlib.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"

/* rateIops (this worker's share, > 0) and ratePoisson, both optional. Returns the bad field or NULL. */
const char *rate_napi_parse_job(napi_env env, napi_value obj, struct job *job)
{
	napi_value v;
	int r = napi_util_get(env, obj, "rateIops", &v);

	job->rate_iops = 0;
	job->rate_poisson = false;
	if (r == 0)
		return NULL;
	/* TypeScript keeps it within RATE_MAX_IOPS; a gap below 0.1 ns would overflow nothing but mean nothing. */
	if (r < 0 || napi_get_value_double(env, v, &job->rate_iops) != napi_ok || !(job->rate_iops > 0) ||
	    job->rate_iops > RATE_MAX_IOPS)
		return "rateIops";
	if (napi_util_get_bool(env, obj, "ratePoisson", &job->rate_poisson) < 0)
		return "ratePoisson";
	return NULL;
}

/* result.rate: issued, late, maxLagNs, and the due-time histogram as result.histogram is laid out. */
void rate_napi_result(napi_env env, napi_value out, const struct run *run)
{
	struct histogram *merged;
	uint64_t issued = 0, late = 0, max_lag = 0;
	napi_value obj, hist, n;
	uint32_t i;

	if (!run->job.rate_iops || !run->workers)
		return;
	merged = malloc(sizeof(*merged));
	if (!merged)
		return;
	histogram_reset(merged);
	for (i = 0; i < run->nr_workers; i++) {
		const struct rate_sched *r = run->workers[i].rate;

		if (!r)
			continue;
		histogram_merge(merged, &r->sched_lat);
		issued += r->issued;
		late += r->late;
		if (r->max_lag_ns > max_lag)
			max_lag = r->max_lag_ns;
	}
	if (napi_create_object(env, &obj) != napi_ok || napi_create_array_with_length(env, HIST_BUCKETS, &hist) != napi_ok) {
		free(merged);
		return;
	}
	for (i = 0; i < HIST_BUCKETS; i++) {
		napi_create_double(env, (double)merged->buckets[i], &n);
		napi_set_element(env, hist, i, n);
	}
	napi_set_named_property(env, obj, "histogram", hist);
	napi_util_set_number(env, obj, "latencyCount", (double)merged->count);
	napi_util_set_number(env, obj, "latencySumNs", (double)merged->sum_ns);
	napi_util_set_number(env, obj, "latencyMinNs", merged->count ? (double)merged->min_ns : 0);
	napi_util_set_number(env, obj, "latencyMaxNs", (double)merged->max_ns);
	napi_util_set_number(env, obj, "issued", (double)issued);
	napi_util_set_number(env, obj, "late", (double)late);
	napi_util_set_number(env, obj, "maxLagNs", (double)max_lag);
	napi_set_named_property(env, out, "rate", obj);
	free(merged);
}
