/*
 * Flexible Data Placement (NVMe 2.0, TP4146): the commands that read what an
 * endurance group offers (the FDP feature, the FDP Configurations and
 * Statistics logs, the namespace's Reclaim Unit Handle Status), their
 * parsers, and the write tag. Device data is not trusted as a size: every
 * parser stays inside the buffer it was given.
 */
#ifndef NVMEBENCH_NVME_FDP_H
#define NVMEBENCH_NVME_FDP_H

#include <stddef.h>
#include <stdint.h>

#include "nvme_cmd.h"

#define NVME_CTRATT_FDPS (1U << 19) /* Identify Controller CTRATT: FDP supported */
#define NVME_FEAT_FDP 0x1d          /* Flexible Data Placement: CDW11 the endurance group */
#define NVME_LOG_FDP_CONFIGS 0x20
#define NVME_LOG_FDP_STATS 0x22
#define NVME_CMD_IO_MGMT_RECV 0x12
#define NVME_DTYPE_PLACEMENT 2      /* Directive Type: data placement */
#define NVME_FDP_MAX_RUH 128        /* reclaim unit handles kept per configuration */
#define NVME_FDP_LOG_LEN 4096       /* one page: each log is read up to this much */

struct nvme_fdp_config {
	uint8_t fdpa;    /* attributes: bit 7 valid, 3:0 RGIF */
	uint32_t nrg;    /* reclaim groups */
	uint16_t nruh;   /* reclaim unit handles */
	uint16_t maxpids;
	uint32_t nnss;
	uint64_t runs;   /* reclaim unit nominal size, bytes */
	uint32_t erutl;
	uint16_t nruht;  /* how many of ruht[] were read (nruh, at most NVME_FDP_MAX_RUH) */
	uint8_t ruht[NVME_FDP_MAX_RUH]; /* 1 initially isolated, 2 persistently isolated */
};

/* The FDP Statistics log's counters (low 64 bits of each 128-bit field; hi: any high bit set). */
struct nvme_fdp_stats {
	uint64_t hbmw; /* host bytes with metadata written */
	uint64_t mbmw; /* media bytes with metadata written */
	uint64_t mbe;  /* media bytes erased */
	int hi;
};

/* Identify Controller CTRATT (bytes 99:96) and Identify Namespace ENDGID (bytes 103:102). */
uint32_t nvme_fdp_ctratt(const uint8_t *id_ctrl);
uint16_t nvme_fdp_endgid(const uint8_t *id_ns);

/* Get Log Page for an endurance group log: LSI (CDW11 31:16) is the group. len: bytes, a multiple of 4. */
void nvme_fdp_cmd_log(struct nvme_cmd_desc *cmd, uint8_t lid, uint16_t endgid, void *buf, uint32_t len);
/* Get Features, FDP (1Dh) for the endurance group: dword 0 bit 0 FDPE, 15:8 FDPCIDX. */
void nvme_fdp_cmd_feature(struct nvme_cmd_desc *cmd, uint16_t endgid);
/* I/O Management Receive, Reclaim Unit Handle Status (MO 1h) into buf. */
void nvme_fdp_cmd_ruhs(struct nvme_cmd_desc *cmd, uint32_t nsid, void *buf, uint32_t len);

/*
 * Configuration `index` of an FDP Configurations log of len bytes. -1,
 * errno EINVAL and a sentence in err when the log has no such configuration
 * or a descriptor runs past the buffer.
 */
int nvme_fdp_parse_config(const uint8_t *log, uint32_t len, unsigned index, struct nvme_fdp_config *cfg, char *err, size_t errlen);
void nvme_fdp_parse_stats(const uint8_t *log, struct nvme_fdp_stats *st);
/*
 * The placement identifiers of a Reclaim Unit Handle Status buffer, and each
 * one's RUAMW (logical blocks its reclaim unit can still take; ruamw may be
 * NULL), at most max of them; returns how many were reported (may exceed max).
 */
uint32_t nvme_fdp_parse_ruhs(const uint8_t *buf, uint32_t len, uint16_t *pids, uint64_t *ruamw, uint32_t max);

/* Tag a write: DTYPE in CDW12 23:20, the placement identifier in DSPEC (CDW13 31:16). */
static inline void nvme_fdp_tag(uint32_t *cdw12, uint32_t *cdw13, uint16_t pid)
{
	*cdw12 = (*cdw12 & ~(0xfU << 20)) | ((uint32_t)NVME_DTYPE_PLACEMENT << 20);
	*cdw13 = (*cdw13 & 0xffffU) | ((uint32_t)pid << 16);
}

#endif
