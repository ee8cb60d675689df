/*
 * Every NVMe I/O command nvmebench sends, built in one place (see
 * nvme_cmd.h). Command layouts follow the NVM Command Set and the Zoned
 * Namespace Command Set specifications; multi-byte fields in data buffers
 * are little endian, as the host is.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "nvme.h"
#include "nvme_cmd.h"
#include "nvme_fdp.h"

/* The names TypeScript uses for job.command. */
static const char *const job_command_names[JOB_CMD_COUNT] = {
	[JOB_CMD_RW] = "rw",
	[JOB_CMD_WRITE_ZEROES] = "write-zeroes",
	[JOB_CMD_TRIM] = "trim",
	[JOB_CMD_VERIFY] = "verify",
	[JOB_CMD_COMPARE] = "compare",
	[JOB_CMD_FLUSH] = "flush",
	[JOB_CMD_COPY] = "copy",
	[JOB_CMD_ZONE_APPEND] = "zone-append",
	[JOB_CMD_RAW] = "raw",
};

const char *job_command_id(enum job_command command)
{
	return (unsigned)command < JOB_CMD_COUNT ? job_command_names[command] : "?";
}

/* For messages: plain reads and writes read better in words. */
const char *job_command_name(enum job_command command)
{
	return command == JOB_CMD_RW ? "read/write" : job_command_id(command);
}

int job_command_parse(const char *name)
{
	int c;

	for (c = 0; c < JOB_CMD_COUNT; c++)
		if (!strcmp(name, job_command_names[c]))
			return c;
	return -1;
}

int job_command_writes(const struct job *job)
{
	switch (job->command) {
	case JOB_CMD_WRITE_ZEROES:
	case JOB_CMD_TRIM:
	case JOB_CMD_COMPARE: /* its pattern pass */
	case JOB_CMD_COPY:
	case JOB_CMD_ZONE_APPEND:
	case JOB_CMD_RAW:     /* whatever the opcode does: TypeScript checked the safety */
		return 1;
	default:
		return job->read_percent < 100;
	}
}

uint64_t nvme_copy_source(const struct job *job, uint64_t dest_offset, uint32_t range)
{
	/*
	 * Destination block d (in the upper half) gathers its N chunks from
	 * source chunks i*H + d (i < N) of the lower half, H blocks long: the
	 * ranges of one Copy lie H*bs/N bytes apart, and every source chunk is
	 * copied by exactly one destination block.
	 */
	uint64_t half = job->copy_src_blocks;
	uint64_t d = (dest_offset - job->offset) / job->block_size - half;
	uint64_t chunk = job->block_size / job->copy_ranges;

	return job->offset + ((uint64_t)range * half + d) * chunk;
}

static inline void __put_le16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void __put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void __put_le64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* SLBA in CDW10-11, NLB (0's based) in CDW12 bits 15:0 */
static inline void __cmd_range(struct nvme_cmd_desc *cmd, uint64_t slba, uint32_t nlb)
{
	cmd->cdw10 = (uint32_t)slba;
	cmd->cdw11 = (uint32_t)(slba >> 32);
	cmd->cdw12 = (nlb - 1) & 0xffff;
}

static inline void __cmd_data(struct nvme_cmd_desc *cmd, void *addr, uint32_t len, uint8_t dir)
{
	cmd->addr = (uint64_t)(uintptr_t)addr;
	cmd->data_len = len;
	cmd->dir = dir;
}

void nvme_cmd_prep(const struct job *job, struct io_unit *io, struct nvme_cmd_desc *cmd)
{
	uint32_t lba = job->lba_size;
	uint64_t slba = io->offset / lba;
	uint32_t nlb = io->len / lba;
	uint8_t *d;
	uint32_t i;

	memset(cmd, 0, sizeof(*cmd));
	cmd->nsid = job->nsid;
	if (io->op == IO_OP_ZONE_RESET) {
		cmd->opcode = NVME_CMD_ZONE_MGMT_SEND;
		cmd->cdw10 = (uint32_t)slba;
		cmd->cdw11 = (uint32_t)(slba >> 32);
		cmd->cdw13 = 0x04; /* ZSA: Reset Zone */
		return;
	}
	if (io->op == IO_OP_RW || job->command == JOB_CMD_RW) {
		cmd->opcode = io->is_write ? NVME_CMD_WRITE : NVME_CMD_READ;
		__cmd_range(cmd, slba, nlb);
		/* Metadata formats: extended LBAs move theirs inline, separate ones point at the slot's metadata. */
		__cmd_data(cmd, io->buf, pi_data_xfer(&job->pi, io->len), io->is_write ? NVME_DIR_TO_DEV : NVME_DIR_FROM_DEV);
		cmd->meta_len = pi_meta_xfer(&job->pi, io->len);
		if (cmd->meta_len)
			cmd->meta_addr = (uint64_t)(uintptr_t)io->meta;
		pi_cmd_dwords(&job->pi, slba, &cmd->cdw12, &cmd->cdw14, &cmd->cdw15);
		if (io->is_write && job->fdp)
			nvme_fdp_tag(&cmd->cdw12, &cmd->cdw13, io->dspec);
		return;
	}
	switch (job->command) {
	case JOB_CMD_WRITE_ZEROES:
		cmd->opcode = NVME_CMD_WRITE_ZEROES;
		__cmd_range(cmd, slba, nlb);
		break;
	case JOB_CMD_TRIM:
		/* Dataset Management, one range, Attribute - Deallocate (CDW11 bit 2) */
		cmd->opcode = NVME_CMD_DSM;
		cmd->cdw10 = 0; /* NR, 0's based */
		cmd->cdw11 = 1U << 2;
		d = io->cmd_buf;
		memset(d, 0, 16);
		__put_le32(d + 0, 0);   /* context attributes */
		__put_le32(d + 4, nlb); /* length in logical blocks, not 0's based */
		__put_le64(d + 8, slba);
		__cmd_data(cmd, io->cmd_buf, 16, NVME_DIR_TO_DEV);
		break;
	case JOB_CMD_VERIFY:
		cmd->opcode = NVME_CMD_VERIFY;
		__cmd_range(cmd, slba, nlb);
		break;
	case JOB_CMD_COMPARE:
		cmd->opcode = NVME_CMD_COMPARE;
		__cmd_range(cmd, slba, nlb);
		__cmd_data(cmd, io->buf, io->len, NVME_DIR_TO_DEV);
		break;
	case JOB_CMD_FLUSH:
		cmd->opcode = NVME_CMD_FLUSH;
		break;
	case JOB_CMD_COPY: {
		/* Simple Copy, descriptor format 0h: SDLBA in CDW10-11, NR (0's based) in CDW12 7:0 */
		uint32_t n = job->copy_ranges;
		uint32_t chunk_lbas = io->len / n / lba;

		cmd->opcode = NVME_CMD_COPY;
		cmd->cdw10 = (uint32_t)slba;
		cmd->cdw11 = (uint32_t)(slba >> 32);
		cmd->cdw12 = (n - 1) & 0xff;
		d = io->cmd_buf;
		memset(d, 0, (size_t)n * 32);
		for (i = 0; i < n; i++) {
			/* bytes 15:08 SLBA, 17:16 NLB (0's based) */
			__put_le64(d + i * 32 + 8, nvme_copy_source(job, io->offset, i) / lba);
			__put_le16(d + i * 32 + 16, (uint16_t)(chunk_lbas - 1));
		}
		__cmd_data(cmd, io->cmd_buf, n * 32, NVME_DIR_TO_DEV);
		break;
	}
	case JOB_CMD_ZONE_APPEND:
		/* ZSLBA in CDW10-11: io->offset is the zone's start */
		cmd->opcode = NVME_CMD_ZONE_APPEND;
		__cmd_range(cmd, slba, nlb);
		__cmd_data(cmd, io->buf, io->len, NVME_DIR_TO_DEV);
		break;
	case JOB_CMD_RAW:
		cmd->opcode = job->raw_opcode;
		cmd->cdw10 = job->raw_cdw[0];
		cmd->cdw11 = job->raw_cdw[1];
		cmd->cdw12 = job->raw_cdw[2];
		cmd->cdw13 = job->raw_cdw[3];
		cmd->cdw14 = job->raw_cdw[4];
		cmd->cdw15 = job->raw_cdw[5];
		if (job->raw_dir != NVME_DIR_NONE && job->raw_data_len)
			__cmd_data(cmd, io->buf, job->raw_data_len, job->raw_dir);
		break;
	default:
		break;
	}
}

/* The fields NVME_IOCTL_ADMIN_CMD's and NVME_IOCTL_IO64_CMD's structs share, by name: both take the same descriptor. */
#define NVME_CMD_FILL_PASSTHRU(cmd, d)                  \
	do {                                            \
		memset((cmd), 0, sizeof(*(cmd)));       \
		(cmd)->opcode = (d)->opcode;            \
		(cmd)->nsid = (d)->nsid;                \
		(cmd)->addr = (d)->addr;                \
		(cmd)->data_len = (d)->data_len;        \
		(cmd)->cdw10 = (d)->cdw10;              \
		(cmd)->cdw11 = (d)->cdw11;              \
		(cmd)->cdw12 = (d)->cdw12;              \
		(cmd)->cdw13 = (d)->cdw13;              \
		(cmd)->cdw14 = (d)->cdw14;              \
		(cmd)->cdw15 = (d)->cdw15;              \
	} while (0)

void nvme_cmd_to_passthru(const struct nvme_cmd_desc *d, struct nvme_passthru_cmd64 *cmd)
{
	NVME_CMD_FILL_PASSTHRU(cmd, d);
	cmd->metadata = d->meta_addr;
	cmd->metadata_len = d->meta_len;
}

void nvme_cmd_to_admin(const struct nvme_cmd_desc *d, struct nvme_passthru_cmd *cmd)
{
	NVME_CMD_FILL_PASSTHRU(cmd, d);
}

int nvme_parse_ns_csi(const uint8_t *buf)
{
	unsigned off = 0;

	/* Descriptors: NIDT, NIDL, 2 reserved, then NIDL bytes; a zero NIDT ends the list. */
	while (off + 4 <= 4096 && buf[off]) {
		unsigned len = buf[off + 1];

		if (buf[off] == 0x04 && len >= 1 && off + 4 < 4096)
			return buf[off + 4];
		off += 4 + len;
	}
	return -1;
}

void nvme_cmd_report_zones(struct nvme_cmd_desc *cmd, uint32_t nsid, uint64_t slba, void *buf, uint32_t len)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = NVME_CMD_ZONE_MGMT_RECV;
	cmd->nsid = nsid;
	cmd->cdw10 = (uint32_t)slba;
	cmd->cdw11 = (uint32_t)(slba >> 32);
	cmd->cdw12 = len / 4 - 1; /* NUMD: dwords, 0's based */
	cmd->cdw13 = 1U << 16;    /* ZRA 0 (report zones), ZRASF 0 (all), partial report */
	__cmd_data(cmd, buf, len, NVME_DIR_FROM_DEV);
}

size_t nvme_report_zones_len(uint32_t *max)
{
	if (*max > NVME_REPORT_ZONES_MAX)
		*max = NVME_REPORT_ZONES_MAX;
	return (64 + (size_t)64 * *max + 4095) & ~(size_t)4095;
}

int nvme_report_zones(int fd, uint32_t nsid, uint64_t slba, void *buf, uint32_t len)
{
	struct nvme_passthru_cmd64 cmd;
	struct nvme_cmd_desc d;
	int ret;

	nvme_cmd_report_zones(&d, nsid, slba, buf, len);
	nvme_cmd_to_passthru(&d, &cmd);
	ret = ioctl(fd, NVME_IOCTL_IO64_CMD, &cmd);
	return ret < 0 ? -1 : ret;
}
