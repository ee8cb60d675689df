/*
 * VFIO type1: container, group, device, BAR0 and DMA mappings. See vfio.h.
 * Every mapping is made once at setup and undone at close; nothing here runs
 * on the I/O path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "fix.h"
#include "vfio.h"

#define VFIO_PAGE 4096ULL
/* Never hand out IOVA 0 or the legacy low megabyte: a zero PRP must stay obviously wrong. */
#define IOMMU_IOVA_FLOOR 0x100000ULL
/* engine_vfio.c counts on IOVA 0 never being mapped: an unused PRP is 0 and must fault. */
_Static_assert(IOMMU_IOVA_FLOOR > 0, "IOVA 0 must stay unmapped");

static int __vfio_fail(char *err, size_t errlen, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int __vfio_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

/*
 * Walk the capability chain of a VFIO info struct (argsz bytes, the chain
 * starting at off) for the capability with this id; NULL when absent.
 */
static void *__vfio_find_cap(void *info, uint32_t argsz, uint32_t off, uint16_t id)
{
	while (off && off + sizeof(struct vfio_info_cap_header) <= argsz) {
		struct vfio_info_cap_header *hdr = (void *)((char *)info + off);

		if (hdr->id == id)
			return hdr;
		if (hdr->next <= off)
			break;
		off = hdr->next;
	}
	return NULL;
}

/* The basename a sysfs link points at: the driver or the group number. */
static int __vfio_link_name(const char *link, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	const char *slash;

	if (n < 0)
		return -1;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(out, len, "%s", slash ? slash + 1 : target);
	return 0;
}

static bool __vfio_driver_allowed(const char *drv)
{
	/* What the kernel accepts in a viable group: VFIO itself, pci-stub, bridges' pcieport. */
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

void vfio_group_blockers(int group_id, const char *self, char *out, size_t len)
{
	char dir[128], link[PATH_MAX], drv[256];
	struct dirent *de;
	size_t used = 0;
	DIR *dh;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices", group_id);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, self))
			continue;
		snprintf(link, sizeof(link), "%s/%s/driver", dir, de->d_name);
		if (__vfio_link_name(link, drv, sizeof(drv)) < 0 || __vfio_driver_allowed(drv))
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s (bound to %s)",
					 used ? ", " : "", de->d_name, drv);
		if (used >= len)
			break;
	}
	closedir(dh);
}

int vfio_config_read(struct vfio_dev *d, unsigned off, void *buf, size_t len)
{
	return pread(d->device_fd, buf, len, (off_t)(d->config_offset + off)) == (ssize_t)len ? 0 : -1;
}

int vfio_config_write(struct vfio_dev *d, unsigned off, const void *buf, size_t len)
{
	return pwrite(d->device_fd, buf, len, (off_t)(d->config_offset + off)) == (ssize_t)len ? 0 : -1;
}

static void __iommu_sort_ranges(struct vfio_dev *d)
{
	unsigned i, j;

	for (i = 1; i < d->nr_ranges; i++) {
		struct iommu_range r = d->ranges[i];

		for (j = i; j > 0 && d->ranges[j - 1].start > r.start; j--)
			d->ranges[j] = d->ranges[j - 1];
		d->ranges[j] = r;
	}
}

/*
 * A VFIO *_INFO ioctl whose answer may not fit: every such struct starts with
 * argsz, and when the kernel needs more room (a capability chain) it says how
 * much there, so ask once more with that size. query holds the fields the
 * ioctl reads (size bytes). Returns the answer (free it) and its argsz, or
 * NULL with errno set.
 */
static void *__vfio_get_info(int fd, unsigned long request, const void *query, uint32_t size, uint32_t *argsz_out)
{
	uint32_t argsz = size;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		uint32_t *info = calloc(1, argsz);

		if (!info) {
			errno = ENOMEM;
			return NULL;
		}
		memcpy(info, query, size);
		info[0] = argsz;
		if (ioctl(fd, request, info) < 0) {
			int e = errno;

			free(info);
			errno = e;
			return NULL;
		}
		if (info[0] <= argsz) {
			*argsz_out = argsz;
			return info;
		}
		argsz = info[0];
		free(info);
	}
	errno = EOVERFLOW; /* the kernel wanted more room twice */
	return NULL;
}

/* VFIO_IOMMU_GET_INFO and its capability chain: page sizes and the usable IOVA ranges. */
static int __iommu_get_info(struct vfio_dev *d, char *err, size_t errlen)
{
	struct vfio_iommu_type1_info query = { .argsz = sizeof(query) }, *info;
	uint32_t argsz;

	info = __vfio_get_info(d->container_fd, VFIO_IOMMU_GET_INFO, &query, sizeof(query), &argsz);
	if (!info)
		return __vfio_fail(err, errlen, errno, "VFIO_IOMMU_GET_INFO failed: %s", strerror(errno));
	d->iova_pgsizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes : VFIO_PAGE;
	d->nr_ranges = 0;
	if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset) {
		struct vfio_iommu_type1_info_cap_iova_range *cap =
			__vfio_find_cap(info, argsz, info->cap_offset, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
		uint32_t i;

		for (i = 0; cap && i < cap->nr_iovas && d->nr_ranges < IOMMU_MAX_RANGES; i++) {
			d->ranges[d->nr_ranges].start = cap->iova_ranges[i].start;
			d->ranges[d->nr_ranges].end = cap->iova_ranges[i].end;
			d->nr_ranges++;
		}
	}
	free(info);
	if (!d->nr_ranges) {
		/* No IOVA capability (old kernel): stay below the x86 MSI window. */
		d->ranges[0].start = IOMMU_IOVA_FLOOR;
		d->ranges[0].end = 0xfedfffffULL;
		d->nr_ranges = 1;
	}
	__iommu_sort_ranges(d);
	if (!(d->iova_pgsizes & VFIO_PAGE))
		return __vfio_fail(err, errlen, EINVAL, "the IOMMU does not map 4 KiB pages (page sizes 0x%llx)",
				   (unsigned long long)d->iova_pgsizes);
	d->cur_range = 0;
	d->iova_next = 0;
	return 0;
}

uint64_t iommu_iova_alloc(struct vfio_dev *d, uint64_t len)
{
	len = (len + VFIO_PAGE - 1) & ~(VFIO_PAGE - 1);
	while (d->cur_range < d->nr_ranges) {
		const struct iommu_range *r = &d->ranges[d->cur_range];
		uint64_t start = d->iova_next > r->start ? d->iova_next : r->start;

		if (start < IOMMU_IOVA_FLOOR)
			start = IOMMU_IOVA_FLOOR;
		start = (start + VFIO_PAGE - 1) & ~(VFIO_PAGE - 1);
		if (start >= r->start && start <= r->end && len - 1 <= r->end - start) {
			d->iova_next = start + len;
			return start;
		}
		/* Does not fit in what is left of this range: move on to the next one. */
		d->cur_range++;
		d->iova_next = 0;
	}
	return 0;
}

int iommu_map(struct vfio_dev *d, void *vaddr, size_t len, uint64_t *iova, char *err, size_t errlen)
{
	struct vfio_iommu_type1_dma_map map;
	uint64_t size = ((uint64_t)len + VFIO_PAGE - 1) & ~(VFIO_PAGE - 1);

	if ((uintptr_t)vaddr & (VFIO_PAGE - 1))
		return __vfio_fail(err, errlen, EINVAL, "DMA buffer %p is not page aligned", vaddr);
	if (d->nr_maps >= IOMMU_MAX_MAPS)
		return __vfio_fail(err, errlen, ENOSPC, "too many DMA mappings");
	memset(&map, 0, sizeof(map));
	map.argsz = sizeof(map);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uint64_t)(uintptr_t)vaddr;
	map.size = size;
	map.iova = iommu_iova_alloc(d, size);
	if (!map.iova)
		return __vfio_fail(err, errlen, ENOSPC, "no IOVA space left for %llu bytes", (unsigned long long)size);
	if (ioctl(d->container_fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		int e = errno;

		return __vfio_fail(err, errlen, e, "VFIO_IOMMU_MAP_DMA of %llu bytes at IOVA 0x%llx failed: %s%s",
				   (unsigned long long)size, (unsigned long long)map.iova, strerror(e),
				   e == ENOMEM ? " (pinned memory counts against the memlock limit)" FIX("run as root, or raise the memlock limit: ulimit -l unlimited") : "");
	}
	/* A fork must not give the child these pages and leave us a copy the device does not see. */
	madvise(vaddr, size, MADV_DONTFORK);
	d->maps[d->nr_maps].vaddr = vaddr;
	d->maps[d->nr_maps].iova = map.iova;
	d->maps[d->nr_maps].size = size;
	d->nr_maps++;
	*iova = map.iova;
	return 0;
}

static int __iommu_unmap_at(struct vfio_dev *d, unsigned i)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	int ret;

	memset(&unmap, 0, sizeof(unmap));
	unmap.argsz = sizeof(unmap);
	unmap.iova = d->maps[i].iova;
	unmap.size = d->maps[i].size;
	ret = ioctl(d->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
	madvise(d->maps[i].vaddr, d->maps[i].size, MADV_DOFORK);
	d->maps[i] = d->maps[--d->nr_maps];
	return ret < 0 ? -1 : 0;
}

int iommu_unmap(struct vfio_dev *d, void *vaddr)
{
	unsigned i;

	for (i = 0; i < d->nr_maps; i++)
		if (d->maps[i].vaddr == vaddr)
			return __iommu_unmap_at(d, i);
	return 0;
}

/* BAR0 from offset 0: the whole region, or the sparse area that holds the registers. */
static int __vfio_map_bar0(struct vfio_dev *d, char *err, size_t errlen)
{
	struct vfio_region_info query = { .argsz = sizeof(query), .index = VFIO_PCI_BAR0_REGION_INDEX }, *info;
	uint32_t argsz;
	uint64_t map_size = 0;
	void *p;

	info = __vfio_get_info(d->device_fd, VFIO_DEVICE_GET_REGION_INFO, &query, sizeof(query), &argsz);
	if (!info)
		return __vfio_fail(err, errlen, errno, "cannot read BAR0 of %s: %s", d->bdf, strerror(errno));
	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP) || info->size < 0x2000) {
		uint64_t size = info->size;

		free(info);
		return __vfio_fail(err, errlen, ENODEV, "BAR0 of %s cannot be mapped (%llu bytes%s)", d->bdf,
				   (unsigned long long)size, size < 0x2000 ? ", too small for an NVMe controller" : ", no mmap");
	}
	map_size = info->size;
	if ((info->flags & VFIO_REGION_INFO_FLAG_CAPS) && info->cap_offset) {
		struct vfio_region_info_cap_sparse_mmap *sp =
			__vfio_find_cap(info, argsz, info->cap_offset, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		uint32_t i;

		/* Only part of the BAR may be mapped (the MSI-X table is carved out). */
		if (sp) {
			map_size = 0;
			for (i = 0; i < sp->nr_areas; i++)
				if (sp->areas[i].offset == 0)
					map_size = sp->areas[i].size;
		}
	}
	if (map_size < 0x2000) {
		free(info);
		return __vfio_fail(err, errlen, ENODEV, "the registers of %s are not in an mmap-able part of BAR0", d->bdf);
	}
	p = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->device_fd, (off_t)info->offset);
	free(info);
	if (p == MAP_FAILED) {
		int e = errno;

		return __vfio_fail(err, errlen, e, "mmap of BAR0 of %s failed: %s", d->bdf, strerror(e));
	}
	d->bar0 = p;
	d->bar0_size = map_size;
	return 0;
}

static int __vfio_enable_device(struct vfio_dev *d, char *err, size_t errlen)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd;

	if (ioctl(d->device_fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0)
		return __vfio_fail(err, errlen, errno, "cannot find the PCI config space of %s: %s", d->bdf, strerror(errno));
	d->config_offset = cfg.offset;
	if (vfio_config_read(d, PCI_COMMAND, &cmd, sizeof(cmd)) < 0)
		return __vfio_fail(err, errlen, errno ? errno : EIO, "cannot read the PCI command register of %s", d->bdf);
	/* Memory decoding and bus mastering on; legacy INTx off: every queue is polled. */
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
	if (vfio_config_write(d, PCI_COMMAND, &cmd, sizeof(cmd)) < 0)
		return __vfio_fail(err, errlen, errno ? errno : EIO, "cannot enable bus mastering on %s", d->bdf);
	return 0;
}

int vfio_open(struct vfio_dev *d, const char *bdf, char *err, size_t errlen)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	char path[PATH_MAX], name[256];
	int iommu_type, saved;

	memset(d, 0, sizeof(*d));
	d->container_fd = d->group_fd = d->device_fd = -1;
	d->group_id = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK) < 0)
		return __vfio_fail(err, errlen, ENOENT, "there is no PCI device %s", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	if (__vfio_link_name(path, name, sizeof(name)) < 0)
		return __vfio_fail(err, errlen, ENODEV,
				   "%s has no IOMMU group: the IOMMU is off" FIX("boot with intel_iommu=on or amd_iommu=on, and iommu=pt"), bdf);
	d->group_id = atoi(name);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (__vfio_link_name(path, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "no driver");
	if (strcmp(name, "vfio-pci"))
		return __vfio_fail(err, errlen, ENXIO, "%s is not bound to vfio-pci (%s%s)" FIX("nvmebench vfio bind %s"), bdf,
				   strcmp(name, "no driver") ? "bound to " : "", name, bdf);

	d->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container_fd < 0) {
		saved = errno;
		__vfio_fail(err, errlen, saved, "cannot open /dev/vfio/vfio: %s%s", strerror(saved),
			    saved == ENOENT ? " (the vfio modules are not loaded)" FIX("sudo modprobe vfio-pci") :
			    saved == EACCES || saved == EPERM ? " (VFIO needs root)" FIX("run as root (sudo)") : "");
		goto fail;
	}
	if (ioctl(d->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		__vfio_fail(err, errlen, ENOTSUP, "unknown VFIO API version");
		goto fail;
	}
	if (ioctl(d->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1) {
		iommu_type = VFIO_TYPE1v2_IOMMU;
	} else if (ioctl(d->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1) {
		iommu_type = VFIO_TYPE1_IOMMU;
	} else {
		__vfio_fail(err, errlen, ENOTSUP, "the vfio modules have no type1 IOMMU driver" FIX("sudo modprobe vfio_iommu_type1"));
		goto fail;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%d", d->group_id);
	d->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->group_fd < 0) {
		saved = errno;
		__vfio_fail(err, errlen, saved, "cannot open %s (IOMMU group of %s): %s%s", path, bdf, strerror(saved),
			    saved == EBUSY ? " (another process holds the group)" FIX("stop the other user of the device: another nvmebench run, or a VM") :
			    saved == EACCES || saved == EPERM ? " (VFIO needs root)" FIX("run as root (sudo)") : "");
		goto fail;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		__vfio_fail(err, errlen, errno, "VFIO_GROUP_GET_STATUS failed: %s", strerror(errno));
		goto fail;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char blockers[320];

		vfio_group_blockers(d->group_id, bdf, blockers, sizeof(blockers));
		__vfio_fail(err, errlen, EBUSY,
			    "IOMMU group %d of %s is not viable: %s" FIX("bind every device of the IOMMU group to vfio-pci, or move the controller to a slot with its own group"),
			    d->group_id, bdf, blockers[0] ? blockers : "another device of the group is bound to a host driver");
		goto fail;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_SET_CONTAINER, &d->container_fd) < 0) {
		__vfio_fail(err, errlen, errno, "VFIO_GROUP_SET_CONTAINER failed: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(d->container_fd, VFIO_SET_IOMMU, iommu_type) < 0) {
		__vfio_fail(err, errlen, errno, "VFIO_SET_IOMMU failed: %s", strerror(errno));
		goto fail;
	}
	if (__iommu_get_info(d, err, errlen) < 0)
		goto fail;

	d->device_fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->device_fd < 0) {
		saved = errno;
		__vfio_fail(err, errlen, saved, "cannot get the VFIO device fd of %s: %s", bdf, strerror(saved));
		goto fail;
	}
	if (ioctl(d->device_fd, VFIO_DEVICE_GET_INFO, &dinfo) < 0) {
		__vfio_fail(err, errlen, errno, "VFIO_DEVICE_GET_INFO failed: %s", strerror(errno));
		goto fail;
	}
	if (!(dinfo.flags & VFIO_DEVICE_FLAGS_PCI)) {
		__vfio_fail(err, errlen, ENODEV, "%s is not a PCI device", bdf);
		goto fail;
	}
	d->has_reset = dinfo.flags & VFIO_DEVICE_FLAGS_RESET;
	if (__vfio_map_bar0(d, err, errlen) < 0)
		goto fail;
	if (__vfio_enable_device(d, err, errlen) < 0)
		goto fail;
	return 0;

fail:
	saved = errno;
	vfio_close(d);
	errno = saved;
	return -1;
}

int vfio_reset(struct vfio_dev *d)
{
	if (d->device_fd < 0 || !d->has_reset) {
		errno = ENOTSUP;
		return -1;
	}
	return ioctl(d->device_fd, VFIO_DEVICE_RESET);
}

void vfio_close(struct vfio_dev *d)
{
	if (d->device_fd >= 0 && d->config_offset) {
		uint16_t cmd;

		/* No more DMA from the device before its mappings go away. */
		if (vfio_config_read(d, PCI_COMMAND, &cmd, sizeof(cmd)) == 0) {
			cmd &= (uint16_t)~PCI_COMMAND_MASTER;
			vfio_config_write(d, PCI_COMMAND, &cmd, sizeof(cmd));
		}
	}
	while (d->nr_maps)
		__iommu_unmap_at(d, d->nr_maps - 1);
	if (d->bar0)
		munmap((void *)d->bar0, d->bar0_size);
	d->bar0 = NULL;
	if (d->device_fd >= 0)
		close(d->device_fd);
	if (d->group_fd >= 0) {
		ioctl(d->group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(d->group_fd);
	}
	if (d->container_fd >= 0)
		close(d->container_fd);
	d->device_fd = d->group_fd = d->container_fd = -1;
}
