/*
 * The common end of every completion, shared by worker_io_done and the
 * engines' inlined reaps: give the slot back, count the I/O, add its
 * latency. A reap handles a plain completion (a read or a write that moved
 * every byte, while measuring, with nothing to check) with these alone and
 * no call into worker.c, counting it in a harvest it publishes once;
 * everything else goes through worker_io_done, which ends with the same two
 * steps. What a completion does belongs here, so that
 * both paths do it.
 */
#ifndef NVMEBENCH_WORKER_DONE_H
#define NVMEBENCH_WORKER_DONE_H

#include "engine.h"

/* Put the run of equal latencies into the histogram. */
static inline void worker_lat_flush(struct worker *w)
{
	if (w->lat_run_n)
		histogram_add_n(&w->lat, w->lat_run_ns, w->lat_run_n);
	w->lat_run_n = 0;
}

/*
 * The I/Os of one batch carry one start stamp and those reaped in one harvest
 * one end stamp: their latencies are equal. A run of equal latencies is
 * counted and goes into the histogram once, when another latency breaks it or
 * measuring ends; the histogram is the same as with one add per I/O.
 */
static inline void worker_lat_add(struct worker *w, uint64_t ns)
{
	if (w->lat_run_n && ns == w->lat_run_ns) {
		w->lat_run_n++;
		return;
	}
	worker_lat_flush(w);
	w->lat_run_ns = ns;
	w->lat_run_n = 1;
}

/* Back on the free list. */
static inline void worker_slot_free(struct worker *w, struct io_unit *io)
{
	io->in_flight = false;
	w->free_slots[w->nr_free++] = io->index;
	w->inflight--;
}

/* The slot is free again (the overlap index, when there is one, is the caller's). */
static inline void worker_io_release(struct worker *w, struct io_unit *io, uint64_t now_ns)
{
	/* --rate-iops: every slot was busy until now (I/Os due meanwhile waited for one) */
	if (w->rate && w->inflight == w->depth)
		rate_slot_freed(w->rate, now_ns);
	worker_slot_free(w, io);
}

/* n more latencies of ns: joins the worker's run when equal, else flushes it and starts one. */
static inline void worker_lat_add_n(struct worker *w, uint64_t ns, uint64_t n)
{
	if (w->lat_run_n && ns == w->lat_run_ns) {
		w->lat_run_n += n;
		return;
	}
	worker_lat_flush(w);
	w->lat_run_ns = ns;
	w->lat_run_n = n;
}

/* A measured, successful I/O: the counters and the histogram. */
static inline void worker_io_account(struct worker *w, const struct io_unit *io, uint64_t now_ns)
{
	counter_add(&w->done, 1);
	counter_add(&w->bytes, io->len);
	if (io->is_write)
		w->write_ios++;
	else
		w->read_ios++;
	if (io->start_ns) {
		worker_lat_add(w, now_ns - io->start_ns);
		if (__builtin_expect(w->rate != NULL, 0) && io->sched_ns) /* --rate-iops: the latency from when it was due, too */
			rate_io_timed(w->rate, io->sched_ns, now_ns);
	}
}

/*
 * Whether this worker's plain completions may skip worker_io_done: measuring
 * (not ramping), and nothing to check, index or schedule per I/O (no
 * --verify, no overlap tracking, no --rate-iops: the open-loop hooks stay in
 * worker_io_done's path). Constant within one harvest: read it once per reap.
 */
static inline bool worker_done_plain(const struct worker *w)
{
	return !w->ramping && !w->overlap_head && !w->run->job.verify && !w->rate;
}

/*
 * One harvest's plain completions, counted in registers and published once
 * at its end (worker_harvest_end): what worker_io_account does per I/O,
 * without a store to the worker per counter per I/O. The counters are read
 * once a second by the live line; a harvest is at most a ring's worth of
 * completions. Completions that are not plain still go through
 * worker_io_done, straight to the worker; the sums are the same.
 */
struct worker_harvest {
	uint64_t done;
	uint64_t bytes;
	uint64_t reads;
	uint64_t run_ns;  /* the harvest's latest run of equal latencies */
	uint64_t run_n;
};

static inline void worker_harvest_begin(struct worker_harvest *h)
{
	h->done = h->bytes = h->reads = h->run_ns = h->run_n = 0;
}

static inline void worker_harvest_end(struct worker *w, struct worker_harvest *h)
{
	if (!h->done)
		return;
	counter_add(&w->done, h->done);
	counter_add(&w->bytes, h->bytes);
	w->read_ios += h->reads;
	w->write_ios += h->done - h->reads;
	if (h->run_n)
		worker_lat_add_n(w, h->run_ns, h->run_n);
}

/* A completion of res bytes (a NOP's 0 already turned into len): into the harvest when plain, else worker_io_done. */
static inline void worker_io_done_inline(struct worker *w, struct io_unit *io, int64_t res, uint64_t now_ns, bool plain,
					 struct worker_harvest *h)
{
	if (__builtin_expect(plain && io->op == IO_OP_RW && res == (int64_t)io->len, 1)) {
		worker_slot_free(w, io);
		h->done++;
		h->bytes += io->len;
		h->reads += !io->is_write;
		if (io->start_ns) {
			uint64_t ns = now_ns - io->start_ns;

			if (h->run_n && ns == h->run_ns) {
				h->run_n++;
			} else {
				if (h->run_n)
					worker_lat_add_n(w, h->run_ns, h->run_n);
				h->run_ns = ns;
				h->run_n = 1;
			}
		}
		return;
	}
	worker_io_done(w, io, res, now_ns);
}

#endif
