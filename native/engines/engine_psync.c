/* psync: pread/pwrite, one I/O in flight per worker. The plain baseline. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "engine.h"
#include "workload_cmd.h"

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
		ret = w->cmd->fd_is_blk ? ioctl(w->fd, BLKZEROOUT, range)
				   : fallocate(w->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)io->offset, (off_t)io->len);
		break;
	case JOB_CMD_TRIM:
		ret = w->cmd->fd_is_blk ? ioctl(w->fd, BLKDISCARD, range)
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

static int psync_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	struct io_unit *io = worker_sync_take(w);
	ssize_t ret;

	if (!io)
		return 0;
	if (io->op == IO_OP_CMD)
		ret = __psync_command(w, io);
	else if (io->is_write)
		ret = pwrite(w->fd, io->buf, io->len, (off_t)io->offset);
	else
		ret = pread(w->fd, io->buf, io->len, (off_t)io->offset);
	worker_io_done(w, io, ret < 0 ? -(int64_t)errno : (int64_t)ret, clock_lat_now(&w->run->clock));
	return 0;
}

const struct engine_ops psync_ops = {
	.name = "psync",
	.commands = JOB_CMD_BIT(JOB_CMD_WRITE_ZEROES) | JOB_CMD_BIT(JOB_CMD_TRIM) | JOB_CMD_BIT(JOB_CMD_FLUSH),
	.init = worker_open_target,
	.queue = worker_sync_queue,
	.commit = psync_commit,
	.reap = worker_sync_reap,
	.exit = worker_close_target,
	.sync = true,
};
