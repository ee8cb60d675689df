/*
 * Whole-system CPU snapshots (sysstat.h). The parsers take text and fill
 * structs, so that native/test/sysstat_test.c can feed them sample /proc
 * files; sysstat_snapshot() reads the real ones through fixed buffers.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "sysstat.h"

/* ------------------------------------------------------------------ */
/* Lines out of a stream read in chunks. */

void sysstat_lines_feed(struct sysstat_lines *lines, const char *data, size_t len,
			void (*fn)(void *arg, const char *line), void *arg)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			if (!lines->overflow) {
				lines->line[lines->len] = '\0';
				fn(arg, lines->line);
			}
			lines->len = 0;
			lines->overflow = false;
			continue;
		}
		if (lines->len + 1 >= sizeof(lines->line)) {
			lines->overflow = true; /* too long for us: skipped, not cut */
			continue;
		}
		lines->line[lines->len++] = c;
	}
}

void sysstat_lines_end(struct sysstat_lines *lines, void (*fn)(void *arg, const char *line), void *arg)
{
	if (lines->len && !lines->overflow) {
		lines->line[lines->len] = '\0';
		fn(arg, lines->line);
	}
	lines->len = 0;
	lines->overflow = false;
}

/* ------------------------------------------------------------------ */
/* /proc/stat */

/*
 * One line of /proc/stat: "cpu  u n s i w irq softirq steal …" (the total)
 * or "cpuN …". Returns 1 when it was a CPU line taken, 0 for any other line
 * (or a CPU beyond SYSSTAT_MAX_CPUS), -1 when a CPU line is malformed.
 */
int sysstat_parse_stat_line(const char *line, struct sysstat_snap *snap)
{
	struct sysstat_cpu *cpu;
	const char *p = line;
	char *end;
	unsigned f;

	if (strncmp(p, "cpu", 3))
		return 0;
	p += 3;
	if (*p == ' ') {
		cpu = &snap->total;
	} else if (isdigit((unsigned char)*p)) {
		unsigned long n = strtoul(p, &end, 10);

		if (*end != ' ')
			return -1;
		p = end;
		if (n >= SYSSTAT_MAX_CPUS)
			return 0;
		cpu = &snap->cpu[n];
		snap->cpu_present[n / 64] |= 1ULL << (n % 64);
	} else {
		return 0;
	}
	/* Kernels before 2.6.11 lack steal: missing trailing columns read as 0. */
	for (f = 0; f < SYSSTAT_FIELDS; f++) {
		while (*p == ' ')
			p++;
		if (!*p) {
			cpu->ticks[f] = 0;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return -1;
		cpu->ticks[f] = strtoull(p, &end, 10);
		p = end;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* /proc/interrupts */

static bool __sysstat_name_matches(const char *tok, size_t len, const struct sysstat_irq_names *names)
{
	uint32_t i;

	for (i = 0; i < names->count; i++) {
		size_t n = strlen(names->name[i]);

		if (n && len >= n && !strncmp(tok, names->name[i], n))
			return true;
	}
	return false;
}

static void __sysstat_source_add(struct sysstat_sources *s, const char *tok, size_t len)
{
	uint32_t i;

	if (len >= SYSSTAT_NAME_LEN)
		len = SYSSTAT_NAME_LEN - 1;
	for (i = 0; i < s->count; i++)
		if (strlen(s->name[i]) == len && !strncmp(s->name[i], tok, len))
			return;
	if (s->count == SYSSTAT_MAX_SOURCES)
		return;
	memcpy(s->name[s->count], tok, len);
	s->name[s->count][len] = '\0';
	s->count++;
}

/*
 * One line of /proc/interrupts. The header ("CPU0 CPU1 …") sets how many
 * count columns follow each "IRQ:" label; after them come the chip, the
 * hardware IRQ and its type, then the action names, comma-separated when the
 * line is shared ("nvme0q0, nvme0q1"). A line is ours when one of its words
 * after the counts starts with one of the prefixes; *count gains the line's
 * counts over every CPU, and its matching names are kept in sr->sources.
 * Returns 1 for a line of ours, 0 otherwise, -1 for a line before the header.
 */
int sysstat_parse_interrupts_line(struct sysstat_run *sr, const char *line, const struct sysstat_irq_names *names,
				  uint64_t *count)
{
	const char *p = line, *label_end;
	uint64_t sum = 0;
	uint32_t col;
	bool ours = false;

	while (*p == ' ')
		p++;
	if (!strncmp(p, "CPU", 3)) {
		sr->irq_columns = 0;
		while (*p) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (strncmp(p, "CPU", 3))
				break;
			sr->irq_columns++;
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		return 0;
	}
	if (!sr->irq_columns)
		return -1;
	label_end = strchr(p, ':');
	if (!label_end)
		return 0;
	p = label_end + 1;
	/* Lines such as ERR: and MIS: carry one number: stop at the first word that is not one. */
	for (col = 0; col < sr->irq_columns; col++) {
		char *end;
		uint64_t v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		v = strtoull(p, &end, 10);
		if (*end && *end != ' ' && *end != '\t')
			break;
		sum += v;
		p = end;
	}
	while (*p) {
		const char *tok;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		tok = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		len = (size_t)(p - tok);
		if (len && __sysstat_name_matches(tok, len, names)) {
			ours = true;
			__sysstat_source_add(&sr->sources, tok, len);
		}
	}
	if (ours)
		*count += sum;
	return ours;
}

/* ------------------------------------------------------------------ */
/* /proc/self/task/TID/{status,stat} */

static int __sysstat_field_after(const char *text, const char *key, uint64_t *out)
{
	const char *p = strstr(text, key);

	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	*out = strtoull(p, NULL, 10);
	return 0;
}

/* voluntary_ctxt_switches and nonvoluntary_ctxt_switches from a status file. */
int sysstat_parse_helper_status(const char *text, uint64_t *vcsw, uint64_t *nvcsw)
{
	/* "\nvoluntary" so that nonvoluntary_ctxt_switches is not taken for it. */
	if (__sysstat_field_after(text, "\nvoluntary_ctxt_switches:", vcsw) < 0 ||
	    __sysstat_field_after(text, "\nnonvoluntary_ctxt_switches:", nvcsw) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* utime and stime (fields 14 and 15, ticks) from a stat file; comm may hold spaces and ')'. */
int sysstat_parse_task_stat(const char *text, uint64_t *utime, uint64_t *stime)
{
	const char *p = strrchr(text, ')');
	unsigned field;

	if (!p) {
		errno = EINVAL;
		return -1;
	}
	p++;
	/* p is before field 3 (state); utime is field 14. */
	for (field = 3; field < 14; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
		if (!*p) {
			errno = EINVAL;
			return -1;
		}
	}
	*utime = strtoull(p, (char **)&p, 10);
	*stime = strtoull(p, NULL, 10);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the files. */

/* A small file, whole, into buf (NUL-terminated); -1 and errno when it cannot be read. */
static ssize_t __sysstat_read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)total + 1 < size && (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Stream a /proc file through the line splitter. */
static int __sysstat_read_lines(struct sysstat_run *sr, const char *path, void (*fn)(void *arg, const char *line),
				void *arg)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	sr->lines.len = 0;
	sr->lines.overflow = false;
	while ((n = read(fd, sr->buf, sizeof(sr->buf))) > 0)
		sysstat_lines_feed(&sr->lines, sr->buf, (size_t)n, fn, arg);
	close(fd);
	if (n < 0)
		return -1;
	sysstat_lines_end(&sr->lines, fn, arg);
	return 0;
}

static void __sysstat_stat_cb(void *arg, const char *line)
{
	sysstat_parse_stat_line(line, arg);
}

struct __irq_walk {
	struct sysstat_run *sr;
	const struct sysstat_irq_names *names;
	uint64_t count;
};

static void __sysstat_irq_cb(void *arg, const char *line)
{
	struct __irq_walk *walk = arg;

	sysstat_parse_interrupts_line(walk->sr, line, walk->names, &walk->count);
}

static bool __sysstat_is_helper(const char *comm)
{
	return !strncmp(comm, "iou-sqp", 7) || !strncmp(comm, "iou-wrk", 7);
}

static void __sysstat_helper_read(struct sysstat_run *sr, int tid, struct sysstat_helper *h)
{
	char path[64];
	uint64_t utime, stime;
	long hz = sysconf(_SC_CLK_TCK);

	h->tid = tid;
	/* schedstat's first field is the thread's run time in ns (CONFIG_SCHED_INFO); stat's ticks otherwise. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	if (__sysstat_read_small(path, sr->buf, sizeof(sr->buf)) > 0 && isdigit((unsigned char)sr->buf[0])) {
		h->cpu_ns = strtoull(sr->buf, NULL, 10);
	} else {
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		if (__sysstat_read_small(path, sr->buf, sizeof(sr->buf)) > 0 &&
		    !sysstat_parse_task_stat(sr->buf, &utime, &stime) && hz > 0)
			h->cpu_ns = (utime + stime) * (1000000000ULL / (uint64_t)hz);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (__sysstat_read_small(path, sr->buf, sizeof(sr->buf)) > 0)
		sysstat_parse_helper_status(sr->buf, &h->vcsw, &h->nvcsw);
}

struct __linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * The process's io_uring helper threads: the SQPOLL thread and io-wq workers
 * are threads of this process since Linux 5.12. getdents64 straight into a
 * fixed buffer (opendir would allocate); the entries are copied out before
 * sr->buf is reused for each thread's files.
 */
static void __sysstat_helpers(struct sysstat_run *sr, struct sysstat_snap *snap)
{
	int tids[SYSSTAT_MAX_HELPERS * 4];
	unsigned ntids = 0, i;
	long n;
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, sr->buf, sizeof(sr->buf))) > 0) {
		long off;

		for (off = 0; off < n;) {
			struct __linux_dirent64 *de = (struct __linux_dirent64 *)(sr->buf + off);

			off += de->d_reclen;
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			if (ntids == sizeof(tids) / sizeof(tids[0])) {
				snap->helpers_truncated = true;
				continue;
			}
			tids[ntids++] = atoi(de->d_name);
		}
	}
	close(fd);
	for (i = 0; i < ntids; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tids[i]);
		if (__sysstat_read_small(path, sr->buf, sizeof(sr->buf)) <= 0 || !__sysstat_is_helper(sr->buf))
			continue;
		if (snap->nr_helpers == SYSSTAT_MAX_HELPERS) {
			snap->helpers_truncated = true;
			break;
		}
		memset(&snap->helpers[snap->nr_helpers], 0, sizeof(snap->helpers[0]));
		__sysstat_helper_read(sr, tids[i], &snap->helpers[snap->nr_helpers++]);
	}
}

static uint64_t __sysstat_tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000ULL + (uint64_t)tv->tv_usec;
}

void sysstat_snapshot(struct sysstat_run *sr, struct sysstat_snap *snap, const struct sysstat_irq_names *names)
{
	struct timespec ts;
	struct rusage ru;

	memset(snap, 0, sizeof(*snap));
	snap->stat_valid = __sysstat_read_lines(sr, "/proc/stat", __sysstat_stat_cb, snap) == 0;
	__sysstat_helpers(sr, snap);
	if (names->count) {
		struct __irq_walk walk = { .sr = sr, .names = names, .count = 0 };

		sr->irq_columns = 0;
		snap->irqs_valid = __sysstat_read_lines(sr, "/proc/interrupts", __sysstat_irq_cb, &walk) == 0;
		snap->irqs = walk.count;
	}
	if (!getrusage(RUSAGE_SELF, &ru)) {
		snap->proc_user_us = __sysstat_tv_us(&ru.ru_utime);
		snap->proc_sys_us = __sysstat_tv_us(&ru.ru_stime);
		snap->proc_vcsw = (uint64_t)ru.ru_nvcsw;
		snap->proc_nvcsw = (uint64_t)ru.ru_nivcsw;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snap->time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* End minus begin. */

static uint64_t __sysstat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * A helper thread seen at the end counts from its value at the start, or
 * from zero when it was born during the interval. One that exited during the
 * interval is lost here (its time is still in getrusage(RUSAGE_SELF)).
 */
static const struct sysstat_helper *__sysstat_find_helper(const struct sysstat_snap *snap, int tid)
{
	uint32_t i;

	for (i = 0; i < snap->nr_helpers; i++)
		if (snap->helpers[i].tid == tid)
			return &snap->helpers[i];
	return NULL;
}

void sysstat_delta(const struct sysstat_run *sr, struct sysstat_delta *d)
{
	const struct sysstat_snap *b = &sr->begin, *e = &sr->end;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick_ns = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
	unsigned f, cpu;
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->elapsed_ns = __sysstat_sub(e->time_ns, b->time_ns);
	d->stat_valid = b->stat_valid && e->stat_valid;
	if (d->stat_valid) {
		for (f = 0; f < SYSSTAT_FIELDS; f++)
			d->total_ns[f] = __sysstat_sub(e->total.ticks[f], b->total.ticks[f]) * tick_ns;
		for (cpu = 0; cpu < SYSSTAT_MAX_CPUS; cpu++) {
			const uint64_t *bt = b->cpu[cpu].ticks, *et = e->cpu[cpu].ticks;

			/* A CPU that went on- or offline during the run is left out. */
			if (!sysstat_cpu_present(b->cpu_present, cpu) || !sysstat_cpu_present(e->cpu_present, cpu))
				continue;
			d->cpu_present[cpu / 64] |= 1ULL << (cpu % 64);
			d->busy_ns[cpu] = (__sysstat_sub(et[SYSSTAT_USER], bt[SYSSTAT_USER]) +
					   __sysstat_sub(et[SYSSTAT_NICE], bt[SYSSTAT_NICE]) +
					   __sysstat_sub(et[SYSSTAT_SYSTEM], bt[SYSSTAT_SYSTEM])) * tick_ns;
			d->steal_ns[cpu] = __sysstat_sub(et[SYSSTAT_STEAL], bt[SYSSTAT_STEAL]) * tick_ns;
		}
	}
	for (i = 0; i < e->nr_helpers; i++) {
		const struct sysstat_helper *h = &e->helpers[i], *before = __sysstat_find_helper(b, h->tid);

		d->helper_cpu_ns += __sysstat_sub(h->cpu_ns, before ? before->cpu_ns : 0);
		d->helper_vcsw += __sysstat_sub(h->vcsw, before ? before->vcsw : 0);
		d->helper_nvcsw += __sysstat_sub(h->nvcsw, before ? before->nvcsw : 0);
	}
	d->helper_threads = e->nr_helpers;
	d->helpers_truncated = b->helpers_truncated || e->helpers_truncated;
	d->irqs_valid = b->irqs_valid && e->irqs_valid;
	d->irqs = d->irqs_valid ? __sysstat_sub(e->irqs, b->irqs) : 0;
	d->proc_user_ns = __sysstat_sub(e->proc_user_us, b->proc_user_us) * 1000;
	d->proc_sys_ns = __sysstat_sub(e->proc_sys_us, b->proc_sys_us) * 1000;
}
