/*
 * --explain's part of a worker's result: the event, its period, the sample
 * counts and the table of instruction pointers (as hex strings: kernel
 * addresses do not fit a double) with their counts.
 */
#include <stdio.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"
#include "perf_napi.h"

void perf_napi_result(napi_env env, napi_value wo, const struct worker *w)
{
	static const char *const kinds[] = { "none", "cycles", "cpu-clock" };
	const struct perf_sampler *s = w->perf;
	napi_value ex, ips, counts, v;
	uint32_t i, n = 0;
	char hex[24];

	if (!s)
		return;
	napi_create_object(env, &ex);
	napi_util_set_string(env, ex, "event", kinds[s->kind]);
	napi_util_set_number(env, ex, "period", (double)s->period);
	napi_util_set_number(env, ex, "count", (double)s->count);
	napi_util_set_number(env, ex, "samples", (double)s->samples);
	napi_util_set_number(env, ex, "lost", (double)s->lost);
	napi_util_set_number(env, ex, "dropped", (double)s->dropped);
	napi_create_array_with_length(env, s->used, &ips);
	napi_create_array_with_length(env, s->used, &counts);
	for (i = 0; i < PERF_TABLE_SLOTS; i++) {
		const struct perf_slot *slot = &s->table[i];

		if (!slot->count)
			continue;
		snprintf(hex, sizeof(hex), "%llx", (unsigned long long)slot->ip);
		napi_create_string_utf8(env, hex, NAPI_AUTO_LENGTH, &v);
		napi_set_element(env, ips, n, v);
		napi_create_double(env, (double)slot->count, &v);
		napi_set_element(env, counts, n, v);
		n++;
	}
	napi_set_named_property(env, ex, "ips", ips);
	napi_set_named_property(env, ex, "counts", counts);
	napi_set_named_property(env, wo, "explain", ex);
}
