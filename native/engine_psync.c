/* psync: pread/pwrite, one I/O in flight per worker. The plain baseline. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "engine.h"

/*
 * The block layer's own calls for the commands it has: BLKZEROOUT and
 * BLKDISCARD on a block device, fallocate on a file, fdatasync for flush.
 */
static int64_t __psync_command(struct worker *w, struct io_unit *io)
{
	uint64_t range[2] = { io->offset, io->len };
	int ret;

	switch (w->run->job.command) {
	case JOB_CMD_WRITE_ZEROES:
		ret = w->fd_is_blk ? ioctl(w->fd, BLKZEROOUT, range)
				   : fallocate(w->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)io->offset, (off_t)io->len);
		break;
	case JOB_CMD_TRIM:
		ret = w->fd_is_blk ? ioctl(w->fd, BLKDISCARD, range)
				   : fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)io->offset, (off_t)io->len);
		break;
	case JOB_CMD_FLUSH:
		ret = fdatasync(w->fd);
		break;
	default:
		errno = EOPNOTSUPP;
		ret = -1;
		break;
	}
	return ret < 0 ? -(int64_t)errno : (int64_t)io->len;
}

static int psync_init(struct worker *w)
{
	w->priv = calloc(1, sizeof(struct io_unit *));
	if (!w->priv)
		return -1;
	return worker_open_target(w);
}

static int psync_queue(struct worker *w, struct io_unit *io)
{
	*(struct io_unit **)w->priv = io;
	return 0;
}

static int psync_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	struct io_unit *io = *(struct io_unit **)w->priv;
	ssize_t ret;

	if (!nr || !io)
		return 0;
	*(struct io_unit **)w->priv = NULL;
	if (io->op == IO_OP_CMD)
		ret = __psync_command(w, io);
	else if (io->is_write)
		ret = pwrite(w->fd, io->buf, io->len, (off_t)io->offset);
	else
		ret = pread(w->fd, io->buf, io->len, (off_t)io->offset);
	counter_add(&w->submit_calls, 1);
	counter_add(&w->submitted, 1);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, 1);
	worker_io_done(w, io, ret < 0 ? -(int64_t)errno : (int64_t)ret, clock_now_ns());
	return 0;
}

static int psync_reap(struct worker *w, unsigned min_complete)
{
	return 0;
}

static void psync_exit(struct worker *w)
{
	worker_close_target(w);
	free(w->priv);
	w->priv = NULL;
}

const struct engine_ops psync_ops = {
	.name = "psync",
	.commands = JOB_CMD_BIT(JOB_CMD_WRITE_ZEROES) | JOB_CMD_BIT(JOB_CMD_TRIM) | JOB_CMD_BIT(JOB_CMD_FLUSH),
	.init = psync_init,
	.queue = psync_queue,
	.commit = psync_commit,
	.reap = psync_reap,
	.exit = psync_exit,
};
