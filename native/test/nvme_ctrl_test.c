/*
 * The controller's pure decisions, no device: how long an enable may take
 * (CAP.TO against CRTO.CRWMT, as Linux reads them) and the admin command
 * identifiers, which must never be 0xFFFF.
 */
#include <stdint.h>

#include "nvme_ctrl.h"
#include "ctest.h"

#define CAP_TO(units) ((uint64_t)(units) << 24)

static void test_ready_timeout(void)
{
	bool used = true;

	/* CAP.TO is in 500 ms units; 0 still waits one unit. */
	CHECK(nvme_ready_timeout_ms(CAP_TO(30), 0, &used) == 15000 && !used);
	CHECK(nvme_ready_timeout_ms(CAP_TO(0), 0, NULL) == 500);
	CHECK(nvme_ready_timeout_ms(CAP_TO(255), 0, NULL) == 127500);
	/* CRWMS: a larger CRWMT wins, and its upper half (CRIMT) is not it. */
	CHECK(nvme_ready_timeout_ms(CAP_TO(30) | NVME_CAP_CRMS_CRWMS, (7U << 16) | 600, &used) == 300000 && used);
	CHECK(nvme_ready_timeout_ms(CAP_TO(30) | NVME_CAP_CRMS_CRWMS, 0xffff, NULL) == 65535U * 500U);
	/* A CRWMT below CAP.TO is the controller's bug: CAP.TO stands. */
	CHECK(nvme_ready_timeout_ms(CAP_TO(30) | NVME_CAP_CRMS_CRWMS, 10, &used) == 15000 && !used);
	/* Without CRWMS, CRTO means nothing even when it reads non-zero. */
	CHECK(nvme_ready_timeout_ms(CAP_TO(30) | NVME_CAP_CRMS_CRIMS, 600, &used) == 15000 && !used);
}

static void test_cid(void)
{
	uint16_t cid = 0xfffe;
	uint32_t i, seen_ffff = 0, seen_zero = 0;

	CHECK(nvme_next_cid(&cid) == 0xfffe);
	CHECK(nvme_next_cid(&cid) == 0); /* 0xffff skipped */
	CHECK(nvme_next_cid(&cid) == 1);
	cid = 0;
	for (i = 0; i < 3 * 65535; i++) {
		uint16_t v = nvme_next_cid(&cid);

		seen_ffff += v == 0xffff;
		seen_zero += v == 0;
	}
	CHECK(seen_ffff == 0);
	CHECK(seen_zero == 3); /* it wraps, every 65535 commands */
	/* A CID that got to 0xffff some other way is not handed out either. */
	cid = 0xffff;
	CHECK(nvme_next_cid(&cid) == 0);
}

int main(void)
{
	test_ready_timeout();
	test_cid();
	return ctest_done("nvme_ctrl");
}
