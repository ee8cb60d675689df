/*
 * Protection information in software (see pi.h): the CRC, the tuples, and the
 * verify stamps of extended-LBA buffers. Called per I/O on the hot path: no
 * allocation, no system call.
 */
#include <stdio.h>
#include <string.h>

#include "pi.h"
#include "verify.h"

#define PI_CRC_POLY 0x8bb7

/* crc_table[k][x]: the CRC of byte x followed by k zero bytes (slice-by-8). */
static uint16_t crc_table[8][256];

__attribute__((constructor)) static void __pi_crc_tables(void)
{
	unsigned x, k, bit;

	for (x = 0; x < 256; x++) {
		uint16_t crc = (uint16_t)(x << 8);

		for (bit = 0; bit < 8; bit++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ PI_CRC_POLY : crc << 1);
		crc_table[0][x] = crc;
	}
	for (k = 1; k < 8; k++)
		for (x = 0; x < 256; x++) {
			uint16_t prev = crc_table[k - 1][x];

			crc_table[k][x] = (uint16_t)((prev << 8) ^ crc_table[0][prev >> 8]);
		}
}

uint16_t pi_crc16(uint16_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Eight bytes a step: the register folds into the first two, each byte's share comes from its table. */
	for (; len >= 8; len -= 8, p += 8) {
		uint8_t hi = (uint8_t)((crc >> 8) ^ p[0]), lo = (uint8_t)(crc ^ p[1]);

		crc = crc_table[7][hi] ^ crc_table[6][lo] ^ crc_table[5][p[2]] ^ crc_table[4][p[3]] ^ crc_table[3][p[4]] ^
		      crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
	}
	for (; len; len--, p++)
		crc = (uint16_t)((crc << 8) ^ crc_table[0][(crc >> 8) ^ *p]);
	return crc;
}

void pi_format_init(struct pi_format *f)
{
	/* PRACT with metadata that is only the tuple: the controller inserts and strips it, the host moves none. */
	f->meta_xfer = f->act && f->type && f->meta_size == PI_TUPLE_SIZE ? 0 : f->meta_size;
	f->pi_off = f->first || f->meta_size < PI_TUPLE_SIZE ? 0 : f->meta_size - PI_TUPLE_SIZE;
	f->generate = f->type && !f->act;
}

static inline void __put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void __put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t __get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t __get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Block i's data and metadata, in either layout. */
static inline void __pi_block(const struct pi_format *f, const void *data, const void *meta, uint32_t i,
			      const uint8_t **blk, const uint8_t **md)
{
	if (f->extended) {
		*blk = (const uint8_t *)data + (size_t)i * (f->lba_size + f->meta_size);
		*md = *blk + f->lba_size;
	} else {
		*blk = (const uint8_t *)data + (size_t)i * f->lba_size;
		*md = (const uint8_t *)meta + (size_t)i * f->meta_size;
	}
}

/* The guard covers the block and, when the tuple is last, the metadata bytes before it. */
static inline uint16_t __pi_guard(const struct pi_format *f, const uint8_t *blk, const uint8_t *md)
{
	uint16_t crc = pi_crc16(0, blk, f->lba_size);

	return f->pi_off ? pi_crc16(crc, md, f->pi_off) : crc;
}

static inline uint32_t __pi_reftag(const struct pi_format *f, uint64_t slba, uint32_t i)
{
	return f->type == 3 ? UINT32_MAX : (uint32_t)(slba + i);
}

void pi_generate(const struct pi_format *f, void *data, void *meta, uint64_t slba, uint32_t nlb)
{
	const uint8_t *blk, *md;
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		uint8_t *tuple;

		__pi_block(f, data, meta, i, &blk, &md);
		tuple = (uint8_t *)md + f->pi_off;
		__put_be16(tuple, __pi_guard(f, blk, md));
		__put_be16(tuple + 2, f->apptag);
		__put_be32(tuple + 4, __pi_reftag(f, slba, i));
	}
}

unsigned pi_check(const struct pi_format *f, const void *data, const void *meta, uint64_t slba, uint32_t nlb,
		  char *msg, size_t msglen)
{
	const uint8_t *blk, *md;
	unsigned bad = 0;
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		const uint8_t *tuple;
		uint16_t guard, apptag;
		uint32_t reftag;
		const char *what = NULL;
		uint32_t got = 0, want = 0;

		__pi_block(f, data, meta, i, &blk, &md);
		tuple = md + f->pi_off;
		apptag = __get_be16(tuple + 2);
		reftag = __get_be32(tuple + 4);
		if (apptag == 0xffff && (f->type != 3 || reftag == UINT32_MAX))
			continue; /* the escape: checking is off for this block */
		guard = __get_be16(tuple);
		if (guard != __pi_guard(f, blk, md)) {
			what = "guard";
			got = guard;
			want = __pi_guard(f, blk, md);
		} else if ((apptag & f->apptag_mask) != (f->apptag & f->apptag_mask)) {
			what = "application tag";
			got = apptag;
			want = f->apptag;
		} else if (f->type != 3 && reftag != __pi_reftag(f, slba, i)) {
			what = "reference tag";
			got = reftag;
			want = __pi_reftag(f, slba, i);
		}
		if (!what)
			continue;
		if (!bad && msg)
			snprintf(msg, msglen, "protection information %s check failed at LBA %llu: read 0x%x, expected 0x%x", what,
				 (unsigned long long)(slba + i), got, want);
		bad++;
	}
	return bad;
}

void pi_verify_stamp(const struct pi_format *f, void *buf, uint32_t len, uint64_t offset, uint32_t seed, uint32_t gen)
{
	uint32_t stride, pos;

	if (!f->extended || !f->meta_xfer) {
		verify_stamp(buf, len, offset, seed, gen);
		return;
	}
	stride = f->lba_size + f->meta_xfer;
	for (pos = 0; pos < len; pos += f->lba_size)
		verify_stamp((uint8_t *)buf + (size_t)pos / f->lba_size * stride, f->lba_size, offset + pos, seed, gen);
}

unsigned pi_verify_check(const struct pi_format *f, const void *buf, uint32_t len, uint64_t offset, uint32_t want_seed,
			 char *msg, size_t msglen)
{
	uint32_t stride, pos;
	unsigned bad = 0, n;

	if (!f->extended || !f->meta_xfer)
		return verify_check(buf, len, offset, want_seed, msg, msglen);
	stride = f->lba_size + f->meta_xfer;
	for (pos = 0; pos < len; pos += f->lba_size) {
		n = verify_check((const uint8_t *)buf + (size_t)pos / f->lba_size * stride, f->lba_size, offset + pos, want_seed,
				 bad ? NULL : msg, msglen);
		bad += n;
	}
	return bad;
}
