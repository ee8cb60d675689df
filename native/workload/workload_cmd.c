/*
 * NVMe command workloads: what the worker loop hands to this unit when the
 * job runs a command instead of reads and writes. TypeScript has checked the
 * command against the engine and the device (src/engines/commands.ts); this
 * only derives what the loop needs and checks what the device did.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload_cmd.h"
#include "verify.h"
#include "nvme.h"
#include "nvme_cmd.h"

int worker_cmd_run_init(struct run *run, uint64_t blocks)
{
	struct job *job = &run->job;

	if (job->command == JOB_CMD_COPY)
		job->copy_src_blocks = blocks / 2;
	if (job->command == JOB_CMD_ZONE_APPEND && job->verify) {
		run->za_tags = calloc(blocks, sizeof(*run->za_tags));
		if (!run->za_tags)
			return -1;
	}
	return 0;
}

void worker_cmd_run_free(struct run *run)
{
	free(run->za_tags);
	run->za_tags = NULL;
}

/* The passes before the clock starts, over this worker's share. */
static void __worker_cmd_init_setup(struct worker *w, struct worker_cmd *c)
{
	const struct job *job = &w->run->job;
	uint64_t main_blocks = worker_cmd_main_blocks(job, job->size / job->block_size);
	uint64_t mslice = main_blocks / job->threads;
	bool last = w->id == job->threads - 1;

	if (job->command == JOB_CMD_COMPARE) {
		/* the pattern compare checks against, over the whole region */
		c->prefill_start = w->verify_start;
		c->prefill_blocks = w->verify_blocks;
	} else if (job->command == JOB_CMD_COPY && job->verify) {
		/* the pattern the copies carry, over the sources */
		c->prefill_start = mslice * w->id;
		c->prefill_blocks = last ? main_blocks - mslice * w->id : mslice;
	} else if (job->command == JOB_CMD_ZONE_APPEND) {
		/* each worker appends to its own zones, --zones of them open at a time in all */
		uint64_t nzones = job->size / job->zone_bytes, zslice = nzones / job->threads;
		uint64_t blocks_per_zone = job->zone_bytes / job->block_size;

		c->zone_first = zslice * w->id;
		c->zone_end = last ? nzones : zslice * (w->id + 1);
		c->zone_next = c->zone_first;
		c->zone_reset_next = c->zone_first;
		c->nr_zones_open = job->zones / job->threads + (w->id < job->zones % job->threads ? 1 : 0);
		w->verify_start = c->zone_first * blocks_per_zone;
		w->verify_blocks = (c->zone_end - c->zone_first) * blocks_per_zone;
	}
}

int worker_cmd_init(struct worker *w)
{
	const struct job *job = &w->run->job;
	struct worker_cmd *c;
	uint32_t i;

	if (job->command == JOB_CMD_RW)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	w->cmd = c;
	c->command = job->command;
	c->picks_block = job->command != JOB_CMD_FLUSH && job->command != JOB_CMD_RAW && job->command != JOB_CMD_ZONE_APPEND;
	c->stamps = job->command == JOB_CMD_COMPARE;
	c->setup = job->command == JOB_CMD_ZONE_APPEND || job->command == JOB_CMD_COMPARE ||
		   (job->command == JOB_CMD_COPY && job->verify);
	c->dump_slot = -1;
	__worker_cmd_init_setup(w, c);
	/* DSM ranges and Copy descriptors: a buffer per slot, filled by nvme_cmd_prep. */
	if (job->command == JOB_CMD_TRIM || job->command == JOB_CMD_COPY) {
		if (posix_memalign(&c->bufs, 4096, (size_t)NVME_CMD_BUF_SIZE * w->depth)) {
			c->bufs = NULL;
			return -1;
		}
		memset(c->bufs, 0, (size_t)NVME_CMD_BUF_SIZE * w->depth);
		for (i = 0; i < w->depth; i++)
			w->ios[i].cmd_buf = (char *)c->bufs + (size_t)NVME_CMD_BUF_SIZE * i;
	}
	if (job->command == JOB_CMD_ZONE_APPEND) {
		c->zones_open = calloc(c->nr_zones_open, sizeof(*c->zones_open));
		if (!c->zones_open)
			return -1;
	}
	return 0;
}

void worker_cmd_free(struct worker *w)
{
	struct worker_cmd *c = w->cmd;

	if (!c)
		return;
	/* Commands the drain gave up on may still read their descriptors: leaked with the data buffers. */
	if (!w->inflight)
		free(c->bufs);
	free(c->zones_open);
	free(c);
	w->cmd = NULL;
}

/* zone-append: the next open zone round robin, opening a fresh one for each that filled; false when none is left. */
static bool __worker_cmd_prep_append(struct worker *w, struct io_unit *io)
{
	struct worker_cmd *c = w->cmd;
	const struct job *job = &w->run->job;
	uint32_t tries;

	for (tries = 0; tries <= c->nr_zones_open; tries++) {
		struct worker_zone *z = &c->zones_open[c->zone_rr];

		if (++c->zone_rr == c->nr_zones_open)
			c->zone_rr = 0;
		if (z->active && z->reserved + w->block_size > job->zone_cap_bytes)
			z->active = false;
		if (!z->active) {
			if (c->zone_next >= c->zone_end)
				continue;
			z->index = c->zone_next++;
			z->reserved = 0;
			z->active = true;
			c->zones_used++;
		}
		z->reserved += w->block_size;
		io->is_write = true;
		io->offset = job->offset + z->index * job->zone_bytes;
		return true;
	}
	return false;
}

bool worker_cmd_prep(struct worker *w, struct io_unit *io, uint64_t block)
{
	const struct job *job = &w->run->job;

	io->op = IO_OP_CMD;
	switch (job->command) {
	case JOB_CMD_ZONE_APPEND:
		if (!__worker_cmd_prep_append(w, io))
			return false;
		if (job->verify) {
			io->tag = ++w->stamp_gen;
			verify_stamp(io->buf, io->len, io->offset, job->verify_seed, io->tag);
		}
		return true;
	case JOB_CMD_FLUSH:
	case JOB_CMD_RAW:
		/* The same command every time: no offset of ours in it. */
		io->is_write = job->read_percent < 100;
		io->offset = job->offset;
		io->len = job->command == JOB_CMD_RAW ? job->raw_data_len : 0;
		return true;
	case JOB_CMD_COPY:
		block += job->copy_src_blocks; /* the destination, in the upper half */
		break;
	default:
		break;
	}
	io->is_write = job->read_percent < 100;
	io->offset = job->offset + block * w->block_size;
	if (job->command == JOB_CMD_COMPARE)
		verify_stamp(io->buf, io->len, io->offset, job->verify_seed, NVME_PATTERN_GEN);
	return true;
}

/* Zone-append's zones reset first; compare and copy --verify write their pattern (never both). */
bool worker_cmd_prep_setup(struct worker *w, struct io_unit *io)
{
	struct worker_cmd *c = w->cmd;
	const struct job *job = &w->run->job;
	uint64_t block;

	if (c->zone_reset_next < c->zone_end) {
		io->op = IO_OP_ZONE_RESET;
		io->is_write = true;
		io->offset = job->offset + c->zone_reset_next++ * job->zone_bytes;
		io->len = 0;
		return true;
	}
	if (c->prefill_next >= c->prefill_blocks)
		return false;
	block = c->prefill_start + c->prefill_next++;
	io->is_write = true;
	io->offset = job->offset + block * w->block_size;
	verify_stamp(io->buf, io->len, io->offset, job->verify_seed, NVME_PATTERN_GEN);
	return true;
}

void worker_cmd_setup_sync(struct worker *w)
{
	struct worker_cmd *c = w->cmd;
	const struct job *job = &w->run->job;
	struct io_unit io = { .op = IO_OP_ZONE_RESET, .is_write = true };
	char what[128];
	int ret;

	if (!w->ops->zone_reset)
		return;
	for (; c->zone_reset_next < c->zone_end && !w->run->stop; c->zone_reset_next++) {
		io.offset = job->offset + c->zone_reset_next * job->zone_bytes;
		ret = w->ops->zone_reset(w, &io);
		if (ret) {
			if (ret > 0)
				nvme_status_str((uint16_t)ret, what, sizeof(what));
			else
				snprintf(what, sizeof(what), "%s", strerror(errno));
			worker_io_error(w, &io, what);
			c->zone_reset_next = c->zone_end; /* counted: the rest are not tried */
			return;
		}
	}
}

/* zone-append: the LBA the device wrote (CQE dwords 0-1) must lie in the zone appended to. */
static bool __worker_cmd_append_landed(struct worker *w, struct io_unit *io)
{
	struct worker_cmd *c = w->cmd;
	const struct job *job = &w->run->job;
	uint64_t zstart = io->offset, landed = io->result * job->lba_size;
	char what[ENGINE_ERRMSG_LEN];

	c->zone_appends_checked++;
	if (landed >= zstart && landed + io->len <= zstart + job->zone_cap_bytes && !((landed - zstart) % io->len)) {
		io->offset = landed;
		return true;
	}
	c->zone_outside++;
	snprintf(what, sizeof(what), "the device placed the append at LBA %llu, outside the zone appended to (LBA %llu to %llu, %u-LBA appends)",
		 (unsigned long long)io->result, (unsigned long long)(zstart / job->lba_size),
		 (unsigned long long)((zstart + job->zone_cap_bytes) / job->lba_size - 1), io->len / job->lba_size);
	worker_io_error(w, io, what);
	return false;
}

bool worker_cmd_done(struct worker *w, struct io_unit *io)
{
	struct run *run = w->run;

	if (io->op != IO_OP_CMD)
		return true;
	switch (run->job.command) {
	case JOB_CMD_ZONE_APPEND:
		if (!__worker_cmd_append_landed(w, io))
			return false;
		/* --verify: which append the read-back must find there */
		if (run->za_tags)
			run->za_tags[(io->offset - run->job.offset) / w->block_size] = io->tag;
		return true;
	case JOB_CMD_RAW:
		w->cmd->dump_slot = io->index;
		return true;
	default:
		return true;
	}
}

unsigned worker_cmd_check_read(struct worker *w, struct io_unit *io, char *msg, size_t len)
{
	const struct job *job = &w->run->job;
	uint64_t block = (io->offset - job->offset) / w->block_size;
	uint32_t pos, i, n;
	unsigned bad = 0;

	switch (job->command) {
	case JOB_CMD_WRITE_ZEROES:
		for (pos = 0; pos < io->len; pos += VERIFY_SECTOR) {
			const uint64_t *q = (const uint64_t *)((const char *)io->buf + pos);

			for (i = 0; i < VERIFY_SECTOR / 8; i++)
				if (q[i])
					break;
			if (i == VERIFY_SECTOR / 8)
				continue;
			if (!bad)
				snprintf(msg, len, "verify failed at byte offset %llu (sector %llu): not zeroes after write-zeroes",
					 (unsigned long long)(io->offset + pos), (unsigned long long)((io->offset + pos) / VERIFY_SECTOR));
			bad++;
		}
		return bad;
	case JOB_CMD_COPY:
		/* Sources hold the pattern at their own address; each destination the pattern of its sources. */
		if (block < job->copy_src_blocks)
			return verify_check(io->buf, io->len, io->offset, job->verify_seed, msg, len);
		n = job->copy_ranges;
		for (i = 0; i < n; i++) {
			uint32_t chunk = io->len / n;
			uint64_t src = nvme_copy_source(job, io->offset, i);
			char one[ENGINE_ERRMSG_LEN];
			unsigned b = verify_check((const char *)io->buf + (size_t)i * chunk, chunk, src, job->verify_seed, one, sizeof(one));

			if (b && !bad)
				snprintf(msg, len, "copy destination at byte offset %llu, range %u from byte offset %llu: %s",
					 (unsigned long long)(io->offset + (uint64_t)i * chunk), i, (unsigned long long)src, one);
			bad += b;
		}
		return bad;
	case JOB_CMD_ZONE_APPEND: {
		/* Stamped for the zone's start, with the tag of the append the device placed here. */
		uint64_t zstart = job->offset + (io->offset - job->offset) / job->zone_bytes * job->zone_bytes;
		uint32_t want = w->run->za_tags ? w->run->za_tags[block] : 0;

		bad = verify_check(io->buf, io->len, zstart, job->verify_seed, msg, len);
		if (!bad && verify_gen(io->buf) != want) {
			snprintf(msg, len, "verify failed at byte offset %llu (LBA %llu): it holds append #%u, but the device reported append #%u there",
				 (unsigned long long)io->offset, (unsigned long long)(io->offset / job->lba_size), verify_gen(io->buf), want);
			bad = io->len / VERIFY_SECTOR;
		}
		return bad;
	}
	default:
		return verify_check(io->buf, io->len, io->offset, job->verify_seed, msg, len);
	}
}

void worker_cmd_error_msg(const struct worker *w, const struct io_unit *io, const char *what, char *msg, size_t len)
{
	const struct job *job = &w->run->job;

	if (io->op == IO_OP_ZONE_RESET)
		snprintf(msg, len, "zone reset at byte offset %llu: %s", (unsigned long long)io->offset, what);
	else if (job->command == JOB_CMD_FLUSH)
		snprintf(msg, len, "flush: %s", what);
	else if (job->command == JOB_CMD_RAW)
		snprintf(msg, len, "raw opcode 0x%02x: %s", job->raw_opcode, what);
	else
		snprintf(msg, len, "%s at byte offset %llu (%u bytes): %s", job_command_name(job->command),
			 (unsigned long long)io->offset, io->len, what);
}

/* raw --dump: the data the last good command moved, from worker 0. */
void worker_cmd_finish(struct worker *w)
{
	const struct job *job = &w->run->job;
	const struct io_unit *io;
	ssize_t done;
	int fd;

	if (w->id || !job->dump_path[0] || w->cmd->dump_slot < 0)
		return;
	io = &w->ios[w->cmd->dump_slot];
	fd = open(job->dump_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		worker_fail(w, "cannot write --dump file %s: %s", job->dump_path, strerror(errno));
		return;
	}
	done = write(fd, io->buf, job->raw_data_len);
	if (done != (ssize_t)job->raw_data_len)
		worker_fail(w, "cannot write --dump file %s: %s", job->dump_path, done < 0 ? strerror(errno) : "short write");
	close(fd);
}
