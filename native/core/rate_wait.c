/*
 * The worker's side of an open-loop rate: its schedule from the job, and what
 * it does while ahead of schedule with a slot free. Interrupt-driven engines
 * do not spin: with nothing in flight the thread sleeps until shortly before
 * the next I/O is due; with I/O in flight it waits for a completion, or until
 * then, whichever comes first (the engine's wait op). The last RATE_SPIN_NS
 * before a due time are spun, because a sleep wakes up tens of µs late and
 * that would count against the path as queueing. Polled engines (uring-poll,
 * pt-poll, vfio) keep polling: their CPU is spent on the poll loop anyway, and
 * it reaps completions as they land.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <sys/prctl.h>

#include "engine.h"
#include "rate.h"

/* Wake up at least this often while idle, so that stop() and the run's end are seen. */
#define RATE_MAX_IDLE_NS 50000000ULL

static bool __rate_engine_polls(const struct job *job)
{
	return job->engine == ENGINE_URING_POLL || job->engine == ENGINE_PT_POLL || job->engine == ENGINE_VFIO;
}

int rate_worker_init(struct worker *w)
{
	const struct job *job = &w->run->job;

	if (!(job->rate_iops > 0))
		return 0;
	w->rate = malloc(sizeof(*w->rate));
	if (!w->rate) {
		errno = ENOMEM;
		return -1;
	}
	rate_init(w->rate, job->rate_iops, job->rate_poisson, __rate_engine_polls(job),
		  w->rand_state ^ 0xd1b54a32d192ed03ULL);
	return 0;
}

/* The worker thread starts its schedule: timer slack of 1 µs, so a sleep ends near when it was asked to. */
void rate_worker_start(struct worker *w, uint64_t now)
{
	if (!w->rate)
		return;
	if (!w->rate->polls)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	rate_start(w->rate, now);
}

int rate_idle(struct worker *w, uint64_t now)
{
	struct rate_sched *r = w->rate;
	uint64_t wait = rate_wait_ns(r, now), end = w->run->end_ns;
	struct timespec ts;

	if (!wait || r->polls)
		return 0;
	if (end > now && wait > end - now)
		wait = end - now;
	if (wait > RATE_MAX_IDLE_NS)
		wait = RATE_MAX_IDLE_NS;
	if (wait <= RATE_SPIN_NS)
		return 0;
	wait -= RATE_SPIN_NS;
	if (w->inflight) {
		/* An engine without a timed wait (none today has in-flight I/O here and lacks one) spins. */
		return w->ops->wait ? w->ops->wait(w, wait) : 0;
	}
	ts.tv_sec = (time_t)(wait / 1000000000ULL);
	ts.tv_nsec = (long)(wait % 1000000000ULL);
	nanosleep(&ts, NULL); /* EINTR: the loop looks at the clock again */
	return 0;
}
