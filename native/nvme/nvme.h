/* NVMe command helpers: opcodes, status names, admin Identify over ioctl. */
#ifndef NVMEBENCH_NVME_H
#define NVMEBENCH_NVME_H

#include <stdint.h>
#include <stddef.h>

enum nvme_io_opcode {
	NVME_CMD_FLUSH = 0x00,
	NVME_CMD_WRITE = 0x01,
	NVME_CMD_READ = 0x02,
	NVME_CMD_COMPARE = 0x05,
	NVME_CMD_WRITE_ZEROES = 0x08,
	NVME_CMD_DSM = 0x09,
	NVME_CMD_VERIFY = 0x0c,
	NVME_CMD_COPY = 0x19,
	NVME_CMD_ZONE_APPEND = 0x7d,
};

enum nvme_admin_opcode {
	NVME_ADMIN_DELETE_SQ = 0x00,
	NVME_ADMIN_CREATE_SQ = 0x01,
	NVME_ADMIN_GET_LOG_PAGE = 0x02,
	NVME_ADMIN_DELETE_CQ = 0x04,
	NVME_ADMIN_CREATE_CQ = 0x05,
	NVME_ADMIN_IDENTIFY = 0x06,
	NVME_ADMIN_SET_FEATURES = 0x09,
	NVME_ADMIN_GET_FEATURES = 0x0a,
};

enum nvme_feature_id {
	NVME_FEAT_NUM_QUEUES = 0x07,
};

struct nvme_ns_info {
	uint32_t nsid;
	uint64_t nsze;
	uint64_t size_bytes; /* nsze * lba_size, checked not to overflow */
	uint64_t ncap;
	uint64_t nuse;
	uint32_t lba_size;
	uint32_t meta_size;
	int extended_meta;
	unsigned lba_format;
	unsigned nlbaf;
	unsigned dps;
	/* what the command workloads' support checks read */
	uint8_t dlfeat;
	uint16_t mssrl;  /* Copy: Maximum Single Source Range Length */
	uint32_t mcl;    /* Copy: Maximum Copy Length */
	uint8_t msrc;    /* Copy: Maximum Source Range Count, 0's based */
};

struct nvme_ctrl_info {
	char model[41];
	char serial[21];
	char firmware[9];
	uint16_t vid;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t version;
	uint16_t oacs;
	uint16_t oncs;
	uint8_t vwc;
	uint32_t nn;
	uint8_t lpa;
	uint16_t ocfs;
};

/* Identify Controller for the NVM command set (CNS 06h, CSI 00h). */
struct nvme_nvm_ctrl_info {
	uint8_t vsl;
	uint8_t wzsl;
	uint8_t dmrl;
	uint32_t dmrsl;
};

/* Identify Namespace for the Zoned command set (CNS 05h, CSI 02h), the formatted LBA format's zone size. */
struct nvme_zns_ns_info {
	uint16_t zoc;
	uint16_t ozcs;
	uint32_t mar;
	uint32_t mor;
	uint64_t zsze; /* LBAs */
	uint8_t zdes;
};

/* Identify and log pages are little-endian. */
static inline uint16_t nvme_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t nvme_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t nvme_le64(const uint8_t *p)
{
	return (uint64_t)nvme_le32(p) | ((uint64_t)nvme_le32(p + 4) << 32);
}

/* "LBA Out of Range (SCT 0x0, SC 0x80)" for a completion status word. */
void nvme_status_str(uint16_t status, char *buf, size_t len);
int nvme_get_nsid(int fd);
/* Admin commands over the kernel's ioctl: 0, > 0 an NVMe status, -1 with errno set. */
int nvme_identify_cns(int fd, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf);
int nvme_get_log_page(int fd, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len);
/* Identify Namespace; on data that does not make sense (see nvme_parse_id_ns) -1, EINVAL and a sentence in err. */
int nvme_identify_ns(int fd, uint32_t nsid, struct nvme_ns_info *info, char *err, size_t errlen);
int nvme_identify_ctrl(int fd, struct nvme_ctrl_info *info);
/* Parse the 4 KiB Identify data, however it was fetched (ioctl or the VFIO driver). */
/*
 * Parse Identify Namespace. Device data is not trusted as a size: a format
 * index past NLBAF, LBADS outside 9..31 or NSZE blocks over 2^64 bytes give
 * -1, errno EINVAL and a sentence in err naming the field.
 */
int nvme_parse_id_ns(const uint8_t *id, uint32_t nsid, struct nvme_ns_info *info, char *err, size_t errlen);
/* The formatted LBA format (FLBAS) and its LBA size, checked as above. */
int nvme_id_ns_lba_format(const uint8_t *id, unsigned *fmt, uint32_t *lba_size, char *err, size_t errlen);
void nvme_parse_id_ctrl(const uint8_t *id, struct nvme_ctrl_info *info);
void nvme_parse_id_ctrl_nvm(const uint8_t *id, struct nvme_nvm_ctrl_info *info);
/* lba_format: the namespace's formatted LBA format (nvme_ns_info.lba_format), whose LBA Format Extension is read. */
void nvme_parse_id_ns_zns(const uint8_t *id, unsigned lba_format, struct nvme_zns_ns_info *info);
/* Identify Controller for the Zoned command set (CNS 06h, CSI 02h): ZASL, a power of two of the minimum page. */
uint8_t nvme_parse_id_ctrl_zns_zasl(const uint8_t *id);

#endif
