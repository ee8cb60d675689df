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
	return ctest_done("nvme_identify_test");
}
