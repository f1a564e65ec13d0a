/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS core: state of a device that only the core sees.
 */
#ifndef _DIBS_CORE_H
#define _DIBS_CORE_H

#include <linux/container_of.h>
#include <linux/dibs.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sysfs.h>
#include <linux/u64_stats_sync.h>

#include "dibs_trace.h"

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
 * struct dibs_dev_stats - the counters of a DIBS device on one CPU
 * @cnt: the counters, indexed by &enum dibs_stat.
 * @syncp: lets readers see each counter whole on 32-bit machines.
 *
 * Each CPU writes only its own copy, so writers never contend; readers
 * sum all copies. On 32-bit machines writers disable interrupts, as
 * drivers count from interrupt handlers too.
 */
struct dibs_dev_stats {
	u64_stats_t cnt[DIBS_STAT_NR];
	struct u64_stats_sync syncp;
};

/**
 * struct dibs_core_dev - a DIBS device with the core's private state
 * @dibs: the device the driver and the clients see.
 * @max_dmbs: max_dmbs() of the device, cached by dibs_dev_add(); 0 before.
 *	Written under &dibs_dev.lock.
 * @state: an &enum dibs_dev_state value; written under both the registry
 *	mutex and &dibs_dev.lock, so either suffices for reading.
 * @stats: the device's counters, one copy per CPU; lives as long as the
 *	device structure.
 */
struct dibs_core_dev {
	struct dibs_dev dibs;
	unsigned int max_dmbs;
	enum dibs_dev_state state;
	struct dibs_dev_stats __percpu *stats;
};

static inline struct dibs_core_dev *to_core_dev(struct dibs_dev *dibs)
{
	return container_of(dibs, struct dibs_core_dev, dibs);
}

/*
 * Update counters of @dibs in this CPU's copy: between dibs_stats_begin()
 * and dibs_stats_end() the task stays on its CPU, with interrupts off, so
 * that the counters updated in one section are read together.
 */
static inline struct dibs_dev_stats *
dibs_stats_begin(struct dibs_dev *dibs, unsigned long *flags)
{
	struct dibs_dev_stats *stats = get_cpu_ptr(to_core_dev(dibs)->stats);

	*flags = u64_stats_update_begin_irqsave(&stats->syncp);
	return stats;
}

static inline void dibs_stats_end(struct dibs_dev_stats *stats,
				  unsigned long flags)
{
	u64_stats_update_end_irqrestore(&stats->syncp, flags);
	put_cpu_ptr(stats);
}

/* Add @n to counter @stat of @dibs. */
static inline void dibs_stats_add(struct dibs_dev *dibs, enum dibs_stat stat,
				  u64 n)
{
	unsigned long flags;
	struct dibs_dev_stats *stats = dibs_stats_begin(dibs, &flags);

	u64_stats_add(&stats->cnt[stat], n);
	dibs_stats_end(stats, flags);
}

/**
 * dibs_deliver_irq() - dibs_handle_irq() for a valid index, under RCU
 * @dibs: the device that owns the DMB
 * @idx: the DMB index, below the device's max_dmbs()
 * @dmbemask: signalling mask, passed on to handle_irq()
 *
 * The body of dibs_handle_irq(), which the drivers of this directory may
 * inline into their data path instead of calling it: they know @idx to be
 * in range, and their signal delivery runs under RCU anyway.
 *
 * Context: any context, in an RCU read-side critical section (preemption
 * disabled is one); does not sleep.
 * Return: 0 if a client was called; -ENOENT if no attached client owns
 * @idx or it has no handle_irq().
 */
static __always_inline int dibs_deliver_irq(struct dibs_dev *dibs,
					    unsigned int idx, u16 dmbemask)
{
	struct dibs_client *client;
	u8 id;

	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "dibs_deliver_irq() needs RCU");
	id = READ_ONCE(dibs->dmb_clientid_arr[idx]);
	if (id < MAX_DIBS_CLIENTS) {
		/* Pairs with smp_store_release() in dibs_attach_client(). */
		client = smp_load_acquire(&dibs->subs[id]);
		if (client && client->ops->handle_irq) {
			/* Counted first: the handler may wake whoever reads them. */
			dibs_trace_signal(dibs, idx, dmbemask, id);
			dibs_stats_add(dibs, DIBS_STAT_SIGNALS_DELIVERED, 1);
			client->ops->handle_irq(dibs, idx, dmbemask);
			return 0;
		}
	}
	dibs_trace_signal(dibs, idx, dmbemask, NO_DIBS_CLIENT);
	return -ENOENT;
}

/* The "statistics" directory of every device; in dibs_stats.c. */
extern const struct attribute_group dibs_stat_group;

#endif /* _DIBS_CORE_H */
