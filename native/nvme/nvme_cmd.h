/*
 * NVMe commands for the passthrough engines, built in one place. pt, pt-poll
 * and ioctl call nvme_cmd_prep() for every I/O, vfio for every I/O but plain
 * reads and writes (which it builds inline, the same way), and each copies
 * the result into its own command format (struct nvme_uring_cmd, struct
 * nvme_passthru_cmd64, an SQE). Also the admin and zone helpers behind the
 * support checks: Identify for the I/O command sets, the Commands Supported
 * and Effects log, Report Zones.
 */
#ifndef NVMEBENCH_NVME_CMD_H
#define NVMEBENCH_NVME_CMD_H

#include <stdint.h>
#include <linux/nvme_ioctl.h>
#include <stddef.h>

#include "engine.h"

/* Each slot's command buffer: 128 Copy descriptors of 32 bytes, or DSM ranges. */
#define NVME_CMD_BUF_SIZE 4096
#define NVME_COPY_MAX_RANGES (NVME_CMD_BUF_SIZE / 32)

/* The stamp generation of the pattern compare checks and copy copies. */
#define NVME_PATTERN_GEN 0x70617474u

enum nvme_cmd_opcode {
	NVME_CMD_ZONE_MGMT_SEND = 0x79,
	NVME_CMD_ZONE_MGMT_RECV = 0x7a,
};

/* Data direction, as opcode bits 1:0 encode it for standard commands. */
enum nvme_data_dir {
	NVME_DIR_NONE = 0,
	NVME_DIR_TO_DEV = 1,   /* host to controller */
	NVME_DIR_FROM_DEV = 2, /* controller to host */
};

/*
 * One NVMe I/O command, engine-neutral. addr is a host virtual address inside
 * the slot's data buffer (io->buf) or its command buffer (io->cmd_buf), or 0
 * when data_len is 0; an engine that does DMA itself (vfio) translates it.
 */
struct nvme_cmd_desc {
	uint8_t opcode;
	uint8_t dir;       /* enum nvme_data_dir */
	uint32_t nsid;
	uint64_t addr;
	uint32_t data_len; /* bytes */
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
	uint64_t meta_addr; /* separate metadata (io->meta), 0 for none */
	uint32_t meta_len;
};

/*
 * Build the command for io: io->op says what (a read/write by is_write, the
 * job's command, a zone reset), io->offset and io->len where (bytes, LBA
 * aligned). Writes the DSM range or the Copy descriptors into io->cmd_buf.
 * No allocation, no system call.
 */
/* The descriptor as NVME_IOCTL_IO64_CMD takes it. */
void nvme_cmd_to_passthru(const struct nvme_cmd_desc *d, struct nvme_passthru_cmd64 *cmd);
/* The same as NVME_IOCTL_ADMIN_CMD takes it (32-bit result; no metadata). */
void nvme_cmd_to_admin(const struct nvme_cmd_desc *d, struct nvme_passthru_cmd *cmd);
void nvme_cmd_prep(const struct job *job, struct io_unit *io, struct nvme_cmd_desc *cmd);

/* copy: byte offset of source range `range` for the destination block at dest_offset. */
uint64_t nvme_copy_source(const struct job *job, uint64_t dest_offset, uint32_t range);

/* "write-zeroes", "zone-append", ... */
const char *job_command_name(enum job_command command);
const char *job_command_id(enum job_command command);
int job_command_parse(const char *name);

/* Whether the job's command changes what the media holds (or its pattern pass does). */
int job_command_writes(const struct job *job);

/* The namespace's Command Set Identifier from its Identification Descriptor list (Identify CNS 03h, 4 KiB); -1 when none is given. */
int nvme_parse_ns_csi(const uint8_t *buf);
/* Report Zones answers with a 64-byte header and 64-byte descriptors: 1023 of them fill 64 KiB. */
#define NVME_REPORT_ZONES_MAX 1023
/* Zone Management Receive (Report Zones, all zones, partial) from slba into buf of len bytes, for every path. */
void nvme_cmd_report_zones(struct nvme_cmd_desc *cmd, uint32_t nsid, uint64_t slba, void *buf, uint32_t len);
/* The buffer for up to *max descriptors in whole 4 KiB pages; *max is held to NVME_REPORT_ZONES_MAX. */
size_t nvme_report_zones_len(uint32_t *max);
/* nvme_cmd_report_zones over NVME_IOCTL_IO64_CMD: 0, > 0 an NVMe status, -1 with errno. */
int nvme_report_zones(int fd, uint32_t nsid, uint64_t slba, void *buf, uint32_t len);

#endif
