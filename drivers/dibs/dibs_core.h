/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS core: state of a device that only the core sees.
 */
#ifndef _DIBS_CORE_H
#define _DIBS_CORE_H

#include <linux/dibs.h>

/**
 * enum dibs_dev_state - where a device is in its life
 * @DIBS_DEV_ALLOCATED: returned by dibs_dev_alloc(), not added yet.
 * @DIBS_DEV_ADDED: dibs_dev_add() succeeded; clients may use the device.
 * @DIBS_DEV_DELETED: dibs_dev_del() ran; only the final put_device() is left.
 */
enum dibs_dev_state {
	DIBS_DEV_ALLOCATED,
	DIBS_DEV_ADDED,
	DIBS_DEV_DELETED,
};

/**
 * struct dibs_core_dev - a DIBS device with the core's private state
 * @dibs: the device the driver and the clients see.
 * @max_dmbs: max_dmbs() of the device, cached by dibs_dev_add(); 0 before.
 *	Written under &dibs_dev.lock.
 * @state: an &enum dibs_dev_state value; written under both the registry
 *	mutex and &dibs_dev.lock, so either suffices for reading.
 */
struct dibs_core_dev {
	struct dibs_dev dibs;
	unsigned int max_dmbs;
	enum dibs_dev_state state;
};

#endif /* _DIBS_CORE_H */
