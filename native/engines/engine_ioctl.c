/*
 * ioctl: the synchronous NVME_IOCTL_IO64_CMD on /dev/ngXnY, one command in
 * flight per worker. The passthrough path that does not scale.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "engine.h"
#include "nvme.h"
#include "nvme_cmd.h"

static int ioctl_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	const struct job *job = &w->run->job;
	struct io_unit *io = worker_sync_take(w);
	struct nvme_passthru_cmd64 cmd;
	struct nvme_cmd_desc d;
	int ret;

	if (!io)
		return 0;
	nvme_cmd_prep(job, io, &d);
	nvme_cmd_to_passthru(&d, &cmd);
	ret = ioctl(w->fd, NVME_IOCTL_IO64_CMD, &cmd);
	io->result = cmd.result;
	worker_pt_done(w, io, ret < 0 ? -errno : ret, clock_lat_now(&w->run->clock));
	return 0;
}

const struct engine_ops ioctl_ops = {
	.name = "ioctl",
	.commands = JOB_CMDS_ALL,
	.init = worker_open_target,
	.queue = worker_sync_queue,
	.commit = ioctl_commit,
	.reap = worker_sync_reap,
	.exit = worker_close_target,
	.nvme = true,
	.sync = true,
};
