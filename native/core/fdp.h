/*
 * --fdp: which placement identifier a worker's next write carries. No
 * allocation and no shared state: the list is the job's, the position (or
 * the random state) the worker's own.
 */
#ifndef NVMEBENCH_FDP_H
#define NVMEBENCH_FDP_H

#include "engine.h"

static inline uint16_t fdp_next_pid(struct worker *w, const struct job *job)
{
	uint32_t n = job->fdp_npids, x;

	switch (job->fdp_scheme) {
	case JOB_FDP_PER_WORKER:
		return job->fdp_pids[w->id % n];
	case JOB_FDP_RANDOM:
		/* xorshift32 on the worker's own state; 0 would stay 0, so seed it from the worker's id first */
		x = w->fdp_next ? w->fdp_next : 0x9e3779b9U ^ (w->id + 1) * 0x85ebca6bU;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w->fdp_next = x;
		return job->fdp_pids[(uint32_t)(((uint64_t)x * n) >> 32)];
	default:
		if (w->fdp_next >= n)
			w->fdp_next = 0;
		return job->fdp_pids[w->fdp_next++];
	}
}

#endif
