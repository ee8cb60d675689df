/*
 * sysstat.c's parsers on sample /proc text: /proc/stat's CPU lines,
 * /proc/interrupts' NVMe queue lines (shared, short and foreign ones among
 * them), a thread's status and stat, text fed in odd-sized chunks, a line
 * too long for the buffer, and the deltas between two stubbed snapshots.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sysstat.c"
#include "ctest.h"

static const char stat_text[] =
	"cpu  100 5 200 10000 30 7 11 13 0 0\n"
	"cpu0 60 5 120 5000 10 4 6 9 0 0\n"
	"cpu1 40 0 80 5000 20 3 5 4 0 0\n"
	"cpu300 1 1 1 1 1 1 1 1 0 0\n"
	"intr 123456 0 0 1 2 3 4 5 6 7 8 9\n"
	"ctxt 99999\n"
	"btime 1700000000\n"
	"procs_running 2\n";

static const char irq_text[] =
	"           CPU0       CPU1       \n"
	"  0:         37          0   IO-APIC   2-edge      timer\n"
	" 11:          5          6   IO-APIC  11-fasteoi   uhci_hcd:usb1, nvme0q9\n"
	" 24:        100        200   PCI-MSIX-0000:00:04.0   0-edge      nvme0q0\n"
	" 25:       1000          2   PCI-MSIX-0000:00:04.0   1-edge      nvme0q1\n"
	" 26:          3       4000   PCI-MSIX-0000:00:04.0   2-edge      nvme0q2\n"
	" 27:         50         50   PCI-MSIX-0000:00:05.0   1-edge      nvme10q1\n"
	"NMI:          0          0   Non-maskable interrupts\n"
	"ERR:          0\n"
	"MIS:          0\n";

static void __stat_cb(void *arg, const char *line)
{
	sysstat_parse_stat_line(line, arg);
}

struct walk {
	struct sysstat_run *sr;
	struct sysstat_irq_names *names;
	uint64_t count;
	unsigned lines;
};

static void __irq_cb(void *arg, const char *line)
{
	struct walk *w = arg;

	w->lines++;
	sysstat_parse_interrupts_line(w->sr, line, w->names, &w->count);
}

static void test_stat(struct sysstat_run *sr)
{
	struct sysstat_snap *snap = &sr->begin;
	size_t off, step;

	/* Fed 7 bytes at a time: lines cross chunk boundaries. */
	memset(snap, 0, sizeof(*snap));
	for (off = 0; off < sizeof(stat_text) - 1; off += step) {
		step = sizeof(stat_text) - 1 - off < 7 ? sizeof(stat_text) - 1 - off : 7;
		sysstat_lines_feed(&sr->lines, stat_text + off, step, __stat_cb, snap);
	}
	sysstat_lines_end(&sr->lines, __stat_cb, snap);
	CHECK(snap->total.ticks[SYSSTAT_USER] == 100);
	CHECK(snap->total.ticks[SYSSTAT_SYSTEM] == 200);
	CHECK(snap->total.ticks[SYSSTAT_IRQ] == 7);
	CHECK(snap->total.ticks[SYSSTAT_SOFTIRQ] == 11);
	CHECK(snap->total.ticks[SYSSTAT_STEAL] == 13);
	CHECK(snap->cpu[0].ticks[SYSSTAT_NICE] == 5);
	CHECK(snap->cpu[1].ticks[SYSSTAT_IOWAIT] == 20);
	CHECK(sysstat_cpu_present(snap->cpu_present, 0) && sysstat_cpu_present(snap->cpu_present, 1));
	CHECK(!sysstat_cpu_present(snap->cpu_present, 2));
	/* A CPU past SYSSTAT_MAX_CPUS is skipped, not written past the array. */
	CHECK(sysstat_parse_stat_line("cpu300 1 1 1 1 1 1 1 1", snap) == 0);
	CHECK(sysstat_parse_stat_line("intr 1 2 3", snap) == 0);
	CHECK(sysstat_parse_stat_line("cpu2 1 x 3", snap) == -1);
	/* An old kernel without steal: the missing columns read 0. */
	CHECK(sysstat_parse_stat_line("cpu3 1 2 3 4 5 6 7", snap) == 1 && snap->cpu[3].ticks[SYSSTAT_STEAL] == 0 &&
	      snap->cpu[3].ticks[SYSSTAT_SOFTIRQ] == 7);
}

static void test_interrupts(struct sysstat_run *sr)
{
	struct sysstat_irq_names names = { .name = { "nvme0q" }, .count = 1 };
	struct walk w = { .sr = sr, .names = &names };
	uint64_t before;

	sr->irq_columns = 0;
	sr->sources.count = 0;
	CHECK(sysstat_parse_interrupts_line(sr, " 24: 1 2 x nvme0q0", &names, &w.count) == -1); /* no header yet */
	sysstat_lines_feed(&sr->lines, irq_text, sizeof(irq_text) - 1, __irq_cb, &w);
	sysstat_lines_end(&sr->lines, __irq_cb, &w);
	CHECK(sr->irq_columns == 2);
	/* nvme0q0..2 and the shared line's nvme0q9; not nvme10q1, not the timer. */
	CHECK(w.count == 11 + 300 + 1002 + 4003);
	CHECK(sr->sources.count == 4);
	CHECK(!strcmp(sr->sources.name[0], "nvme0q9"));
	CHECK(!strcmp(sr->sources.name[1], "nvme0q0"));
	CHECK(!strcmp(sr->sources.name[3], "nvme0q2"));
	/* The same queue again is one source, not two. */
	before = w.count;
	CHECK(sysstat_parse_interrupts_line(sr, " 25: 1 1 PCI-MSIX 1-edge nvme0q1", &names, &w.count) == 1);
	CHECK(w.count == before + 2 && sr->sources.count == 4);
	/* A line too long for the line buffer is dropped whole, the next one still read. */
	{
		static char big[SYSSTAT_LINE_LEN + 100];
		const char *tail = "\n 26: 5 5 PCI-MSIX 2-edge nvme0q2\n";

		memset(big, '7', sizeof(big));
		big[0] = ' ';
		w.count = 0;
		w.lines = 0;
		sysstat_lines_feed(&sr->lines, big, sizeof(big), __irq_cb, &w);
		sysstat_lines_feed(&sr->lines, tail, strlen(tail), __irq_cb, &w);
		CHECK(w.lines == 1 && w.count == 10);
	}
}

static void test_task_files(void)
{
	uint64_t v = 0, nv = 0, ut = 0, st = 0;
	const char *status = "Name:\tiou-sqp-4242\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t150\n"
			     "nonvoluntary_ctxt_switches:\t7\n";
	/* A comm with a space and a ')' in it: fields are counted from the last ')'. */
	const char *stat = "4243 (iou-wrk )x) S 1 1 1 0 -1 4194368 0 0 0 0 321 654 0 0 20 0 1 0 100 0 0\n";

	CHECK(sysstat_parse_helper_status(status, &v, &nv) == 0 && v == 150 && nv == 7);
	CHECK(sysstat_parse_helper_status("Name:\tx\n", &v, &nv) == -1);
	CHECK(sysstat_parse_task_stat(stat, &ut, &st) == 0 && ut == 321 && st == 654);
	CHECK(sysstat_parse_task_stat("1 (cut) S 1 2", &ut, &st) == -1);
}

static void test_delta(struct sysstat_run *sr)
{
	struct sysstat_delta *d = malloc(sizeof(*d));
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick = 1000000000ULL / (uint64_t)hz;

	memset(&sr->begin, 0, sizeof(sr->begin));
	memset(&sr->end, 0, sizeof(sr->end));
	sr->begin.time_ns = 1000;
	sr->end.time_ns = 1000 + 2000000000ULL;
	sr->begin.stat_valid = sr->end.stat_valid = true;
	CHECK(sysstat_parse_stat_line("cpu 10 0 20 100 0 1 2 3", &sr->begin) == 1);
	CHECK(sysstat_parse_stat_line("cpu 40 0 70 300 0 5 9 3", &sr->end) == 1);
	CHECK(sysstat_parse_stat_line("cpu1 10 0 20 100 0 1 2 3", &sr->begin) == 1);
	CHECK(sysstat_parse_stat_line("cpu1 40 1 70 300 0 5 9 4", &sr->end) == 1);
	/* cpu2 came online during the run: left out. */
	CHECK(sysstat_parse_stat_line("cpu2 40 1 70 300 0 5 9 4", &sr->end) == 1);
	/* tid 7 was there at the start, tid 9 was born during the run, tid 5 left. */
	sr->begin.helpers[0] = (struct sysstat_helper){ .tid = 7, .cpu_ns = 1000, .vcsw = 10, .nvcsw = 1 };
	sr->begin.helpers[1] = (struct sysstat_helper){ .tid = 5, .cpu_ns = 99999, .vcsw = 99, .nvcsw = 9 };
	sr->begin.nr_helpers = 2;
	sr->end.helpers[0] = (struct sysstat_helper){ .tid = 9, .cpu_ns = 500, .vcsw = 3, .nvcsw = 0 };
	sr->end.helpers[1] = (struct sysstat_helper){ .tid = 7, .cpu_ns = 4000, .vcsw = 15, .nvcsw = 2 };
	sr->end.nr_helpers = 2;
	sr->begin.irqs_valid = sr->end.irqs_valid = true;
	sr->begin.irqs = 100;
	sr->end.irqs = 1100;
	sr->begin.proc_user_us = 10;
	sr->end.proc_user_us = 30;
	sr->begin.proc_sys_us = 5;
	sr->end.proc_sys_us = 4; /* never negative */
	sysstat_delta(sr, d);
	CHECK(d->elapsed_ns == 2000000000ULL);
	CHECK(d->total_ns[SYSSTAT_USER] == 30 * tick && d->total_ns[SYSSTAT_SYSTEM] == 50 * tick);
	CHECK(d->total_ns[SYSSTAT_IRQ] == 4 * tick && d->total_ns[SYSSTAT_SOFTIRQ] == 7 * tick);
	CHECK(d->total_ns[SYSSTAT_STEAL] == 0);
	CHECK(sysstat_cpu_present(d->cpu_present, 1) && !sysstat_cpu_present(d->cpu_present, 2));
	CHECK(d->busy_ns[1] == (30 + 1 + 50) * tick && d->steal_ns[1] == tick);
	CHECK(d->helper_cpu_ns == 3000 + 500 && d->helper_vcsw == 5 + 3 && d->helper_nvcsw == 1);
	CHECK(d->helper_threads == 2);
	CHECK(d->irqs_valid && d->irqs == 1000);
	CHECK(d->proc_user_ns == 20000 && d->proc_sys_ns == 0);
	sr->end.irqs_valid = false;
	sysstat_delta(sr, d);
	CHECK(!d->irqs_valid && d->irqs == 0);
	free(d);
}

/* The real files of this machine: the snapshot reads them, and time moves on. */
static void test_live(struct sysstat_run *sr)
{
	struct sysstat_irq_names none = { .count = 0 };

	sysstat_snapshot(sr, &sr->begin, &none);
	sysstat_snapshot(sr, &sr->end, &none);
	CHECK(sr->begin.stat_valid && sr->end.stat_valid);
	CHECK(sysstat_cpu_present(sr->begin.cpu_present, 0));
	CHECK(!sr->begin.irqs_valid); /* no names: not read */
	CHECK(sr->end.time_ns > sr->begin.time_ns);
}

int main(void)
{
	struct sysstat_run *sr = calloc(1, sizeof(*sr));

	test_stat(sr);
	test_interrupts(sr);
	test_task_files();
	test_delta(sr);
	test_live(sr);
	free(sr);
	return ctest_done("sysstat_test");
}
