/*
 * VFIO plumbing for the userspace NVMe driver: the type1 container and the
 * IOMMU group, the device fd, BAR0 mapped into our address space, and DMA
 * mappings from a forward IOVA allocator that stays inside the ranges the
 * IOMMU reports. vfio_* is the device side, iommu_* the address space side.
 *
 * Only the VFIO type1 container/group interface is implemented (what Linux
 * 6.1 offers); iommufd and the VFIO device cdev (Linux 6.6+) are not used.
 */
#ifndef NVMEBENCH_VFIO_H
#define NVMEBENCH_VFIO_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define IOMMU_MAX_RANGES 16
#define IOMMU_MAX_MAPS 1024
#define VFIO_ERRLEN 512

struct iommu_range {
	uint64_t start;
	uint64_t end; /* inclusive, as VFIO reports it */
};

struct iommu_map {
	void *vaddr;
	uint64_t iova;
	uint64_t size;
};

struct vfio_dev {
	char bdf[32];
	int group_id;
	int container_fd;
	int group_fd;
	int device_fd;

	volatile uint8_t *bar0;   /* mmap'ed registers, from offset 0 */
	size_t bar0_size;         /* how much of BAR0 is mapped */
	uint64_t config_offset;   /* PCI config space within the device fd */
	bool has_reset;           /* VFIO_DEVICE_RESET is available */

	/* the IOMMU address space of the container */
	uint64_t iova_pgsizes;
	struct iommu_range ranges[IOMMU_MAX_RANGES];
	unsigned nr_ranges;
	unsigned cur_range;
	uint64_t iova_next;
	struct iommu_map maps[IOMMU_MAX_MAPS];
	unsigned nr_maps;
};

/*
 * Open BDF (0000:00:04.0): container, group (checked viable), device fd,
 * BAR0 mmap, memory and bus-master enabled in the command register. On
 * failure returns -1 with errno set and a sentence in err; everything
 * opened so far is closed again.
 */
int vfio_open(struct vfio_dev *d, const char *bdf, char *err, size_t errlen);
void vfio_close(struct vfio_dev *d);
/* Function-level reset through VFIO; -1 when the device has none. */
int vfio_reset(struct vfio_dev *d);

/* Map len bytes at vaddr (page aligned) for device reads and writes; the IOVA in *iova. */
int iommu_map(struct vfio_dev *d, void *vaddr, size_t len, uint64_t *iova, char *err, size_t errlen);
/* Unmap the mapping that starts at vaddr; 0 when there was none. */
int iommu_unmap(struct vfio_dev *d, void *vaddr);
/* Allocate the next len bytes of IOVA space (page aligned), 0 on exhaustion. */
uint64_t iommu_iova_alloc(struct vfio_dev *d, uint64_t len);

/* Read or write the PCI config space through the device fd. */
int vfio_config_read(struct vfio_dev *d, unsigned off, void *buf, size_t len);
int vfio_config_write(struct vfio_dev *d, unsigned off, const void *buf, size_t len);

/* The devices of an IOMMU group that keep it from being viable, for error messages. */
void vfio_group_blockers(int group_id, const char *self, char *out, size_t len);

#endif
