#include <stdio.h>
#include <string.h>
#include "verify.h"

struct verify_header {
	uint64_t magic;
	uint64_t sector;
	uint32_t seed;
	uint32_t gen;
	uint64_t reserved;
};

static inline uint64_t verify_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void verify_fill(uint64_t *words, unsigned n, uint64_t sector, uint32_t seed, uint32_t gen)
{
	uint64_t state = verify_mix(sector ^ ((uint64_t)seed << 32) ^ gen);
	unsigned i;

	for (i = 0; i < n; i++) {
		state = verify_mix(state);
		words[i] = state;
	}
}

void verify_stamp(void *buf, uint32_t len, uint64_t offset, uint32_t seed, uint32_t gen)
{
	const unsigned nwords = (VERIFY_SECTOR - sizeof(struct verify_header)) / 8;
	uint32_t pos;

	for (pos = 0; pos + VERIFY_SECTOR <= len; pos += VERIFY_SECTOR) {
		struct verify_header *h = (struct verify_header *)((char *)buf + pos);
		uint64_t sector = (offset + pos) / VERIFY_SECTOR;

		h->magic = VERIFY_MAGIC;
		h->sector = sector;
		h->seed = seed;
		h->gen = gen;
		h->reserved = 0;
		verify_fill((uint64_t *)(h + 1), nwords, sector, seed, gen);
	}
}

unsigned verify_check(const void *buf, uint32_t len, uint64_t offset, uint32_t want_seed,
		      char *msg, size_t msglen)
{
	const unsigned nwords = (VERIFY_SECTOR - sizeof(struct verify_header)) / 8;
	uint64_t expect[VERIFY_SECTOR / 8];
	unsigned bad = 0;
	uint32_t pos;

	for (pos = 0; pos + VERIFY_SECTOR <= len; pos += VERIFY_SECTOR) {
		const struct verify_header *h = (const struct verify_header *)((const char *)buf + pos);
		uint64_t sector = (offset + pos) / VERIFY_SECTOR;
		const char *why = NULL;

		if (h->magic != VERIFY_MAGIC) {
			why = "no nvmebench stamp (was the region written with --verify first?)";
		} else if (h->sector != sector) {
			why = "stamp names another address";
		} else if (want_seed && h->seed != want_seed) {
			why = "stamp carries another run's seed";
		} else {
			verify_fill(expect, nwords, sector, h->seed, h->gen);
			if (memcmp(h + 1, expect, nwords * 8))
				why = "payload differs from what was written";
		}
		if (!why)
			continue;
		if (!bad && msg)
			snprintf(msg, msglen, "verify failed at byte offset %llu (sector %llu): %s%s",
				 (unsigned long long)(offset + pos), (unsigned long long)sector, why,
				 h->magic == VERIFY_MAGIC && h->sector != sector ? "" : "");
		bad++;
	}
	return bad;
}

uint32_t verify_gen(const void *buf)
{
	const struct verify_header *h = buf;

	return h->magic == VERIFY_MAGIC ? h->gen : 0;
}
