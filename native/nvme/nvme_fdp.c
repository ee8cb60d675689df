/* Flexible Data Placement: commands, parsers (see nvme_fdp.h). Offsets are NVMe 2.0's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvme.h"
#include "nvme_fdp.h"

uint32_t nvme_fdp_ctratt(const uint8_t *id_ctrl)
{
	return nvme_le32(id_ctrl + 96);
}

uint16_t nvme_fdp_endgid(const uint8_t *id_ns)
{
	return nvme_le16(id_ns + 102);
}

static void __fdp_data(struct nvme_cmd_desc *cmd, void *buf, uint32_t len)
{
	cmd->addr = (uint64_t)(uintptr_t)buf;
	cmd->data_len = len;
	cmd->dir = NVME_DIR_FROM_DEV;
}

void nvme_fdp_cmd_log(struct nvme_cmd_desc *cmd, uint8_t lid, uint16_t endgid, void *buf, uint32_t len)
{
	uint32_t numd = len / 4 - 1; /* 0's based dwords */

	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = NVME_ADMIN_GET_LOG_PAGE;
	cmd->cdw10 = lid | ((numd & 0xffff) << 16);
	cmd->cdw11 = (numd >> 16) | ((uint32_t)endgid << 16);
	__fdp_data(cmd, buf, len);
}

void nvme_fdp_cmd_feature(struct nvme_cmd_desc *cmd, uint16_t endgid)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = NVME_ADMIN_GET_FEATURES;
	cmd->cdw10 = NVME_FEAT_FDP; /* SEL 0: current */
	cmd->cdw11 = endgid;
}

void nvme_fdp_cmd_ruhs(struct nvme_cmd_desc *cmd, uint32_t nsid, void *buf, uint32_t len)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = NVME_CMD_IO_MGMT_RECV;
	cmd->nsid = nsid;
	cmd->cdw10 = 1;           /* MO: Reclaim Unit Handle Status */
	cmd->cdw11 = len / 4 - 1; /* NUMD, 0's based */
	__fdp_data(cmd, buf, len);
}

int nvme_fdp_parse_config(const uint8_t *log, uint32_t len, unsigned index, struct nvme_fdp_config *cfg, char *err, size_t errlen)
{
	/* Header: NUMFDPC (0's based) at 0, SIZE at 4; descriptors from byte 16, each DSZE bytes long. */
	unsigned n = (unsigned)nvme_le16(log) + 1, i;
	uint32_t size = nvme_le32(log + 4), off = 16, dsze = 0;
	const uint8_t *d;

	memset(cfg, 0, sizeof(*cfg));
	if (size > len)
		size = len;
	if (index >= n) {
		snprintf(err, errlen, "the FDP configurations log lists %u configurations, none with index %u", n, index);
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i <= index; i++, off += dsze) {
		if (off + 64 > size) {
			snprintf(err, errlen, "the FDP configurations log ends (%u bytes) inside configuration %u", size, i);
			errno = EINVAL;
			return -1;
		}
		dsze = nvme_le16(log + off);
		if (dsze < 64) {
			snprintf(err, errlen, "the FDP configurations log gives configuration %u a size of %u bytes, under the 64 of its header", i, dsze);
			errno = EINVAL;
			return -1;
		}
	}
	off -= dsze;
	d = log + off;
	cfg->fdpa = d[2];
	cfg->nrg = nvme_le32(d + 4);
	cfg->nruh = nvme_le16(d + 8);
	cfg->maxpids = nvme_le16(d + 10);
	cfg->nnss = nvme_le32(d + 12);
	cfg->runs = nvme_le64(d + 16);
	cfg->erutl = nvme_le32(d + 24);
	/* The reclaim unit handle descriptors (4 bytes each) follow the 64-byte header, inside DSZE and the log. */
	for (i = 0; i < cfg->nruh && i < NVME_FDP_MAX_RUH; i++) {
		uint32_t at = off + 64 + 4 * i;

		if (at + 4 > off + dsze || at + 4 > size)
			break;
		cfg->ruht[i] = log[at];
	}
	cfg->nruht = (uint16_t)i;
	return 0;
}

void nvme_fdp_parse_stats(const uint8_t *log, struct nvme_fdp_stats *st)
{
	st->hbmw = nvme_le64(log);
	st->mbmw = nvme_le64(log + 16);
	st->mbe = nvme_le64(log + 32);
	st->hi = nvme_le64(log + 8) || nvme_le64(log + 24) || nvme_le64(log + 40);
}

uint32_t nvme_fdp_parse_ruhs(const uint8_t *buf, uint32_t len, uint16_t *pids, uint64_t *ruamw, uint32_t max)
{
	/* NRUHSD at bytes 15:14; 32-byte descriptors from byte 16: PID at 0, RUHID at 2, EARUTR at 4, RUAMW at 8. */
	uint32_t n = nvme_le16(buf + 14), i;

	for (i = 0; i < n && i < max && 16 + 32 * (i + 1) <= len; i++) {
		pids[i] = nvme_le16(buf + 16 + 32 * i);
		if (ruamw)
			ruamw[i] = nvme_le64(buf + 16 + 32 * i + 8);
	}
	return n;
}
