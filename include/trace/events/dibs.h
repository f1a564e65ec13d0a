/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of Direct Internal Buffer Sharing (DIBS). The core emits all
 * of them: the data-path ones when a device driver reports to it (see
 * dibs_move_failed() and its siblings in include/linux/dibs.h).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dibs

#if !defined(_TRACE_DIBS_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_DIBS_H

#include <linux/dibs.h>
#include <linux/tracepoint.h>

/**
 * DOC: events
 *
 * The tracepoints are in the ``dibs`` trace system:
 *
 * =============================  ===========================================
 * event                          when
 * =============================  ===========================================
 * ``dibs_client_register``       a client was registered
 * ``dibs_client_unregister``     a client was unregistered; ``dmbs`` it left
 *                                behind were taken away from it
 * ``dibs_dev_add``               a device was added (GID, fabric ID, DMB
 *                                indices)
 * ``dibs_dev_del``               a device was deleted; its clients left
 *                                ``dmbs`` registered
 * ``dibs_dmb_register``          a DMB was registered (device, client, index,
 *                                length, token)
 * ``dibs_dmb_unregister``        a DMB was unregistered
 * ``dibs_dmb_attach``            a remote DMB was mapped
 * ``dibs_dmb_detach``            a mapping ended
 * ``dibs_move_error``            a move failed (device, token, offset, size,
 *                                error)
 * ``dibs_signal``                a signal reached the core: the owner's
 *                                ``client`` id, or 255 if nobody took it
 * ``dibs_signal_coalesced``      signals were merged into a delivery still
 *                                pending or running
 * ``dibs_event``                 a device reported an event to its clients
 * =============================  ===========================================
 */

DECLARE_EVENT_CLASS(dibs_client_class,
		    TP_PROTO(const struct dibs_client *client, unsigned int dmbs),
		    TP_ARGS(client, dmbs),
		    TP_STRUCT__entry(__string(name, client->name)
				     __field(u8, id)
				     __field(unsigned int, dmbs)),
		    TP_fast_assign(__assign_str(name);
				   __entry->id = client->id;
				   __entry->dmbs = dmbs;),
		    TP_printk("client=%s id=%u dmbs=%u",
			      __get_str(name), __entry->id, __entry->dmbs)
);

/* A client was registered; @dmbs is 0. */
DEFINE_EVENT(dibs_client_class, dibs_client_register,
	     TP_PROTO(const struct dibs_client *client, unsigned int dmbs),
	     TP_ARGS(client, dmbs)
);

/* A client was unregistered; @dmbs it left registered were taken away. */
DEFINE_EVENT(dibs_client_class, dibs_client_unregister,
	     TP_PROTO(const struct dibs_client *client, unsigned int dmbs),
	     TP_ARGS(client, dmbs)
);

/* A device was added. */
TRACE_EVENT(dibs_dev_add,
	    TP_PROTO(const struct dibs_dev *dibs, u16 fabric_id,
		     unsigned int max_dmbs),
	    TP_ARGS(dibs, fabric_id, max_dmbs),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __array(u8, gid, UUID_SIZE)
			     __field(u16, fabric_id)
			     __field(unsigned int, max_dmbs)),
	    TP_fast_assign(__assign_str(dev);
			   memcpy(__entry->gid, &dibs->gid, UUID_SIZE);
			   __entry->fabric_id = fabric_id;
			   __entry->max_dmbs = max_dmbs;),
	    TP_printk("dev=%s gid=%pUb fabric_id=0x%04x max_dmbs=%u",
		      __get_str(dev), __entry->gid, __entry->fabric_id,
		      __entry->max_dmbs)
);

/* A device was deleted; its clients left @dmbs registered. */
TRACE_EVENT(dibs_dev_del,
	    TP_PROTO(const struct dibs_dev *dibs, unsigned int dmbs),
	    TP_ARGS(dibs, dmbs),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(unsigned int, dmbs)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->dmbs = dmbs;),
	    TP_printk("dev=%s dmbs=%u", __get_str(dev), __entry->dmbs)
);

/* A client registered a DMB on a device. */
TRACE_EVENT(dibs_dmb_register,
	    TP_PROTO(const struct dibs_dev *dibs, const struct dibs_dmb *dmb,
		     const struct dibs_client *client),
	    TP_ARGS(dibs, dmb, client),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u8, client)
			     __field(u32, idx)
			     __field(u32, len)
			     __field(u64, token)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->client = client->id;
			   __entry->idx = dmb->idx;
			   __entry->len = dmb->dmb_len;
			   __entry->token = dmb->dmb_tok;),
	    TP_printk("dev=%s client=%u idx=%u len=%u token=0x%016llx",
		      __get_str(dev), __entry->client, __entry->idx, __entry->len,
		      __entry->token)
);

DECLARE_EVENT_CLASS(dibs_dmb_class,
		    TP_PROTO(const struct dibs_dev *dibs, unsigned int idx,
			     u32 len, u64 token),
		    TP_ARGS(dibs, idx, len, token),
		    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
				     __field(u32, idx)
				     __field(u32, len)
				     __field(u64, token)),
		    TP_fast_assign(__assign_str(dev);
				   __entry->idx = idx;
				   __entry->len = len;
				   __entry->token = token;),
		    TP_printk("dev=%s idx=%u len=%u token=0x%016llx",
			      __get_str(dev), __entry->idx, __entry->len,
			      __entry->token)
);

/* A DMB of a device was unregistered. */
DEFINE_EVENT(dibs_dmb_class, dibs_dmb_unregister,
	     TP_PROTO(const struct dibs_dev *dibs, unsigned int idx, u32 len,
		      u64 token),
	     TP_ARGS(dibs, idx, len, token)
);

/* A remote DMB was mapped through a device. */
DEFINE_EVENT(dibs_dmb_class, dibs_dmb_attach,
	     TP_PROTO(const struct dibs_dev *dibs, unsigned int idx, u32 len,
		      u64 token),
	     TP_ARGS(dibs, idx, len, token)
);

/* A mapping of a remote DMB through a device ended. */
TRACE_EVENT(dibs_dmb_detach,
	    TP_PROTO(const struct dibs_dev *dibs, u64 token),
	    TP_ARGS(dibs, token),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u64, token)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->token = token;),
	    TP_printk("dev=%s token=0x%016llx", __get_str(dev), __entry->token)
);

/* A move_data() call through a device failed with @err. */
TRACE_EVENT(dibs_move_error,
	    TP_PROTO(const struct dibs_dev *dibs, u64 token, unsigned int offset,
		     unsigned int size, int err),
	    TP_ARGS(dibs, token, offset, size, err),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u64, token)
			     __field(unsigned int, offset)
			     __field(unsigned int, size)
			     __field(int, err)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->token = token;
			   __entry->offset = offset;
			   __entry->size = size;
			   __entry->err = err;),
	    TP_printk("dev=%s token=0x%016llx offset=%u size=%u err=%d",
		      __get_str(dev), __entry->token, __entry->offset,
		      __entry->size, __entry->err)
);

/*
 * A signal for DMB @idx reached the core: @client is the owner whose
 * handle_irq() was called, or %NO_DIBS_CLIENT if none was.
 */
TRACE_EVENT(dibs_signal,
	    TP_PROTO(const struct dibs_dev *dibs, unsigned int idx, u16 mask,
		     u8 client),
	    TP_ARGS(dibs, idx, mask, client),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u32, idx)
			     __field(u16, mask)
			     __field(u8, client)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->idx = idx;
			   __entry->mask = mask;
			   __entry->client = client;),
	    TP_printk("dev=%s idx=%u mask=0x%04x client=%u",
		      __get_str(dev), __entry->idx, __entry->mask, __entry->client)
);

/*
 * Signals @mask for DMB @idx were merged into a delivery still pending or
 * running, instead of a handle_irq() call of their own.
 */
TRACE_EVENT(dibs_signal_coalesced,
	    TP_PROTO(const struct dibs_dev *dibs, unsigned int idx, u16 mask),
	    TP_ARGS(dibs, idx, mask),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u32, idx)
			     __field(u16, mask)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->idx = idx;
			   __entry->mask = mask;),
	    TP_printk("dev=%s idx=%u mask=0x%04x",
		      __get_str(dev), __entry->idx, __entry->mask)
);

/* A device reported an event to its clients. */
TRACE_EVENT(dibs_event,
	    TP_PROTO(const struct dibs_dev *dibs, const struct dibs_event *event),
	    TP_ARGS(dibs, event),
	    TP_STRUCT__entry(__string(dev, dev_name(&dibs->dev))
			     __field(u32, type)
			     __field(u32, subtype)
			     __array(u8, gid, UUID_SIZE)
			     __field(u64, token)
			     __field(u64, data)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->type = event->type;
			   __entry->subtype = event->subtype;
			   memcpy(__entry->gid, &event->gid, UUID_SIZE);
			   __entry->token = event->buffer_tok;
			   __entry->data = event->data;),
	    TP_printk("dev=%s type=%u subtype=0x%x gid=%pUb token=0x%016llx data=0x%llx",
		      __get_str(dev), __entry->type, __entry->subtype,
		      __entry->gid, __entry->token, __entry->data)
);

#endif /* _TRACE_DIBS_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
