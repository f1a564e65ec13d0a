/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Direct Internal Buffer Sharing (DIBS): the interface between DIBS clients
 * (for example SMC-D), the DIBS core and DIBS device drivers.
 */
#ifndef _DIBS_H
#define _DIBS_H

#include <linux/device.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uuid.h>

/**
 * DOC: concept
 *
 * A DIBS fabric connects DIBS devices. Devices on the same fabric exchange
 * data through Direct Memory Buffers (DMBs): a client registers a DMB with its
 * local device for exactly one remote device, identified by that device's
 * GID, and only that remote device may write into it, with move_data() or,
 * where the device supports it, through a mapping returned by attach_dmb().
 * The owner of the DMB and the writer may be the same device.
 *
 * Writes are synchronous and lossless: when move_data() returns, the data is
 * in the target DMB. A writer may signal the owner together with a write; the
 * owner's client then gets a handle_irq() call for that DMB.
 *
 * Fabrics are named by a 16-bit fabric id (unique within one machine, except
 * for %DIBS_LOOPBACK_FABRIC), DMBs by a 64-bit token (unique within a fabric)
 * and devices by a 16-byte GID (unique within a fabric, and statistically
 * unique everywhere). Fabrics can connect operating systems of different
 * architectures, so values that cross the fabric are big-endian.
 */

/**
 * struct dibs_dmb - a Direct Memory Buffer
 * @dmb_tok: token that names the DMB on its fabric; set by register_dmb(),
 *	never 0 for a registered DMB.
 * @rgid: GID of the one remote device allowed to write into the DMB.
 * @cpu_addr: kernel address of the buffer; set by register_dmb().
 * @dmb_len: length of the buffer in bytes.
 * @idx: index of the DMB on its owning device, below max_dmbs(). On input to
 *	register_dmb() a non-zero value requests that index.
 * @vlan_valid: non-zero if @vlan_id restricts the writer (deprecated; ignored
 *	by devices without VLAN support).
 * @vlan_id: VLAN the writer must belong to (deprecated).
 * @dma_addr: bus address of the buffer, for the device driver's own use;
 *	set by register_dmb() and attach_dmb(), never 0 after either
 *	succeeded. A device whose DMB memory has no DMA mapping sets
 *	%DIBS_DMA_ADDR_NONE.
 *
 * Clients pass this structure to register_dmb(), unregister_dmb() and
 * attach_dmb(); which fields are input and which are output is described
 * with each of those operations.
 *
 * The memory at @cpu_addr is zeroed, page-backed and one compound
 * allocation (a folio) that starts at @cpu_addr, so clients may take
 * references on its first page and reach any byte of the DMB through it
 * (SMC-D splices received data out of DMBs that way).
 *
 * Clients may take a @dma_addr of 0 to mean "never registered" and skip
 * unregister_dmb() for such a DMB (SMC-D does), so a device must not report
 * 0 even when it has no bus address to give.
 */
struct dibs_dmb {
	u64 dmb_tok;
	uuid_t rgid;
	void *cpu_addr;
	u32 dmb_len;
	u32 idx;
	u32 vlan_valid;
	u32 vlan_id;
	dma_addr_t dma_addr;
};

/**
 * enum dibs_event_type - what a &struct dibs_event is about
 * @DIBS_BUF_EVENT: a DMB changed state; &dibs_event.buffer_tok names it.
 * @DIBS_DEV_EVENT: a remote device changed state; &dibs_event.gid names it.
 * @DIBS_SW_EVENT: a client on a remote device sent an event with
 *	signal_event(); &dibs_event.gid names the sender, &dibs_event.subtype
 *	and &dibs_event.data carry the client's code and data.
 * @DIBS_OTHER_TYPE: any other event a device reports; clients should
 *	ignore what they do not understand.
 */
enum dibs_event_type {
	DIBS_BUF_EVENT,
	DIBS_DEV_EVENT,
	DIBS_SW_EVENT,
	DIBS_OTHER_TYPE
};

/**
 * enum dibs_event_subtype - detail of a device-generated event
 * @DIBS_BUF_UNREGISTERED: the DMB was unregistered by its owner.
 * @DIBS_DEV_DISABLED: the remote device was disabled.
 * @DIBS_DEV_ERR_STATE: the remote device is in an error state.
 * @DIBS_OTHER_SUBTYPE: any other condition.
 *
 * For %DIBS_SW_EVENT the subtype is the sender's code instead.
 */
enum dibs_event_subtype {
	DIBS_BUF_UNREGISTERED,
	DIBS_DEV_DISABLED,
	DIBS_DEV_ERR_STATE,
	DIBS_OTHER_SUBTYPE
};

/**
 * struct dibs_event - an event reported by a device
 * @type: an &enum dibs_event_type value.
 * @subtype: an &enum dibs_event_subtype value, or the client-defined code
 *	of a %DIBS_SW_EVENT.
 * @gid: GID of the remote device concerned; all zero if not applicable.
 * @buffer_tok: token of the DMB concerned; zero if not applicable.
 * @time: time stamp supplied by the device, or zero.
 * @data: additional data, client-defined for %DIBS_SW_EVENT, or zero.
 */
struct dibs_event {
	u32 type;
	u32 subtype;
	uuid_t gid;
	u64 buffer_tok;
	u64 time;
	u64 data;
};

/*
 * &dibs_dmb.dma_addr of a DMB whose memory has no DMA mapping, for example
 * on a software device. Not 0, which clients read as "not registered".
 */
#define DIBS_DMA_ADDR_NONE	(~(dma_addr_t)0)

struct dibs_dev;

/* Number of clients that can be registered at the same time. */
#define MAX_DIBS_CLIENTS	8
/* Value of an unused entry in &dibs_dev.dmb_clientid_arr. */
#define NO_DIBS_CLIENT		0xff

/**
 * struct dibs_client_ops - callbacks of a DIBS client
 *
 * The DIBS core calls these. For one client and one device, no handle_irq()
 * or handle_event() call starts before add_dev() has returned, and none is
 * running or starts once del_dev() has been called.
 */
struct dibs_client_ops {
	/**
	 * @add_dev: a device is available to the client. Called for every
	 * existing device by dibs_register_client(), and for every device
	 * added later. The client may keep @dev until its del_dev() returns
	 * and typically stores per-device state with dibs_set_priv().
	 * Mandatory.
	 *
	 * Context: process context, may sleep. Called with the DIBS registry
	 * mutex held: must not register or unregister clients or devices.
	 */
	void (*add_dev)(struct dibs_dev *dev);
	/**
	 * @del_dev: the device goes away, or the client is being
	 * unregistered. No handler of the client runs for @dev any more. The
	 * client must unregister all DMBs it registered on @dev, detach all
	 * DMBs it attached through @dev, and stop using @dev before it
	 * returns. Mandatory.
	 *
	 * Context: process context, may sleep. Called with the DIBS registry
	 * mutex held: must not register or unregister clients or devices.
	 */
	void (*del_dev)(struct dibs_dev *dev);
	/**
	 * @handle_irq: a DMB owned by this client was signalled. @idx is the
	 * DMB index (below max_dmbs() of @dev), @dmbemask has bit n set for
	 * every signalling index n used since the last call; a device may
	 * coalesce several signals into one call. Optional.
	 *
	 * Context: any context up to hard interrupt, with interrupts possibly
	 * disabled. Must not sleep and should defer real work.
	 */
	void (*handle_irq)(struct dibs_dev *dev, unsigned int idx,
			   u16 dmbemask);
	/**
	 * @handle_event: @dev reports an event; called for every client
	 * attached to @dev. @event is only valid during the call. Optional.
	 *
	 * Context: any context up to hard interrupt. Must not sleep.
	 */
	void (*handle_event)(struct dibs_dev *dev,
			     const struct dibs_event *event);
};

/**
 * struct dibs_client - a user of DIBS devices
 * @name: name for log messages.
 * @ops: the client's callbacks.
 * @id: slot of the client, set by dibs_register_client(); indexes
 *	&dibs_dev.priv and &dibs_dev.subs.
 */
struct dibs_client {
	const char *name;
	const struct dibs_client_ops *ops;
	u8 id;
};

int dibs_register_client(struct dibs_client *client);
int dibs_unregister_client(struct dibs_client *client);

/*
 * Fabric id of every loopback device. Unlike other fabrics, two loopback
 * devices can never reach each other: a loopback device reaches only itself.
 */
#define DIBS_LOOPBACK_FABRIC	0xFFFF

/**
 * struct dibs_dev_ops - operations of a DIBS device
 *
 * Provided by the device driver and called by clients. All are mandatory
 * unless marked optional. Optional operations come in groups:
 * add_vlan_id() and del_vlan_id() are both present or both absent, and so
 * are support_mmapped_rdmb(), attach_dmb() and detach_dmb();
 * dibs_dev_add() refuses a device that breaks this rule.
 *
 * Error codes are negative errno values, with one meaning each across
 * devices: -EINVAL for arguments out of range (lengths, offsets, indices),
 * -ENOENT for a token that names no DMB the device knows (0 included; for
 * detach_dmb(), no mapping of it), -ENETUNREACH for a GID the device
 * cannot reach, -ENOSPC when the device has no free DMB index, -EBUSY for
 * a requested index already in use, and -EOPNOTSUPP for what the device
 * cannot do. A device that cannot tell an unknown token apart (ISM's
 * hardware refuses the store) documents what it returns instead.
 */
struct dibs_dev_ops {
	/**
	 * @get_fabric_id: the 16-bit id of the fabric the device is on.
	 * Devices with different fabric ids cannot reach each other; the
	 * same id does not prove they can (only query_remote_gid() does),
	 * and %DIBS_LOOPBACK_FABRIC devices only reach themselves.
	 *
	 * Context: any context, does not sleep.
	 */
	u16 (*get_fabric_id)(struct dibs_dev *dev);
	/**
	 * @query_remote_gid: whether the device with GID @rgid is reachable
	 * through @dev, on VLAN @vid if @vid_valid is non-zero (VLANs are
	 * deprecated and ignored by devices that do not support them).
	 * Returns 0 if reachable, a negative error otherwise.
	 *
	 * Context: process context, may sleep.
	 */
	int (*query_remote_gid)(struct dibs_dev *dev, const uuid_t *rgid,
				u32 vid_valid, u32 vid);
	/**
	 * @max_dmbs: number of DMB indices of every device of this driver;
	 * DMB indices are below this value. Must be between 1 and
	 * %DIBS_MAX_DMBS.
	 *
	 * Context: any context, does not sleep.
	 */
	int (*max_dmbs)(void);
	/**
	 * @register_dmb: allocate a DMB of @dmb->dmb_len bytes for the
	 * remote writer @dmb->rgid (on VLAN @dmb->vlan_id if
	 * @dmb->vlan_valid), owned by @client. A non-zero @dmb->idx requests
	 * that index. On success the driver has filled in @dmb->dmb_tok,
	 * @dmb->cpu_addr (zeroed memory, one compound allocation),
	 * @dmb->idx and @dmb->dma_addr (never 0: %DIBS_DMA_ADDR_NONE if the
	 * memory has no DMA mapping), and has recorded @client as the owner
	 * of the index with dibs_dmb_set_owner(). Returns 0 or a negative
	 * error, including those of dibs_dmb_set_owner() (-ESHUTDOWN while
	 * @client is being unregistered); on error nothing is allocated or
	 * recorded.
	 *
	 * Context: process context, may sleep.
	 */
	int (*register_dmb)(struct dibs_dev *dev, struct dibs_dmb *dmb,
			    struct dibs_client *client);
	/**
	 * @unregister_dmb: unregister the DMB named by @dmb->dmb_tok
	 * (@dmb->cpu_addr and @dmb->idx as returned by register_dmb()), stop
	 * routing its signals and free it. Returns 0 or a negative error.
	 *
	 * Context: process context, may sleep.
	 */
	int (*unregister_dmb)(struct dibs_dev *dev, struct dibs_dmb *dmb);
	/**
	 * @move_data: write @size bytes from @data at @offset into the remote
	 * DMB named by @dmb_tok, through @dev. @size may be 0. If @sf is
	 * true, also signal the DMB's owner: its handle_irq() is called with
	 * signalling index @idx set in the mask. The write is complete when
	 * the call returns. Returns 0 or a negative error; a device that
	 * cannot signal without writing data (ISM) refuses a signalled move
	 * of 0 bytes with -EOPNOTSUPP.
	 *
	 * Context: process or softirq context; does not sleep.
	 */
	int (*move_data)(struct dibs_dev *dev, u64 dmb_tok, unsigned int idx,
			 bool sf, unsigned int offset, void *data,
			 unsigned int size);
	/**
	 * @add_vlan_id: make the device a member of VLAN @vlan_id
	 * (optional, deprecated). Returns 0 or a negative error.
	 *
	 * Context: any context up to a spinlock held with interrupts
	 * disabled (SMC-D calls it so); must not sleep.
	 */
	int (*add_vlan_id)(struct dibs_dev *dev, u64 vlan_id);
	/**
	 * @del_vlan_id: remove the device from VLAN @vlan_id (optional,
	 * deprecated). Returns 0 or a negative error.
	 *
	 * Context: as for add_vlan_id(); must not sleep.
	 */
	int (*del_vlan_id)(struct dibs_dev *dev, u64 vlan_id);
	/**
	 * @signal_event: send a %DIBS_SW_EVENT with subtype @event_code and
	 * data @info to the device @rgid; handle_event() is called there for
	 * every client. A zero @trigger_irq allows the remote device to
	 * delay the notification (optional). Returns 0 or a negative error.
	 *
	 * Context: process context, may sleep.
	 */
	int (*signal_event)(struct dibs_dev *dev, const uuid_t *rgid,
			    u32 trigger_irq, u32 event_code, u64 info);
	/**
	 * @support_mmapped_rdmb: non-zero if the device can map remote DMBs
	 * into the kernel address space with attach_dmb() (optional).
	 *
	 * Context: any context, does not sleep.
	 */
	int (*support_mmapped_rdmb)(struct dibs_dev *dev);
	/**
	 * @attach_dmb: map the remote DMB named by @dmb->dmb_tok for writing.
	 * On success @dmb->cpu_addr is an address at which writes appear in
	 * the remote DMB without move_data(), @dmb->dmb_len its length and
	 * @dmb->idx its index; @dmb->dma_addr is set as by register_dmb(). The
	 * mapping stays valid until detach_dmb(), even if the owner
	 * unregisters the DMB meanwhile (optional). Returns 0 or a negative
	 * error.
	 *
	 * Context: process context, may sleep.
	 */
	int (*attach_dmb)(struct dibs_dev *dev, struct dibs_dmb *dmb);
	/**
	 * @detach_dmb: end a mapping made by attach_dmb() for @token
	 * (optional). Several mappings of one DMB are counted one by one; the
	 * memory stays valid until the last of them ends. Neither operation
	 * names its caller, so the device cannot tell whose mapping a detach
	 * ends: only a caller that attached @token may detach it, once per
	 * successful attach_dmb(). A detach for which no mapping of @token is
	 * left is refused and changes nothing. Returns 0 or a negative error.
	 *
	 * Context: process context, may sleep.
	 */
	int (*detach_dmb)(struct dibs_dev *dev, u64 token);
};

/* Upper bound for max_dmbs() of any device. */
#define DIBS_MAX_DMBS		65536

/**
 * enum dibs_stat - the counters of a DIBS device
 * @DIBS_STAT_MOVES: move_data() calls through the device that succeeded.
 * @DIBS_STAT_BYTES_MOVED: bytes those calls wrote.
 * @DIBS_STAT_SIGNALS_SENT: those of them that signalled the DMB's owner.
 * @DIBS_STAT_SIGNALS_DELIVERED: handle_irq() calls the core made for DMBs
 *	of the device; one call may carry several coalesced signals.
 * @DIBS_STAT_MOVE_ERR_TOKEN: move_data() calls refused with -ENOENT: the
 *	token names no DMB the device can write.
 * @DIBS_STAT_MOVE_ERR_RANGE: refused with -EINVAL: offset, size or
 *	signalling index out of range.
 * @DIBS_STAT_MOVE_ERR_UNREACH: refused with -ENETUNREACH: the DMB's owner
 *	cannot be reached.
 * @DIBS_STAT_MOVE_ERR_OTHER: refused with any other error.
 * @DIBS_STAT_DMB_REGS: register_dmb() calls on the device that succeeded.
 * @DIBS_STAT_DMB_UNREGS: DMBs of the device unregistered since.
 * @DIBS_STAT_DMB_BYTES_REG: the lengths of the registered DMBs, summed.
 * @DIBS_STAT_DMB_BYTES_UNREG: the lengths of the unregistered ones, summed.
 * @DIBS_STAT_ATTACHES: attach_dmb() calls through the device that
 *	succeeded.
 * @DIBS_STAT_DETACHES: detach_dmb() calls through the device that
 *	succeeded.
 * @DIBS_STAT_NR: the number of counters.
 *
 * Device drivers count with dibs_moved(), dibs_move_failed(),
 * dibs_dmb_registered(), dibs_dmb_unregistered(), dibs_dmb_attached() and
 * dibs_dmb_detached(); the core counts delivered signals itself. Counters
 * start at 0 when the device is allocated and only grow; the DMBs a
 * device holds now are %DIBS_STAT_DMB_REGS - %DIBS_STAT_DMB_UNREGS.
 * dibs_dev_get_stats() reads them, and sysfs shows them in
 * /sys/class/dibs/<device>/statistics/.
 */
enum dibs_stat {
	DIBS_STAT_MOVES,
	DIBS_STAT_BYTES_MOVED,
	DIBS_STAT_SIGNALS_SENT,
	DIBS_STAT_SIGNALS_DELIVERED,
	DIBS_STAT_MOVE_ERR_TOKEN,
	DIBS_STAT_MOVE_ERR_RANGE,
	DIBS_STAT_MOVE_ERR_UNREACH,
	DIBS_STAT_MOVE_ERR_OTHER,
	DIBS_STAT_DMB_REGS,
	DIBS_STAT_DMB_UNREGS,
	DIBS_STAT_DMB_BYTES_REG,
	DIBS_STAT_DMB_BYTES_UNREG,
	DIBS_STAT_ATTACHES,
	DIBS_STAT_DETACHES,
	DIBS_STAT_NR
};

/**
 * struct dibs_dev - a DIBS device
 * @list: entry in the core's device list; owned by the core.
 * @dev: the device in the "dibs" class. Allocated by dibs_dev_alloc() and
 *	reference counted: after dibs_dev_alloc() the driver owns one
 *	reference and drops it with put_device().
 * @ops: the device's operations; set by the driver before dibs_dev_add().
 * @gid: the device's GID; set by the driver before dibs_dev_add().
 * @drv_priv: the driver's private data.
 * @priv: per-client private data, indexed by &dibs_client.id; use
 *	dibs_set_priv() and dibs_get_priv().
 * @lock: serialises the core's writers of @subs and of the device's state.
 *	Taken with interrupts disabled; never held across a callback.
 * @dmb_clientid_arr: id of the client owning each DMB index, or
 *	%NO_DIBS_CLIENT; max_dmbs() entries. Written only by the core, with
 *	cmpxchg() (see dibs_dmb_set_owner()), read locklessly by its dispatch
 *	helpers, freed only with the device.
 * @subs: the clients attached to the device, indexed by client id; NULL
 *	where none. Written only by the core, under @lock.
 *
 * Drivers deliver interrupts and events with dibs_handle_irq() and
 * dibs_handle_event() rather than walking @subs themselves.
 */
struct dibs_dev {
	struct list_head list;
	struct device dev;
	const struct dibs_dev_ops *ops;
	uuid_t gid;
	void *drv_priv;
	void *priv[MAX_DIBS_CLIENTS];
	spinlock_t lock;	/* serialises the core's writers of subs */
	u8 *dmb_clientid_arr;
	struct dibs_client *subs[MAX_DIBS_CLIENTS];
};

/**
 * dibs_set_priv() - store a client's private data for a device
 * @dev: the device, as passed to add_dev()
 * @client: the registered client
 * @priv: the data
 *
 * Context: any context.
 */
static inline void dibs_set_priv(struct dibs_dev *dev,
				 struct dibs_client *client, void *priv)
{
	dev->priv[client->id] = priv;
}

/**
 * dibs_get_priv() - fetch a client's private data for a device
 * @dev: the device
 * @client: the registered client
 *
 * Context: any context.
 * Return: what the client stored with dibs_set_priv(), or NULL.
 */
static inline void *dibs_get_priv(struct dibs_dev *dev,
				  struct dibs_client *client)
{
	return dev->priv[client->id];
}

/* For device drivers */
struct dibs_dev *dibs_dev_alloc(void);
int dibs_dev_add(struct dibs_dev *dibs);
void dibs_dev_del(struct dibs_dev *dibs);

int dibs_dmb_set_owner(struct dibs_dev *dibs, unsigned int idx,
		       struct dibs_client *client);
int dibs_dmb_clear_owner(struct dibs_dev *dibs, unsigned int idx);
int dibs_handle_irq(struct dibs_dev *dibs, unsigned int idx, u16 dmbemask);
void dibs_handle_event(struct dibs_dev *dibs, const struct dibs_event *event);

void dibs_dev_get_stats(struct dibs_dev *dibs, u64 stats[DIBS_STAT_NR]);
void dibs_moved(struct dibs_dev *dibs, unsigned int size, bool sf);
void dibs_move_failed(struct dibs_dev *dibs, u64 dmb_tok, unsigned int offset,
		      unsigned int size, int err);
void dibs_signal_coalesced(struct dibs_dev *dibs, unsigned int idx,
			   u16 dmbemask);
void dibs_dmb_registered(struct dibs_dev *dibs, const struct dibs_dmb *dmb,
			 const struct dibs_client *client);
void dibs_dmb_unregistered(struct dibs_dev *dibs, unsigned int idx, u32 len,
			   u64 dmb_tok);
void dibs_dmb_attached(struct dibs_dev *dibs, const struct dibs_dmb *dmb);
void dibs_dmb_detached(struct dibs_dev *dibs, u64 dmb_tok);

/**
 * struct dibs_idx_pool - the DMB indices of a device, for its driver
 * @nr: number of indices, 0 to @nr - 1.
 * @used: indices taken: registered, kept by the driver, or draining.
 * @draining: indices of unregistered DMBs that a signal still in delivery
 *	may carry, until the RCU grace period in @drain_gp has passed.
 * @drain_gp: per index, the RCU grace period state when it began draining.
 * @first_free: no index below it is free: where the search for the lowest
 *	free index starts, so that it does not walk the draining indices,
 *	which pile up at the low end, on every reservation.
 *
 * The core delivers a signal to whichever client owns a DMB index at that
 * moment, so a driver whose signal delivery runs under RCU must not give
 * an unregistered DMB's index to the next DMB before a grace period has
 * passed. A pool does the bookkeeping: dibs_idx_reserve() hands out the
 * lowest index that is neither taken nor draining (or a requested one),
 * dibs_idx_drain() lets an index go after a grace period. Draining indices
 * are freed when all others are taken, or when one is requested by number
 * (waiting for its grace period if needed). The driver serialises all
 * calls for one pool and may read the bitmaps under the same lock.
 */
struct dibs_idx_pool {
	unsigned int nr;
	unsigned long *used;
	unsigned long *draining;
	unsigned long *drain_gp;
	unsigned int first_free;
};

int dibs_idx_pool_init(struct dibs_idx_pool *pool, unsigned int nr);
void dibs_idx_pool_destroy(struct dibs_idx_pool *pool);
int dibs_idx_reserve(struct dibs_idx_pool *pool, u32 requested);
void dibs_idx_release(struct dibs_idx_pool *pool, unsigned int idx);
void dibs_idx_drain(struct dibs_idx_pool *pool, unsigned int idx);
unsigned int dibs_idx_in_use(const struct dibs_idx_pool *pool);

#endif /* _DIBS_H */
