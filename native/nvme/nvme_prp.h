/*
 * PRPs: how an NVMe command names the memory of its data (NVM Express Base
 * Specification, "Physical Region Page Entry and List"). Pure arithmetic on
 * IOVAs, no device: the vfio engine builds each slot's PRPs with it at init,
 * and native/test/nvme_prp_test.c checks it against a model controller.
 *
 *  - PRP1 is the IOVA of the first byte. It may start anywhere in its page
 *    but on a dword boundary (bits 1:0 are 0).
 *  - A transfer that touches one page leaves PRP2 0 (reserved).
 *  - One that touches two pages puts the second page in PRP2.
 *  - One that touches more puts a PRP list's IOVA in PRP2: one entry per page
 *    after the first, each page aligned. A list page holds page_size / 8
 *    entries; when more are left than fit, its last entry points to the next
 *    list page instead of to data (PRP list chaining).
 */
#ifndef NVMEBENCH_NVME_PRP_H
#define NVMEBENCH_NVME_PRP_H

#include <stddef.h>
#include <stdint.h>

/* Pages of page_size that len bytes from iova touch (page_size a power of two). */
static inline uint64_t nvme_prp_pages(uint64_t iova, uint64_t len, uint64_t page_size)
{
	return ((iova & (page_size - 1)) + len + page_size - 1) / page_size;
}

/*
 * List pages a transfer of len bytes at iova needs: 0 for one or two pages.
 * -1 with EINVAL for a page size that is not a power of two of at least
 * 4 KiB, a PRP1 off a dword boundary, no bytes, or an end past 2^64.
 */
int64_t nvme_prp_list_pages(uint64_t iova, uint64_t len, uint64_t page_size);

/*
 * Fill *prp1 and *prp2 for len bytes at iova, and for more than two pages the
 * list in list (list_pages pages of page_size in host memory, contiguous, at
 * list_iova in the device's view, page aligned). Entries after the last one
 * used on the final list page are zeroed: a controller that reads further
 * finds IOVA 0. 0, or -1 with EINVAL (what nvme_prp_list_pages refuses, a
 * list_iova off a page boundary, fewer list pages than the transfer needs).
 */
int nvme_prp_build(uint64_t iova, uint64_t len, uint64_t page_size, void *list, uint64_t list_iova, uint64_t list_pages,
		   uint64_t *prp1, uint64_t *prp2);

#endif
