/*
 * Node-API for the whole-system CPU figures (core/sysstat.h): the job's
 * interrupt names in, the run's snapshot deltas out as result.system.
 */
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"
#include "sysstat.h"

/* irqNames: the action-name prefixes of the controller's vectors. Optional (absent: none). Returns the bad field or NULL. */
const char *sysstat_napi_parse_job(napi_env env, napi_value obj, struct job *job)
{
	napi_value arr;
	uint32_t i, n;
	int r = napi_util_get(env, obj, "irqNames", &arr);

	job->irq_names.count = 0;
	if (r == 0)
		return NULL;
	if (r < 0 || napi_get_array_length(env, arr, &n) != napi_ok || n > SYSSTAT_MAX_IRQ_NAMES)
		return "irqNames";
	for (i = 0; i < n; i++) {
		napi_value v;
		size_t len;

		if (napi_get_element(env, arr, i, &v) != napi_ok ||
		    napi_get_value_string_utf8(env, v, job->irq_names.name[i], SYSSTAT_NAME_LEN, &len) != napi_ok || !len ||
		    len >= SYSSTAT_NAME_LEN - 1)
			return "irqNames";
	}
	job->irq_names.count = n;
	return NULL;
}

static void __set_u64(napi_env env, napi_value obj, const char *key, uint64_t v)
{
	napi_util_set_number(env, obj, key, (double)v);
}

static void __set_bool(napi_env env, napi_value obj, const char *key, bool v)
{
	napi_value b;

	napi_get_boolean(env, v, &b);
	napi_set_named_property(env, obj, key, b);
}

/* [cpu, ns]: one CPU's figure, as result.system's per-CPU arrays hold them. */
static napi_value __sysstat_napi_pair(napi_env env, uint32_t cpu, uint64_t ns)
{
	napi_value pair, v;

	napi_create_array_with_length(env, 2, &pair);
	napi_create_uint32(env, cpu, &v);
	napi_set_element(env, pair, 0, v);
	napi_create_double(env, (double)ns, &v);
	napi_set_element(env, pair, 1, v);
	return pair;
}

/*
 * result.system: the interval's deltas in ns. cpuBusyNs and cpuStealNs are
 * [cpu, ns] pairs for every CPU online at both ends. Absent when no worker
 * began measuring.
 */
void sysstat_napi_result(napi_env env, napi_value out, const struct run *run)
{
	static const char *const fields[SYSSTAT_FIELDS] = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal" };
	struct sysstat_delta *d;
	napi_value sys, total, busy, steal, sources, s;
	uint32_t i, n = 0;
	unsigned f, cpu;

	if (!run->sysstat || !__atomic_load_n(&run->sysstat_ended, __ATOMIC_ACQUIRE))
		return;
	d = malloc(sizeof(*d));
	if (!d)
		return;
	sysstat_delta(run->sysstat, d);
	napi_create_object(env, &sys);
	__set_u64(env, sys, "elapsedNs", d->elapsed_ns);
	__set_bool(env, sys, "statValid", d->stat_valid);
	napi_create_object(env, &total);
	for (f = 0; f < SYSSTAT_FIELDS; f++)
		__set_u64(env, total, fields[f], d->total_ns[f]);
	napi_set_named_property(env, sys, "totalNs", total);
	napi_create_array(env, &busy);
	napi_create_array(env, &steal);
	for (cpu = 0; cpu < SYSSTAT_MAX_CPUS; cpu++) {
		if (!sysstat_cpu_present(d->cpu_present, cpu))
			continue;
		napi_set_element(env, busy, n, __sysstat_napi_pair(env, cpu, d->busy_ns[cpu]));
		napi_set_element(env, steal, n, __sysstat_napi_pair(env, cpu, d->steal_ns[cpu]));
		n++;
	}
	napi_set_named_property(env, sys, "cpuBusyNs", busy);
	napi_set_named_property(env, sys, "cpuStealNs", steal);
	__set_u64(env, sys, "helperCpuNs", d->helper_cpu_ns);
	__set_u64(env, sys, "helperVcsw", d->helper_vcsw);
	__set_u64(env, sys, "helperNvcsw", d->helper_nvcsw);
	__set_u64(env, sys, "helperThreads", d->helper_threads);
	__set_bool(env, sys, "helpersTruncated", d->helpers_truncated);
	if (d->irqs_valid)
		__set_u64(env, sys, "irqs", d->irqs);
	else
		napi_set_named_property(env, sys, "irqs", (napi_get_null(env, &s), s));
	napi_create_array(env, &sources);
	for (i = 0; i < run->sysstat->sources.count; i++) {
		napi_create_string_utf8(env, run->sysstat->sources.name[i], NAPI_AUTO_LENGTH, &s);
		napi_set_element(env, sources, i, s);
	}
	napi_set_named_property(env, sys, "irqSources", sources);
	__set_u64(env, sys, "processUserNs", d->proc_user_ns);
	__set_u64(env, sys, "processSysNs", d->proc_sys_ns);
	napi_set_named_property(env, out, "system", sys);
	free(d);
}
