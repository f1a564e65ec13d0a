// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS core: the statistics of devices and the tracepoints.
 */

#include <linux/bits.h>
#include <linux/dibs.h>
#include <linux/device.h>
#include <linux/export.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/u64_stats_sync.h>

#include "dibs_core.h"
#include "dibs_trace.h"

#define CREATE_TRACE_POINTS
#include <trace/events/dibs.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_client_register);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_client_unregister);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dev_add);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dev_del);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dmb_register);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dmb_unregister);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dmb_attach);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_dmb_detach);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_move_error);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_signal);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_signal_coalesced);
EXPORT_TRACEPOINT_SYMBOL_GPL(dibs_event);

/* The core's own events, called through dibs_trace.h. */

void dibs_do_trace_client_register(const struct dibs_client *client)
{
	trace_dibs_client_register(client, 0);
}

void dibs_do_trace_client_unregister(const struct dibs_client *client,
				     unsigned int dmbs)
{
	trace_dibs_client_unregister(client, dmbs);
}

void dibs_do_trace_dev_add(const struct dibs_dev *dibs, u16 fabric_id,
			   unsigned int max_dmbs)
{
	trace_dibs_dev_add(dibs, fabric_id, max_dmbs);
}

void dibs_do_trace_dev_del(const struct dibs_dev *dibs, unsigned int dmbs)
{
	trace_dibs_dev_del(dibs, dmbs);
}

/* Also called by the drivers of this directory: see dibs_deliver_irq(). */
void dibs_do_trace_signal(const struct dibs_dev *dibs, unsigned int idx,
			  u16 mask, u8 client)
{
	trace_dibs_signal(dibs, idx, mask, client);
}
EXPORT_SYMBOL_GPL(dibs_do_trace_signal);

void dibs_do_trace_event(const struct dibs_dev *dibs,
			 const struct dibs_event *event)
{
	trace_dibs_event(dibs, event);
}

/**
 * struct dibs_stat_attr - a file of the statistics directory
 * @attr: the attribute.
 * @add: the &enum dibs_stat counters whose sum the file shows, as bits...
 * @sub: ...minus the sum of these, or 0 if it would be negative: counters
 *	summed over CPUs are not one snapshot, and an unregistration may be
 *	seen before the registration it ends.
 */
struct dibs_stat_attr {
	struct device_attribute attr;
	u32 add;
	u32 sub;
};

static ssize_t dibs_stat_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	const struct dibs_stat_attr *sa =
		container_of(attr, struct dibs_stat_attr, attr);
	u64 stats[DIBS_STAT_NR], add = 0, sub = 0;
	unsigned int i;

	dibs_dev_get_stats(container_of(dev, struct dibs_dev, dev), stats);
	for (i = 0; i < DIBS_STAT_NR; i++) {
		if (sa->add & BIT(i))
			add += stats[i];
		if (sa->sub & BIT(i))
			sub += stats[i];
	}
	return sysfs_emit(buf, "%llu\n", add > sub ? add - sub : 0);
}

#define DIBS_STAT_ATTR(_name, _add, _sub)				\
static struct dibs_stat_attr dibs_stat_attr_##_name = {			\
	.attr = __ATTR(_name, 0444, dibs_stat_show, NULL),		\
	.add = (_add),							\
	.sub = (_sub),							\
}

#define DIBS_MOVE_ERRORS	(BIT(DIBS_STAT_MOVE_ERR_TOKEN) |		\
				 BIT(DIBS_STAT_MOVE_ERR_RANGE) |		\
				 BIT(DIBS_STAT_MOVE_ERR_UNREACH) |		\
				 BIT(DIBS_STAT_MOVE_ERR_OTHER))

DIBS_STAT_ATTR(moves, BIT(DIBS_STAT_MOVES), 0);
DIBS_STAT_ATTR(bytes_moved, BIT(DIBS_STAT_BYTES_MOVED), 0);
DIBS_STAT_ATTR(signals_sent, BIT(DIBS_STAT_SIGNALS_SENT), 0);
DIBS_STAT_ATTR(signals_delivered, BIT(DIBS_STAT_SIGNALS_DELIVERED), 0);
DIBS_STAT_ATTR(move_errors, DIBS_MOVE_ERRORS, 0);
DIBS_STAT_ATTR(move_errors_token, BIT(DIBS_STAT_MOVE_ERR_TOKEN), 0);
DIBS_STAT_ATTR(move_errors_range, BIT(DIBS_STAT_MOVE_ERR_RANGE), 0);
DIBS_STAT_ATTR(move_errors_unreachable, BIT(DIBS_STAT_MOVE_ERR_UNREACH), 0);
DIBS_STAT_ATTR(move_errors_other, BIT(DIBS_STAT_MOVE_ERR_OTHER), 0);
DIBS_STAT_ATTR(dmbs, BIT(DIBS_STAT_DMB_REGS), BIT(DIBS_STAT_DMB_UNREGS));
DIBS_STAT_ATTR(dmb_bytes, BIT(DIBS_STAT_DMB_BYTES_REG),
	       BIT(DIBS_STAT_DMB_BYTES_UNREG));
DIBS_STAT_ATTR(dmb_registrations, BIT(DIBS_STAT_DMB_REGS), 0);
DIBS_STAT_ATTR(dmb_unregistrations, BIT(DIBS_STAT_DMB_UNREGS), 0);
DIBS_STAT_ATTR(attaches, BIT(DIBS_STAT_ATTACHES), 0);
DIBS_STAT_ATTR(detaches, BIT(DIBS_STAT_DETACHES), 0);

static struct attribute *dibs_stat_attrs[] = {
	&dibs_stat_attr_moves.attr.attr,
	&dibs_stat_attr_bytes_moved.attr.attr,
	&dibs_stat_attr_signals_sent.attr.attr,
	&dibs_stat_attr_signals_delivered.attr.attr,
	&dibs_stat_attr_move_errors.attr.attr,
	&dibs_stat_attr_move_errors_token.attr.attr,
	&dibs_stat_attr_move_errors_range.attr.attr,
	&dibs_stat_attr_move_errors_unreachable.attr.attr,
	&dibs_stat_attr_move_errors_other.attr.attr,
	&dibs_stat_attr_dmbs.attr.attr,
	&dibs_stat_attr_dmb_bytes.attr.attr,
	&dibs_stat_attr_dmb_registrations.attr.attr,
	&dibs_stat_attr_dmb_unregistrations.attr.attr,
	&dibs_stat_attr_attaches.attr.attr,
	&dibs_stat_attr_detaches.attr.attr,
	NULL
};

const struct attribute_group dibs_stat_group = {
	.name = "statistics",
	.attrs = dibs_stat_attrs,
};

/**
 * DOC: statistics
 *
 * Every device has the counters of &enum dibs_stat, one copy per CPU
 * (u64_stats), summed when read by dibs_dev_get_stats() or through sysfs.
 * Device drivers report what their operations did with dibs_moved(),
 * dibs_move_failed() and the other functions of this file, which also
 * emit the matching tracepoints; dibs_handle_irq() counts delivered
 * signals. Counting takes no lock and touches only the
 * CPU's own copy; the tracepoints cost a patched-out branch while they
 * are disabled.
 *
 * sysfs shows each counter in a file of its own under
 * ``/sys/class/dibs/<name>/statistics/``: ``moves``, ``bytes_moved``,
 * ``signals_sent`` and ``signals_delivered``; the refused moves by cause,
 * ``move_errors_token``, ``move_errors_range``, ``move_errors_unreachable``
 * and ``move_errors_other``, and their sum ``move_errors``;
 * ``dmb_registrations`` and ``dmb_unregistrations``, and from them and the
 * summed lengths the DMBs registered now, ``dmbs`` and ``dmb_bytes``; and
 * ``attaches`` and ``detaches``.
 */

/**
 * dibs_dev_get_stats() - read the counters of a device
 * @dibs: the device, from dibs_dev_alloc() on
 * @stats: filled with the counters, indexed by &enum dibs_stat
 *
 * Each counter is exact, but counters that change meanwhile are not read
 * at one instant.
 *
 * Context: any context.
 */
void dibs_dev_get_stats(struct dibs_dev *dibs, u64 stats[DIBS_STAT_NR])
{
	struct dibs_core_dev *core = to_core_dev(dibs);
	u64 cpu_stats[DIBS_STAT_NR];
	unsigned int start, i;
	int cpu;

	memset(stats, 0, DIBS_STAT_NR * sizeof(*stats));
	for_each_possible_cpu(cpu) {
		const struct dibs_dev_stats *s = per_cpu_ptr(core->stats, cpu);

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < DIBS_STAT_NR; i++)
				cpu_stats[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < DIBS_STAT_NR; i++)
			stats[i] += cpu_stats[i];
	}
}
EXPORT_SYMBOL_GPL(dibs_dev_get_stats);

/**
 * dibs_moved() - count a move that succeeded
 * @dibs: the device the data was moved through
 * @size: the bytes written
 * @sf: whether the move signals the DMB's owner
 *
 * Device drivers call this from move_data() once the data is written and
 * before the owner is signalled, so that a reader woken by the signal
 * finds the move counted.
 *
 * Context: any context.
 */
void dibs_moved(struct dibs_dev *dibs, unsigned int size, bool sf)
{
	unsigned long flags;
	struct dibs_dev_stats *stats = dibs_stats_begin(dibs, &flags);

	u64_stats_inc(&stats->cnt[DIBS_STAT_MOVES]);
	u64_stats_add(&stats->cnt[DIBS_STAT_BYTES_MOVED], size);
	if (sf)
		u64_stats_inc(&stats->cnt[DIBS_STAT_SIGNALS_SENT]);
	dibs_stats_end(stats, flags);
}
EXPORT_SYMBOL_GPL(dibs_moved);

/**
 * dibs_move_failed() - count and trace a move that failed
 * @dibs: the device the move went through
 * @dmb_tok: the target token
 * @offset: the offset in the target DMB
 * @size: the bytes to move
 * @err: the negative error move_data() returns
 *
 * Counts the failure by cause: %DIBS_STAT_MOVE_ERR_TOKEN for -ENOENT,
 * %DIBS_STAT_MOVE_ERR_RANGE for -EINVAL, %DIBS_STAT_MOVE_ERR_UNREACH for
 * -ENETUNREACH and %DIBS_STAT_MOVE_ERR_OTHER for anything else.
 *
 * Context: any context.
 */
void dibs_move_failed(struct dibs_dev *dibs, u64 dmb_tok, unsigned int offset,
		      unsigned int size, int err)
{
	enum dibs_stat stat;

	switch (err) {
	case -ENOENT:
		stat = DIBS_STAT_MOVE_ERR_TOKEN;
		break;
	case -EINVAL:
		stat = DIBS_STAT_MOVE_ERR_RANGE;
		break;
	case -ENETUNREACH:
		stat = DIBS_STAT_MOVE_ERR_UNREACH;
		break;
	default:
		stat = DIBS_STAT_MOVE_ERR_OTHER;
		break;
	}
	dibs_stats_add(dibs, stat, 1);
	trace_dibs_move_error(dibs, dmb_tok, offset, size, err);
}
EXPORT_SYMBOL_GPL(dibs_move_failed);

/**
 * dibs_signal_coalesced() - trace signals merged into another delivery
 * @dibs: the device that owns the DMB
 * @idx: the DMB index
 * @dmbemask: the signalling bits that were merged
 *
 * Device drivers that merge a signal into a delivery still pending or
 * running, rather than calling dibs_handle_irq() for it, report it here.
 *
 * Context: any context.
 */
void dibs_signal_coalesced(struct dibs_dev *dibs, unsigned int idx,
			   u16 dmbemask)
{
	trace_dibs_signal_coalesced(dibs, idx, dmbemask);
}
EXPORT_SYMBOL_GPL(dibs_signal_coalesced);

/**
 * dibs_dmb_registered() - count and trace a new DMB
 * @dibs: the device
 * @dmb: the DMB, as register_dmb() returns it to the client
 * @client: its owner
 *
 * Device drivers call this from register_dmb() when it succeeds.
 *
 * Context: any context.
 */
void dibs_dmb_registered(struct dibs_dev *dibs, const struct dibs_dmb *dmb,
			 const struct dibs_client *client)
{
	unsigned long flags;
	struct dibs_dev_stats *stats = dibs_stats_begin(dibs, &flags);

	u64_stats_inc(&stats->cnt[DIBS_STAT_DMB_REGS]);
	u64_stats_add(&stats->cnt[DIBS_STAT_DMB_BYTES_REG], dmb->dmb_len);
	dibs_stats_end(stats, flags);
	trace_dibs_dmb_register(dibs, dmb, client);
}
EXPORT_SYMBOL_GPL(dibs_dmb_registered);

/**
 * dibs_dmb_unregistered() - count and trace the end of a DMB
 * @dibs: the device
 * @idx: the DMB's index
 * @len: its length, as registered
 * @dmb_tok: its token
 *
 * Device drivers call this once for every DMB reported with
 * dibs_dmb_registered() that is unregistered, by unregister_dmb() or
 * otherwise.
 *
 * Context: any context.
 */
void dibs_dmb_unregistered(struct dibs_dev *dibs, unsigned int idx, u32 len,
			   u64 dmb_tok)
{
	unsigned long flags;
	struct dibs_dev_stats *stats = dibs_stats_begin(dibs, &flags);

	u64_stats_inc(&stats->cnt[DIBS_STAT_DMB_UNREGS]);
	u64_stats_add(&stats->cnt[DIBS_STAT_DMB_BYTES_UNREG], len);
	dibs_stats_end(stats, flags);
	trace_dibs_dmb_unregister(dibs, idx, len, dmb_tok);
}
EXPORT_SYMBOL_GPL(dibs_dmb_unregistered);

/**
 * dibs_dmb_attached() - count and trace a mapping of a remote DMB
 * @dibs: the device the DMB is mapped through
 * @dmb: the DMB, as attach_dmb() returns it
 *
 * Device drivers call this from attach_dmb() when it succeeds.
 *
 * Context: any context.
 */
void dibs_dmb_attached(struct dibs_dev *dibs, const struct dibs_dmb *dmb)
{
	dibs_stats_add(dibs, DIBS_STAT_ATTACHES, 1);
	trace_dibs_dmb_attach(dibs, dmb->idx, dmb->dmb_len, dmb->dmb_tok);
}
EXPORT_SYMBOL_GPL(dibs_dmb_attached);

/**
 * dibs_dmb_detached() - count and trace the end of a mapping
 * @dibs: the device the DMB was mapped through
 * @dmb_tok: the DMB's token
 *
 * Device drivers call this from detach_dmb() when it succeeds.
 *
 * Context: any context.
 */
void dibs_dmb_detached(struct dibs_dev *dibs, u64 dmb_tok)
{
	dibs_stats_add(dibs, DIBS_STAT_DETACHES, 1);
	trace_dibs_dmb_detach(dibs, dmb_tok);
}
EXPORT_SYMBOL_GPL(dibs_dmb_detached);
