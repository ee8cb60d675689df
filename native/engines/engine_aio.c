/* aio: Linux native AIO over the raw system calls (no libaio). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>

#include "engine.h"

struct aio_state {
	aio_context_t ctx;
	struct iocb *iocbs;
	struct iocb **pending;
	unsigned nr_pending;
	struct io_event *events;
};

static int aio_engine_init(struct worker *w)
{
	struct aio_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	w->priv = st;
	st->iocbs = calloc(w->depth, sizeof(*st->iocbs));
	st->pending = calloc(w->depth, sizeof(*st->pending));
	st->events = calloc(w->depth, sizeof(*st->events));
	if (!st->iocbs || !st->pending || !st->events)
		return -1;
	if (worker_open_target(w) < 0)
		return -1;
	if (syscall(__NR_io_setup, w->depth, &st->ctx) < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "io_setup(%u) failed: %s%s", w->depth, strerror(errno),
			 errno == EAGAIN ? " (raise fs.aio-max-nr)" : "");
		return -1;
	}
	return 0;
}

static int aio_queue(struct worker *w, struct io_unit *io)
{
	struct aio_state *st = w->priv;
	struct iocb *cb = &st->iocbs[io->index];

	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = (uint32_t)w->fd;
	if (io->op == IO_OP_CMD) {
		/* Linux AIO has fdatasync and nothing else of the block layer's commands. */
		cb->aio_lio_opcode = IOCB_CMD_FDSYNC;
	} else {
		cb->aio_lio_opcode = io->is_write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		cb->aio_buf = (uint64_t)(uintptr_t)io->buf;
		cb->aio_nbytes = io->len;
		cb->aio_offset = (int64_t)io->offset;
	}
	cb->aio_data = io->index;
	st->pending[st->nr_pending++] = cb;
	return 0;
}

static int aio_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	struct aio_state *st = w->priv;
	unsigned done = 0;

	while (done < st->nr_pending) {
		long ret = syscall(__NR_io_submit, st->ctx, (long)(st->nr_pending - done), st->pending + done);

		counter_add(&w->submit_calls, 1);
		if (ret < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		done += (unsigned)ret;
	}
	counter_add(&w->submitted, done);
	if (done && done < st->nr_pending)
		memmove(st->pending, st->pending + done, (st->nr_pending - done) * sizeof(*st->pending));
	st->nr_pending -= done;
	return 0;
}

static int __aio_reap(struct worker *w, unsigned min_complete, struct timespec *timeout)
{
	struct aio_state *st = w->priv;
	uint64_t now;
	long ret, i;

	if (!w->inflight)
		return 0;
	if (min_complete > w->inflight - st->nr_pending)
		min_complete = w->inflight - st->nr_pending;
	ret = syscall(__NR_io_getevents, st->ctx, (long)min_complete, (long)w->depth, st->events, timeout);
	if (ret < 0)
		return errno == EINTR ? 0 : -1;
	if (!ret)
		return 0;
	now = clock_lat_now(&w->run->clock);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, (uint64_t)ret);
	for (i = 0; i < ret; i++)
		worker_io_done(w, &w->ios[st->events[i].data], st->events[i].res, now);
	return (int)ret;
}

static int aio_reap(struct worker *w, unsigned min_complete)
{
	return __aio_reap(w, min_complete, NULL);
}

/* --rate-iops ahead of schedule: reap one completion or more, waiting at most timeout_ns (rate_wait.c). */
static int aio_wait(struct worker *w, uint64_t timeout_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000ULL), .tv_nsec = (long)(timeout_ns % 1000000000ULL) };

	return __aio_reap(w, 1, &ts) < 0 ? -1 : 0;
}

static void aio_exit(struct worker *w)
{
	struct aio_state *st = w->priv;

	if (st) {
		if (st->ctx)
			syscall(__NR_io_destroy, st->ctx);
		free(st->iocbs);
		free(st->pending);
		free(st->events);
		free(st);
		w->priv = NULL;
	}
	worker_close_target(w);
}

const struct engine_ops aio_ops = {
	.name = "aio",
	.commands = JOB_CMD_BIT(JOB_CMD_FLUSH),
	.init = aio_engine_init,
	.queue = aio_queue,
	.commit = aio_commit,
	.reap = aio_reap,
	.exit = aio_exit,
	.wait = aio_wait,
};
