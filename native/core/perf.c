/*
 * --explain's sampler (perf.h). Nothing here runs per I/O: the worker
 * enables and disables its event at the measure boundaries, and the reader
 * thread empties the rings every 100 ms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "perf.h"

#define PERF_DRAIN_INTERVAL_US 100000 /* the ring holds ~8 s of samples at 2 kHz */

int perf_sampler_alloc(struct perf_sampler **out)
{
	struct perf_sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->table = calloc(PERF_TABLE_SLOTS, sizeof(*s->table));
	if (!s->table) {
		free(s);
		errno = ENOMEM;
		return -1;
	}
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

static int __perf_open(struct perf_event_attr *attr)
{
	return (int)syscall(SYS_perf_event_open, attr, (pid_t)syscall(SYS_gettid), -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int perf_sampler_open(struct perf_sampler *s, char *errmsg, size_t errlen)
{
	struct perf_event_attr attr;
	long page = sysconf(_SC_PAGESIZE);

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_HARDWARE;
	attr.config = PERF_COUNT_HW_CPU_CYCLES;
	attr.sample_period = PERF_CYCLES_PERIOD;
	attr.sample_type = PERF_SAMPLE_IP;
	attr.disabled = 1;
	attr.exclude_hv = 1;
	s->kind = PERF_KIND_CYCLES;
	s->period = PERF_CYCLES_PERIOD;
	/* NVMEBENCH_EXPLAIN_EVENT=cpu-clock: the time-based event even where a PMU exists (tests, comparisons) */
	s->fd = getenv("NVMEBENCH_EXPLAIN_EVENT") && !strcmp(getenv("NVMEBENCH_EXPLAIN_EVENT"), "cpu-clock") ? -1 : __perf_open(&attr);
	if (s->fd < 0) {
		/* No PMU (most VMs, QEMU TCG): the hrtimer-driven software clock, in ns of the thread's CPU. */
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.sample_period = PERF_CLOCK_PERIOD_NS;
		s->kind = PERF_KIND_CPU_CLOCK;
		s->period = PERF_CLOCK_PERIOD_NS;
		s->fd = __perf_open(&attr);
	}
	if (s->fd < 0) {
		snprintf(errmsg, errlen, "--explain: perf_event_open on the worker thread failed: %s", strerror(errno));
		s->kind = PERF_KIND_NONE;
		return -1;
	}
	s->ring_len = (size_t)(PERF_RING_PAGES + 1) * (size_t)page;
	s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->ring == MAP_FAILED) {
		int saved = errno;

		snprintf(errmsg, errlen, "--explain: mapping the perf ring failed: %s", strerror(errno));
		s->ring = NULL;
		close(s->fd);
		s->fd = -1;
		errno = saved;
		return -1;
	}
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	return 0;
}

void perf_sampler_enable(struct perf_sampler *s)
{
	if (s && s->fd >= 0)
		ioctl(s->fd, PERF_EVENT_IOC_ENABLE, 0);
}

void perf_sampler_disable(struct perf_sampler *s)
{
	uint64_t count;

	if (!s || s->fd < 0)
		return;
	ioctl(s->fd, PERF_EVENT_IOC_DISABLE, 0);
	/*
	 * The total, not samples x period: a sample fires late by the timer's
	 * latency, so samples x period falls short of the CPU the event counted.
	 */
	if (read(s->fd, &count, sizeof(count)) == sizeof(count))
		s->count = count;
}

static void __perf_count(struct perf_sampler *s, uint64_t ip)
{
	uint64_t h = (ip * 0x9e3779b97f4a7c15ULL) >> 50; /* 14 bits: PERF_TABLE_SLOTS */
	uint32_t i;

	s->samples++;
	for (i = 0; i < PERF_TABLE_SLOTS; i++) {
		struct perf_slot *slot = &s->table[(h + i) & (PERF_TABLE_SLOTS - 1)];

		if (slot->count && slot->ip == ip) {
			slot->count++;
			return;
		}
		if (!slot->count) {
			slot->ip = ip;
			slot->count = 1;
			s->used++;
			return;
		}
	}
	s->dropped++;
}

/* Copy len bytes at offset off of the circular data area, which may wrap. */
static void __perf_copy(const uint8_t *data, uint64_t size, uint64_t off, void *dst, size_t len)
{
	uint64_t at = off % size;
	size_t first = len < size - at ? len : (size_t)(size - at);

	memcpy(dst, data + at, first);
	memcpy((uint8_t *)dst + first, data, len - first);
}

void perf_sampler_drain(struct perf_sampler *s)
{
	struct perf_event_mmap_page *meta;
	const uint8_t *data;
	uint64_t head, tail, size;

	if (!s || !__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&s->lock);
	meta = s->ring;
	data = (const uint8_t *)s->ring + meta->data_offset;
	size = meta->data_size;
	/* the kernel writes records before it publishes data_head */
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = meta->data_tail;
	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header hdr;
		uint64_t body[2];

		__perf_copy(data, size, tail, &hdr, sizeof(hdr));
		if (hdr.size < sizeof(hdr))
			break; /* never seen; do not spin on a corrupt ring */
		if (hdr.type == PERF_RECORD_SAMPLE && hdr.size >= sizeof(hdr) + 8) {
			__perf_copy(data, size, tail + sizeof(hdr), body, 8);
			__perf_count(s, body[0]);
		} else if (hdr.type == PERF_RECORD_LOST && hdr.size >= sizeof(hdr) + 16) {
			__perf_copy(data, size, tail + sizeof(hdr), body, 16);
			s->lost += body[1];
		}
		tail += hdr.size;
	}
	/* done reading the records up to tail before the kernel may overwrite them */
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
}

void perf_sampler_free(struct perf_sampler *s)
{
	if (!s)
		return;
	if (s->ring)
		munmap(s->ring, s->ring_len);
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s->table);
	free(s);
}

static void *__perf_reader_main(void *arg)
{
	struct perf_reader *r = arg;
	uint32_t i;

	while (!r->stop) {
		for (i = 0; i < r->nr; i++)
			perf_sampler_drain(r->samplers[i]);
		usleep(PERF_DRAIN_INTERVAL_US);
	}
	return NULL;
}

int perf_reader_start(struct perf_reader *r, struct perf_sampler **samplers, uint32_t nr)
{
	int ret;

	r->samplers = samplers;
	r->nr = nr;
	r->stop = 0;
	ret = pthread_create(&r->thread, NULL, __perf_reader_main, r);
	if (ret) {
		errno = ret;
		return -1;
	}
	r->started = true;
	return 0;
}

void perf_reader_stop(struct perf_reader *r)
{
	uint32_t i;

	if (r->started) {
		r->stop = 1;
		pthread_join(r->thread, NULL);
		r->started = false;
	}
	for (i = 0; i < r->nr; i++)
		perf_sampler_drain(r->samplers[i]);
}
