/*
 * PRP1, PRP2 and chained PRP lists for one transfer (see nvme_prp.h).
 * List entries are little endian, as the host is.
 */
#include <errno.h>
#include <string.h>

#include "nvme_prp.h"

/* CC.MPS spans 4 KiB (0) to 128 MiB (15). */
#define NVME_PRP_PAGE_MIN 4096ULL
#define NVME_PRP_PAGE_MAX (1ULL << 27)

static int __nvme_prp_check(uint64_t iova, uint64_t len, uint64_t page_size)
{
	uint64_t end;

	if (page_size < NVME_PRP_PAGE_MIN || page_size > NVME_PRP_PAGE_MAX || (page_size & (page_size - 1)) || !len ||
	    (iova & 3) || __builtin_add_overflow(iova, len, &end)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* List pages for `entries` entries of page_size / 8 a page, all but the last giving one to the chain pointer. */
static inline uint64_t __nvme_prp_lists(uint64_t entries, uint64_t per_page)
{
	if (entries <= per_page)
		return 1;
	return 1 + (entries - per_page + per_page - 2) / (per_page - 1);
}

int64_t nvme_prp_list_pages(uint64_t iova, uint64_t len, uint64_t page_size)
{
	uint64_t pages;

	if (__nvme_prp_check(iova, len, page_size) < 0)
		return -1;
	pages = nvme_prp_pages(iova, len, page_size);
	return pages <= 2 ? 0 : (int64_t)__nvme_prp_lists(pages - 1, page_size / sizeof(uint64_t));
}

int nvme_prp_build(uint64_t iova, uint64_t len, uint64_t page_size, void *list, uint64_t list_iova, uint64_t list_pages,
		   uint64_t *prp1, uint64_t *prp2)
{
	uint64_t per_page = page_size / sizeof(uint64_t);
	uint64_t first = iova & ~(page_size - 1);
	uint64_t pages, page, slot = 0;
	uint64_t *entry = list;
	int64_t need = nvme_prp_list_pages(iova, len, page_size);

	if (need < 0)
		return -1;
	if (need && (!list || (list_iova & (page_size - 1)) || list_pages < (uint64_t)need)) {
		errno = EINVAL;
		return -1;
	}
	pages = nvme_prp_pages(iova, len, page_size);
	*prp1 = iova;
	if (pages == 1) {
		*prp2 = 0;
		return 0;
	}
	if (pages == 2) {
		*prp2 = first + page_size;
		return 0;
	}
	*prp2 = list_iova;
	for (page = 1; page < pages; page++) {
		/*
		 * The list page's last slot with more than one entry still to
		 * go: it points to the next list page. With exactly one left,
		 * that entry is data and the list ends here.
		 */
		if (slot == per_page - 1 && pages - page > 1) {
			list_iova += page_size;
			entry[slot] = list_iova;
			entry += per_page;
			slot = 0;
		}
		entry[slot++] = first + page * page_size;
	}
	memset(entry + slot, 0, (size_t)(per_page - slot) * sizeof(*entry));
	return 0;
}
