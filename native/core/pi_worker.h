/*
 * Metadata and PI in the worker (pi.h has the format and the arithmetic):
 * each slot's data buffer holds an extended-LBA transfer, each slot gets a
 * separate metadata area (allocated once, at setup), and the worker writes
 * the PI tuples of a write and checks those of a verified read.
 */
#ifndef NVMEBENCH_PI_WORKER_H
#define NVMEBENCH_PI_WORKER_H

#include "engine.h"

/* Bytes between two slots' data buffers: the largest transfer, in whole pages. */
static inline size_t pi_buf_stride(const struct job *job)
{
	return ((size_t)pi_data_xfer(&job->pi, job->block_size) + 4095) & ~(size_t)4095;
}

/* Bytes between two slots' separate metadata areas (0: none), dword aligned as MPTR wants. */
static inline size_t pi_meta_stride(const struct job *job)
{
	return ((size_t)pi_meta_xfer(&job->pi, job->block_size) + 63) & ~(size_t)63;
}

/* Allocate the slots' metadata areas and point io->meta at them: 0, or -1 out of memory. */
int pi_worker_alloc(struct worker *w);

/* The tuples of a write at io->offset, into the slot's buffers. */
static inline void pi_io_generate(const struct job *job, struct io_unit *io)
{
	pi_generate(&job->pi, io->buf, io->meta, io->offset / job->pi.lba_size, io->len / job->pi.lba_size);
}

/* A verified read's tuples, when the worker owns PI (no PRACT): the blocks that fail, the first in msg. */
static inline unsigned pi_io_check(const struct job *job, const struct io_unit *io, char *msg, size_t msglen)
{
	if (!job->pi.generate)
		return 0;
	return pi_check(&job->pi, io->buf, io->meta, io->offset / job->pi.lba_size, io->len / job->pi.lba_size, msg, msglen);
}

#endif
