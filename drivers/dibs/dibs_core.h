/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS core: state of a device that only the core sees.
 */
#ifndef _DIBS_CORE_H
#define _DIBS_CORE_H

#include <linux/container_of.h>
#include <linux/dibs.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>
#include <linux/u64_stats_sync.h>

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

/* The "statistics" directory of every device; in dibs_stats.c. */
extern const struct attribute_group dibs_stat_group;

#endif /* _DIBS_CORE_H */
