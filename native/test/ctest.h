/*
 * A few lines of test harness for the C units, in libvfn's manner: a test
 * file #includes the .c unit it tests, stubs what that unit reaches out to
 * (hardware, the kernel), and checks its functions directly. Each
 * native/test/NAME_test.c is one program; test/hostile/native-c.test.ts builds
 * it with the sanitizers on and runs it. Exit status 0 means every check held.
 */
#ifndef NVMEBENCH_CTEST_H
#define NVMEBENCH_CTEST_H

#include <stdio.h>
#include <string.h>

static int ctest_failures;
static int ctest_checks;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		ctest_checks++;                                                          \
		if (!(cond)) {                                                           \
			ctest_failures++;                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                        \
	} while (0)

/* haystack contains needle; both printed when it does not. */
#define CHECK_STR_HAS(haystack, needle)                                                          \
	do {                                                                                     \
		ctest_checks++;                                                                  \
		if (!strstr((haystack), (needle))) {                                             \
			ctest_failures++;                                                        \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
				(haystack), (needle));                                           \
		}                                                                                \
	} while (0)

static inline int ctest_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, ctest_checks, ctest_failures);
	return ctest_failures ? 1 : 0;
}

#endif
