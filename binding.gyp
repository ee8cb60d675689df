{
  "targets": [
    {
      "target_name": "nvmebench_native",
      "sources": [
        "native/addon.c",
        "native/napi_util.c",
        "native/worker.c",
        "native/workload_cmd.c",
        "native/histogram.c",
        "native/verify.c",
        "native/uring.c",
        "native/engine_psync.c",
        "native/engine_aio.c",
        "native/engine_uring.c",
        "native/engine_pt.c",
        "native/engine_ioctl.c",
        "native/nvme.c",
        "native/nvme_cmd.c",
        "native/nvme_prp.c",
        "native/cmd_napi.c",
        "native/vfio.c",
        "native/nvme_ctrl.c",
        "native/engine_vfio.c",
        "native/vfio_napi.c",
        "native/flock_napi.c"
      ],
      "cflags": ["-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-format-truncation", "-std=gnu11", "-D_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-lpthread"]
    }
  ]
}
