/*
 * The userspace NVMe controller: registers in BAR0, the admin queue,
 * bring-up and shutdown, and polled I/O queue pairs. Runs over vfio.h;
 * knows nothing about workers. nvme_* throughout.
 */
#ifndef NVMEBENCH_NVME_CTRL_H
#define NVMEBENCH_NVME_CTRL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "nvme.h"
#include "vfio.h"

/* Controller registers (NVMe base specification, section 3.1). */
#define NVME_REG_CAP 0x00
#define NVME_REG_VS 0x08
#define NVME_REG_INTMS 0x0c
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28
#define NVME_REG_ACQ 0x30
#define NVME_REG_CRTO 0x68 /* Controller Ready Timeouts (NVMe 2.0) */
#define NVME_REG_DBS 0x1000

/* CAP.CRMS: the controller can be ready with media (CRWMS) or independent of it (CRIMS). */
#define NVME_CAP_CRMS_CRWMS (1ULL << 59)
#define NVME_CAP_CRMS_CRIMS (1ULL << 60)

#define NVME_CC_EN (1U << 0)
#define NVME_CC_CSS_SHIFT 4
#define NVME_CC_MPS_SHIFT 7
#define NVME_CC_SHN_MASK (3U << 14)
#define NVME_CC_SHN_NORMAL (1U << 14)
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOCQES_SHIFT 20

#define NVME_CSTS_RDY (1U << 0)
#define NVME_CSTS_CFS (1U << 1)
#define NVME_CSTS_SHST_MASK (3U << 2)
#define NVME_CSTS_SHST_CMPLT (2U << 2)

#define NVME_ADMIN_QUEUE_SIZE 32
#define NVME_PAGE 4096U
#define NVME_ERRLEN 512

/*
 * Barriers for the doorbells. The queue entry is written to ordinary (cached)
 * memory the device reads by DMA; the doorbell is a store to uncached MMIO.
 */
#if defined(__x86_64__) || defined(__i386__)
#define nvme_wmb() __asm__ __volatile__("sfence" ::: "memory")
#define nvme_rmb() __asm__ __volatile__("" ::: "memory") /* x86 keeps loads in order */
#elif defined(__aarch64__)
#define nvme_wmb() __asm__ __volatile__("dmb oshst" ::: "memory")
#define nvme_rmb() __asm__ __volatile__("dmb oshld" ::: "memory")
#else
#define nvme_wmb() __sync_synchronize()
#define nvme_rmb() __sync_synchronize()
#endif

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

struct nvme_cmd_desc;

/*
 * A command descriptor (nvme_cmd.h) as an SQE: zeroed, then its opcode,
 * namespace and dwords 10-15. Where its data lies in the controller's view
 * (PRPs, MPTR) and the CID are the caller's: they depend on how the buffer
 * was mapped and which queue takes it.
 */
void nvme_sqe_from_desc(struct nvme_sqe *sqe, const struct nvme_cmd_desc *d);

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status; /* bit 0 is the phase tag */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE is 64 bytes (CC.IOSQES = 6)");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQE is 16 bytes (CC.IOCQES = 4)");

/* A submission queue and its own completion queue, polled, no interrupts. */
struct nvme_qpair {
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	volatile uint32_t *sq_db;
	volatile uint32_t *cq_db;
	uint64_t sq_iova;
	uint64_t cq_iova;
	void *mem;
	size_t mem_size;
	uint16_t qid;
	uint32_t size;      /* entries in each ring */
	uint32_t sq_tail;
	uint32_t cq_head;
	uint32_t pending;   /* SQEs written since the last doorbell */
	uint16_t phase;     /* the phase tag a new CQE carries */
	bool mapped;
	bool created_cq;
	bool created_sq;
};

struct nvme_ctrl {
	struct vfio_dev vfio;
	bool vfio_open;
	volatile uint8_t *regs;

	/* from CAP */
	uint64_t cap;
	uint32_t mqes;         /* most entries per I/O queue (CAP.MQES + 1) */
	uint32_t db_stride;    /* bytes between doorbells: 4 << CAP.DSTRD */
	uint32_t dstrd;
	uint32_t mpsmin;       /* bytes: 4096 << CAP.MPSMIN */
	uint32_t timeout_ms;   /* CAP.TO in milliseconds: how long a disable may take */
	uint32_t ready_ms;     /* how long an enable may take: CAP.TO, or CRTO.CRWMT where larger (nvme_ready_timeout_ms) */
	uint32_t css;          /* CAP.CSS bits */
	uint32_t cc_css;       /* the command set selected in CC */
	uint32_t version;

	struct nvme_qpair admin;
	uint16_t admin_cid;
	void *idbuf;
	uint64_t idbuf_iova;

	/* from Identify Controller and Set Features */
	struct nvme_ctrl_info info;
	uint32_t rtd3e_us;
	uint32_t max_xfer;     /* largest transfer in bytes from MDTS; 0 = no limit */
	uint32_t nr_io_queues; /* I/O queue pairs granted */

	bool enabled;
	bool broken;           /* an admin command timed out: only a disable is safe now */
	/*
	 * Set non-zero (by another thread: the run's stop) to give up waiting for
	 * the controller to come up or answer an admin command. Never consulted
	 * while shutting down, which is always waited for. May be NULL.
	 */
	const volatile int *abort;
	uint64_t test_ready_at; /* CLOCK_MONOTONIC ms before which CSTS.RDY reads clear (NVMEBENCH_VFIO_READY_DELAY_MS) */
	char errmsg[NVME_ERRLEN];
};

/*
 * Open BDF through VFIO and bring the controller up: disable, admin queues,
 * CC, enable within CAP.TO, Identify Controller, and (when want_queues > 0)
 * Set Features Number of Queues. Returns -1 with errno and c->errmsg set; on
 * failure everything is already closed again.
 */
int nvme_ctrl_open(struct nvme_ctrl *c, const char *bdf, unsigned want_queues, const volatile int *abort);
/* Identify Namespace into ns; -1 with c->errmsg when it is not an active namespace. */
int nvme_ctrl_identify_ns(struct nvme_ctrl *c, uint32_t nsid, struct nvme_ns_info *ns);
/* Delete nothing, shut down (CC.SHN) within RTD3E, unmap, close. Safe on a half-open controller. */
void nvme_ctrl_close(struct nvme_ctrl *c);
/* Stop all DMA now: CC.EN = 0, then a function reset if that does not take. */
void nvme_ctrl_disable(struct nvme_ctrl *c);

/* One admin command: 0 on success, > 0 an NVMe status (CQE status >> 1), -1 on a timeout. */
int nvme_admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *dw0);
/* Identify (CNS, CSI) and Get Log Page (len <= 4096) into buf through the mapped Identify page; as nvme_admin. */
int nvme_ctrl_identify(struct nvme_ctrl *c, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf);
int nvme_ctrl_get_log(struct nvme_ctrl *c, uint32_t nsid, uint8_t lid, uint8_t csi, void *buf, uint32_t len);
/* One I/O command on a created queue pair with nothing else in flight, polled; as nvme_admin. */
int nvme_io_sync(struct nvme_ctrl *c, struct nvme_qpair *qp, struct nvme_sqe *cmd, uint32_t *dw0);

/* Allocate and map the rings of an I/O queue pair of size entries. */
int nvme_qpair_alloc(struct nvme_ctrl *c, struct nvme_qpair *qp, uint16_t qid, uint32_t size);
/* Create I/O CQ then SQ (physically contiguous, interrupts off). */
int nvme_qpair_create(struct nvme_ctrl *c, struct nvme_qpair *qp);
/* Delete SQ then CQ; -1 when the controller did not answer. */
int nvme_qpair_delete(struct nvme_ctrl *c, struct nvme_qpair *qp);
void nvme_qpair_free(struct nvme_ctrl *c, struct nvme_qpair *qp);

/* A line on stderr when NVMEBENCH_VFIO_DEBUG is set: bring-up, queues, shutdown. */
void nvme_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline uint32_t nvme_reg_read32(const struct nvme_ctrl *c, unsigned off)
{
	return *(const volatile uint32_t *)(c->regs + off);
}

static inline void nvme_reg_write32(struct nvme_ctrl *c, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(c->regs + off) = v;
}

/*
 * How long to wait for CSTS.RDY after CC.EN = 1, in milliseconds, as Linux
 * decides it: CAP.TO (500 ms units); on a controller that reports CAP.CRMS.CRWMS,
 * CRTO.CRWMT (bits 15:0, 500 ms units) where it is the larger. A CRWMT below
 * CAP.TO is a controller bug (the spec wants it >= CAP.TO): CAP.TO stands.
 * CC.CRIME is never set, so CRIMT does not apply. *crto_used says whether CRTO won.
 */
static inline uint32_t nvme_ready_timeout_ms(uint64_t cap, uint32_t crto, bool *crto_used)
{
	uint32_t units = (uint32_t)((cap >> 24) & 0xff);

	if (crto_used)
		*crto_used = false;
	if ((cap & NVME_CAP_CRMS_CRWMS) && (crto & 0xffff) > units) {
		units = crto & 0xffff;
		if (crto_used)
			*crto_used = true;
	}
	return units ? units * 500U : 500U;
}

/*
 * The next admin command identifier. 0xFFFF is never used: a completion or an
 * error log entry with CID 0xFFFF means "not tied to a command".
 */
static inline uint16_t nvme_next_cid(uint16_t *cid)
{
	if (*cid == 0xffff)
		*cid = 0;
	return (*cid)++;
}

#endif
