/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS loopback device: limits, and the functions its KUnit suite reaches.
 */
#ifndef _DIBS_LOOPBACK_H
#define _DIBS_LOOPBACK_H

#include <kunit/visibility.h>
#include <linux/dibs.h>
#include <linux/sizes.h>

/* DMB indices per loopback device. */
#define DIBS_LO_MAX_DMBS	5000
/* Largest DMB a loopback device registers, in bytes. */
#define DIBS_LO_MAX_DMB_LEN	SZ_1M
/* Signalling indices that move_data() accepts: 0 .. 15. */
#define DIBS_LO_SIGNALS		16
/* Bits of a token that hold the DMB index; the rest are random. */
#define DIBS_LO_TOKEN_IDX_BITS	16
/* Longest name of a loopback device, without the terminating NUL. */
#define DIBS_LO_NAME_MAX	15

struct dibs_lo_dev;

#if IS_ENABLED(CONFIG_KUNIT)
struct dibs_lo_dev *dibs_lo_dev_create(const char *name, bool zero_copy);
int dibs_lo_dev_destroy(const char *name);
struct dibs_dev *dibs_lo_dev_dibs(struct dibs_lo_dev *ldev);
unsigned int dibs_lo_dmbs_in_use(struct dibs_lo_dev *ldev);
int dibs_lo_hazard_set(struct dibs_lo_dev *ldev, unsigned int cpu,
		       u64 token);
#endif

#endif /* _DIBS_LOOPBACK_H */
