/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS core: the core's own tracepoints, for dibs_main.c.
 *
 * The exported functions of dibs_main.c must keep upstream's symbol
 * versions, and those cover every type the translation unit defines that
 * their arguments reach. <trace/events/dibs.h> would define many more
 * (through the tracing and BPF headers), so dibs_main.c tests the static
 * keys here and calls out of line into dibs_stats.c, which creates the
 * events (Documentation/trace/tracepoints.rst, "tracepoint_enabled()").
 */
#ifndef _DIBS_TRACE_H
#define _DIBS_TRACE_H

#include <linux/dibs.h>
#include <linux/tracepoint-defs.h>

DECLARE_TRACEPOINT(dibs_client_register);
DECLARE_TRACEPOINT(dibs_client_unregister);
DECLARE_TRACEPOINT(dibs_dev_add);
DECLARE_TRACEPOINT(dibs_dev_del);
DECLARE_TRACEPOINT(dibs_signal);
DECLARE_TRACEPOINT(dibs_event);

void dibs_do_trace_client_register(const struct dibs_client *client);
void dibs_do_trace_client_unregister(const struct dibs_client *client,
				     unsigned int dmbs);
void dibs_do_trace_dev_add(const struct dibs_dev *dibs, u16 fabric_id,
			   unsigned int max_dmbs);
void dibs_do_trace_dev_del(const struct dibs_dev *dibs, unsigned int dmbs);
void dibs_do_trace_signal(const struct dibs_dev *dibs, unsigned int idx,
			  u16 mask, u8 client);
void dibs_do_trace_event(const struct dibs_dev *dibs,
			 const struct dibs_event *event);

static inline void dibs_trace_client_register(const struct dibs_client *client)
{
	if (tracepoint_enabled(dibs_client_register))
		dibs_do_trace_client_register(client);
}

static inline void
dibs_trace_client_unregister(const struct dibs_client *client,
			     unsigned int dmbs)
{
	if (tracepoint_enabled(dibs_client_unregister))
		dibs_do_trace_client_unregister(client, dmbs);
}

static inline void dibs_trace_dev_add(struct dibs_dev *dibs,
				      unsigned int max_dmbs)
{
	if (tracepoint_enabled(dibs_dev_add))
		dibs_do_trace_dev_add(dibs, dibs->ops->get_fabric_id(dibs),
				      max_dmbs);
}

static inline void dibs_trace_dev_del(const struct dibs_dev *dibs,
				      unsigned int dmbs)
{
	if (tracepoint_enabled(dibs_dev_del))
		dibs_do_trace_dev_del(dibs, dmbs);
}

static inline void dibs_trace_signal(const struct dibs_dev *dibs,
				     unsigned int idx, u16 mask, u8 client)
{
	if (tracepoint_enabled(dibs_signal))
		dibs_do_trace_signal(dibs, idx, mask, client);
}

static inline void dibs_trace_event(const struct dibs_dev *dibs,
				    const struct dibs_event *event)
{
	if (tracepoint_enabled(dibs_event))
		dibs_do_trace_event(dibs, event);
}

#endif /* _DIBS_TRACE_H */
