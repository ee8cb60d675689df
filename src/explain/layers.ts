// The layer rules of --explain, all in one place. Each sample's symbol (and,
// for kernel symbols, its module) is matched against these rules in order;
// the first that matches names the layer. Samples no rule matches go to
// 'other' and are listed with the results, so the rules can be improved.
//
// | layer       | what                                  | kernel symbols or modules                              |
// |-------------|---------------------------------------|--------------------------------------------------------|
// | app         | nvmebench and libc (user space)       | every user-space symbol but the vfio driver's          |
// | vfio        | the vfio driver's own code            | user: vfio_*, nvme_ctrl_*, vfio engine; kernel: vfio*  |
// | syscall     | syscall entry and exit                | entry_SYSCALL*, do_syscall_64, *_sys_* (not io_uring)  |
// | io_uring    | io_uring, and the aio engine's kernel | io_*, __io_*, *io_uring*, aio_*, lookup_ioctx          |
// | fs          | file systems and direct I/O on files  | ext4_*, xfs_*, iomap_*, *_file_*, vfs_*                |
// | block       | the block layer                       | blk_*, bio_*, blkg_*, submit_bio*, blk_mq_*, bdev_*    |
// | nvme        | the NVMe driver                       | modules nvme, nvme_core; nvme_*                        |
// | driver      | other drivers (virtio, loop), DMA     | virtio*, virtblk_*, loop_*, iowrite*/ioread*, dma_*    |
// | pagecache   | page cache and memory copy            | filemap_*, folio_*, copy_*, memcpy*, xas_*, gup        |
// | sched       | scheduler, interrupts, softirq, timers| schedule*, irq*, softirq, hrtimer*, perf_* (sampling)  |
// | locking     | locking and RCU                       | *spin_lock*, mutex_*, rcu_*, __rcu_*, percpu_ref*      |
// | other       | what no rule matches                  |                                                        |
//
// The order matters: io_schedule is the scheduler's, not io_uring's; the
// sampling interrupt (perf_*) is counted with the interrupts.

export const LAYERS = ['app', 'vfio', 'syscall', 'io_uring', 'fs', 'block', 'nvme', 'driver', 'pagecache', 'sched', 'locking', 'other'] as const;
export type Layer = (typeof LAYERS)[number];

export const LAYER_TITLES: Record<Layer, string> = {
  app: 'nvmebench + libc',
  vfio: 'vfio driver',
  syscall: 'syscall entry/exit',
  io_uring: 'io_uring (and aio)',
  fs: 'file system',
  block: 'block layer',
  nvme: 'NVMe driver',
  driver: 'other drivers + DMA',
  pagecache: 'page cache + copy',
  sched: 'sched/irq/softirq',
  locking: 'locking + RCU',
  other: 'other',
};

interface Rule {
  layer: Layer;
  /** Kernel module names (kernel.vmlinux for the core image); any when absent. */
  modules?: RegExp;
  /** Symbol names; any when absent. */
  symbol?: RegExp;
}

/** User space: the vfio driver's own code, then everything else is nvmebench and libc. */
const USER_RULES: Rule[] = [
  { layer: 'vfio', symbol: /^(__)?(vfio_|nvme_ctrl_|nvme_prp_|nvme_qpair_|iommu_)/ },
  { layer: 'app' },
];

const KERNEL_RULES: Rule[] = [
  { layer: 'nvme', modules: /^nvme(_core)?$/ },
  { layer: 'vfio', modules: /^vfio/ },
  { layer: 'sched', symbol: /^(io_schedule|perf_|__perf_|x86_pmu|native_(write|read)_msr|intel_pmu|amd_pmu|event_sched)/ },
  { layer: 'io_uring', symbol: /(^_*io_|io_uring|^io_wq|^tctx_|^_*aio_|^lookup_ioctx|^read_events|^_*get_reqs_available|^_*put_reqs_available)/ },
  { layer: 'syscall', symbol: /^(entry_SYSCALL|do_syscall_|syscall_|__x64_sys_|__ia32_sys_|__arm64_sys_|__do_sys_|__se_sys_|x64_sys_call|ksys_|exit_to_user_mode|syscall_exit|restore_regs_and_return|irqentry_exit_to_user|switch_fpu_return|fpregs_|__fdget|fdget|__rseq|rseq_|__get_user|__put_user|bpf_lsm_|security_|aa_|apparmor_|arch_do_signal|__fget|fget|fput|__fput|rw_verify_area|security_file|apparmor_file|selinux_file|audit|__audit)/ },
  { layer: 'fs', symbol: /^(current_time|make_vfs|generic_update_time|I_BDEV|_*ext4_|_*xfs_|_*btrfs_|_*iomap_|_*vfs_|_*jbd2_|generic_file_|file_(update|modified|remove)|__generic_file|generic_write|touch_atime|atime_|inode_|__mark_inode|dio_|__dio_|do_blockdev_direct|filemap_write_and_wait|filemap_fdatawrite|kiocb_|rw_copy_check|new_sync_|do_iter_|vfs_)/ },
  { layer: 'block', symbol: /^(_*blk_|_*bio_|_*bio$|_*blkg_|_*blkcg_|_*submit_bio|_*bdev_|_*blkdev_|_*disk_|_*part_stat|_*bvec_|_*rq_qos|_*wbt_|_*dd_|_*kyber_|_*bfq_|_*elv_|_*sbitmap|_*__sbitmap|_*sbq_|_*mempool_|_*bio_poll|_*iocb_bio|_*sg_|_*__sg_|_*update_io_ticks|_*_find_next_zero_bit|_*_find_next_bit)/ },
  { layer: 'driver', symbol: /^_*(loop_|lo_(rw|read|write|complete|submit)|dma_|iommu_|intel_iommu|amd_iommu|swiotlb|virtio|virtblk|virtqueue|vring_|vp_notify|iowrite|ioread|scsi_|sd_|ahci|ata_)/ },
  { layer: 'nvme', symbol: /^_*nvme/ },
  { layer: 'pagecache', symbol: /^(_*filemap_|_*folio|_*page_cache|_*pagecache|_*copy_|_*memcpy|_*memmove|_*memset|_*__pi_mem|_*rep_mov|_*rep_stos|_*clear_page|_*clear_user|_*copy_page|_*get_user_pages|_*pin_user_pages|_*gup_|_*iov_iter|_*xas_|_*xa_|_*lru_|_*mark_page|_*page_|_*alloc_pages|_*free_pages|_*free_unref|_*kmem_cache|_*kmalloc|_*kfree|_*slab_|_*allocate_slab|_*__slab|_*rmqueue|_*get_page_from|_*find_get|_*fault|_*handle_mm_fault|_*do_anonymous|_*mod_node_page|_*mod_zone_page|_*mod_memcg|_*memcg_|_*__memcg|_*__mod_)/ },
  { layer: 'sched', symbol: /^(_*schedule|_*sched_|_*pick_next|_*put_prev|_*set_next|_*enqueue_|_*dequeue_|_*update_(curr|load|cfs|rq|min_vruntime|process_times)|_*task_tick|_*context_switch|_*finish_task_switch|_*switch_to|_*try_to_wake|_*wake_up|_*ttwu|_*select_task|_*resched|_*cpuacct|_*account_|_*psi_|_*irq|_*do_IRQ|_*common_interrupt|_*asm_(sysvec|common|exc)|_*sysvec_|_*handle_(irq|edge|fasteoi|level)|_*softirq|_*task_work|_*msecs_to_jiffies|_*_perf_|_*handle_softirqs|_*timer_delete|_*del_timer|_*mod_timer|_*do_softirq|_*run_timer|_*hrtimer|_*tick_|_*timerqueue|_*ktime_get|_*read_tsc|_*clockevents|_*lapic|_*native_apic|_*x2apic|_*apic_|_*run_posix|_*posix_cpu|_*cpu_clock|_*task_clock|_*vtime|_*rcu_sched_clock|_*smp_call|_*flush_smp|_*generic_exec|_*default_idle|_*cpuidle|_*check_preempt|_*preempt_|_*__cond_resched|_*cond_resched|_*kthread|_*worker_thread|_*process_one_work|_*note_gp|_*raise_softirq|_*scheduler_tick|_*calc_global|_*hrtick|_*kvm_|_*pvclock|_*__kvm)/ },
  { layer: 'locking', symbol: /(spin_lock|spin_unlock|spin_trylock|^_*raw_|^_*queued_|^_*mutex_|^_*rcu_|^_*rcu$|^_*srcu_|^_*percpu_ref|^_*percpu_counter|^_*down_(read|write)|^_*up_(read|write)|^_*rwsem|^_*lock_|_lock$|_unlock$|^_*atomic_|^_*refcount_|^_*osq_|^_*native_queued)/ },
];

function first(rules: Rule[], symbol: string, module: string): Layer | undefined {
  for (const r of rules) {
    if (r.modules && !r.modules.test(module)) continue;
    if (r.symbol && !r.symbol.test(symbol)) continue;
    return r.layer;
  }
  return undefined;
}

/** The layer of one symbol: kernel symbols by module and name, user ones by name. */
export function layerOf(symbol: string, module: string, kernel: boolean): Layer {
  return (kernel ? first(KERNEL_RULES, symbol, module) : first(USER_RULES, symbol, module)) ?? 'other';
}
