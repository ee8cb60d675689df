/*
 * vfioProbe(bdf, nsid?): bring a vfio-pci bound controller up with the
 * userspace driver, Identify it (and a namespace), shut it down again. What
 * the kernel's sysfs cannot say about a device it no longer drives: the
 * target's size, LBA size and model for the vfio engine. Same shape as
 * nvmeIdentify(), plus the CAP fields the driver uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

#include "nvme_ctrl.h"

napi_value vfio_napi_probe(napi_env env, napi_callback_info info);

static napi_value __vfio_napi_throw(napi_env env, int err, const char *msg)
{
	const char *name = strerrorname_np(err);

	napi_throw_error(env, name ? name : "EUNKNOWN", msg);
	return NULL;
}

static void __vfio_napi_num(napi_env env, napi_value obj, const char *key, double v)
{
	napi_value n;

	napi_create_double(env, v, &n);
	napi_set_named_property(env, obj, key, n);
}

static void __vfio_napi_str(napi_env env, napi_value obj, const char *key, const char *v)
{
	napi_value s;

	napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s);
	napi_set_named_property(env, obj, key, s);
}

napi_value vfio_napi_probe(napi_env env, napi_callback_info info)
{
	size_t argc = 2, got;
	napi_value argv[2], out, ctrl, ns, cap;
	char bdf[64];
	int32_t nsid = 0;
	struct nvme_ctrl *c;
	struct nvme_ns_info nsi;
	bool have_ns = false;
	int err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_string_utf8(env, argv[0], bdf, sizeof(bdf), &got) != napi_ok)
		return __vfio_napi_throw(env, EINVAL, "vfioProbe(pciAddress, nsid?) needs a PCI address");
	if (argc > 1)
		napi_get_value_int32(env, argv[1], &nsid);
	c = calloc(1, sizeof(*c));
	if (!c)
		return __vfio_napi_throw(env, ENOMEM, "out of memory");
	if (nvme_ctrl_open(c, bdf, 0) < 0) {
		char msg[NVME_ERRLEN];

		err = errno;
		snprintf(msg, sizeof(msg), "%s", c->errmsg);
		free(c);
		return __vfio_napi_throw(env, err, msg);
	}
	if (nsid > 0) {
		if (nvme_ctrl_identify_ns(c, (uint32_t)nsid, &nsi) < 0) {
			char msg[NVME_ERRLEN];

			err = errno;
			snprintf(msg, sizeof(msg), "%s", c->errmsg);
			nvme_ctrl_close(c);
			free(c);
			return __vfio_napi_throw(env, err, msg);
		}
		have_ns = true;
	}
	napi_create_object(env, &out);
	napi_create_object(env, &ctrl);
	__vfio_napi_str(env, ctrl, "model", c->info.model);
	__vfio_napi_str(env, ctrl, "serial", c->info.serial);
	__vfio_napi_str(env, ctrl, "firmware", c->info.firmware);
	__vfio_napi_num(env, ctrl, "vid", c->info.vid);
	__vfio_napi_num(env, ctrl, "mdts", c->info.mdts);
	__vfio_napi_num(env, ctrl, "cntlid", c->info.cntlid);
	__vfio_napi_num(env, ctrl, "version", c->info.version);
	__vfio_napi_num(env, ctrl, "oacs", c->info.oacs);
	__vfio_napi_num(env, ctrl, "oncs", c->info.oncs);
	__vfio_napi_num(env, ctrl, "vwc", c->info.vwc);
	__vfio_napi_num(env, ctrl, "nn", c->info.nn);
	napi_set_named_property(env, out, "ctrl", ctrl);
	if (have_ns) {
		napi_create_object(env, &ns);
		__vfio_napi_num(env, ns, "nsid", nsi.nsid);
		__vfio_napi_num(env, ns, "nsze", (double)nsi.nsze);
		__vfio_napi_num(env, ns, "ncap", (double)nsi.ncap);
		__vfio_napi_num(env, ns, "nuse", (double)nsi.nuse);
		__vfio_napi_num(env, ns, "lbaSize", nsi.lba_size);
		__vfio_napi_num(env, ns, "metaSize", nsi.meta_size);
		__vfio_napi_num(env, ns, "extendedMeta", nsi.extended_meta);
		__vfio_napi_num(env, ns, "lbaFormat", nsi.lba_format);
		__vfio_napi_num(env, ns, "nlbaf", nsi.nlbaf);
		__vfio_napi_num(env, ns, "dps", nsi.dps);
		napi_set_named_property(env, out, "ns", ns);
	}
	napi_create_object(env, &cap);
	__vfio_napi_num(env, cap, "mqes", c->mqes);
	__vfio_napi_num(env, cap, "dstrd", c->dstrd);
	__vfio_napi_num(env, cap, "mpsmin", c->mpsmin);
	__vfio_napi_num(env, cap, "timeoutMs", c->timeout_ms);
	__vfio_napi_num(env, cap, "css", c->css);
	__vfio_napi_num(env, cap, "maxTransferBytes", c->max_xfer);
	__vfio_napi_num(env, cap, "iommuRanges", c->vfio.nr_ranges);
	napi_set_named_property(env, out, "cap", cap);
	nvme_ctrl_close(c);
	free(c);
	return out;
}
