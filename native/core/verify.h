/*
 * Data verification. Every 512-byte sector of a written block carries a
 * header (magic, its own byte offset / 512, the run seed, a generation) and
 * a payload derived from those, so a read through any path can check that
 * the data belongs at that address and was written intact.
 */
#ifndef NVMEBENCH_VERIFY_H
#define NVMEBENCH_VERIFY_H

#include <stdint.h>
#include <stddef.h>

#define VERIFY_SECTOR 512
#define VERIFY_MAGIC 0x6e766d6562656e63ULL /* "nvmebenc" */

void verify_stamp(void *buf, uint32_t len, uint64_t offset, uint32_t seed, uint32_t gen);

/*
 * Check len bytes read from offset. want_seed 0 accepts any seed. Returns
 * the number of bad sectors and describes the first in msg.
 */
/* The generation stamped into the first sector of buf (0 when it carries no stamp). */
uint32_t verify_gen(const void *buf);

unsigned verify_check(const void *buf, uint32_t len, uint64_t offset, uint32_t want_seed,
		      char *msg, size_t msglen);

#endif
