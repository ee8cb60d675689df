/*
 * nvme_prp.c in a fake IOVA space, no device: data at made-up IOVAs, the PRP
 * list pages in host memory standing at a made-up list IOVA. Every transfer
 * is checked twice: entry by entry against what the spec says the list holds,
 * and by a model controller that follows PRP1, PRP2 and the list (chains
 * included) the way a device would, which must reach exactly the pages of
 * the transfer and nothing else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../nvme/nvme_prp.c"
#include "ctest.h"

#define PAGE 4096ULL
#define DATA_IOVA 0x100000000ULL   /* the data buffer's first page */
#define LIST_IOVA 0x7ff00000ULL     /* the list pages' first page */
#define MAX_LISTS 8

static uint64_t *list_mem; /* MAX_LISTS pages of the largest page size tried */
static uint64_t list_mem_pages;

/* The fake IOMMU: a list IOVA to the host memory behind it, NULL outside the list pages. */
static uint64_t *list_at(uint64_t iova, uint64_t page_size)
{
	if (iova < LIST_IOVA || iova >= LIST_IOVA + list_mem_pages * page_size || (iova & 7))
		return NULL;
	return list_mem + (iova - LIST_IOVA) / sizeof(uint64_t);
}

/*
 * A controller moving len bytes: the address of each page's piece in
 * order, out[0] being PRP1 itself. Follows a list entry in a page's last
 * slot to the next list page when more than one page is left. -1 when it
 * meets what a controller would fault on (an unaligned entry, a list outside
 * the list pages, a nonzero PRP2 for one page).
 */
static int64_t model_walk(uint64_t prp1, uint64_t prp2, uint64_t len, uint64_t page_size, uint64_t *out, uint64_t max)
{
	uint64_t per_page = page_size / 8, left, n = 0, slot = 0;
	uint64_t first_bytes = page_size - (prp1 & (page_size - 1));
	uint64_t *list;

	out[n++] = prp1;
	if (len <= first_bytes)
		return prp2 == 0 ? (int64_t)n : -1;
	left = len - first_bytes;
	if (left <= page_size) {
		if (prp2 & (page_size - 1))
			return -1;
		out[n++] = prp2;
		return (int64_t)n;
	}
	list = list_at(prp2, page_size);
	if (!list || (prp2 & (page_size - 1)))
		return -1;
	while (left) {
		if (slot == per_page - 1 && left > page_size) {
			list = list_at(list[slot], page_size);
			if (!list)
				return -1;
			slot = 0;
		}
		if (n == max || (list[slot] & (page_size - 1)))
			return -1;
		out[n++] = list[slot++];
		left -= left < page_size ? left : page_size;
	}
	return (int64_t)n;
}

static uint64_t walked[MAX_LISTS * 1024 + 2];

/*
 * Build the PRPs of len bytes at iova into a list memory first filled with
 * 0xff, check PRP1/PRP2, every list entry and chain pointer, the zeroed tail
 * of the final list page, then walk them as a controller does.
 */
static void check_transfer(uint64_t iova, uint64_t len, uint64_t page_size, uint64_t want_pages, int64_t want_lists)
{
	uint64_t per_page = page_size / 8, first = iova & ~(page_size - 1);
	uint64_t prp1 = 1, prp2 = 1, page, slot, list_page;
	int64_t lists = nvme_prp_list_pages(iova, len, page_size), n;

	memset(list_mem, 0xff, MAX_LISTS * page_size);
	list_mem_pages = MAX_LISTS;
	CHECK(nvme_prp_pages(iova, len, page_size) == want_pages);
	CHECK(lists == want_lists);
	if (lists != want_lists || lists > MAX_LISTS)
		return;
	CHECK(nvme_prp_build(iova, len, page_size, list_mem, LIST_IOVA, (uint64_t)lists, &prp1, &prp2) == 0);
	CHECK(prp1 == iova);
	if (want_pages == 1)
		CHECK(prp2 == 0);
	else if (want_pages == 2)
		CHECK(prp2 == first + page_size);
	else
		CHECK(prp2 == LIST_IOVA);

	/* The entries as the spec lays them out. */
	slot = 0;
	list_page = 0;
	for (page = 1; want_pages > 2 && page < want_pages; page++) {
		if (slot == per_page - 1 && want_pages - page > 1) {
			CHECK(list_mem[list_page * per_page + slot] == LIST_IOVA + (list_page + 1) * page_size);
			list_page++;
			slot = 0;
		}
		CHECK(list_mem[list_page * per_page + slot] == first + page * page_size);
		slot++;
	}
	if (want_pages > 2) {
		CHECK(list_page + 1 == (uint64_t)lists);
		for (; slot < per_page; slot++)
			CHECK(list_mem[list_page * per_page + slot] == 0);
		/* List pages past the ones needed are not written. */
		if ((uint64_t)lists < MAX_LISTS)
			CHECK(list_mem[lists * per_page] == UINT64_MAX);
	}

	/* And as a controller finds them: exactly the transfer's pages, in order. */
	list_mem_pages = (uint64_t)lists;
	n = model_walk(prp1, prp2, len, page_size, walked, sizeof(walked) / sizeof(walked[0]));
	CHECK(n == (int64_t)want_pages);
	if (n == (int64_t)want_pages) {
		uint64_t bad = 0;

		for (page = 1; page < want_pages; page++)
			bad += walked[page] != first + page * page_size;
		CHECK(walked[0] == iova && bad == 0);
	}
}

static void check_refused(uint64_t iova, uint64_t len, uint64_t page_size, uint64_t list_iova, uint64_t list_pages)
{
	uint64_t prp1, prp2;

	errno = 0;
	CHECK(nvme_prp_build(iova, len, page_size, list_mem, list_iova, list_pages, &prp1, &prp2) == -1 && errno == EINVAL);
}

int main(void)
{
	const uint64_t big = 8192; /* the largest page size tried */

	list_mem = aligned_alloc(big, MAX_LISTS * big);
	if (!list_mem)
		return 2;

	/* One page: PRP2 0. Two: PRP2 the second page, no list. */
	check_transfer(DATA_IOVA, 512, PAGE, 1, 0);
	check_transfer(DATA_IOVA, PAGE, PAGE, 1, 0);
	check_transfer(DATA_IOVA, PAGE + 512, PAGE, 2, 0);
	check_transfer(DATA_IOVA, 2 * PAGE, PAGE, 2, 0);
	/* Three pages: a list of two entries. */
	check_transfer(DATA_IOVA, 3 * PAGE, PAGE, 3, 1);

	/* A first page entered at an offset: PRP1 keeps it, every later entry is page aligned. */
	check_transfer(DATA_IOVA + 512, PAGE - 512, PAGE, 1, 0);
	check_transfer(DATA_IOVA + 512, PAGE, PAGE, 2, 0);
	check_transfer(DATA_IOVA + PAGE - 4, 8, PAGE, 2, 0);
	check_transfer(DATA_IOVA + 4, 2 * PAGE, PAGE, 3, 1);
	check_transfer(DATA_IOVA + 2048, 511 * PAGE, PAGE, 512, 1);
	check_transfer(DATA_IOVA + 2048, 512 * PAGE, PAGE, 513, 1);
	check_transfer(DATA_IOVA + 2048, 512 * PAGE + 2048, PAGE, 513, 1);
	check_transfer(DATA_IOVA + 2048, 512 * PAGE + 2049, PAGE, 514, 2);

	/*
	 * 4 KiB pages, 512 entries a list page. 512 pages: 511 entries. 513:
	 * 512, the list full, its last entry data. 514: 513, so the last slot
	 * chains to a second list page holding the final two entries.
	 */
	check_transfer(DATA_IOVA, 512 * PAGE, PAGE, 512, 1);
	check_transfer(DATA_IOVA, 513 * PAGE, PAGE, 513, 1);
	check_transfer(DATA_IOVA, 514 * PAGE, PAGE, 514, 2);
	check_transfer(DATA_IOVA, 513 * PAGE + 1, PAGE, 514, 2);
	/* 511 + 512 entries fill two list pages exactly; one more needs a third. */
	check_transfer(DATA_IOVA, 1024 * PAGE, PAGE, 1024, 2);
	check_transfer(DATA_IOVA, 1025 * PAGE, PAGE, 1025, 3);
	check_transfer(DATA_IOVA, 1026 * PAGE, PAGE, 1026, 3);
	/* 64 MiB, the largest --bs: 16383 entries, 33 list pages (more than this list memory: counted only). */
	CHECK(nvme_prp_list_pages(DATA_IOVA, 64ULL << 20, PAGE) == 33);
	CHECK(nvme_prp_list_pages(DATA_IOVA, 2ULL << 20, PAGE) == 1);
	CHECK(nvme_prp_list_pages(DATA_IOVA, (2ULL << 20) + PAGE, PAGE) == 1);
	CHECK(nvme_prp_list_pages(DATA_IOVA, (2ULL << 20) + 2 * PAGE, PAGE) == 2);

	/* 8 KiB pages: 1024 entries a list page. */
	check_transfer(DATA_IOVA, 1025 * big, big, 1025, 1);
	check_transfer(DATA_IOVA, 1026 * big, big, 1026, 2);
	check_transfer(DATA_IOVA + big / 2, 1025 * big, big, 1026, 2);

	/* Refused: PRP1 off a dword, no bytes, a page size that is no CC.MPS, a list unaligned, too short, or absent. */
	check_refused(DATA_IOVA + 1, 512, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA + 2, 512, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA + PAGE - 1, 2, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA, 0, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA, PAGE, 2048, LIST_IOVA, 1);
	check_refused(DATA_IOVA, PAGE, 6144, LIST_IOVA, 1);
	check_refused(DATA_IOVA, PAGE, 1ULL << 28, LIST_IOVA, 1);
	check_refused(UINT64_MAX - 3, 8, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA, 3 * PAGE, PAGE, LIST_IOVA + 8, 1);
	check_refused(DATA_IOVA, 514 * PAGE, PAGE, LIST_IOVA, 1);
	check_refused(DATA_IOVA, 3 * PAGE, PAGE, LIST_IOVA, 0);
	errno = 0;
	CHECK(nvme_prp_list_pages(DATA_IOVA + 1, 512, PAGE) == -1 && errno == EINVAL);
	{
		uint64_t prp1 = 7, prp2 = 7;

		errno = 0;
		CHECK(nvme_prp_build(DATA_IOVA, 3 * PAGE, PAGE, NULL, LIST_IOVA, 1, &prp1, &prp2) == -1 && errno == EINVAL);
		/* One or two pages need no list at all. */
		CHECK(nvme_prp_build(DATA_IOVA, 2 * PAGE, PAGE, NULL, 0, 0, &prp1, &prp2) == 0 && prp2 == DATA_IOVA + PAGE);
		CHECK(nvme_prp_build(DATA_IOVA, PAGE, PAGE, NULL, 0, 0, &prp1, &prp2) == 0 && prp2 == 0);
	}

	free(list_mem);
	return ctest_done("nvme_prp_test");
}
