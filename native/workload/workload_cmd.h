/*
 * NVMe command workloads, beside the worker loop: one command over the
 * region instead of reads and writes (nvme_cmd.c builds it). The state a
 * worker needs for that (the descriptor buffers, the setup passes, zone
 * append's open zones, raw --dump) sits behind w->cmd, allocated only for a
 * command run; the loop calls in through the functions below.
 */
#ifndef NVMEBENCH_WORKLOAD_CMD_H
#define NVMEBENCH_WORKLOAD_CMD_H

#include <stddef.h>

#include "engine.h"

/* zone-append: one zone a worker appends to */
struct worker_zone {
	uint64_t index;    /* in the region */
	uint64_t reserved; /* bytes handed out to appends so far */
	bool active;
};

struct worker_cmd {
	enum job_command command;
	bool picks_block;        /* the loop picks each command's block (not flush, raw or zone-append) */
	bool stamps;             /* compare: each command carries the pattern */
	bool setup;              /* passes before the clock starts: zone resets, the pattern */
	bool fd_is_blk;          /* the block engines: fd is a block device (ioctls), not a file */
	void *bufs;              /* one NVME_CMD_BUF_SIZE buffer per slot (DSM ranges, Copy descriptors), or NULL */

	/* the setup passes */
	uint64_t prefill_start;  /* pattern pass (compare; copy --verify): blocks written before the run */
	uint64_t prefill_blocks;
	uint64_t prefill_next;
	uint64_t zone_reset_next;

	/* zone-append */
	struct worker_zone *zones_open;
	uint32_t nr_zones_open;
	uint32_t zone_rr;
	uint64_t zone_first;     /* this worker's zones: [zone_first, zone_end) */
	uint64_t zone_end;
	uint64_t zone_next;      /* next zone to open */
	uint64_t zones_used;
	uint64_t zone_appends_checked;
	uint64_t zone_outside;   /* appends that landed outside their zone */

	int dump_slot;           /* raw --dump: the slot of the last good completion, -1 none */
};

/* The blocks the main phase picks from: copy writes only destinations, in the upper half. */
static inline uint64_t worker_cmd_main_blocks(const struct job *job, uint64_t blocks)
{
	return job->command == JOB_CMD_COPY ? job->copy_src_blocks : blocks;
}

/* Run-wide: the values derived from the job, zone-append --verify's tags. -1 and errno on failure. */
int worker_cmd_run_init(struct run *run, uint64_t blocks);
void worker_cmd_run_free(struct run *run);

/* w->cmd for a command run (after the slots, before the engine's init); -1 and errno on failure. */
int worker_cmd_init(struct worker *w);
void worker_cmd_free(struct worker *w);

/* The main phase's command in io, at block when cmd->picks_block; false when nothing is left. */
bool worker_cmd_prep(struct worker *w, struct io_unit *io, uint64_t block);
/* The setup passes' next I/O (a zone reset or a pattern write); false when they are done. */
bool worker_cmd_prep_setup(struct worker *w, struct io_unit *io);
/* Setup I/O the engine issues outside its ring (zone_reset op), before the setup passes. */
void worker_cmd_setup_sync(struct worker *w);
/* A command (or zone reset) completed: false when the completion itself is an error (already counted). */
bool worker_cmd_done(struct worker *w, struct io_unit *io);
/* Read back after the run: what the command should have left there; the bad sectors, msg says where. */
unsigned worker_cmd_check_read(struct worker *w, struct io_unit *io, char *msg, size_t len);
/* The error message for a failed command or zone reset. */
void worker_cmd_error_msg(const struct worker *w, const struct io_unit *io, const char *what, char *msg, size_t len);
/* After the drain: raw --dump. */
void worker_cmd_finish(struct worker *w);

#endif
