/*
 * ioctl: the synchronous NVME_IOCTL_IO64_CMD on /dev/ngXnY, one command in
 * flight per worker. The passthrough path that does not scale.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "engine.h"
#include "nvme.h"
#include "nvme_cmd.h"

static int ioctl_init(struct worker *w)
{
	w->priv = calloc(1, sizeof(struct io_unit *));
	if (!w->priv)
		return -1;
	return worker_open_target(w);
}

static int ioctl_queue(struct worker *w, struct io_unit *io)
{
	*(struct io_unit **)w->priv = io;
	return 0;
}

static int ioctl_commit(struct worker *w, unsigned nr, unsigned min_complete)
{
	const struct job *job = &w->run->job;
	struct io_unit *io = *(struct io_unit **)w->priv;
	struct nvme_passthru_cmd64 cmd;
	struct nvme_cmd_desc d;
	int ret;

	if (!nr || !io)
		return 0;
	*(struct io_unit **)w->priv = NULL;
	nvme_cmd_prep(job, io, &d);
	nvme_cmd_to_passthru(&d, &cmd);
	ret = ioctl(w->fd, NVME_IOCTL_IO64_CMD, &cmd);
	io->result = cmd.result;
	counter_add(&w->submit_calls, 1);
	counter_add(&w->submitted, 1);
	counter_add(&w->reap_calls, 1);
	counter_add(&w->reaped, 1);
	worker_pt_done(w, io, ret < 0 ? -errno : ret, clock_now_ns());
	return 0;
}

static int ioctl_reap(struct worker *w, unsigned min_complete)
{
	return 0;
}

static void ioctl_exit(struct worker *w)
{
	worker_close_target(w);
	free(w->priv);
	w->priv = NULL;
}

const struct engine_ops ioctl_ops = {
	.name = "ioctl",
	.commands = JOB_CMDS_ALL,
	.init = ioctl_init,
	.queue = ioctl_queue,
	.commit = ioctl_commit,
	.reap = ioctl_reap,
	.exit = ioctl_exit,
};
