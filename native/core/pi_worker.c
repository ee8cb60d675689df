/* The worker's metadata areas (see pi_worker.h). */
#include <stdlib.h>
#include <string.h>

#include "pi_worker.h"

int pi_worker_alloc(struct worker *w)
{
	const struct job *job = &w->run->job;
	size_t stride = pi_meta_stride(job);
	uint32_t i;

	if (!stride)
		return 0;
	/* Page aligned, so the vfio engine maps all of it once. */
	if (posix_memalign(&w->meta_buffers, 4096, (stride * w->depth + 4095) & ~(size_t)4095))
		return -1;
	memset(w->meta_buffers, 0, stride * w->depth);
	for (i = 0; i < w->depth; i++)
		w->ios[i].meta = (char *)w->meta_buffers + stride * i;
	return 0;
}
