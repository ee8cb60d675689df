/*
 * nvme_fdp.c without a device: the FDP commands field by field (Get Log
 * Page with the endurance group in LSI, Get Features 1Dh, I/O Management
 * Receive), the parsers on logs built here by the NVMe 2.0 layouts,
 * including ones that lie about their sizes, the write tag, and
 * fdp_next_pid's three schemes. The logs are malloc'd at their real sizes,
 * so a parser reading past one is an ASan report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../nvme/nvme_cmd.c"
#include "../nvme/nvme_fdp.c"
#include "../core/fdp.h"
#include "ctest.h"

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* An FDP Configurations log of two configurations: the second with nruh handles. */
static uint32_t build_configs(uint8_t *log, uint16_t nruh)
{
	uint32_t off = 16, d2;

	memset(log, 0, 4096);
	put16(log, 1); /* NUMFDPC: 2, 0's based */
	/* configuration 0: 64 + 4 bytes, one handle */
	put16(log + off, 68);
	log[off + 2] = 0x80;
	put16(log + off + 8, 1);
	off += 68;
	d2 = off;
	put16(log + d2, (uint16_t)(64 + 4 * nruh));
	log[d2 + 2] = 0x80 | 0x02; /* valid, RGIF 2 */
	put32(log + d2 + 4, 3);          /* NRG */
	put16(log + d2 + 8, nruh);       /* NRUH */
	put16(log + d2 + 10, 16);        /* MAXPIDS */
	put32(log + d2 + 12, 256);       /* NNSS */
	put64(log + d2 + 16, 96 << 20);  /* RUNS */
	put32(log + d2 + 24, 7);         /* ERUTL */
	for (unsigned i = 0; i < nruh; i++)
		log[d2 + 64 + 4 * i] = i % 2 ? 2 : 1;
	off = d2 + 64 + 4 * nruh;
	put32(log + 4, off); /* SIZE */
	return off;
}

static void test_commands(void)
{
	struct nvme_cmd_desc d;
	uint8_t buf[64];

	nvme_fdp_cmd_log(&d, NVME_LOG_FDP_STATS, 5, buf, 64);
	CHECK(d.opcode == 0x02);
	CHECK((d.cdw10 & 0xff) == 0x22);
	CHECK(d.cdw10 >> 16 == 15); /* 16 dwords, 0's based */
	CHECK(d.cdw11 == (5U << 16)); /* LSI: endurance group 5, NUMDU 0 */
	CHECK(d.data_len == 64 && d.addr == (uint64_t)(uintptr_t)buf && d.dir == NVME_DIR_FROM_DEV);

	nvme_fdp_cmd_feature(&d, 7);
	CHECK(d.opcode == 0x0a && d.cdw10 == 0x1d && d.cdw11 == 7 && d.data_len == 0);

	nvme_fdp_cmd_ruhs(&d, 3, buf, 64);
	CHECK(d.opcode == 0x12 && d.nsid == 3 && d.cdw10 == 1 && d.cdw11 == 15);
}

static void test_config(void)
{
	uint8_t *log = malloc(4096);
	struct nvme_fdp_config cfg;
	char err[200];

	build_configs(log, 8);
	CHECK(nvme_fdp_parse_config(log, 4096, 0, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.nruh == 1 && cfg.nruht == 1);
	CHECK(nvme_fdp_parse_config(log, 4096, 1, &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.nrg == 3 && cfg.nruh == 8 && cfg.maxpids == 16 && cfg.nnss == 256);
	CHECK(cfg.runs == 96 << 20 && cfg.erutl == 7 && (cfg.fdpa & 0xf) == 2);
	CHECK(cfg.nruht == 8 && cfg.ruht[0] == 1 && cfg.ruht[1] == 2 && cfg.ruht[7] == 2);

	/* No such configuration: named. */
	CHECK(nvme_fdp_parse_config(log, 4096, 2, &cfg, err, sizeof(err)) == -1);
	CHECK_STR_HAS(err, "none with index 2");

	/* A descriptor size under its header: refused, not walked. */
	put16(log + 16, 8);
	CHECK(nvme_fdp_parse_config(log, 4096, 1, &cfg, err, sizeof(err)) == -1);
	CHECK_STR_HAS(err, "under the 64");
	free(log);

	/* A log that claims 1000 handles in a 128-byte buffer: the parser stops at the buffer. */
	log = malloc(4096);
	build_configs(log, 8);
	put16(log + 16 + 68 + 8, 1000);
	put16(log + 16 + 68, 0xffff);
	put32(log + 4, 0xffffffffU);
	{
		uint8_t *small = malloc(16 + 68 + 64 + 16);

		memcpy(small, log, 16 + 68 + 64 + 16);
		CHECK(nvme_fdp_parse_config(small, 16 + 68 + 64 + 16, 1, &cfg, err, sizeof(err)) == 0);
		CHECK(cfg.nruh == 1000 && cfg.nruht == 4);
		free(small);
	}
	free(log);
}

static void test_stats_ruhs(void)
{
	uint8_t *log = calloc(1, 64), *rs = calloc(1, 16 + 32 * 2);
	struct nvme_fdp_stats st;
	uint16_t pids[4];
	uint64_t ruamw[4];

	put64(log, 1 << 20);
	put64(log + 16, 3 << 20);
	put64(log + 32, 5);
	nvme_fdp_parse_stats(log, &st);
	CHECK(st.hbmw == 1 << 20 && st.mbmw == 3 << 20 && st.mbe == 5 && !st.hi);
	put64(log + 24, 1);
	nvme_fdp_parse_stats(log, &st);
	CHECK(st.hi);

	/* Two descriptors in the buffer, five claimed: two read, five reported. */
	put16(rs + 14, 5);
	put16(rs + 16, 0x11);
	put16(rs + 48, 0x22);
	put64(rs + 48 + 8, 777);
	CHECK(nvme_fdp_parse_ruhs(rs, 16 + 32 * 2, pids, ruamw, 4) == 5);
	CHECK(pids[0] == 0x11 && pids[1] == 0x22 && ruamw[0] == 0 && ruamw[1] == 777);
	CHECK(nvme_fdp_parse_ruhs(rs, 16 + 32 * 2, pids, NULL, 1) == 5);
	free(log);
	free(rs);
}

static void test_tag(void)
{
	struct job job;
	struct io_unit io;
	struct nvme_cmd_desc cmd;
	uint32_t cdw12 = 0x7 | (0xfU << 20) | (1U << 30), cdw13 = 0xabcd1234;

	nvme_fdp_tag(&cdw12, &cdw13, 0x0102);
	CHECK(cdw12 == (0x7 | (2U << 20) | (1U << 30))); /* NLB and the bits above DTYPE kept */
	CHECK(cdw13 == (0x0102U << 16 | 0x1234));      /* DSM bits kept */

	memset(&job, 0, sizeof(job));
	memset(&io, 0, sizeof(io));
	job.lba_size = 512;
	job.nsid = 1;
	job.fdp = true;
	io.len = 4096;
	io.offset = 8192;
	io.is_write = true;
	io.dspec = 3;
	nvme_cmd_prep(&job, &io, &cmd);
	CHECK(cmd.opcode == 0x01 && cmd.cdw12 == (7U | 2U << 20) && cmd.cdw13 == 3U << 16);
	io.is_write = false;
	nvme_cmd_prep(&job, &io, &cmd);
	CHECK(cmd.opcode == 0x02 && cmd.cdw12 == 7U && cmd.cdw13 == 0); /* reads are not tagged */
	job.fdp = false;
	io.is_write = true;
	nvme_cmd_prep(&job, &io, &cmd);
	CHECK(cmd.cdw12 == 7U && cmd.cdw13 == 0);
}

static void test_schemes(void)
{
	static struct job job;
	struct worker w0, w1;
	unsigned seen[3] = { 0 }, i;

	memset(&w0, 0, sizeof(w0));
	memset(&w1, 0, sizeof(w1));
	w1.id = 1;
	job.fdp_npids = 3;
	job.fdp_pids[0] = 10;
	job.fdp_pids[1] = 20;
	job.fdp_pids[2] = 30;

	job.fdp_scheme = JOB_FDP_ROUNDROBIN;
	CHECK(fdp_next_pid(&w0, &job) == 10);
	CHECK(fdp_next_pid(&w0, &job) == 20);
	CHECK(fdp_next_pid(&w0, &job) == 30);
	CHECK(fdp_next_pid(&w0, &job) == 10);

	job.fdp_scheme = JOB_FDP_PER_WORKER;
	CHECK(fdp_next_pid(&w0, &job) == 10 && fdp_next_pid(&w0, &job) == 10);
	CHECK(fdp_next_pid(&w1, &job) == 20);

	job.fdp_scheme = JOB_FDP_RANDOM;
	w0.fdp_next = 0;
	for (i = 0; i < 3000; i++) {
		uint16_t p = fdp_next_pid(&w0, &job);

		CHECK(p == 10 || p == 20 || p == 30);
		seen[p / 10 - 1]++;
	}
	/* Uniform enough: each about 1000. */
	CHECK(seen[0] > 800 && seen[1] > 800 && seen[2] > 800);
}

int main(void)
{
	test_commands();
	test_config();
	test_stats_ruhs();
	test_tag();
	test_schemes();
	return ctest_done("nvme_fdp_test");
}
