{
  "targets": [
    {
      "target_name": "nvmebench_native",
      "sources": [
        "native/addon/addon.c",
        "native/addon/napi_util.c",
        "native/core/worker.c",
        "native/core/clock.c",
        "native/workload/workload_cmd.c",
        "native/core/histogram.c",
        "native/core/perf.c",
        "native/addon/perf_napi.c",
        "native/core/verify.c",
        "native/core/pi.c",
        "native/core/pi_worker.c",
        "native/core/sysstat.c",
        "native/engines/uring.c",
        "native/engines/engine_psync.c",
        "native/engines/engine_aio.c",
        "native/engines/engine_uring.c",
        "native/engines/engine_pt.c",
        "native/engines/engine_ioctl.c",
        "native/nvme/nvme.c",
        "native/nvme/nvme_cmd.c",
        "native/nvme/nvme_prp.c",
        "native/addon/cmd_napi.c",
        "native/vfio/vfio.c",
        "native/vfio/nvme_ctrl.c",
        "native/engines/engine_vfio.c",
        "native/engines/engine_nop.c",
        "native/addon/vfio_napi.c",
        "native/addon/flock_napi.c",
        "native/addon/sysstat_napi.c",
        "native/core/rate.c",
        "native/core/rate_wait.c",
        "native/addon/rate_napi.c",
        "native/nvme/nvme_fdp.c",
        "native/addon/fdp_napi.c",
        "native/core/series.c",
        "native/addon/series_napi.c"
      ],
      "include_dirs": ["native/core", "native/engines", "native/nvme", "native/vfio", "native/workload", "native/addon"],
      "cflags": ["-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-format-truncation", "-std=gnu11", "-D_GNU_SOURCE", "-fvisibility=hidden"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-lpthread"]
    }
  ]
}
