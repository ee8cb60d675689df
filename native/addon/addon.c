/*
 * The Node-API boundary: start(job) → handle, stats(handle), stop(handle),
 * wait(handle) → Promise<result>, plus nvmeIdentify(path). The job arrives
 * fully validated from TypeScript; this file copies its fields, checks again
 * only what memory depends on (__job_sane), and reports errors as exceptions
 * carrying an errno code.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <node_api.h>

#include "engine.h"
#include "napi_util.h"
#include "nvme.h"
#include "nvme_cmd.h"
#include "perf_napi.h"
#include "uring.h"

/* vfio_napi.c */
napi_value vfio_napi_probe(napi_env env, napi_callback_info info);
napi_value vfio_napi_report_zones(napi_env env, napi_callback_info info);

/* cmd_napi.c: the NVMe command workloads */
const char *cmd_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void cmd_napi_result(napi_env env, napi_value out, const struct run *run);
void cmd_napi_register(napi_env env, napi_value exports);
void flock_napi_register(napi_env env, napi_value exports);

/* fdp_napi.c: Flexible Data Placement */
const char *fdp_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void fdp_napi_register(napi_env env, napi_value exports);

/* sysstat_napi.c: whole-system CPU */
const char *sysstat_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void sysstat_napi_result(napi_env env, napi_value out, const struct run *run);
const char *rate_napi_parse_job(napi_env env, napi_value obj, struct job *job);
void rate_napi_result(napi_env env, napi_value out, const struct run *run);

/* series_napi.c: per-interval figures */
const char *series_napi_parse_job(napi_env env, napi_value obj, struct job *job);
napi_value series_napi_drain(napi_env env, const struct run *run);
void series_napi_result(napi_env env, napi_value out, const struct run *run);

#define NAPI_CALL(env, call)                                          \
	do {                                                          \
		if ((call) != napi_ok) {                              \
			napi_throw_error((env), "EINTERNAL", #call);  \
			return NULL;                                  \
		}                                                     \
	} while (0)

/*
 * A run's handle, the external JavaScript holds. Three parties may join the
 * run's threads: the run's own thread (__run_thread), the finalizer (when the
 * external is collected) and the environment cleanup hook (when the
 * environment is torn down). Joining a pthread twice is undefined, so each
 * goes through __handle_join, which joins once under join_lock. Until the
 * run thread's part is over, self holds the external: the finalizer cannot
 * free the handle under the async work that still uses it. process.exit() only stops runs
 * (the 'exit' listener), it joins nothing.
 */
struct run_handle {
	struct run *run;
	napi_env env;
	napi_deferred deferred;
	napi_ref self;               /* a strong reference while the run thread runs */
	pthread_mutex_t join_lock;
	bool waiting;                /* wait() was called */
	bool done;                   /* the run thread's part is over (__run_complete ran) */
	pthread_t thread;            /* the run thread: engines up, workers joined, engines closed */
	napi_threadsafe_function tsfn; /* how the run thread tells the JavaScript thread it is done */
	bool joined;                 /* under join_lock */
	int start_errno;             /* worker_run_start failed on the run thread: its errno */
	bool hooked;                 /* the env cleanup hook is registered */
	struct run_handle *next;     /* on live_handles until finalized */
};

/* Every handle not yet finalized, for the process 'exit' listener. */
static struct run_handle *live_handles;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The job object, copied field by field. TypeScript has checked and clamped
 * every value (src/plan/options.ts, buildJob in src/run/runner.ts,
 * src/engines/); a field missing or mistyped is a bug upstream and comes
 * back as its name. Each __job_* returns the bad field or NULL.
 */
static const char *__job_target(napi_env env, napi_value obj, struct job *job)
{
	char engine[32];
	int e;

	if (napi_util_get_string(env, obj, "engine", engine, sizeof(engine)) <= 0)
		return "engine";
	job->engine = ENGINE_COUNT;
	for (e = 0; e < ENGINE_COUNT; e++)
		if (!strcmp(engine, engine_names[e]))
			job->engine = (enum engine_id)e;
	if (job->engine == ENGINE_COUNT)
		return "engine";
	if (napi_util_get_string(env, obj, "path", job->path, sizeof(job->path)) <= 0)
		return "path";
	if (napi_util_get_u32(env, obj, "nsid", &job->nsid) <= 0)
		return "nsid";
	if (napi_util_get_u32(env, obj, "lbaSize", &job->lba_size) <= 0)
		return "lbaSize";
	return NULL;
}

/* What each I/O is: the mix, the pattern, the block size, the region. */
static const char *__job_io(napi_env env, napi_value obj, struct job *job)
{
	uint32_t read_percent;

	if (napi_util_get_u32(env, obj, "readPercent", &read_percent) <= 0)
		return "readPercent";
	job->read_percent = read_percent;
	if (napi_util_get_bool(env, obj, "random", &job->random) <= 0)
		return "random";
	if (napi_util_get_u32(env, obj, "blockSize", &job->block_size) <= 0)
		return "blockSize";
	if (napi_util_get_u64(env, obj, "offset", &job->offset) <= 0)
		return "offset";
	if (napi_util_get_u64(env, obj, "size", &job->size) <= 0)
		return "size";
	if (napi_util_get_bool(env, obj, "direct", &job->direct) <= 0)
		return "direct";
	if (napi_util_get_bool(env, obj, "verify", &job->verify) <= 0)
		return "verify";
	if (napi_util_get_u32(env, obj, "verifySeed", &job->verify_seed) <= 0)
		return "verifySeed";
	return NULL;
}

/* The namespace's metadata format and --pi-*: all optional, absent on a format without metadata. */
static const char *__job_pi(napi_env env, napi_value obj, struct job *job)
{
	struct pi_format *f = &job->pi;
	uint32_t meta_size = 0, type = 0, check = 0, apptag = 0, mask = 0;

	if (napi_util_get_u32(env, obj, "metaSize", &meta_size) < 0 || meta_size > 0xffff)
		return "metaSize";
	if (napi_util_get_bool(env, obj, "metaExtended", &f->extended) < 0)
		return "metaExtended";
	if (napi_util_get_u32(env, obj, "piType", &type) < 0 || type > 3)
		return "piType";
	if (napi_util_get_bool(env, obj, "piFirst", &f->first) < 0)
		return "piFirst";
	if (napi_util_get_bool(env, obj, "piAct", &f->act) < 0)
		return "piAct";
	if (napi_util_get_u32(env, obj, "piCheck", &check) < 0 || check > 7)
		return "piCheck";
	if (napi_util_get_u32(env, obj, "piApptag", &apptag) < 0 || apptag > 0xffff)
		return "piApptag";
	if (napi_util_get_u32(env, obj, "piApptagMask", &mask) < 0 || mask > 0xffff)
		return "piApptagMask";
	f->meta_size = meta_size;
	f->type = (uint8_t)(meta_size >= PI_TUPLE_SIZE ? type : 0); /* a tuple needs 8 bytes of metadata */
	f->check = (uint8_t)check;
	f->apptag = (uint16_t)apptag;
	f->apptag_mask = (uint16_t)mask;
	f->lba_size = job->lba_size;
	if (meta_size && !job->lba_size)
		return "lbaSize"; /* pi_data_xfer divides by it */
	pi_format_init(f);
	return NULL;
}

/* How many workers and slots, where they run, and how the engine submits and reaps. */
static const char *__job_queues(napi_env env, napi_value obj, struct job *job)
{
	napi_value cpus;
	uint32_t i, n;

	if (napi_util_get_u32(env, obj, "ioDepth", &job->io_depth) <= 0)
		return "ioDepth";
	if (napi_util_get_u32(env, obj, "threads", &job->threads) <= 0)
		return "threads";
	/* job->cpus holds ENGINE_MAX_THREADS: a longer list is refused, not written past it. */
	if (napi_util_get(env, obj, "cpus", &cpus) <= 0 || napi_get_array_length(env, cpus, &n) != napi_ok ||
	    n > ENGINE_MAX_THREADS)
		return "cpus";
	for (i = 0; i < n; i++) {
		napi_value v;

		if (napi_get_element(env, cpus, i, &v) != napi_ok || napi_get_value_int32(env, v, &job->cpus[i]) != napi_ok)
			return "cpus";
	}
	job->ncpus = n;
	if (napi_util_get_u32(env, obj, "batchSubmit", &job->batch_submit) <= 0)
		return "batchSubmit";
	if (napi_util_get_u32(env, obj, "batchComplete", &job->batch_complete) <= 0)
		return "batchComplete";
	if (napi_util_get_bool(env, obj, "fixedBufs", &job->fixed_bufs) <= 0)
		return "fixedBufs";
	if (napi_util_get_bool(env, obj, "regFiles", &job->reg_files) <= 0)
		return "regFiles";
	if (napi_util_get_bool(env, obj, "sqpoll", &job->sqpoll) <= 0)
		return "sqpoll";
	if (napi_util_get_bool(env, obj, "vectored", &job->vectored) <= 0)
		return "vectored";
	if (napi_util_get_bool(env, obj, "explain", &job->explain) < 0) /* optional */
		return "explain";
	return NULL;
}

/* When the run ends: time, I/O count, errors. The deadlines native keeps are in ns, saturating. */
static const char *__job_limits(napi_env env, napi_value obj, struct job *job)
{
	uint64_t runtime_ms, ramp_ms;
	uint32_t clock_mode;

	if (napi_util_get_u64(env, obj, "runtimeMs", &runtime_ms) <= 0)
		return "runtimeMs";
	if (napi_util_get_u64(env, obj, "rampMs", &ramp_ms) <= 0)
		return "rampMs";
	job->runtime_ns = clock_mul_sat(runtime_ms, 1000000ULL);
	job->ramp_ns = clock_mul_sat(ramp_ms, 1000000ULL);
	/* Optional: absent (0) starts at once; TypeScript gives every target's job the same instant. */
	if (napi_util_get_u64(env, obj, "startAtNs", &job->start_at_ns) < 0)
		return "startAtNs";
	if (napi_util_get_u64(env, obj, "ioLimit", &job->io_limit) <= 0)
		return "ioLimit";
	if (napi_util_get_u64(env, obj, "maxErrors", &job->max_errors) <= 0)
		return "maxErrors";
	if (napi_util_get_u32(env, obj, "latEvery", &job->lat_every) <= 0)
		return "latEvery";
	if (napi_util_get_u32(env, obj, "clockMode", &clock_mode) <= 0 || clock_mode > CLOCK_MODE_TSC)
		return "clockMode";
	job->clock_mode = (enum clock_mode)clock_mode;
	return NULL;
}

/*
 * The values memory depends on, the only ones checked again here: slots are
 * indexed by uint16_t and sized by the depth, the region is divided by the
 * worker count and the block size, a block holds at least the verify header
 * of one 512-byte sector, and the passthrough engines divide by the LBA size.
 */
_Static_assert(NVME_COPY_MAX_RANGES == 128, "the copyRanges message names 128");

static const char *__job_sane(const struct job *job)
{
	if (!job->io_depth || job->io_depth > ENGINE_MAX_QD)
		return "ioDepth";
	if (!job->threads)
		return "threads";
	if (job->block_size < 512)
		return "blockSize";
	if (worker_engine_ops(job->engine)->nvme && !job->lba_size)
		return "lbaSize"; /* nvme_cmd_prep divides by it */
	if (job->command == JOB_CMD_COPY && (!job->copy_ranges || job->copy_ranges > NVME_COPY_MAX_RANGES))
		return "copyRanges (--copy-ranges must be 1 to 128)"; /* the descriptors must fit the slot's command buffer */
	return NULL;
}

static const char *__parse_job(napi_env env, napi_value obj, struct job *job)
{
	const char *bad;

	memset(job, 0, sizeof(*job));
	if ((bad = __job_target(env, obj, job)) || (bad = __job_io(env, obj, job)) || (bad = __job_queues(env, obj, job)) ||
	    (bad = __job_limits(env, obj, job)) || (bad = cmd_napi_parse_job(env, obj, job)) ||
	    (bad = sysstat_napi_parse_job(env, obj, job)) || (bad = rate_napi_parse_job(env, obj, job)) ||
	    (bad = __job_pi(env, obj, job)) || (bad = fdp_napi_parse_job(env, obj, job)) ||
	    (bad = series_napi_parse_job(env, obj, job)))
		return bad;
	return __job_sane(job);
}

/* Join the run's threads exactly once, whoever asks first; later callers return at once. */
static void __handle_join(struct run_handle *h)
{
	pthread_mutex_lock(&h->join_lock);
	if (!h->joined) {
		worker_run_join(h->run);
		h->joined = true;
	}
	pthread_mutex_unlock(&h->join_lock);
}

/* Ask the workers to stop as stop() does: they drain what is in flight and end. */
static void __handle_stop(struct run_handle *h)
{
	if (!h->run->stop) {
		__atomic_store_n(&h->run->stop_reason, 1, __ATOMIC_RELAXED);
		h->run->stop = 1;
	}
}

/*
 * The environment is going away with the run still live (a worker thread's
 * environment, or the main one at its end): stop the run and wait for the
 * workers, so no thread outlives it. Node finishes pending async work before
 * these hooks run, so a waited-for run is already joined here; process.exit()
 * runs no hooks at all, which is what the 'exit' listener below is for. The
 * handle itself is freed by its finalizer.
 */
static void __handle_cleanup(void *arg)
{
	struct run_handle *h = arg;

	h->hooked = false;
	__handle_stop(h);
	__handle_join(h);
}

static void __handle_link(struct run_handle *h)
{
	pthread_mutex_lock(&live_lock);
	h->next = live_handles;
	live_handles = h;
	pthread_mutex_unlock(&live_lock);
}

static void __handle_unlink(struct run_handle *h)
{
	struct run_handle **pp;

	pthread_mutex_lock(&live_lock);
	for (pp = &live_handles; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	pthread_mutex_unlock(&live_lock);
}

/*
 * process.on('exit'): stop every live run of this environment. process.exit()
 * runs no environment cleanup hooks: without this, the workers of a run go on
 * issuing I/O while the process tears down. Stopping is enough: the workers
 * drain what is in flight and end.
 */
static napi_value __addon_on_exit(napi_env env, napi_callback_info info)
{
	struct run_handle *h;

	pthread_mutex_lock(&live_lock);
	for (h = live_handles; h; h = h->next)
		if (h->env == env)
			__handle_stop(h);
	pthread_mutex_unlock(&live_lock);
	return NULL;
}

static void __addon_listen_exit(napi_env env)
{
	napi_value global, process, on, fn, argv[2];

	/* Best effort: without the listener, exit only waits for the runs. */
	if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "process", &process) != napi_ok ||
	    napi_get_named_property(env, process, "on", &on) != napi_ok ||
	    napi_create_function(env, "nvmebenchStopRuns", NAPI_AUTO_LENGTH, __addon_on_exit, NULL, &fn) != napi_ok ||
	    napi_create_string_utf8(env, "exit", NAPI_AUTO_LENGTH, &argv[0]) != napi_ok)
		return;
	argv[1] = fn;
	napi_call_function(env, process, on, 2, argv, NULL);
}

static void __handle_finalize(napi_env env, void *data, void *hint)
{
	struct run_handle *h = data;

	__handle_unlink(h);
	/* The run thread's part held a reference, so it is over: no one else uses h. */
	__handle_stop(h);
	__handle_join(h);
	if (h->hooked)
		napi_remove_env_cleanup_hook(env, __handle_cleanup, h);
	worker_run_free(h->run);
	pthread_mutex_destroy(&h->join_lock);
	free(h->run);
	free(h);
}

static struct run_handle *__get_handle(napi_env env, napi_value v)
{
	void *data = NULL;

	if (napi_get_value_external(env, v, &data) != napi_ok)
		return NULL;
	return data;
}

static void *__run_thread(void *arg);
static void __run_complete(napi_env env, napi_value js_cb, void *context, void *data);

static napi_value addon_start(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], ext, name;
	struct run_handle *h;
	const char *bad;
	char msg[ENGINE_ERRMSG_LEN + 64];

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1) {
		napi_throw_type_error(env, "EINVAL", "start(job) needs a job");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->run = calloc(1, sizeof(*h->run)))) {
		free(h);
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	}
	bad = __parse_job(env, argv[0], &h->run->job);
	if (bad) {
		snprintf(msg, sizeof(msg), "invalid job field: %s", bad);
		free(h->run);
		free(h);
		napi_throw_type_error(env, "EINVAL", msg);
		return NULL;
	}
	/* The engines come up on the run's own thread (__run_thread), not here. */
	h->env = env;
	pthread_mutex_init(&h->join_lock, NULL);
	if (napi_create_external(env, h, __handle_finalize, NULL, &ext) != napi_ok) {
		/* No finalizer will come: stop and free here. */
		__handle_stop(h);
		__handle_join(h);
		worker_run_free(h->run);
		pthread_mutex_destroy(&h->join_lock);
		free(h->run);
		free(h);
		napi_throw_error(env, "EINTERNAL", "napi_create_external");
		return NULL;
	}
	if (napi_add_env_cleanup_hook(env, __handle_cleanup, h) == napi_ok)
		h->hooked = true;
	__handle_link(h);
	/*
	 * Hold the external while the run thread uses the handle: the caller may
	 * drop it at once. A thread of its own, not libuv's pool (4 threads by
	 * default, and it is up before we could size it): with five targets the
	 * fifth run would start only when one of the first four ended.
	 */
	if (napi_create_reference(env, ext, 1, &h->self) != napi_ok ||
	    napi_create_string_utf8(env, "nvmebench-run", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, h, __run_complete, &h->tsfn) != napi_ok ||
	    pthread_create(&h->thread, NULL, __run_thread, h) != 0) {
		/* The finalizer frees it; nothing started. */
		if (h->tsfn)
			napi_release_threadsafe_function(h->tsfn, napi_tsfn_abort);
		h->tsfn = NULL;
		if (h->self)
			napi_delete_reference(env, h->self);
		h->self = NULL;
		h->done = true;
		napi_throw_error(env, "EINTERNAL", "could not start the run thread");
		return NULL;
	}
	pthread_detach(h->thread);
	return ext;
}

static napi_value __make_number(napi_env env, double v)
{
	napi_value out;

	napi_create_double(env, v, &out);
	return out;
}


static napi_value addon_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, ramping, verifying;
	struct run_handle *h;
	uint64_t ios = 0, bytes = 0, sc = 0, rc = 0, sub = 0, rea = 0, errs = 0, un_ios = 0, un_bytes = 0, now;
	bool any_ramping = false, any_verifying = false, launched;
	uint32_t i;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	h = argc ? __get_handle(env, argv[0]) : NULL;
	if (!h)
		return napi_util_throw_errno(env, EINVAL, "stats(handle) needs a run handle");
	/* Still coming up on the run thread: nothing to read yet, and it counts as ramping. */
	launched = __atomic_load_n(&h->run->launched, __ATOMIC_ACQUIRE);
	any_ramping = !launched;
	for (i = 0; launched && i < h->run->nr_workers; i++) {
		struct worker *w = &h->run->workers[i];

		ios += load_relaxed(&w->done);
		bytes += load_relaxed(&w->bytes);
		sc += load_relaxed(&w->submit_calls);
		rc += load_relaxed(&w->reap_calls);
		sub += load_relaxed(&w->submitted);
		rea += load_relaxed(&w->reaped);
		errs += load_relaxed(&w->errors);
		un_ios += load_relaxed(&w->unmeasured_ios);
		un_bytes += load_relaxed(&w->unmeasured_bytes);
		any_ramping |= __atomic_load_n(&w->ramping, __ATOMIC_RELAXED);
		any_verifying |= __atomic_load_n(&w->verify_pass, __ATOMIC_RELAXED);
	}
	NAPI_CALL(env, napi_create_object(env, &out));
	napi_util_set_number(env, out, "ios", (double)ios);
	napi_util_set_number(env, out, "bytes", (double)bytes);
	napi_util_set_number(env, out, "submitCalls", (double)sc);
	napi_util_set_number(env, out, "reapCalls", (double)rc);
	napi_util_set_number(env, out, "submitted", (double)sub);
	napi_util_set_number(env, out, "reaped", (double)rea);
	napi_util_set_number(env, out, "errors", (double)errs);
	now = clock_now_ns();
	/* Not launched, or waiting for its start time (startAtNs): no time has passed yet. */
	napi_util_set_number(env, out, "elapsedMs", launched && now > h->run->start_ns ? (double)(now - h->run->start_ns) / 1e6 : 0);
	napi_util_set_number(env, out, "unmeasuredIos", (double)un_ios);
	napi_util_set_number(env, out, "unmeasuredBytes", (double)un_bytes);
	napi_get_boolean(env, any_ramping, &ramping);
	napi_set_named_property(env, out, "ramping", ramping);
	napi_get_boolean(env, any_verifying, &verifying);
	napi_set_named_property(env, out, "verifying", verifying);
	return out;
}

static napi_value addon_stop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct run_handle *h;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	h = argc ? __get_handle(env, argv[0]) : NULL;
	if (!h)
		return napi_util_throw_errno(env, EINVAL, "stop(handle) needs a run handle");
	__handle_stop(h);
	return NULL;
}

/* series(handle): the intervals the workers finished since the last call (series_napi.c). */
static napi_value addon_series(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct run_handle *h;
	static const struct run none;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	h = argc ? __get_handle(env, argv[0]) : NULL;
	if (!h)
		return napi_util_throw_errno(env, EINVAL, "series(handle) needs a run handle");
	/* Not launched: workers[] is not to be looked at yet. */
	return series_napi_drain(env, __atomic_load_n(&h->run->launched, __ATOMIC_ACQUIRE) ? h->run : &none);
}

static napi_value __build_result(napi_env env, struct run *run)
{
	static const char *const reasons[] = { "done", "interrupted", "error" };
	struct histogram *merged;
	napi_value out, workers, hist, s;
	uint64_t verified = 0, vfail = 0, errors = 0, ramp_errors = 0;
	uint32_t i;
	int reason;

	merged = malloc(sizeof(*merged));
	if (!merged)
		return napi_util_throw_errno(env, ENOMEM, "out of memory");
	histogram_reset(merged);
	NAPI_CALL(env, napi_create_object(env, &out));
	NAPI_CALL(env, napi_create_array_with_length(env, run->nr_workers, &workers));
	for (i = 0; i < run->nr_workers; i++) {
		struct worker *w = &run->workers[i];
		napi_value wo;

		histogram_merge(merged, &w->lat);
		verified += w->verified_blocks;
		vfail += w->verify_failures;
		napi_create_object(env, &wo);
		napi_util_set_number(env, wo, "ios", (double)w->done);
		napi_util_set_number(env, wo, "bytes", (double)w->bytes);
		napi_util_set_number(env, wo, "readIos", (double)w->read_ios);
		napi_util_set_number(env, wo, "writeIos", (double)w->write_ios);
		napi_util_set_number(env, wo, "submitCalls", (double)w->submit_calls);
		napi_util_set_number(env, wo, "reapCalls", (double)w->reap_calls);
		napi_util_set_number(env, wo, "submitted", (double)w->submitted);
		napi_util_set_number(env, wo, "reaped", (double)w->reaped);
		napi_util_set_number(env, wo, "errors", (double)w->errors);
		errors += w->errors;
		ramp_errors += w->ramp_errors;
		napi_util_set_number(env, wo, "userUs", (double)w->user_us);
		napi_util_set_number(env, wo, "sysUs", (double)w->sys_us);
		napi_util_set_number(env, wo, "elapsedUs", (double)w->elapsed_us);
		napi_util_set_number(env, wo, "vcsw", (double)w->vcsw);
		napi_util_set_number(env, wo, "nvcsw", (double)w->nvcsw);
		napi_util_set_number(env, wo, "emptyReaps", (double)w->empty_reaps);
		perf_napi_result(env, wo, w);
		napi_set_element(env, workers, i, wo);
	}
	napi_set_named_property(env, out, "workers", workers);
	napi_create_array_with_length(env, HIST_BUCKETS, &hist);
	for (i = 0; i < HIST_BUCKETS; i++)
		napi_set_element(env, hist, i, __make_number(env, (double)merged->buckets[i]));
	napi_set_named_property(env, out, "histogram", hist);
	napi_util_set_number(env, out, "latencyCount", (double)merged->count);
	napi_util_set_number(env, out, "latencySumNs", (double)merged->sum_ns);
	napi_util_set_number(env, out, "latencyMinNs", merged->count ? (double)merged->min_ns : 0);
	napi_util_set_number(env, out, "latencyMaxNs", (double)merged->max_ns);
	napi_util_set_number(env, out, "verifiedBlocks", (double)verified);
	napi_util_set_number(env, out, "verifyFailures", (double)vfail);
	napi_util_set_number(env, out, "errors", (double)errors);
	napi_util_set_number(env, out, "rampErrors", (double)ramp_errors);
	napi_util_set_string(env, out, "clockSource", run->clock.tsc ? "tsc" : "monotonic");
	napi_util_set_number(env, out, "tscHz", (double)run->clock.tsc_hz);
	if (run->clock.fallback[0])
		napi_util_set_string(env, out, "clockFallback", run->clock.fallback);
	if (run->nr_workers && run->workers[0].ring_flags) {
		char names[256];

		uring_setup_names(run->workers[0].ring_flags, names, sizeof(names));
		napi_util_set_string(env, out, "ringFlags", names);
	}
	reason = run->stop_reason;
	if (reason < 0 || reason > 2)
		reason = 2;
	napi_create_string_utf8(env, reasons[reason], NAPI_AUTO_LENGTH, &s);
	napi_set_named_property(env, out, "stopped", s);
	{
		const char *fix;

		napi_create_string_utf8(env, run->errmsg, napi_util_fix_split(run->errmsg, &fix), &s);
		napi_set_named_property(env, out, "errorMessage", s);
		if (fix)
			napi_util_set_string(env, out, "errorFix", fix);
	}
	cmd_napi_result(env, out, run);
	sysstat_napi_result(env, out, run);
	rate_napi_result(env, out, run);
	series_napi_result(env, out, run);
	free(merged);
	return out;
}

/*
 * The run itself, on its own thread from start() on: the engines come up (a
 * VFIO controller's bring-up may take CAP.TO, up to 127 s, or CRTO), the
 * workers run and are joined, and the engines close (a VFIO shutdown may take
 * RTD3E). The JavaScript thread stays free for the live line and Ctrl-C,
 * whose stop() also cuts a bring-up short. It ends by handing the handle to
 * __run_complete on the JavaScript thread; the threadsafe function keeps the
 * event loop alive until then.
 */
static void *__run_thread(void *arg)
{
	struct run_handle *h = arg;

	if (worker_run_start(h->run) < 0) {
		h->start_errno = errno ? errno : EIO;
	} else {
		__handle_join(h);
		worker_run_release(h->run);
	}
	napi_call_threadsafe_function(h->tsfn, h, napi_tsfn_blocking);
	napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
	return NULL;
}

/* Settle wait()'s promise: the result, or what start() used to throw when the engines did not come up. */
static void __settle(napi_env env, struct run_handle *h)
{
	napi_value result;

	if (h->start_errno) {
		int err = h->start_errno;

		result = napi_util_errno_error(env, err, h->run->errmsg[0] ? h->run->errmsg : strerror(err));
		napi_reject_deferred(env, h->deferred, result);
	} else if ((result = __build_result(env, h->run))) {
		napi_resolve_deferred(env, h->deferred, result);
	} else {
		napi_create_string_utf8(env, "could not build the result", NAPI_AUTO_LENGTH, &result);
		napi_reject_deferred(env, h->deferred, result);
	}
	h->deferred = NULL;
	/* The counters are in the result: free the rest now; the handle itself goes with the GC. */
	worker_run_free(h->run);
}

static void __run_complete(napi_env env, napi_value js_cb, void *context, void *data)
{
	struct run_handle *h = data;

	if (!env)
		return; /* the environment is going away: its cleanup hook stops and joins */
	h->done = true;
	if (h->deferred)
		__settle(env, h);
	/* Nothing runs on the run thread any more: the GC may take the handle. */
	napi_delete_reference(env, h->self);
	h->self = NULL;
}

static napi_value addon_wait(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], promise;
	struct run_handle *h;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	h = argc ? __get_handle(env, argv[0]) : NULL;
	if (!h)
		return napi_util_throw_errno(env, EINVAL, "wait(handle) needs a run handle");
	if (h->waiting)
		return napi_util_throw_errno(env, EBUSY, "wait() already called for this run");
	NAPI_CALL(env, napi_create_promise(env, &h->deferred, &promise));
	h->waiting = true;
	/* Already over (nobody waited meanwhile): settle now; otherwise __run_complete will. */
	if (h->done)
		__settle(env, h);
	return promise;
}

static napi_value addon_nvme_identify(napi_env env, napi_callback_info info)
{
	napi_value out;
	char path[4096];
	struct nvme_ns_info nsi;
	struct nvme_ctrl_info ci;
	int32_t nsid;
	int fd, err;
	char msg[4200], why[256];

	fd = napi_util_open_nvme_args(env, info, "nvmeIdentify(path, nsid?) needs a path", path, sizeof(path), &nsid);
	if (fd < 0)
		return NULL;
	if (nvme_identify_ctrl(fd, &ci) < 0) {
		err = errno;
		close(fd);
		snprintf(msg, sizeof(msg), "Identify Controller through %s failed: %s", path, strerror(err));
		return napi_util_throw_errno(env, err, msg);
	}
	if (nsid > 0 && nvme_identify_ns(fd, (uint32_t)nsid, &nsi, why, sizeof(why)) < 0) {
		err = errno;
		close(fd);
		snprintf(msg, sizeof(msg), "Identify Namespace %d through %s failed: %s", nsid, path, why[0] ? why : strerror(err));
		return napi_util_throw_errno(env, err, msg);
	}
	close(fd);
	NAPI_CALL(env, napi_create_object(env, &out));
	napi_set_named_property(env, out, "ctrl", napi_util_ctrl_object(env, &ci));
	if (nsid > 0)
		napi_set_named_property(env, out, "ns", napi_util_ns_object(env, &nsi));
	return out;
}

static napi_value addon_init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "start", NULL, addon_start, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, addon_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "stop", NULL, addon_stop, NULL, NULL, NULL, napi_default, NULL },
		{ "wait", NULL, addon_wait, NULL, NULL, NULL, napi_default, NULL },
		{ "series", NULL, addon_series, NULL, NULL, NULL, napi_default, NULL },
		{ "nvmeIdentify", NULL, addon_nvme_identify, NULL, NULL, NULL, napi_default, NULL },
		{ "vfioProbe", NULL, vfio_napi_probe, NULL, NULL, NULL, napi_default, NULL },
		{ "vfioReportZones", NULL, vfio_napi_report_zones, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	cmd_napi_register(env, exports);
	flock_napi_register(env, exports);
	fdp_napi_register(env, exports);
	__addon_listen_exit(env);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, addon_init)
