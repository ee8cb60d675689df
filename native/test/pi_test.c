/*
 * pi.c without a device: the CRC-16 T10-DIF against published check values
 * and a bit-at-a-time reference, the tuples pi_generate writes in both
 * layouts and both places, pi_check finding each kind of damage by name,
 * the escape tag, the command dwords, and the verify stamps of an
 * extended-LBA buffer. With --bench: the CRC's cost per 4 KiB on this host.
 */
#include <stdlib.h>
#include <time.h>

#include "../core/verify.c"
#include "../core/pi.c"
#include "ctest.h"

/* The definition, one bit at a time: what the tables must agree with. */
static uint16_t crc_bitwise(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (bit = 0; bit < 8; bit++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

static void test_crc(void)
{
	uint8_t buf[4096 + 7];
	size_t len;

	/* CRC-16/T10-DIF check value (the CRC catalogue): "123456789" -> 0xD0DB */
	CHECK(pi_crc16(0, "123456789", 9) == 0xd0db);
	CHECK(pi_crc16(0, "", 0) == 0);
	/* 4 KiB of zeros: a CRC with init 0 and no final xor of zeros is 0 */
	memset(buf, 0, sizeof(buf));
	CHECK(pi_crc16(0, buf, 4096) == 0);
	/* 32 bytes of 0xff (the CRC examples in the SBC-3 annex) -> 0xA293 */
	memset(buf, 0xff, 32);
	CHECK(pi_crc16(0, buf, 32) == 0xa293);
	/* an incrementing 32-byte pattern -> 0x0224 (same annex) */
	for (len = 0; len < 32; len++)
		buf[len] = (uint8_t)len;
	CHECK(pi_crc16(0, buf, 32) == 0x0224);
	srand(7);
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)rand();
	/* every tail length and a split in the middle agree with the definition */
	for (len = 0; len <= 17; len++)
		CHECK(pi_crc16(0, buf, len) == crc_bitwise(buf, len));
	CHECK(pi_crc16(0, buf, sizeof(buf)) == crc_bitwise(buf, sizeof(buf)));
	CHECK(pi_crc16(pi_crc16(0, buf, 1000), buf + 1000, sizeof(buf) - 1000) == crc_bitwise(buf, sizeof(buf)));
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Four 512-byte blocks with 16 bytes of metadata, tuple first or last, in both layouts. */
static void test_tuples(bool extended, bool first, uint8_t type)
{
	struct pi_format f = { .lba_size = 512, .meta_size = 16, .extended = extended, .type = type, .first = first,
			       .apptag = 0x1234, .apptag_mask = 0xffff };
	enum { NLB = 4 };
	uint8_t data[NLB * (512 + 16)], meta[NLB * 16];
	const uint8_t *md, *tuple, *blk;
	char msg[256];
	uint32_t i;

	pi_format_init(&f);
	CHECK(f.generate);
	CHECK(f.meta_xfer == 16);
	CHECK(f.pi_off == (first ? 0U : 8U));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	memset(meta, 0x5a, sizeof(meta));
	pi_generate(&f, data, extended ? NULL : meta, 1000, NLB);
	for (i = 0; i < NLB; i++) {
		blk = extended ? data + i * 528 : data + i * 512;
		md = extended ? blk + 512 : meta + i * 16;
		tuple = md + f.pi_off;
		/* the guard covers the metadata before the tuple when it is last */
		CHECK(be16(tuple) == (first ? crc_bitwise(blk, 512) : pi_crc16(crc_bitwise(blk, 512), md, 8)));
		CHECK(be16(tuple + 2) == 0x1234);
		CHECK(be32(tuple + 4) == (type == 3 ? UINT32_MAX : 1000 + i));
	}
	CHECK(pi_check(&f, data, meta, 1000, NLB, msg, sizeof(msg)) == 0);
	/* read back at another LBA: the reference tags name the wrong blocks (types 1 and 2) */
	msg[0] = 0;
	CHECK(pi_check(&f, data, meta, 2000, NLB, msg, sizeof(msg)) == (type == 3 ? 0U : (unsigned)NLB));
	if (type != 3)
		CHECK_STR_HAS(msg, "reference tag check failed at LBA 2000: read 0x3e8, expected 0x7d0");
	/* one flipped data bit: block 2's guard */
	blk = extended ? data + 2 * 528 : data + 2 * 512;
	((uint8_t *)blk)[100] ^= 1;
	CHECK(pi_check(&f, data, meta, 1000, NLB, msg, sizeof(msg)) == 1);
	CHECK_STR_HAS(msg, "guard check failed at LBA 1002");
	((uint8_t *)blk)[100] ^= 1;
	/* another application tag, masked in and then out */
	f.apptag = 0x1235;
	CHECK(pi_check(&f, data, meta, 1000, NLB, msg, sizeof(msg)) == NLB);
	CHECK_STR_HAS(msg, "application tag check failed at LBA 1000");
	f.apptag_mask = 0xff00;
	CHECK(pi_check(&f, data, meta, 1000, NLB, msg, sizeof(msg)) == 0);
	/* the escape tag turns checking off for its block */
	md = extended ? data + 512 : meta;
	memset((uint8_t *)md, 0xff, 16);
	CHECK(pi_check(&f, data, meta, 1000, 1, msg, sizeof(msg)) == 0);
}

static void test_format(void)
{
	struct pi_format f = { .lba_size = 4096, .meta_size = 8, .extended = true, .type = 1, .act = true };
	uint32_t cdw12 = 7, cdw14 = 0, cdw15 = 0;

	pi_format_init(&f);
	/* PRACT on a PI-only format: no metadata crosses the bus, nothing generated */
	CHECK(f.meta_xfer == 0 && !f.generate);
	CHECK(pi_data_xfer(&f, 8192) == 8192);
	f.act = false;
	pi_format_init(&f);
	CHECK(pi_data_xfer(&f, 8192) == 2 * 4104);
	CHECK(pi_meta_xfer(&f, 8192) == 0);
	f.extended = false;
	CHECK(pi_data_xfer(&f, 8192) == 8192 && pi_meta_xfer(&f, 8192) == 16);
	/* 16 bytes of metadata and PRACT: the host still moves them, the controller fills the tuple */
	f.meta_size = 16;
	f.act = true;
	pi_format_init(&f);
	CHECK(f.meta_xfer == 16 && !f.generate);
	/* metadata without PI: moved, never generated, no PI dwords */
	f.type = 0;
	f.act = false;
	pi_format_init(&f);
	CHECK(!f.generate && f.meta_xfer == 16);
	pi_cmd_dwords(&f, 5, &cdw12, &cdw14, &cdw15);
	CHECK(cdw12 == 7 && cdw14 == 0 && cdw15 == 0);
	f.type = 1;
	f.act = true;
	f.check = PI_CHECK_GUARD | PI_CHECK_REFTAG;
	f.apptag = 0xbeef;
	f.apptag_mask = 0xffff;
	pi_cmd_dwords(&f, 0x100000005ULL, &cdw12, &cdw14, &cdw15);
	CHECK(cdw12 == (7U | 1U << 29 | 1U << 28 | 1U << 26));
	CHECK(cdw14 == 5);
	CHECK(cdw15 == 0xffffbeef);
	f.type = 3;
	pi_cmd_dwords(&f, 5, &cdw12, &cdw14, &cdw15);
	CHECK(cdw14 == 0);
}

static void test_verify_extended(void)
{
	struct pi_format f = { .lba_size = 512, .meta_size = 8, .extended = true, .type = 1 };
	uint8_t buf[4 * 520];
	char msg[256];

	pi_format_init(&f);
	memset(buf, 0xee, sizeof(buf));
	pi_verify_stamp(&f, buf, 2048, 8192, 42, 1);
	/* the metadata between the blocks is left alone */
	CHECK(buf[512] == 0xee && buf[519] == 0xee && buf[4 * 520 - 1] == 0xee);
	CHECK(pi_verify_check(&f, buf, 2048, 8192, 42, msg, sizeof(msg)) == 0);
	pi_generate(&f, buf, NULL, 16, 4);
	CHECK(pi_check(&f, buf, NULL, 16, 4, msg, sizeof(msg)) == 0);
	CHECK(pi_verify_check(&f, buf, 2048, 8192, 42, msg, sizeof(msg)) == 0);
	buf[3 * 520 + 100] ^= 1;
	CHECK(pi_verify_check(&f, buf, 2048, 8192, 42, msg, sizeof(msg)) == 1);
	CHECK_STR_HAS(msg, "byte offset 9728");
}

/* --bench: ns per 4 KiB guard over a few hundred MiB. */
static void bench_crc(void)
{
	static uint8_t buf[4096];
	struct timespec a, b;
	unsigned i, n = 100000;
	uint16_t sink = 0;
	double ns;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		sink ^= pi_crc16((uint16_t)i, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
	printf("crc16-t10dif slice-by-8: %.0f ns per 4 KiB (%.2f GB/s) [%04x]\n", ns, 4096 / ns, sink);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n / 10; i++)
		sink ^= crc_bitwise(buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (n / 10);
	printf("crc16-t10dif bit at a time: %.0f ns per 4 KiB [%04x]\n", ns, sink);
}

int main(int argc, char **argv)
{
	uint8_t type;

	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		bench_crc();
		return 0;
	}
	test_crc();
	for (type = 1; type <= 3; type++) {
		test_tuples(false, true, type);
		test_tuples(false, false, type);
		test_tuples(true, true, type);
		test_tuples(true, false, type);
	}
	test_format();
	test_verify_extended();
	return ctest_done("pi_test");
}
