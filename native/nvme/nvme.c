#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "nvme.h"

struct nvme_status_name {
	uint8_t sct;
	uint8_t sc;
	const char *name;
};

static const struct nvme_status_name nvme_status_names[] = {
	{ 0, 0x00, "Successful Completion" },
	{ 0, 0x01, "Invalid Command Opcode" },
	{ 0, 0x02, "Invalid Field in Command" },
	{ 0, 0x03, "Command ID Conflict" },
	{ 0, 0x04, "Data Transfer Error" },
	{ 0, 0x05, "Commands Aborted due to Power Loss Notification" },
	{ 0, 0x06, "Internal Error" },
	{ 0, 0x07, "Command Abort Requested" },
	{ 0, 0x08, "Command Aborted due to SQ Deletion" },
	{ 0, 0x09, "Command Aborted due to Failed Fused Command" },
	{ 0, 0x0a, "Command Aborted due to Missing Fused Command" },
	{ 0, 0x0b, "Invalid Namespace or Format" },
	{ 0, 0x0c, "Command Sequence Error" },
	{ 0, 0x0d, "Invalid SGL Segment Descriptor" },
	{ 0, 0x0e, "Invalid Number of SGL Descriptors" },
	{ 0, 0x0f, "Data SGL Length Invalid" },
	{ 0, 0x10, "Metadata SGL Length Invalid" },
	{ 0, 0x11, "SGL Descriptor Type Invalid" },
	{ 0, 0x12, "Invalid Use of Controller Memory Buffer" },
	{ 0, 0x13, "PRP Offset Invalid" },
	{ 0, 0x14, "Atomic Write Unit Exceeded" },
	{ 0, 0x15, "Operation Denied" },
	{ 0, 0x16, "SGL Offset Invalid" },
	{ 0, 0x18, "Host Identifier Inconsistent Format" },
	{ 0, 0x19, "Keep Alive Timer Expired" },
	{ 0, 0x1a, "Keep Alive Timeout Invalid" },
	{ 0, 0x1b, "Command Aborted due to Preempt and Abort" },
	{ 0, 0x1c, "Sanitize Failed" },
	{ 0, 0x1d, "Sanitize In Progress" },
	{ 0, 0x1e, "SGL Data Block Granularity Invalid" },
	{ 0, 0x20, "Namespace is Write Protected" },
	{ 0, 0x21, "Command Interrupted" },
	{ 0, 0x22, "Transient Transport Error" },
	{ 0, 0x80, "LBA Out of Range" },
	{ 0, 0x81, "Capacity Exceeded" },
	{ 0, 0x82, "Namespace Not Ready" },
	{ 0, 0x83, "Reservation Conflict" },
	{ 0, 0x84, "Format In Progress" },
	{ 1, 0x00, "Completion Queue Invalid" },
	{ 1, 0x01, "Invalid Queue Identifier" },
	{ 1, 0x02, "Invalid Queue Size" },
	{ 1, 0x03, "Abort Command Limit Exceeded" },
	{ 1, 0x05, "Asynchronous Event Request Limit Exceeded" },
	{ 1, 0x06, "Invalid Firmware Slot" },
	{ 1, 0x07, "Invalid Firmware Image" },
	{ 1, 0x08, "Invalid Interrupt Vector" },
	{ 1, 0x09, "Invalid Log Page" },
	{ 1, 0x0a, "Invalid Format" },
	{ 1, 0x0c, "Invalid Queue Deletion" },
	{ 1, 0x0d, "Feature Identifier Not Saveable" },
	{ 1, 0x0e, "Feature Not Changeable" },
	{ 1, 0x0f, "Feature Not Namespace Specific" },
	{ 1, 0x15, "Namespace Insufficient Capacity" },
	{ 1, 0x16, "Namespace Identifier Unavailable" },
	{ 1, 0x18, "Namespace Already Attached" },
	{ 1, 0x19, "Namespace Is Private" },
	{ 1, 0x1a, "Namespace Not Attached" },
	{ 1, 0x1b, "Thin Provisioning Not Supported" },
	{ 1, 0x1c, "Controller List Invalid" },
	{ 1, 0x80, "Conflicting Attributes" },
	{ 1, 0x81, "Invalid Protection Information" },
	{ 1, 0x82, "Attempted Write to Read Only Range" },
	{ 1, 0x83, "Command Size Limit Exceeded" },
	{ 1, 0xb8, "Zoned Boundary Error" },
	{ 1, 0xb9, "Zone Is Full" },
	{ 1, 0xba, "Zone Is Read Only" },
	{ 1, 0xbb, "Zone Is Offline" },
	{ 1, 0xbc, "Zone Invalid Write" },
	{ 1, 0xbd, "Too Many Active Zones" },
	{ 1, 0xbe, "Too Many Open Zones" },
	{ 1, 0xbf, "Invalid Zone State Transition" },
	{ 2, 0x80, "Write Fault" },
	{ 2, 0x81, "Unrecovered Read Error" },
	{ 2, 0x82, "End-to-end Guard Check Error" },
	{ 2, 0x83, "End-to-end Application Tag Check Error" },
	{ 2, 0x84, "End-to-end Reference Tag Check Error" },
	{ 2, 0x85, "Compare Failure" },
	{ 2, 0x86, "Access Denied" },
	{ 2, 0x87, "Deallocated or Unwritten Logical Block" },
	{ 3, 0x00, "Internal Path Error" },
	{ 3, 0x01, "Asymmetric Access Persistent Loss" },
	{ 3, 0x02, "Asymmetric Access Inaccessible" },
	{ 3, 0x03, "Asymmetric Access Transition" },
	{ 3, 0x60, "Controller Pathing Error" },
	{ 3, 0x70, "Host Pathing Error" },
	{ 3, 0x71, "Command Aborted By Host" },
};

/*
 * The kernel hands passthrough callers the CQE status field shifted right by
 * one (the phase bit dropped): SC in bits 0-7, SCT in 8-10, CRD 11-12,
 * More 13, DNR 14.
 */
void nvme_status_str(uint16_t status, char *buf, size_t len)
{
	unsigned sct = (status >> 8) & 0x7, sc = status & 0xff;
	const char *name = NULL;
	size_t i;

	for (i = 0; i < sizeof(nvme_status_names) / sizeof(nvme_status_names[0]); i++) {
		if (nvme_status_names[i].sct == sct && nvme_status_names[i].sc == sc) {
			name = nvme_status_names[i].name;
			break;
		}
	}
	snprintf(buf, len, "%s (SCT 0x%x, SC 0x%02x%s)", name ? name : (sct == 7 ? "Vendor Specific" : "Unknown Status"),
		 sct, sc, (status & 0x4000) ? ", DNR" : "");
}

int nvme_get_nsid(int fd)
{
	int ret = ioctl(fd, NVME_IOCTL_ID);

	return ret < 0 ? -1 : ret;
}

static int __nvme_admin(int fd, struct nvme_passthru_cmd *cmd)
{
	int ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, cmd);

	return ret < 0 ? -1 : ret;
}

int nvme_identify_cns(int fd, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf)
{
	struct nvme_passthru_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.nsid = nsid;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = 4096;
	cmd.cdw10 = cns;
	cmd.cdw11 = (uint32_t)csi << 24;
	return __nvme_admin(fd, &cmd);
}

int nvme_get_log_page(int fd, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len)
{
	struct nvme_passthru_cmd cmd;
	uint32_t numd = len / 4 - 1; /* 0's based dwords */

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_GET_LOG_PAGE;
	cmd.nsid = nsid;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = len;
	cmd.cdw10 = lid | ((numd & 0xffff) << 16);
	cmd.cdw11 = numd >> 16;
	cmd.cdw14 = (uint32_t)csi << 24;
	return __nvme_admin(fd, &cmd);
}

/* Identify for the NVM command set; an NVMe status becomes EIO. */
static int __nvme_identify(int fd, uint32_t nsid, uint32_t cns, void *buf)
{
	int ret = nvme_identify_cns(fd, nsid, (uint8_t)cns, 0, buf);

	if (ret > 0) {
		/* An NVMe status, not an errno: the controller refused. */
		errno = EIO;
		return -1;
	}
	return ret;
}

int nvme_id_ns_lba_format(const uint8_t *id, unsigned *fmt, uint32_t *lba_size, char *err, size_t errlen)
{
	unsigned flbas = id[26], nlbaf = (unsigned)id[25] + 1, lbads;

	/* FLBAS: format index in bits 0-3, its upper bits in 5-6; bit 4 extended LBA. */
	*fmt = (flbas & 0xf) | (((flbas >> 5) & 0x3) << 4);
	if (*fmt >= nlbaf) {
		snprintf(err, errlen, "Identify Namespace selects LBA format %u (FLBAS 0x%02x), but NLBAF says there are %u",
			 *fmt, flbas, nlbaf);
		errno = EINVAL;
		return -1;
	}
	/*
	 * LBADS is a power of two the device reports: 1U << 32 and up is
	 * undefined, and under 9 (512 bytes) the spec does not allow it.
	 */
	lbads = id[128 + 4 * *fmt + 2];
	if (lbads < 9 || lbads > 31) {
		snprintf(err, errlen, "LBA format %u has LBADS %u (2^%u-byte blocks), outside the 9 to 31 that is valid", *fmt,
			 lbads, lbads);
		errno = EINVAL;
		return -1;
	}
	*lba_size = 1U << lbads;
	return 0;
}

int nvme_parse_id_ns(const uint8_t *id, uint32_t nsid, struct nvme_ns_info *info, char *err, size_t errlen)
{
	const uint8_t *lbaf;
	unsigned fmt;

	memset(info, 0, sizeof(*info));
	info->nsid = nsid;
	info->nsze = nvme_le64(id + 0);
	info->ncap = nvme_le64(id + 8);
	info->nuse = nvme_le64(id + 16);
	info->nlbaf = (unsigned)id[25] + 1;
	info->extended_meta = (id[26] >> 4) & 1;
	info->dps = id[29];
	info->dlfeat = id[33];
	info->mssrl = nvme_le16(id + 74);
	info->mcl = nvme_le32(id + 76);
	info->msrc = id[80];
	/* An inactive namespace reads as zeros: no blocks, no format to check; the caller says so. */
	if (!info->nsze)
		return 0;
	if (nvme_id_ns_lba_format(id, &fmt, &info->lba_size, err, errlen) < 0)
		return -1;
	info->lba_format = fmt;
	lbaf = id + 128 + 4 * fmt;
	info->meta_size = nvme_le16(lbaf);
	/* The namespace's size in bytes must fit: offsets and region checks are 64-bit byte counts. */
	if (__builtin_mul_overflow(info->nsze, (uint64_t)info->lba_size, &info->size_bytes)) {
		snprintf(err, errlen, "namespace %u reports NSZE %llu blocks of %u bytes, more than 2^64 bytes", nsid,
			 (unsigned long long)info->nsze, info->lba_size);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int nvme_identify_ns(int fd, uint32_t nsid, struct nvme_ns_info *info, char *err, size_t errlen)
{
	uint8_t *id;
	int ret;

	if (posix_memalign((void **)&id, 4096, 4096))
		return -1;
	if (errlen)
		err[0] = '\0';
	memset(id, 0, 4096);
	ret = __nvme_identify(fd, nsid, 0x00, id);
	if (ret == 0 && nvme_parse_id_ns(id, nsid, info, err, errlen) < 0)
		ret = -1;
	free(id);
	return ret;
}

static void __nvme_copy_str(char *dst, const uint8_t *src, size_t len)
{
	size_t end = len;

	memcpy(dst, src, len);
	dst[len] = '\0';
	while (end && (dst[end - 1] == ' ' || dst[end - 1] == '\0'))
		dst[--end] = '\0';
}

void nvme_parse_id_ctrl(const uint8_t *id, struct nvme_ctrl_info *info)
{
	memset(info, 0, sizeof(*info));
	info->vid = nvme_le16(id + 0);
	__nvme_copy_str(info->serial, id + 4, 20);
	__nvme_copy_str(info->model, id + 24, 40);
	__nvme_copy_str(info->firmware, id + 64, 8);
	info->mdts = id[77];
	info->cntlid = nvme_le16(id + 78);
	info->version = nvme_le32(id + 80);
	info->oacs = nvme_le16(id + 256);
	info->nn = nvme_le32(id + 516);
	info->oncs = nvme_le16(id + 520);
	info->vwc = id[525];
	info->lpa = id[261];
	info->ocfs = nvme_le16(id + 534);
}

void nvme_parse_id_ctrl_nvm(const uint8_t *id, struct nvme_nvm_ctrl_info *info)
{
	memset(info, 0, sizeof(*info));
	info->vsl = id[0];
	info->wzsl = id[1];
	info->dmrl = id[3];
	info->dmrsl = nvme_le32(id + 4);
}

void nvme_parse_id_ns_zns(const uint8_t *id, unsigned lba_format, struct nvme_zns_ns_info *info)
{
	/* LBA Format Extension Data Structures from byte 2816, 16 bytes each: ZSZE, then ZDES. */
	const uint8_t *lbafe = id + 2816 + 16 * (lba_format & 0x3f);

	memset(info, 0, sizeof(*info));
	info->zoc = nvme_le16(id + 0);
	info->ozcs = nvme_le16(id + 2);
	info->mar = nvme_le32(id + 4);
	info->mor = nvme_le32(id + 8);
	info->zsze = nvme_le64(lbafe);
	info->zdes = lbafe[8];
}

uint8_t nvme_parse_id_ctrl_zns_zasl(const uint8_t *id)
{
	return id[0];
}

int nvme_identify_ctrl(int fd, struct nvme_ctrl_info *info)
{
	uint8_t *id;
	int ret;

	if (posix_memalign((void **)&id, 4096, 4096))
		return -1;
	memset(id, 0, 4096);
	ret = __nvme_identify(fd, 0, 0x01, id);
	if (ret == 0)
		nvme_parse_id_ctrl(id, info);
	free(id);
	return ret;
}
