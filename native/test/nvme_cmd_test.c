/*
 * nvme_cmd.c without a device: every command nvme_cmd_prep builds, checked
 * field by field against the NVM and Zoned Namespace Command Set layouts
 * (opcode, NSID, SLBA in CDW10-11, NLB 0's based in CDW12 15:0 and nothing
 * above it, the data pointer and direction), the DSM range and the Copy
 * descriptors it writes into the slot's command buffer, the passthrough copy,
 * the command names, the CSI parser, and Report Zones with ioctl() stubbed.
 *
 * The slot's buffers are malloc'd at their real sizes, so a descriptor
 * written past NVME_CMD_BUF_SIZE is an ASan report, not a quiet overwrite.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

/* Report Zones is the one call that leaves the process: record what it was given. */
static struct nvme_passthru_cmd64 ioctl_cmd;
static unsigned long ioctl_req;
static int ioctl_fd, ioctl_ret;

static int ctest_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;

	va_start(ap, req);
	ioctl_fd = fd;
	ioctl_req = req;
	memcpy(&ioctl_cmd, va_arg(ap, void *), sizeof(ioctl_cmd));
	va_end(ap);
	if (ioctl_ret < 0)
		errno = EBADF;
	return ioctl_ret;
}
#define ioctl ctest_ioctl

#include "../nvme/nvme_cmd.c"
#include "../core/verify.c"
#include "../core/pi.c" /* the metadata formats' arithmetic */
#include "ctest.h"

#define DATA_BYTES (64U << 20) /* the largest --bs */

static struct job job;
static struct io_unit io;
static struct nvme_cmd_desc cmd;
static uint8_t *cmd_buf;

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void set_job(enum job_command command, uint32_t lba_size)
{
	memset(&job, 0, sizeof(job));
	job.command = command;
	job.nsid = 3;
	job.lba_size = lba_size;
	job.block_size = 4096;
	job.copy_ranges = 1;
}

/* Build io's command into cmd; the command buffer is refilled with 0xa5 first, to see what gets written. */
static void prep(uint8_t op, uint64_t offset, uint32_t len, bool is_write)
{
	io.op = op;
	io.offset = offset;
	io.len = len;
	io.is_write = is_write;
	memset(cmd_buf, 0xa5, NVME_CMD_BUF_SIZE);
	memset(&cmd, 0x5a, sizeof(cmd));
	nvme_cmd_prep(&job, &io, &cmd);
}

/* SLBA in CDW10-11, NLB - 1 in CDW12 with no flags above bit 15, CDW13-15 clear. */
static int range_is(uint64_t slba, uint32_t nlb)
{
	return cmd.nsid == 3 && cmd.cdw10 == (uint32_t)slba && cmd.cdw11 == (uint32_t)(slba >> 32) && cmd.cdw12 == nlb - 1 &&
	       cmd.cdw13 == 0 && cmd.cdw14 == 0 && cmd.cdw15 == 0;
}

static int data_is(const void *addr, uint32_t len, uint8_t dir)
{
	return cmd.addr == (uint64_t)(uintptr_t)addr && cmd.data_len == len && cmd.dir == dir;
}

static int no_data(void)
{
	return cmd.addr == 0 && cmd.data_len == 0 && cmd.dir == NVME_DIR_NONE;
}

static int cmd_buf_untouched_from(size_t from)
{
	size_t i;

	for (i = from; i < NVME_CMD_BUF_SIZE; i++)
		if (cmd_buf[i] != 0xa5)
			return 0;
	return 1;
}

static void test_read_write(void)
{
	const uint64_t hi = 0x123456000ULL; /* an SLBA past 32 bits */

	set_job(JOB_CMD_RW, 512);
	prep(IO_OP_RW, hi * 512, 4096, false);
	CHECK(cmd.opcode == NVME_CMD_READ && range_is(hi, 8) && data_is(io.buf, 4096, NVME_DIR_FROM_DEV));
	prep(IO_OP_RW, 8192, 8192, true);
	CHECK(cmd.opcode == NVME_CMD_WRITE && range_is(16, 16) && data_is(io.buf, 8192, NVME_DIR_TO_DEV));
	/* The other way round: a write at the SLBA past 32 bits, a read of 8 KiB at 8 KiB. */
	prep(IO_OP_RW, hi * 512, 4096, true);
	CHECK(cmd.opcode == NVME_CMD_WRITE && range_is(hi, 8) && data_is(io.buf, 4096, NVME_DIR_TO_DEV));
	CHECK(cmd.cdw10 == 0x23456000 && cmd.cdw11 == 1 && cmd.cdw12 == 7);
	prep(IO_OP_RW, 8192, 8192, false);
	CHECK(cmd.opcode == NVME_CMD_READ && range_is(16, 16) && data_is(io.buf, 8192, NVME_DIR_FROM_DEV));
	/* job.command rw and an IO_OP_CMD slot: still a read or a write. */
	prep(IO_OP_CMD, 0, 512, false);
	CHECK(cmd.opcode == NVME_CMD_READ && range_is(0, 1));

	/* NLB's bounds: one block is 0, 65536 blocks (32 MiB of 512) 0xffff, 4 KiB LBAs count in 4 KiB. */
	prep(IO_OP_RW, 0, 512, true);
	CHECK(cmd.cdw12 == 0);
	prep(IO_OP_RW, 0, 65536U * 512, true);
	CHECK(cmd.cdw12 == 0xffff && range_is(0, 65536));
	set_job(JOB_CMD_RW, 4096);
	prep(IO_OP_RW, (uint64_t)0xffffffff * 4096, DATA_BYTES, false);
	CHECK(range_is(0xffffffff, 16384) && data_is(io.buf, DATA_BYTES, NVME_DIR_FROM_DEV));
	/*
	 * More than 65536 blocks cannot be said: NLB is 16 bits and the builder
	 * keeps it there (never spilling into PRINFO, FUA, LR). The callers stop
	 * it first: runner.ts holds --bs to MDTS for the passthrough engines,
	 * vfio refuses over 65536 LBAs at init.
	 */
	set_job(JOB_CMD_RW, 512);
	prep(IO_OP_RW, 0, 65537U * 512, true);
	CHECK((cmd.cdw12 & 0xffff0000) == 0);

	/* The pattern pass of compare and copy writes with plain IO_OP_RW slots. */
	set_job(JOB_CMD_COMPARE, 512);
	prep(IO_OP_RW, 4096, 4096, true);
	CHECK(cmd.opcode == NVME_CMD_WRITE && range_is(8, 8) && data_is(io.buf, 4096, NVME_DIR_TO_DEV));
	CHECK(cmd_buf_untouched_from(0));
}

static void test_no_data_commands(void)
{
	set_job(JOB_CMD_WRITE_ZEROES, 512);
	prep(IO_OP_CMD, 4096, 4096, false);
	/* No DEAC (CDW12 bit 25), no FUA, no LR: range_is wants CDW12 to be NLB alone. */
	CHECK(cmd.opcode == NVME_CMD_WRITE_ZEROES && range_is(8, 8) && no_data());
	prep(IO_OP_CMD, 0, 65536U * 512, false);
	CHECK(range_is(0, 65536));

	set_job(JOB_CMD_VERIFY, 512);
	prep(IO_OP_CMD, 0, 4096, false);
	CHECK(cmd.opcode == NVME_CMD_VERIFY && range_is(0, 8) && no_data());
	set_job(JOB_CMD_VERIFY, 4096);
	prep(IO_OP_CMD, 1ULL << 44, 1U << 20, false);
	CHECK(cmd.opcode == NVME_CMD_VERIFY && range_is(1ULL << 32, 256) && no_data());

	set_job(JOB_CMD_FLUSH, 512);
	prep(IO_OP_CMD, 1 << 20, 4096, true);
	CHECK(cmd.opcode == NVME_CMD_FLUSH && cmd.nsid == 3 && no_data());
	CHECK(cmd.cdw10 == 0 && cmd.cdw11 == 0 && cmd.cdw12 == 0 && cmd.cdw13 == 0 && cmd.cdw14 == 0 && cmd.cdw15 == 0);
	CHECK(cmd_buf_untouched_from(0));
}

static void test_data_commands(void)
{
	set_job(JOB_CMD_COMPARE, 512);
	prep(IO_OP_CMD, 4096, 4096, false);
	CHECK(cmd.opcode == NVME_CMD_COMPARE && range_is(8, 8) && data_is(io.buf, 4096, NVME_DIR_TO_DEV));

	/* Zone Append: ZSLBA (the zone's start) in CDW10-11. */
	set_job(JOB_CMD_ZONE_APPEND, 512);
	prep(IO_OP_CMD, 8 << 20, 4096, false);
	CHECK(cmd.opcode == NVME_CMD_ZONE_APPEND && range_is((8 << 20) / 512, 8) && data_is(io.buf, 4096, NVME_DIR_TO_DEV));

	/* Its zone resets: Zone Management Send, ZSA 04h, Select All clear, no data, whatever the job's command. */
	prep(IO_OP_ZONE_RESET, 16 << 20, 0, false);
	CHECK(cmd.opcode == NVME_CMD_ZONE_MGMT_SEND && cmd.nsid == 3 && cmd.cdw10 == (16 << 20) / 512 && cmd.cdw11 == 0);
	CHECK(cmd.cdw12 == 0 && cmd.cdw13 == 0x04 && cmd.cdw14 == 0 && cmd.cdw15 == 0 && no_data());
	set_job(JOB_CMD_RW, 4096);
	prep(IO_OP_ZONE_RESET, 0x300000000ULL * 4096, 0, false);
	CHECK(cmd.opcode == NVME_CMD_ZONE_MGMT_SEND && cmd.cdw10 == 0 && cmd.cdw11 == 0x3 && (cmd.cdw13 & 0x1ff) == 0x04);
	CHECK(cmd_buf_untouched_from(0));
}

/* Dataset Management: exactly one range (NR 0), Deallocate, the range's 16 bytes and nothing more. */
static void test_trim(void)
{
	const uint64_t hi = 0x123456000ULL;

	set_job(JOB_CMD_TRIM, 512);
	prep(IO_OP_CMD, hi * 512, 4096, false);
	CHECK(cmd.opcode == NVME_CMD_DSM && cmd.nsid == 3);
	CHECK(cmd.cdw10 == 0 && cmd.cdw11 == 1U << 2 && cmd.cdw12 == 0 && cmd.cdw13 == 0 && cmd.cdw14 == 0 && cmd.cdw15 == 0);
	CHECK(data_is(io.cmd_buf, 16, NVME_DIR_TO_DEV));
	CHECK(get_le32(cmd_buf) == 0);     /* context attributes */
	CHECK(get_le32(cmd_buf + 4) == 8); /* length in LBAs, not 0's based */
	CHECK(get_le64(cmd_buf + 8) == hi);
	CHECK(cmd_buf_untouched_from(16));
	/* The range length is 32 bits: 64 MiB of 512-byte LBAs is 131072, past NLB's reach but not DSM's. */
	prep(IO_OP_CMD, 0, DATA_BYTES, false);
	CHECK(get_le32(cmd_buf + 4) == DATA_BYTES / 512 && get_le64(cmd_buf + 8) == 0);
}

/* Simple Copy of n ranges into the destination block at dest; checks CDW10-12 and every descriptor. */
static void check_copy(uint32_t n, uint64_t dest)
{
	uint32_t i, chunk_lbas = job.block_size / n / job.lba_size, bad = 0;

	job.copy_ranges = n;
	prep(IO_OP_CMD, dest, job.block_size, false);
	CHECK(cmd.opcode == NVME_CMD_COPY && cmd.nsid == 3);
	CHECK(cmd.cdw10 == (uint32_t)(dest / job.lba_size) && cmd.cdw11 == (uint32_t)(dest / job.lba_size >> 32));
	/* NR 0's based in 7:0, descriptor format 0h in 11:8, no PRINFO, FUA or LR above. */
	CHECK(cmd.cdw12 == n - 1);
	CHECK(cmd.cdw13 == 0 && cmd.cdw14 == 0 && cmd.cdw15 == 0);
	CHECK(data_is(io.cmd_buf, n * 32, NVME_DIR_TO_DEV));
	for (i = 0; i < n; i++) {
		const uint8_t *d = cmd_buf + i * 32;
		unsigned b;

		/* bytes 7:0 reserved, 15:8 SLBA, 17:16 NLB 0's based, 31:18 (tags, reserved) zero */
		bad += get_le64(d) != 0;
		bad += get_le64(d + 8) != nvme_copy_source(&job, dest, i) / job.lba_size;
		bad += get_le16(d + 16) != chunk_lbas - 1;
		for (b = 18; b < 32; b++)
			bad += d[b] != 0;
	}
	CHECK(bad == 0);
	CHECK(cmd_buf_untouched_from((size_t)n * 32));
}

static void test_copy(void)
{
	/* A 1 MiB region of 4 KiB blocks at 1 MiB: sources in blocks 0-127, destinations in 128-255. */
	const uint64_t region = 1 << 20, blocks = 256, half = blocks / 2;
	static uint8_t copied[(1 << 20) / 512];
	uint32_t n, i;
	uint64_t d;

	set_job(JOB_CMD_COPY, 512);
	job.offset = region;
	job.size = region;
	job.copy_src_blocks = half;
	check_copy(1, region + half * 4096);
	check_copy(4, region + 130 * 4096);
	check_copy(8, region + 255 * 4096);
	/* Destination block 2 of the upper half, 4 ranges: range i is 1 KiB chunk i*128 + 2 of the lower half. */
	job.copy_ranges = 4;
	for (i = 0; i < 4; i++)
		CHECK(nvme_copy_source(&job, region + 130 * 4096, i) == region + (i * 128 + 2) * 1024);

	/* Every source chunk, for every N, is copied by exactly one destination block, and all lie in the lower half. */
	for (n = 1; n <= 8; n *= 2) {
		uint64_t chunk = 4096 / n, bad = 0;

		job.copy_ranges = n;
		memset(copied, 0, sizeof(copied));
		for (d = half; d < blocks; d++) {
			for (i = 0; i < n; i++) {
				uint64_t src = nvme_copy_source(&job, region + d * 4096, i);

				if (src < region || src + chunk > region + half * 4096 || (src - region) % chunk) {
					bad++;
					continue;
				}
				copied[(src - region) / chunk]++;
			}
		}
		for (i = 0; i < half * n; i++)
			bad += copied[i] != 1;
		CHECK(bad == 0);
	}

	/*
	 * The most ranges a command buffer holds: NVME_COPY_MAX_RANGES (128) of
	 * 32 bytes fill its 4096 exactly (--copy-ranges stops at 128), here as
	 * 128 ranges of one 512-byte LBA of a 64 KiB block.
	 */
	CHECK(NVME_COPY_MAX_RANGES == 128 && NVME_COPY_MAX_RANGES * 32 == NVME_CMD_BUF_SIZE);
	set_job(JOB_CMD_COPY, 512);
	job.block_size = 65536;
	job.offset = 0;
	job.size = 256 * 65536;
	job.copy_src_blocks = 128;
	check_copy(NVME_COPY_MAX_RANGES, 200 * 65536);
	/* One range of 128 LBAs: NLB 127 in the descriptor. */
	check_copy(1, 128 * 65536);
	CHECK(get_le16(cmd_buf + 16) == 127);
}

static void test_raw(void)
{
	const uint32_t cdw[6] = { 1, 2, 3, 4, 5, 0xffffffff };

	set_job(JOB_CMD_RAW, 512);
	job.raw_opcode = 0xc2;
	memcpy(job.raw_cdw, cdw, sizeof(cdw));
	job.raw_dir = NVME_DIR_FROM_DEV;
	job.raw_data_len = 1024;
	prep(IO_OP_CMD, 1 << 20, 4096, false);
	/* Every dword as given: nothing of io's offset or length reaches the command. */
	CHECK(cmd.opcode == 0xc2 && cmd.nsid == 3 && cmd.cdw10 == 1 && cmd.cdw11 == 2 && cmd.cdw12 == 3);
	CHECK(cmd.cdw13 == 4 && cmd.cdw14 == 5 && cmd.cdw15 == 0xffffffff);
	CHECK(data_is(io.buf, 1024, NVME_DIR_FROM_DEV));
	job.raw_dir = NVME_DIR_TO_DEV;
	job.raw_opcode = 0x81;
	prep(IO_OP_CMD, 0, 4096, true);
	CHECK(cmd.opcode == 0x81 && data_is(io.buf, 1024, NVME_DIR_TO_DEV));
	/* No direction, or no length: no data at all. */
	job.raw_dir = NVME_DIR_NONE;
	prep(IO_OP_CMD, 0, 4096, false);
	CHECK(no_data());
	job.raw_opcode = 0x80;
	job.raw_data_len = 0;
	prep(IO_OP_CMD, 0, 0, false);
	CHECK(cmd.opcode == 0x80 && no_data());
	job.raw_dir = NVME_DIR_FROM_DEV;
	prep(IO_OP_CMD, 0, 4096, false);
	CHECK(no_data() && cmd.cdw15 == 0xffffffff);
	CHECK(cmd_buf_untouched_from(0));
}

static void test_passthru(void)
{
	struct nvme_passthru_cmd64 pt;

	set_job(JOB_CMD_ZONE_APPEND, 512);
	prep(IO_OP_CMD, 0x200000000ULL * 512, 8192, false);
	memset(&pt, 0xee, sizeof(pt));
	nvme_cmd_to_passthru(&cmd, &pt);
	CHECK(pt.opcode == NVME_CMD_ZONE_APPEND && pt.nsid == 3 && pt.addr == (uint64_t)(uintptr_t)io.buf && pt.data_len == 8192);
	CHECK(pt.cdw10 == 0 && pt.cdw11 == 2 && pt.cdw12 == 15 && pt.cdw13 == 0 && pt.cdw14 == 0 && pt.cdw15 == 0);
	/* What the descriptor does not carry is zero: flags, metadata, the kernel's default timeout. */
	CHECK(pt.flags == 0 && pt.rsvd1 == 0 && pt.cdw2 == 0 && pt.cdw3 == 0 && pt.metadata == 0 && pt.metadata_len == 0);
	CHECK(pt.timeout_ms == 0 && pt.result == 0);
}

/* Metadata formats: the transfer grows by the inline metadata, or points at the slot's separate area, and PI rides in CDW12/14/15. */
static void test_metadata(void)
{
	struct nvme_passthru_cmd64 pt;
	uint8_t meta[64];

	set_job(JOB_CMD_RW, 512);
	job.pi = (struct pi_format){ .lba_size = 512, .meta_size = 8, .extended = true, .type = 1, .check = PI_CHECK_REFTAG | PI_CHECK_GUARD };
	pi_format_init(&job.pi);
	prep(IO_OP_RW, 8192, 4096, true);
	/* 8 blocks of 512 + 8 bytes, PRCHK guard and reftag (bits 28, 26), ILBRT the SLBA, no tag compared */
	CHECK(cmd.opcode == NVME_CMD_WRITE && data_is(io.buf, 8 * 520, NVME_DIR_TO_DEV) && cmd.meta_addr == 0 && cmd.meta_len == 0);
	CHECK(cmd.cdw10 == 16 && cmd.cdw12 == (7U | 1U << 28 | 1U << 26) && cmd.cdw14 == 16 && cmd.cdw15 == 0);
	/* PRACT on a PI-only format: no metadata moves */
	job.pi.act = true;
	pi_format_init(&job.pi);
	prep(IO_OP_RW, 8192, 4096, false);
	CHECK(data_is(io.buf, 4096, NVME_DIR_FROM_DEV) && cmd.cdw12 == (7U | 1U << 29 | 1U << 28 | 1U << 26));
	/* separate metadata of 16 bytes with PI type 2 and an application tag: the slot's area, 8 x 16 bytes */
	job.pi = (struct pi_format){ .lba_size = 512, .meta_size = 16, .type = 2, .apptag = 0x1234, .apptag_mask = 0xffff };
	pi_format_init(&job.pi);
	io.meta = meta;
	prep(IO_OP_RW, 0x100000000ULL * 512, 4096, false);
	CHECK(data_is(io.buf, 4096, NVME_DIR_FROM_DEV) && cmd.meta_addr == (uint64_t)(uintptr_t)meta && cmd.meta_len == 128);
	CHECK(cmd.cdw12 == 7 && cmd.cdw14 == 0 && cmd.cdw15 == 0xffff1234);
	nvme_cmd_to_passthru(&cmd, &pt);
	CHECK(pt.metadata == (uint64_t)(uintptr_t)meta && pt.metadata_len == 128);
	/* commands other than reads and writes carry no PI fields */
	set_job(JOB_CMD_WRITE_ZEROES, 512);
	job.pi = (struct pi_format){ .lba_size = 512, .meta_size = 8, .type = 1, .check = 7 };
	pi_format_init(&job.pi);
	prep(IO_OP_CMD, 4096, 4096, false);
	CHECK(range_is(8, 8) && cmd.meta_len == 0);
	io.meta = NULL;
	memset(&job.pi, 0, sizeof(job.pi));
}

static void test_names(void)
{
	int c;

	for (c = 0; c < JOB_CMD_COUNT; c++) {
		CHECK(job_command_parse(job_command_id((enum job_command)c)) == c);
		CHECK(strcmp(job_command_name((enum job_command)c), c == JOB_CMD_RW ? "read/write" : job_command_id((enum job_command)c)) == 0);
	}
	CHECK(!strcmp(job_command_id(JOB_CMD_WRITE_ZEROES), "write-zeroes") && !strcmp(job_command_id(JOB_CMD_ZONE_APPEND), "zone-append"));
	CHECK(!strcmp(job_command_id(JOB_CMD_COUNT), "?") && !strcmp(job_command_id((enum job_command)-1), "?"));
	CHECK(job_command_parse("read/write") == -1 && job_command_parse("") == -1 && job_command_parse("Trim") == -1);

	set_job(JOB_CMD_RW, 512);
	job.read_percent = 100;
	CHECK(!job_command_writes(&job));
	job.read_percent = 70;
	CHECK(job_command_writes(&job));
	job.read_percent = 100;
	for (c = JOB_CMD_WRITE_ZEROES; c < JOB_CMD_COUNT; c++) {
		job.command = (enum job_command)c;
		CHECK(job_command_writes(&job) == !(c == JOB_CMD_VERIFY || c == JOB_CMD_FLUSH));
	}
}

/* Namespace Identification Descriptors: NIDT, NIDL, 2 reserved, NIDL bytes. */
static void test_ns_csi(void)
{
	uint8_t *list = calloc(1, 4096);

	if (!list)
		exit(2);
	CHECK(nvme_parse_ns_csi(list) == -1);
	/* EUI-64 (8), NGUID (16), UUID (16), then the CSI. */
	list[0] = 0x01;
	list[1] = 8;
	list[12] = 0x02;
	list[13] = 16;
	list[32] = 0x03;
	list[33] = 16;
	list[52] = 0x04;
	list[53] = 1;
	list[56] = 0x02;
	CHECK(nvme_parse_ns_csi(list) == 2);
	list[56] = 0;
	CHECK(nvme_parse_ns_csi(list) == 0);
	/* No CSI descriptor: the list ends at a zero NIDT. */
	list[52] = 0;
	CHECK(nvme_parse_ns_csi(list) == -1);
	/* Descriptors of NIDL 255 all the way down the page: the walk stops at its end, reading nothing beyond. */
	memset(list, 0, 4096);
	{
		unsigned off;

		for (off = 0; off + 4 <= 4096; off += 4 + 255) {
			list[off] = 0x03;
			list[off + 1] = 255;
		}
		CHECK(nvme_parse_ns_csi(list) == -1);
	}
	/* An unknown NIDT is skipped by its length. */
	memset(list, 0, 4096);
	list[0] = 0x05;
	list[1] = 248;
	list[252] = 0x04;
	list[253] = 1;
	list[256] = 0x01;
	CHECK(nvme_parse_ns_csi(list) == 1);
	/* A CSI descriptor in the page's last dword has its byte past the page: not read. */
	memset(list, 0, 4096);
	list[4092] = 0x04;
	list[4093] = 1;
	{
		unsigned off;

		for (off = 0; off < 4092; off += 4)
			list[off] = 0x07; /* NIDL 0: four bytes each, up to the last dword */
		CHECK(nvme_parse_ns_csi(list) == -1);
	}
	free(list);
}

static void test_report_zones(void)
{
	char buf[64];

	ioctl_ret = 0;
	CHECK(nvme_report_zones(7, 3, 0x123456789ULL, buf, 4096) == 0);
	CHECK(ioctl_fd == 7 && ioctl_req == NVME_IOCTL_IO64_CMD);
	CHECK(ioctl_cmd.opcode == NVME_CMD_ZONE_MGMT_RECV && ioctl_cmd.nsid == 3);
	CHECK(ioctl_cmd.addr == (uint64_t)(uintptr_t)buf && ioctl_cmd.data_len == 4096);
	CHECK(ioctl_cmd.cdw10 == 0x23456789 && ioctl_cmd.cdw11 == 1);
	/* NUMD: dwords, 0's based. ZRA 0 (report), ZRASF 0 (all), bit 16 partial report. */
	CHECK(ioctl_cmd.cdw12 == 1023 && ioctl_cmd.cdw13 == 1U << 16 && ioctl_cmd.cdw14 == 0 && ioctl_cmd.cdw15 == 0);
	ioctl_ret = 0x2002; /* an NVMe status comes back as it is */
	CHECK(nvme_report_zones(7, 3, 0, buf, 65536) == 0x2002 && ioctl_cmd.cdw12 == 16383);
	ioctl_ret = -1;
	errno = 0;
	CHECK(nvme_report_zones(-1, 3, 0, buf, 4096) == -1 && errno == EBADF);

	/* The descriptor the vfio path turns into an SQE: the same dwords, data from the device into buf. */
	memset(&cmd, 0x5a, sizeof(cmd));
	nvme_cmd_report_zones(&cmd, 3, 0x123456789ULL, buf, 8192);
	CHECK(cmd.opcode == NVME_CMD_ZONE_MGMT_RECV && cmd.nsid == 3 && data_is(buf, 8192, NVME_DIR_FROM_DEV));
	CHECK(cmd.cdw10 == 0x23456789 && cmd.cdw11 == 1 && cmd.cdw12 == 2047 && cmd.cdw13 == 1U << 16);
	CHECK(cmd.cdw14 == 0 && cmd.cdw15 == 0);
	/* Its buffer: the 64-byte header and 64 per zone, in whole pages, 1023 zones at most (64 KiB). */
	{
		uint32_t max = 1;

		CHECK(nvme_report_zones_len(&max) == 4096 && max == 1);
		max = 63;
		CHECK(nvme_report_zones_len(&max) == 4096);
		max = 64;
		CHECK(nvme_report_zones_len(&max) == 8192);
		max = 1023;
		CHECK(nvme_report_zones_len(&max) == 65536 && max == 1023);
		max = UINT32_MAX;
		CHECK(nvme_report_zones_len(&max) == 65536 && max == NVME_REPORT_ZONES_MAX);
	}
}

int main(void)
{
	/* The builder only passes io.buf along: a page stands for the data buffer of any length. */
	io.buf = malloc(4096);
	io.cmd_buf = cmd_buf = malloc(NVME_CMD_BUF_SIZE);
	if (!io.buf || !cmd_buf)
		return 2;
	test_read_write();
	test_no_data_commands();
	test_data_commands();
	test_trim();
	test_copy();
	test_raw();
	test_passthru();
	test_metadata();
	test_names();
	test_ns_csi();
	test_report_zones();
	free(io.buf);
	free(cmd_buf);
	return ctest_done("nvme_cmd_test");
}
