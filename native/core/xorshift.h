/*
 * xorshift64*: the one pseudo-random generator of the engine (offsets, the
 * read/write mix, buffer fill, Poisson gaps). Fast, no state but one word,
 * and good enough to spread I/O; not for anything that needs real randomness.
 * The state must never be 0.
 */
#ifndef NVMEBENCH_XORSHIFT_H
#define NVMEBENCH_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64s_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#endif
