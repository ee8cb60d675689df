/*
 * Metadata and end-to-end protection information (T10 PI, 16-bit guard).
 * A namespace formatted with metadata carries ms bytes per LBA, inline after
 * each block (extended LBA, FLBAS bit 4, "mset=1") or in a separate buffer
 * the command points at (MPTR / the passthrough's metadata field). With PI
 * (DPS type 1-3), 8 of those bytes are the PI tuple, at the start or the end
 * of the metadata (DPS bit 3): guard (CRC-16 T10-DIF, big endian), application
 * tag, reference tag. The worker generates the tuples on writes and checks
 * them on verified reads, unless PRACT asks the controller to.
 */
#ifndef NVMEBENCH_PI_H
#define NVMEBENCH_PI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PI_TUPLE_SIZE 8

/* PRCHK, CDW12 bits 28:26, as --pi-check names them */
#define PI_CHECK_REFTAG 1U
#define PI_CHECK_APPTAG 2U
#define PI_CHECK_GUARD 4U

/* The namespace's format and what the job asks of it; all zero: no metadata. */
struct pi_format {
	uint32_t lba_size;
	uint32_t meta_size;  /* ms: metadata bytes per LBA, 0 for none */
	bool extended;       /* metadata inline after each block */
	uint8_t type;        /* PI type 1..3, 0 for none */
	bool first;          /* the tuple is in the first 8 bytes of the metadata (else the last) */
	bool act;            /* PRACT: the controller inserts and strips the PI */
	uint8_t check;       /* PRCHK bits (PI_CHECK_*) */
	uint16_t apptag;
	uint16_t apptag_mask;
	/* derived by pi_format_init */
	uint32_t meta_xfer;  /* metadata bytes per LBA the host moves: 0 when PRACT strips a PI-only format */
	uint32_t pi_off;     /* the tuple's offset in the metadata */
	bool generate;       /* the worker writes and checks the tuples itself */
};

/* Fill the derived fields. */
void pi_format_init(struct pi_format *f);

/* CRC-16 T10-DIF (poly 0x8BB7, init 0, not reflected), slice-by-8; crc continues an earlier one. */
uint16_t pi_crc16(uint16_t crc, const void *buf, size_t len);

/* Bytes that len bytes of data move through the data buffer: extended LBAs carry their metadata inline. */
static inline uint32_t pi_data_xfer(const struct pi_format *f, uint32_t len)
{
	if (!f->extended || !f->meta_xfer)
		return len;
	return len / f->lba_size * (f->lba_size + f->meta_xfer);
}

/* Bytes of the separate metadata buffer for len bytes of data (0: none). */
static inline uint32_t pi_meta_xfer(const struct pi_format *f, uint32_t len)
{
	if (f->extended || !f->meta_xfer)
		return 0;
	return len / f->lba_size * f->meta_xfer;
}

/* CDW12 bits 29:26 (PRACT, PRCHK), CDW14 (ILBRT) and CDW15 (ELBATM, ELBAT) of a read or write at slba. */
static inline void pi_cmd_dwords(const struct pi_format *f, uint64_t slba, uint32_t *cdw12, uint32_t *cdw14, uint32_t *cdw15)
{
	if (!f->type)
		return;
	*cdw12 |= ((uint32_t)f->act << 29) | ((uint32_t)f->check << 26);
	/* Types 1 and 2: the first block's reference tag is the low 32 bits of its LBA; type 3 has none. */
	*cdw14 = f->type == 3 ? 0 : (uint32_t)slba;
	*cdw15 = ((uint32_t)f->apptag_mask << 16) | f->apptag;
}

/* Write the PI tuples of nlb blocks from slba; data and meta as the command carries them (meta NULL when extended). */
void pi_generate(const struct pi_format *f, void *data, void *meta, uint64_t slba, uint32_t nlb);

/*
 * Check the tuples the way the controller's PRCHK would (every field, on
 * reads): returns the blocks that fail and describes the first in msg.
 * A tuple with the escape application tag 0xFFFF (and, type 3, reference tag
 * 0xFFFFFFFF) is not checked, as the specification says.
 */
unsigned pi_check(const struct pi_format *f, const void *data, const void *meta, uint64_t slba, uint32_t nlb,
		  char *msg, size_t msglen);

/* verify_stamp and verify_check over the data blocks of an extended-LBA buffer (or a plain one). */
void pi_verify_stamp(const struct pi_format *f, void *buf, uint32_t len, uint64_t offset, uint32_t seed, uint32_t gen);
unsigned pi_verify_check(const struct pi_format *f, const void *buf, uint32_t len, uint64_t offset, uint32_t want_seed,
			 char *msg, size_t msglen);

#endif
