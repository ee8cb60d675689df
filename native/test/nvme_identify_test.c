/*
 * nvme.c's Identify Namespace parsing fed crafted pages: device data is not
 * trusted as a size. LBADS outside 9..31, a format index past NLBAF, and NSZE
 * blocks that overflow 64 bits of bytes are refused with EINVAL and a sentence
 * naming the field; sane pages parse as before.
 */
#include <errno.h>
#include <stdint.h>

#include "../nvme/nvme.c"
#include "ctest.h"

static uint8_t page[4096];

/* An Identify Namespace page: nsze blocks, NLBAF formats, FLBAS selecting fmt, that format's LBADS. */
static void make_page(uint64_t nsze, unsigned nlbaf, unsigned fmt, unsigned lbads)
{
	unsigned i;

	memset(page, 0, sizeof(page));
	for (i = 0; i < 8; i++)
		page[i] = (uint8_t)(nsze >> (8 * i));
	page[25] = (uint8_t)(nlbaf - 1);
	page[26] = (uint8_t)((fmt & 0xf) | ((fmt >> 4) << 5));
	page[128 + 4 * fmt + 2] = (uint8_t)lbads;
}

static int parse(struct nvme_ns_info *ns, char *err, size_t len)
{
	err[0] = '\0';
	errno = 0;
	return nvme_parse_id_ns(page, 1, ns, err, len);
}

int main(void)
{
	struct nvme_ns_info ns;
	char err[256];
	unsigned lbads;

	/* Sane: 512 and 4096-byte formats, the upper FLBAS bits for index 17. */
	make_page(1 << 20, 1, 0, 9);
	CHECK(parse(&ns, err, sizeof(err)) == 0);
	CHECK(ns.lba_size == 512 && ns.size_bytes == (uint64_t)512 << 20 && ns.lba_format == 0);
	make_page(1000, 20, 17, 12);
	CHECK(parse(&ns, err, sizeof(err)) == 0);
	CHECK(ns.lba_size == 4096 && ns.lba_format == 17 && ns.size_bytes == 4096000);
	make_page(1, 1, 0, 31);
	CHECK(parse(&ns, err, sizeof(err)) == 0 && ns.lba_size == 1U << 31);

	/* LBADS 8 (256-byte blocks) and 32, 40, 255 (a shift past 31 is undefined): refused, naming format and value. */
	for (lbads = 0; lbads < 256; lbads++) {
		int ret;

		make_page(1 << 20, 4, 3, lbads);
		ret = parse(&ns, err, sizeof(err));
		if (lbads >= 9 && lbads <= 31) {
			CHECK(ret == 0 && ns.lba_size == 1U << lbads);
			continue;
		}
		CHECK(ret == -1 && errno == EINVAL);
		if (lbads == 8 || lbads == 32 || lbads == 40) {
			char want[64];

			snprintf(want, sizeof(want), "LBA format 3 has LBADS %u", lbads);
			CHECK_STR_HAS(err, want);
		}
	}

	/* A format index past NLBAF. */
	make_page(1 << 20, 2, 5, 12);
	CHECK(parse(&ns, err, sizeof(err)) == -1 && errno == EINVAL);
	CHECK_STR_HAS(err, "LBA format 5");
	CHECK_STR_HAS(err, "there are 2");

	/* NSZE whose bytes overflow: 2^54 blocks of 512 bytes fit (2^63), 2^55 of 1024 do not, all ones never. */
	make_page((uint64_t)1 << 54, 1, 0, 9);
	CHECK(parse(&ns, err, sizeof(err)) == 0 && ns.size_bytes == (uint64_t)1 << 63);
	make_page((uint64_t)1 << 55, 1, 0, 10);
	CHECK(parse(&ns, err, sizeof(err)) == -1 && errno == EINVAL);
	CHECK_STR_HAS(err, "NSZE 36028797018963968");
	make_page(UINT64_MAX, 1, 0, 12);
	CHECK(parse(&ns, err, sizeof(err)) == -1 && errno == EINVAL);

	/* An inactive namespace reads as zeros: parsed, no blocks, no size (the caller reports it). */
	memset(page, 0, sizeof(page));
	CHECK(parse(&ns, err, sizeof(err)) == 0 && ns.nsze == 0 && ns.lba_size == 0);

	/* nvme_id_ns_lba_format alone, as the support checks call it. */
	{
		unsigned fmt;
		uint32_t size;

		make_page(8, 1, 0, 40);
		CHECK(nvme_id_ns_lba_format(page, &fmt, &size, err, sizeof(err)) == -1);
		make_page(8, 1, 0, 12);
		CHECK(nvme_id_ns_lba_format(page, &fmt, &size, err, sizeof(err)) == 0 && size == 4096 && fmt == 0);
	}

	/* The fields the support checks read, at their offsets, one parser for the ioctl and the vfio paths. */
	{
		struct nvme_ctrl_info ci;
		struct nvme_nvm_ctrl_info nvm;
		struct nvme_zns_ns_info zns;

		make_page(1 << 20, 20, 17, 12);
		page[33] = 0x09;                                      /* DLFEAT */
		page[74] = 0x80, page[75] = 0x01;                     /* MSSRL 0x180 */
		page[76] = 0x04, page[77] = 0x03, page[79] = 0x01;    /* MCL 0x01000304 */
		page[80] = 127;                                       /* MSRC */
		CHECK(parse(&ns, err, sizeof(err)) == 0);
		CHECK(ns.dlfeat == 9 && ns.mssrl == 0x180 && ns.mcl == 0x01000304 && ns.msrc == 127);

		memset(page, 0, sizeof(page));
		memcpy(page + 4, "SERIAL-1            ", 20);
		memcpy(page + 24, "QEMU NVMe Ctrl", 14);
		page[77] = 7;                     /* MDTS */
		page[261] = 0x07;                 /* LPA */
		page[520] = 0x5d, page[521] = 0x01; /* ONCS 0x15d */
		page[525] = 0x07;                 /* VWC */
		page[534] = 0x03, page[535] = 0x80; /* OCFS 0x8003 */
		nvme_parse_id_ctrl(page, &ci);
		CHECK(ci.mdts == 7 && ci.lpa == 7 && ci.oncs == 0x15d && ci.vwc == 7 && ci.ocfs == 0x8003);
		CHECK(!strcmp(ci.serial, "SERIAL-1") && !strcmp(ci.model, "QEMU NVMe Ctrl"));

		memset(page, 0, sizeof(page));
		page[0] = 7, page[1] = 2, page[3] = 5; /* VSL, WZSL, DMRL */
		page[4] = 0xff, page[5] = 0xff, page[6] = 0x3f; /* DMRSL 4194303 */
		nvme_parse_id_ctrl_nvm(page, &nvm);
		CHECK(nvm.vsl == 7 && nvm.wzsl == 2 && nvm.dmrl == 5 && nvm.dmrsl == 4194303);

		/* Zoned: ZOC, OZCS, MAR, MOR, and ZSZE/ZDES of the formatted LBA format's extension (format 2 here). */
		memset(page, 0, sizeof(page));
		page[0] = 0x03, page[2] = 0x01;
		page[4] = 0xff, page[5] = 0xff, page[6] = 0xff, page[7] = 0xff;
		page[8] = 13;
		page[2816 + 16 * 2 + 1] = 0x40;   /* ZSZE 16384 */
		page[2816 + 16 * 2 + 8] = 4;      /* ZDES */
		page[2816 + 16 * 0 + 1] = 0x10;   /* format 0's: not the one asked for */
		nvme_parse_id_ns_zns(page, 2, &zns);
		CHECK(zns.zoc == 3 && zns.ozcs == 1 && zns.mar == 0xffffffff && zns.mor == 13);
		CHECK(zns.zsze == 16384 && zns.zdes == 4);
		/* The last format (63): its extension ends inside the page. */
		page[2816 + 16 * 63 + 8] = 9;
		nvme_parse_id_ns_zns(page, 63, &zns);
		CHECK(zns.zdes == 9);
		page[0] = 3;
		CHECK(nvme_parse_id_ctrl_zns_zasl(page) == 3);
	}
	return ctest_done("nvme_identify_test");
}
