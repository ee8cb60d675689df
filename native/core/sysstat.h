/*
 * Whole-system CPU over the measured interval: what a path makes others
 * spend besides its worker threads. Two snapshots per run, taken when the
 * first worker begins measuring and when the last one ends (worker.c); each
 * reads /proc/stat, the process's io_uring helper threads, the NVMe
 * controller's lines of /proc/interrupts and getrusage(RUSAGE_SELF). Nothing
 * here runs on the hot path, and nothing allocates: every buffer is in
 * struct sysstat_run, allocated with the run.
 */
#ifndef NVMEBENCH_SYSSTAT_H
#define NVMEBENCH_SYSSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSSTAT_MAX_CPUS 256     /* ENGINE_MAX_THREADS: one pinned worker per CPU at most */
#define SYSSTAT_MAX_IRQ_NAMES 8
#define SYSSTAT_NAME_LEN 32
#define SYSSTAT_MAX_HELPERS 256  /* io_uring helper threads tracked by tid */
#define SYSSTAT_MAX_SOURCES 64   /* interrupt action names matched, for the record */
#define SYSSTAT_LINE_LEN 8192    /* a /proc/interrupts line: 11 characters per CPU column */
#define SYSSTAT_READ_LEN 16384

/* /proc/stat's per-CPU columns, in its order (USER_HZ ticks). */
enum sysstat_field {
	SYSSTAT_USER,
	SYSSTAT_NICE,
	SYSSTAT_SYSTEM,
	SYSSTAT_IDLE,
	SYSSTAT_IOWAIT,
	SYSSTAT_IRQ,
	SYSSTAT_SOFTIRQ,
	SYSSTAT_STEAL,
	SYSSTAT_FIELDS,
};

/* The job's interrupt action-name prefixes ("nvme0q"); none: interrupts not measured. */
struct sysstat_irq_names {
	char name[SYSSTAT_MAX_IRQ_NAMES][SYSSTAT_NAME_LEN];
	uint32_t count;
};

struct sysstat_cpu {
	uint64_t ticks[SYSSTAT_FIELDS];
};

/* One io_uring helper thread (iou-sqp-*, iou-wrk-*) of this process. */
struct sysstat_helper {
	int tid;
	uint64_t cpu_ns;
	uint64_t vcsw;
	uint64_t nvcsw;
};

struct sysstat_snap {
	uint64_t time_ns;           /* CLOCK_MONOTONIC */
	bool stat_valid;            /* /proc/stat was read */
	struct sysstat_cpu total;
	struct sysstat_cpu cpu[SYSSTAT_MAX_CPUS];
	uint64_t cpu_present[SYSSTAT_MAX_CPUS / 64];
	struct sysstat_helper helpers[SYSSTAT_MAX_HELPERS];
	uint32_t nr_helpers;
	bool helpers_truncated;
	bool irqs_valid;            /* /proc/interrupts was read and names were given */
	uint64_t irqs;              /* summed over the matching lines and every CPU */
	uint64_t proc_user_us;      /* getrusage(RUSAGE_SELF) */
	uint64_t proc_sys_us;
	uint64_t proc_vcsw;
	uint64_t proc_nvcsw;
};

/* Splits a stream into lines; a line longer than the buffer is dropped whole. */
struct sysstat_lines {
	char line[SYSSTAT_LINE_LEN];
	size_t len;
	bool overflow;
};

/* What the interrupt lines matched, the names kept for the record. */
struct sysstat_sources {
	char name[SYSSTAT_MAX_SOURCES][SYSSTAT_NAME_LEN];
	uint32_t count;
};

struct sysstat_run {
	struct sysstat_snap begin;
	struct sysstat_snap end;
	struct sysstat_sources sources;
	struct sysstat_lines lines;
	uint32_t irq_columns;       /* CPU columns in /proc/interrupts' header */
	char buf[SYSSTAT_READ_LEN] __attribute__((aligned(8))); /* getdents64 records are 8-byte aligned */
};

/* What the result carries: end minus begin. */
struct sysstat_delta {
	uint64_t elapsed_ns;
	bool stat_valid;
	uint64_t total_ns[SYSSTAT_FIELDS];
	uint64_t busy_ns[SYSSTAT_MAX_CPUS];   /* user + nice + system, per CPU */
	uint64_t steal_ns[SYSSTAT_MAX_CPUS];
	uint64_t cpu_present[SYSSTAT_MAX_CPUS / 64];
	uint64_t helper_cpu_ns;
	uint64_t helper_vcsw;
	uint64_t helper_nvcsw;
	uint32_t helper_threads;    /* helper threads seen at the end */
	bool helpers_truncated;
	bool irqs_valid;
	uint64_t irqs;
	uint64_t proc_user_ns;
	uint64_t proc_sys_ns;
};

/* Pure parsers, unit-tested in native/test/sysstat_test.c. */
int sysstat_parse_stat_line(const char *line, struct sysstat_snap *snap);
int sysstat_parse_interrupts_line(struct sysstat_run *sr, const char *line, const struct sysstat_irq_names *names,
				  uint64_t *count);
void sysstat_lines_feed(struct sysstat_lines *lines, const char *data, size_t len,
			void (*fn)(void *arg, const char *line), void *arg);
void sysstat_lines_end(struct sysstat_lines *lines, void (*fn)(void *arg, const char *line), void *arg);
int sysstat_parse_helper_status(const char *text, uint64_t *vcsw, uint64_t *nvcsw);
int sysstat_parse_task_stat(const char *text, uint64_t *utime, uint64_t *stime);

/* The snapshots themselves. */
void sysstat_snapshot(struct sysstat_run *sr, struct sysstat_snap *snap, const struct sysstat_irq_names *names);
void sysstat_delta(const struct sysstat_run *sr, struct sysstat_delta *d);

static inline bool sysstat_cpu_present(const uint64_t *map, unsigned cpu)
{
	return cpu < SYSSTAT_MAX_CPUS && (map[cpu / 64] >> (cpu % 64)) & 1;
}

#endif
