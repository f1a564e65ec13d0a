// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS over ivshmem: a DIBS device on the shared memory of QEMU's
 * ivshmem-doorbell PCI function, which reaches the other virtual machines
 * attached to the same region. The protocol on the region is specified in
 * Documentation/networking/dibs-ivshmem.rst.
 */

#define pr_fmt(fmt) "dibs_ivshmem: " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dibs.h>
#include <linux/genalloc.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uuid.h>
#include <linux/workqueue.h>
#include <uapi/linux/dibs_ivshmem.h>
#include <kunit/visibility.h>

#include "dibs_ivshmem.h"

/**
 * DOC: ivshmem
 *
 * ``dibs_ivshmem`` binds to QEMU's ``ivshmem-doorbell`` PCI functions
 * (vendor 0x1af4, device 0x1110) with two MSI-X vectors whose shared
 * region carries the DIBS fabric header; it leaves every other ivshmem
 * function alone. Each bound function is one DIBS device. It joins the
 * fabric in the slot the server connected with the ivshmem ID in its
 * ``IVPosition`` register, as the protocol says, and reaches every other
 * peer on the region that is alive.
 *
 * The device's fabric id is the one in the region's header (0xFF00 to
 * 0xFFFE); its GID is random, chosen when it joins. ``max_dmbs()`` is
 * %DIBS_IVSHMEM_MAX_DMBS for every device; a region with fewer DMBs per
 * peer refuses the indices above its own count with ``-EINVAL``.
 *
 * DMB memory comes from this peer's heap in the region. A DMB of ``len``
 * bytes takes ``PAGE_ALIGN(len)`` bytes, aligned to the next power of two,
 * so it never crosses a 1 MiB boundary of the region; the PCI driver maps
 * the region with struct pages grouped in 1 MiB folios, so the DMB lies in
 * one compound page of the linear map (clients may ``virt_to_page()`` its
 * address and splice from it). The memory has no DMA mapping: ``dma_addr``
 * is %DIBS_DMA_ADDR_NONE.
 *
 * A DMB's token names its slot and index and carries 48 random bits;
 * move_data() and attach_dmb() check it against the descriptor in the
 * region, together with the designated writer and the bounds. Errors:
 * a token that names no registered DMB is ``-ENOENT``; a DMB whose writer
 * is another peer, ``-EACCES``; a peer not alive, ``-ENETUNREACH``; a
 * descriptor that breaks the protocol, ``-EIO`` and a kernel log line;
 * offsets, lengths and indices out of range, ``-EINVAL``; no free index,
 * ``-ENOSPC``; no heap memory, ``-ENOMEM``; a full event mailbox,
 * ``-EAGAIN``.
 *
 * Signals: a signalled move sets the index in the owner's signal area and
 * rings its first vector. The owner's interrupt handler takes all pending
 * signals of all senders and calls dibs_handle_irq() once per DMB with the
 * signalling indices raised since the last call; deliveries of one device
 * never overlap, so one DMB's handler never runs twice at once.
 *
 * Events: signal_event() posts to the receiver's mailbox and rings its
 * second vector; the receiver delivers a %DIBS_SW_EVENT with the sender's
 * GID from process context. When a peer leaves or dies (the server marks
 * it, or its heartbeat stands still for 10 seconds), the clients get a
 * %DIBS_DEV_EVENT (subtype %DIBS_DEV_DISABLED) with its GID, and a
 * %DIBS_BUF_EVENT (subtype %DIBS_OTHER_SUBTYPE, the writer's GID and the
 * token) for each of their DMBs it was the writer of; they should then
 * unregister those DMBs.
 *
 * Zero-copy: the designated writer of a DMB may attach it; attach_dmb()
 * returns the DMB's address in this guest's mapping of the region. The
 * owner does not reuse the memory until the writer detaches or is gone.
 *
 * Peers: ``/sys/kernel/debug/dibs_ivshmem/<device>/peers`` lists the
 * device itself and every peer it can reach, one line each: the slot, the
 * GID, the generation and ``self`` or ``peer``. A client that is told a
 * peer's GID this way can reach it with signal_event() and learn the rest
 * through DIBS.
 *
 * VLANs are not isolated on this fabric: add_vlan_id() and del_vlan_id()
 * accept ids 0 to 4095 and SMC-D's reserved id 0x1FFF, and change nothing.
 *
 * The region is untrusted input: every value read from it is read once and
 * checked before use. A corrupt or hostile peer can make operations fail
 * with errors, never make this guest access memory outside the region.
 *
 * Locking: a mutex per device serialises the operations that change the
 * region or the device's view of its peers (register, unregister, attach,
 * detach, signal_event() and the peer check); unregister_dmb() holds it
 * while it waits for the writer's moves, at most the heartbeat timeout.
 * move_data() takes no lock: it reads the reachable peers and the target
 * descriptor under RCU and may run in any context up to softirq. Signals
 * are delivered from the first vector's interrupt handler under a spinlock
 * that keeps deliveries of one device from overlapping; the DMB table it
 * reads is RCU-protected, and an unregistered DMB's index is reused only
 * after a grace period. The peer check, which delivers events and handles
 * lost peers, runs on the system workqueue, triggered by the second vector
 * and by the heartbeat.
 */

#define DIBS_IVS_SIGNALS	16
#define DIBS_IVS_TOKEN_IDX_MASK	GENMASK_ULL(DIBS_IVSHMEM_TOKEN_IDX_BITS - 1, 0)
#define DIBS_IVS_TOKEN_SLOT_SHIFT DIBS_IVSHMEM_TOKEN_IDX_BITS
#define DIBS_IVS_TOKEN_SLOT_MASK GENMASK_ULL(DIBS_IVSHMEM_TOKEN_SLOT_BITS - 1, 0)
#define DIBS_IVS_TOKEN_RANDOM_SHIFT \
	(DIBS_IVSHMEM_TOKEN_IDX_BITS + DIBS_IVSHMEM_TOKEN_SLOT_BITS)
/* SMC-D's reserved VLAN id, its probe for SMC-D v2. */
#define DIBS_IVS_VLAN_RESERVED	0x1fff
/* How often unregister_dmb() looks at a writer's moves while waiting. */
#define DIBS_IVS_POLL_US	20

/* Why an unregistered DMB cannot be reused yet. */
#define DIBS_IVS_HOLD_MOVES	BIT(0)	/* writer's moves did not end */
#define DIBS_IVS_HOLD_ATTACHED	BIT(1)	/* writer has it attached */

/* /sys/kernel/debug/dibs_ivshmem, or an error pointer debugfs ignores. */
static struct dentry *dibs_ivs_debugfs;

/**
 * struct dibs_ivs_view - which peers are reachable, as move_data() sees it
 * @alive: bit per slot, including this device's own.
 * @gen: generation of each alive peer.
 * @gid: GID of each alive peer.
 *
 * A device has two; the one not published is rewritten under
 * &dibs_ivs_dev.lock once a grace period has passed since it was, and then
 * published in place of the other. Read under RCU.
 */
struct dibs_ivs_view {
	unsigned long alive;
	u32 gen[DIBS_IVSHMEM_MAX_PEERS];
	uuid_t gid[DIBS_IVSHMEM_MAX_PEERS];
};

/**
 * struct dibs_ivs_peer - what this device tracks of another slot
 * @alive: the slot is reachable, with generation @gen and GID @gid.
 * @gen: its generation while @alive.
 * @gid: its GID while @alive.
 * @lost: @lost_gen is a generation found dead; it is never alive again.
 * @lost_gen: see @lost.
 * @seen: @hb_gen, @heartbeat, @hb_at and @stale are valid.
 * @hb_gen: generation the heartbeat observation belongs to.
 * @heartbeat: the heartbeat last read.
 * @hb_at: when it last changed, in jiffies.
 * @stale: it has not changed for the timeout: the peer is dead.
 * @attached: this device's attachments of the slot's DMBs.
 * @acked: the generation last stored in this device's ack_gen[slot].
 * @tx_head: events this device posted to the slot.
 * @rx_tail: events this device took from the slot.
 *
 * Protected by &dibs_ivs_dev.lock.
 */
struct dibs_ivs_peer {
	bool alive;
	u32 gen;
	uuid_t gid;
	bool lost;
	u32 lost_gen;
	bool seen;
	u32 hb_gen;
	u64 heartbeat;
	unsigned long hb_at;
	bool stale;
	unsigned int attached;
	u32 acked;
	u32 tx_head;
	u32 rx_tail;
};

/**
 * struct dibs_ivs_dmb - a DMB this device owns
 * @token: its token.
 * @cpu_addr: its memory in the region.
 * @mem_size: bytes of heap it takes.
 * @len: its length.
 * @idx: its index.
 * @writer: slot of its writer.
 * @writer_gen: generation of its writer.
 * @writer_gid: GID of its writer.
 * @hold: DIBS_IVS_HOLD_* bits while unregistered but not reusable.
 * @moves_begun: the writer's moves_begun when it was unregistered.
 * @held: entry in &dibs_ivs_dev.held while @hold is not 0.
 * @rcu: for freeing.
 */
struct dibs_ivs_dmb {
	u64 token;
	void *cpu_addr;
	size_t mem_size;
	u32 len;
	u16 idx;
	u16 writer;
	u32 writer_gen;
	uuid_t writer_gid;
	unsigned int hold;
	u64 moves_begun;
	struct list_head held;
	struct rcu_head rcu;
};

/**
 * struct dibs_ivs_attach - DMBs of other peers this device attached
 * @node: entry in &dibs_ivs_dev.attached.
 * @token: the DMB's token.
 * @slot: its owner.
 * @idx: its index.
 * @count: attach_dmb() calls not yet detached.
 */
struct dibs_ivs_attach {
	struct list_head node;
	u64 token;
	u16 slot;
	u16 idx;
	unsigned int count;
};

/**
 * struct dibs_ivs_dev - a DIBS device on an ivshmem region
 * @dibs: the DIBS device.
 * @l: the checked copy of the region's header.
 * @base: the region.
 * @slot: this device's slot.
 * @gen: the generation it joined with.
 * @conn_gen: the server's generation of the slot when it joined.
 * @hw: doorbells.
 * @hw_priv: for @hw.
 * @period: heartbeat and peer check interval, jiffies.
 * @timeout: heartbeat timeout and wait limit, jiffies.
 * @lock: serialises the operations that change the region and the
 *	peer tracking; protects @peers, @idx, @held, @attached and the
 *	writers of @view and @dmbs. Held across the wait
 *	for a writer's moves in unregister_dmb().
 * @view: the peers move_data() may reach, one of @views; RCU.
 * @views: the two views.
 * @view_gp: RCU grace period state when @view last changed.
 * @peers: tracking of the other slots.
 * @dmbs: registered DMBs by index; RCU, read by the signal handler.
 * @idx: the DMB indices; an unregistered DMB's index drains for a grace
 *	period, as signals taken before may still be in delivery.
 * @held: unregistered DMBs whose memory or index cannot be reused yet.
 * @attached: &struct dibs_ivs_attach entries.
 * @heap: allocator of this device's heap.
 * @sig_lock: serialises signal delivery.
 * @beat: the heartbeat.
 * @work: the peer check.
 * @debugfs: the device's debugfs directory.
 * @heartbeat: this device's heartbeat count.
 * @leaving: the device is going away: it starts no more moves,
 *	attachments or events; set under @lock.
 * @stopping: no more heartbeats or peer checks; set under @lock.
 */
struct dibs_ivs_dev {
	struct dibs_dev *dibs;
	struct dibs_ivs_layout l;
	void *base;
	u16 slot;
	u32 gen;
	u32 conn_gen;
	const struct dibs_ivs_hw_ops *hw;
	void *hw_priv;
	unsigned long period;
	unsigned long timeout;
	struct mutex lock;	/* see above */
	struct dibs_ivs_view __rcu *view;
	struct dibs_ivs_view views[2];
	unsigned long view_gp;
	struct dibs_ivs_peer peers[DIBS_IVSHMEM_MAX_PEERS];
	struct dibs_ivs_dmb __rcu **dmbs;
	struct dibs_idx_pool idx;
	struct list_head held;
	struct list_head attached;
	struct gen_pool *heap;
	spinlock_t sig_lock;	/* see above */
	struct delayed_work beat;
	struct delayed_work work;
	struct dentry *debugfs;
	u64 heartbeat;
	bool leaving;
	bool stopping;
};

static struct dibs_ivs_dev *to_ivs(struct dibs_dev *dibs)
{
	return dibs->drv_priv;
}

/* Region accessors; callers have checked @s, @t and @idx. */
static struct dibs_ivshmem_peer *dibs_ivs_peer_at(struct dibs_ivs_dev *ivs,
						  unsigned int s)
{
	return ivs->base + ivs->l.peer_off + (u64)s * DIBS_IVSHMEM_PEER_SIZE;
}

/* The mailbox from slot @from to slot @to. */
static struct dibs_ivshmem_mbox *dibs_ivs_mbox(struct dibs_ivs_dev *ivs,
					       unsigned int to,
					       unsigned int from)
{
	return ivs->base + ivs->l.mbox_off +
	       ((u64)to * ivs->l.max_peers + from) * DIBS_IVSHMEM_MBOX_SIZE;
}

/* The signal area from slot @from to slot @to. */
static void *dibs_ivs_sig(struct dibs_ivs_dev *ivs, unsigned int to,
			  unsigned int from)
{
	return ivs->base + ivs->l.sig_off +
	       ((u64)to * ivs->l.max_peers + from) * ivs->l.sig_size;
}

static atomic64_t *dibs_ivs_pending(struct dibs_ivs_dev *ivs, void *sig,
				    unsigned int word)
{
	return (atomic64_t *)sig + word;
}

static atomic_t *dibs_ivs_mask(struct dibs_ivs_dev *ivs, void *sig,
			       unsigned int idx)
{
	return (atomic_t *)(sig + ivs->l.bitmap_size) + idx;
}

/* The attached bitmap of a signal area, after the pending bits and masks. */
static void *dibs_ivs_attached(struct dibs_ivs_dev *ivs, void *sig)
{
	return sig + ivs->l.bitmap_size + ivs->l.max_dmbs * sizeof(u32);
}

/* The word of the attached bitmap with bit @idx, as 32-bit words. */
static atomic_t *dibs_ivs_attached_word(struct dibs_ivs_dev *ivs, void *sig,
					unsigned int idx)
{
	return (atomic_t *)dibs_ivs_attached(ivs, sig) + idx / 32;
}

static struct dibs_ivshmem_desc *dibs_ivs_desc(struct dibs_ivs_dev *ivs,
					       unsigned int s,
					       unsigned int idx)
{
	return ivs->base + ivs->l.desc_off +
	       ((u64)s * ivs->l.max_dmbs + idx) * DIBS_IVSHMEM_DESC_SIZE;
}

/* Ring the doorbell of slot @s, by the ivshmem ID the server gave it. */
static void dibs_ivs_ring(struct dibs_ivs_dev *ivs, unsigned int s,
			  unsigned int vector)
{
	u32 id = le32_to_cpu(READ_ONCE(dibs_ivs_peer_at(ivs, s)->srv_id));

	if (id <= U16_MAX)
		ivs->hw->ring(ivs->hw_priv, id, vector);
}

/* Check that [@off, @off + @len) lies in the region, at @align. */
static bool dibs_ivs_area_ok(u64 off, u64 len, u64 align, u64 size)
{
	u64 end;

	return IS_ALIGNED(off, align) && !check_add_overflow(off, len, &end) &&
	       end <= size;
}

static bool dibs_ivs_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/**
 * struct dibs_ivs_area - an area of the region, as the header places it
 * @off: its offset.
 * @len: its length.
 * @align: the alignment its offset must have.
 */
struct dibs_ivs_area {
	u64 off;
	u64 len;
	u64 align;
};

/**
 * dibs_ivs_check_header() - check a region's header and compute its layout
 * @hdr: a copy of the header
 * @size: size of the region as mapped
 * @l: the layout, filled in on success
 * @why: on failure, what is wrong
 *
 * Return: 0, or -EINVAL if the header breaks the protocol, or -EPROTO for
 * another major version.
 */
VISIBLE_IF_KUNIT int dibs_ivs_check_header(const struct dibs_ivshmem_header *hdr,
					   u64 size, struct dibs_ivs_layout *l,
					   const char **why)
{
	struct dibs_ivs_area area[5];
	u64 heap_len;
	u32 min_sig;
	int i, j;

	memset(l, 0, sizeof(*l));
	if (memcmp(hdr->magic, DIBS_IVSHMEM_MAGIC, sizeof(hdr->magic))) {
		*why = "no fabric magic";
		return -EINVAL;
	}
	if (le16_to_cpu(hdr->version_major) != DIBS_IVSHMEM_VERSION_MAJOR) {
		*why = "unknown major version";
		return -EPROTO;
	}
	if (le32_to_cpu(hdr->header_size) != DIBS_IVSHMEM_HEADER_SIZE ||
	    le32_to_cpu(hdr->mbox_size) != DIBS_IVSHMEM_MBOX_SIZE) {
		*why = "bad header or mailbox size";
		return -EINVAL;
	}
	l->region_size = le64_to_cpu(hdr->region_size);
	if (l->region_size != size) {
		*why = "region size differs from the BAR";
		return -EINVAL;
	}
	l->fabric_id = le16_to_cpu(hdr->fabric_id);
	l->max_peers = le16_to_cpu(hdr->max_peers);
	l->max_dmbs = le16_to_cpu(hdr->max_dmbs);
	if (l->fabric_id < DIBS_IVSHMEM_FABRIC_MIN ||
	    l->fabric_id > DIBS_IVSHMEM_FABRIC_MAX) {
		*why = "fabric id out of range";
		return -EINVAL;
	}
	if (!l->max_peers || l->max_peers > DIBS_IVSHMEM_MAX_PEERS ||
	    !l->max_dmbs || l->max_dmbs > DIBS_IVSHMEM_MAX_DMBS) {
		*why = "peer or DMB count out of range";
		return -EINVAL;
	}
	l->bitmap_size = ALIGN(DIV_ROUND_UP(l->max_dmbs, 8), 64);
	min_sig = 2 * l->bitmap_size + l->max_dmbs * sizeof(u32);
	l->sig_size = le32_to_cpu(hdr->sig_size);
	if (l->sig_size < min_sig ||
	    !IS_ALIGNED(l->sig_size, DIBS_IVSHMEM_AREA_ALIGN)) {
		*why = "bad signal area size";
		return -EINVAL;
	}
	l->heap_size = le64_to_cpu(hdr->heap_size);
	if (!l->heap_size || !IS_ALIGNED(l->heap_size, DIBS_IVSHMEM_HEAP_ALIGN) ||
	    l->heap_size > size) {
		*why = "bad heap size";
		return -EINVAL;
	}
	l->peer_off = le64_to_cpu(hdr->peer_off);
	l->mbox_off = le64_to_cpu(hdr->mbox_off);
	l->sig_off = le64_to_cpu(hdr->sig_off);
	l->desc_off = le64_to_cpu(hdr->desc_off);
	l->heap_off = le64_to_cpu(hdr->heap_off);

	if (check_mul_overflow((u64)l->max_peers, l->heap_size, &heap_len)) {
		*why = "area misaligned or outside the region";
		return -EINVAL;
	}
	/* The other counts are small: none of these products overflows. */
	area[0] = (struct dibs_ivs_area){ l->peer_off,
		(u64)l->max_peers * DIBS_IVSHMEM_PEER_SIZE,
		DIBS_IVSHMEM_AREA_ALIGN };
	area[1] = (struct dibs_ivs_area){ l->mbox_off,
		(u64)l->max_peers * l->max_peers * DIBS_IVSHMEM_MBOX_SIZE,
		DIBS_IVSHMEM_AREA_ALIGN };
	area[2] = (struct dibs_ivs_area){ l->sig_off,
		(u64)l->max_peers * l->max_peers * l->sig_size,
		DIBS_IVSHMEM_AREA_ALIGN };
	area[3] = (struct dibs_ivs_area){ l->desc_off,
		(u64)l->max_peers * l->max_dmbs * DIBS_IVSHMEM_DESC_SIZE,
		DIBS_IVSHMEM_AREA_ALIGN };
	area[4] = (struct dibs_ivs_area){ l->heap_off, heap_len,
		DIBS_IVSHMEM_HEAP_ALIGN };

	for (i = 0; i < ARRAY_SIZE(area); i++) {
		if (area[i].off < DIBS_IVSHMEM_HEADER_SIZE ||
		    !dibs_ivs_area_ok(area[i].off, area[i].len, area[i].align,
				      size)) {
			*why = "area misaligned or outside the region";
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (dibs_ivs_overlap(area[i].off, area[i].len,
					     area[j].off, area[j].len)) {
				*why = "areas overlap";
				return -EINVAL;
			}
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_check_header);

/**
 * struct dibs_ivs_seen - one reading of a peer table entry
 * @srv_state: its srv_state.
 * @srv_gen: its srv_gen.
 * @srv_id: its srv_id.
 * @state: its state.
 * @gen: its gen.
 * @conn_gen: its conn_gen.
 * @gid: its GID.
 * @heartbeat: its heartbeat.
 */
struct dibs_ivs_seen {
	u32 srv_state;
	u32 srv_gen;
	u32 srv_id;
	u32 state;
	u32 gen;
	u32 conn_gen;
	uuid_t gid;
	u64 heartbeat;
};

static void dibs_ivs_read_peer(struct dibs_ivs_dev *ivs, unsigned int s,
			       struct dibs_ivs_seen *seen)
{
	struct dibs_ivshmem_peer *e = dibs_ivs_peer_at(ivs, s);
	u32 gen;

	/* Pairs with the server's release of srv_state after srv_gen. */
	seen->srv_state = le32_to_cpu(smp_load_acquire(&e->srv_state));
	seen->srv_gen = le32_to_cpu(READ_ONCE(e->srv_gen));
	seen->srv_id = le32_to_cpu(READ_ONCE(e->srv_id));
	/*
	 * A joiner stores state down, then gen with release, then the rest
	 * and state up with release: a state read between two equal
	 * readings of gen belongs to that generation. Pairs with those
	 * releases.
	 */
	seen->gen = le32_to_cpu(smp_load_acquire(&e->gen));
	/* Pairs with the release of state up: the entry follows. */
	seen->state = le32_to_cpu(smp_load_acquire(&e->state));
	gen = le32_to_cpu(READ_ONCE(e->gen));
	if (gen != seen->gen)
		seen->state = DIBS_IVSHMEM_PEER_DOWN;
	seen->conn_gen = le32_to_cpu(READ_ONCE(e->conn_gen));
	memcpy(&seen->gid, e->gid, sizeof(seen->gid));
	seen->heartbeat = le64_to_cpu(READ_ONCE(e->heartbeat));
}

/*
 * Whether @seen shows a peer in the slot: up, or leaving (it may still
 * write into DMBs it has attached until it is down).
 */
static bool dibs_ivs_seen_present(const struct dibs_ivs_seen *seen)
{
	return seen->srv_state == DIBS_IVSHMEM_SRV_CONNECTED &&
	       seen->conn_gen == seen->srv_gen &&
	       (seen->state == DIBS_IVSHMEM_PEER_UP ||
		seen->state == DIBS_IVSHMEM_PEER_LEAVING);
}

/*
 * Whether slot @s holds a present peer whose heartbeat is alive, by @seen
 * and what was observed before, updating the observation; under the lock
 * (or before the device is up).
 */
static bool dibs_ivs_track(struct dibs_ivs_dev *ivs, unsigned int s,
			   const struct dibs_ivs_seen *seen)
{
	struct dibs_ivs_peer *peer = &ivs->peers[s];

	if (!dibs_ivs_seen_present(seen)) {
		peer->seen = false;
		return false;
	}
	if (!peer->seen || peer->hb_gen != seen->gen ||
	    peer->heartbeat != seen->heartbeat) {
		peer->seen = true;
		peer->hb_gen = seen->gen;
		peer->heartbeat = seen->heartbeat;
		peer->hb_at = jiffies;
		peer->stale = false;
		return true;
	}
	peer->stale = !time_before(jiffies, peer->hb_at + ivs->timeout);
	return !peer->stale;
}

/* Whether slot @s is up by @seen and reachable: alive, in the protocol. */
static bool dibs_ivs_up(struct dibs_ivs_dev *ivs, unsigned int s,
			const struct dibs_ivs_seen *seen)
{
	struct dibs_ivs_peer *peer = &ivs->peers[s];

	return dibs_ivs_track(ivs, s, seen) &&
	       seen->state == DIBS_IVSHMEM_PEER_UP &&
	       !(peer->lost && peer->lost_gen == seen->gen);
}

static bool dibs_ivs_view_alive(const struct dibs_ivs_view *view,
				unsigned int s)
{
	return s < BITS_PER_LONG && (view->alive & BIT(s));
}

/* Slot of the alive peer with GID @gid, or -ENETUNREACH; under RCU. */
static int dibs_ivs_find_gid(struct dibs_ivs_dev *ivs, const uuid_t *gid)
{
	struct dibs_ivs_view *view = rcu_dereference(ivs->view);
	unsigned int s;

	for_each_set_bit(s, &view->alive, ivs->l.max_peers)
		if (uuid_equal(&view->gid[s], gid))
			return s;
	return -ENETUNREACH;
}

/* Publish the tracked peers to move_data(); under the lock. */
static void dibs_ivs_publish(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivs_view *view;
	unsigned int s;

	lockdep_assert_held(&ivs->lock);
	view = rcu_dereference_protected(ivs->view, lockdep_is_held(&ivs->lock));
	view = view == &ivs->views[0] ? &ivs->views[1] : &ivs->views[0];
	/* Nobody reads the other view any more. */
	cond_synchronize_rcu(ivs->view_gp);
	memset(view, 0, sizeof(*view));
	for (s = 0; s < ivs->l.max_peers; s++) {
		if (!ivs->peers[s].alive)
			continue;
		view->alive |= BIT(s);
		view->gen[s] = ivs->peers[s].gen;
		view->gid[s] = ivs->peers[s].gid;
	}
	rcu_assign_pointer(ivs->view, view);
	ivs->view_gp = get_state_synchronize_rcu();
}

static u16 dibs_ivs_get_fabric_id(struct dibs_dev *dibs)
{
	return to_ivs(dibs)->l.fabric_id;
}

static int dibs_ivs_query_remote_gid(struct dibs_dev *dibs, const uuid_t *rgid,
				     u32 vid_valid, u32 vid)
{
	int s;

	rcu_read_lock();
	s = dibs_ivs_find_gid(to_ivs(dibs), rgid);
	rcu_read_unlock();
	return s < 0 ? s : 0;
}

static int dibs_ivs_max_dmbs(void)
{
	return DIBS_IVSHMEM_MAX_DMBS;
}

static u64 dibs_ivs_new_token(struct dibs_ivs_dev *ivs, unsigned int idx)
{
	u64 random;

	do {
		random = get_random_u64() << DIBS_IVS_TOKEN_RANDOM_SHIFT;
	} while (!random);
	return random | (u64)ivs->slot << DIBS_IVS_TOKEN_SLOT_SHIFT | idx;
}

/* Split a token; false if it cannot name a DMB on this region. */
static bool dibs_ivs_token_split(struct dibs_ivs_dev *ivs, u64 token,
				 unsigned int *s, unsigned int *idx)
{
	*idx = token & DIBS_IVS_TOKEN_IDX_MASK;
	*s = (token >> DIBS_IVS_TOKEN_SLOT_SHIFT) & DIBS_IVS_TOKEN_SLOT_MASK;
	return token >> DIBS_IVS_TOKEN_RANDOM_SHIFT &&
	       *s < ivs->l.max_peers && *idx < ivs->l.max_dmbs;
}

/* This device's registered DMB with @token; under RCU or the lock. */
static struct dibs_ivs_dmb *dibs_ivs_find(struct dibs_ivs_dev *ivs, u64 token)
{
	struct dibs_ivs_dmb *dmb;
	unsigned int s, idx;

	if (!dibs_ivs_token_split(ivs, token, &s, &idx) || s != ivs->slot)
		return NULL;
	dmb = rcu_dereference_check(ivs->dmbs[idx],
				    lockdep_is_held(&ivs->lock));
	return dmb && dmb->token == token ? dmb : NULL;
}

static void dibs_ivs_free_mem(struct dibs_ivs_dev *ivs,
			      struct dibs_ivs_dmb *dmb)
{
	gen_pool_free(ivs->heap, (unsigned long)dmb->cpu_addr, dmb->mem_size);
}

static int dibs_ivs_register_dmb(struct dibs_dev *dibs, struct dibs_dmb *desc,
				 struct dibs_client *client)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct genpool_data_align align;
	struct dibs_ivshmem_desc *d;
	struct dibs_ivs_view *view;
	struct dibs_ivs_dmb *dmb;
	unsigned long mem;
	int idx, ret, w;

	if (!desc->dmb_len || desc->dmb_len > DIBS_IVSHMEM_MAX_DMB_LEN ||
	    desc->idx >= ivs->l.max_dmbs)
		return -EINVAL;

	dmb = kzalloc_obj(*dmb);
	if (!dmb)
		return -ENOMEM;
	dmb->len = desc->dmb_len;
	dmb->mem_size = PAGE_ALIGN(dmb->len);
	align.align = roundup_pow_of_two(dmb->mem_size);

	mutex_lock(&ivs->lock);
	view = rcu_dereference_protected(ivs->view,
					 lockdep_is_held(&ivs->lock));
	rcu_read_lock();
	w = dibs_ivs_find_gid(ivs, &desc->rgid);
	rcu_read_unlock();
	if (w < 0) {
		ret = w;
		goto err_unlock;
	}
	dmb->writer = w;
	dmb->writer_gen = view->gen[w];
	dmb->writer_gid = view->gid[w];

	mem = gen_pool_alloc_algo(ivs->heap, dmb->mem_size,
				  gen_pool_first_fit_align, &align);
	if (!mem) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	dmb->cpu_addr = (void *)mem;
	idx = dibs_idx_reserve(&ivs->idx, desc->idx);
	if (idx < 0) {
		ret = idx;
		goto err_free_mem;
	}
	ret = dibs_dmb_set_owner(dibs, idx, client);
	if (ret)
		goto err_release_idx;
	memset(dmb->cpu_addr, 0, dmb->mem_size);

	dmb->idx = idx;
	dmb->token = dibs_ivs_new_token(ivs, idx);
	d = dibs_ivs_desc(ivs, ivs->slot, idx);
	WRITE_ONCE(d->len, cpu_to_le32(dmb->len));
	WRITE_ONCE(d->writer, cpu_to_le16(dmb->writer));
	WRITE_ONCE(d->offset, cpu_to_le64(dmb->cpu_addr - ivs->base));
	WRITE_ONCE(d->writer_gen, cpu_to_le32(dmb->writer_gen));
	memcpy(d->writer_gid, &dmb->writer_gid, sizeof(d->writer_gid));
	/* The descriptor before the token that makes it valid. */
	smp_store_release(&d->token, cpu_to_le64(dmb->token));
	rcu_assign_pointer(ivs->dmbs[idx], dmb);
	mutex_unlock(&ivs->lock);

	desc->idx = idx;
	desc->dmb_tok = dmb->token;
	desc->cpu_addr = dmb->cpu_addr;
	desc->dma_addr = DIBS_DMA_ADDR_NONE;
	dibs_dmb_registered(dibs, desc, client);
	return 0;

err_release_idx:
	dibs_idx_release(&ivs->idx, idx);
err_free_mem:
	dibs_ivs_free_mem(ivs, dmb);
err_unlock:
	mutex_unlock(&ivs->lock);
	kfree(dmb);
	return ret;
}

/*
 * Whether slot @s no longer holds the peer of generation @gen: it is down,
 * the server saw it go, or its heartbeat stopped. A leaving peer is still
 * there. Read from the region, as unregister_dmb() waits under the lock
 * and the tracking does not change meanwhile.
 */
static bool dibs_ivs_gone(struct dibs_ivs_dev *ivs, unsigned int s, u32 gen)
{
	struct dibs_ivs_peer *peer = &ivs->peers[s];
	struct dibs_ivs_seen seen;

	if (s == ivs->slot)
		return false;
	dibs_ivs_read_peer(ivs, s, &seen);
	if (!dibs_ivs_seen_present(&seen) || seen.gen != gen)
		return true;
	return peer->seen && peer->hb_gen == gen && peer->stale;
}

static bool dibs_ivs_moves_ended(struct dibs_ivs_dev *ivs,
				 struct dibs_ivs_dmb *dmb)
{
	struct dibs_ivshmem_peer *e = dibs_ivs_peer_at(ivs, dmb->writer);
	/* Pairs with the release in the writer's increment of moves_done. */
	u64 done = le64_to_cpu(smp_load_acquire(&e->moves_done));

	return (s64)(done - dmb->moves_begun) >= 0 ||
	       dibs_ivs_gone(ivs, dmb->writer, dmb->writer_gen);
}

static bool dibs_ivs_attached_by_writer(struct dibs_ivs_dev *ivs,
					struct dibs_ivs_dmb *dmb)
{
	void *sig = dibs_ivs_sig(ivs, ivs->slot, dmb->writer);
	atomic_t *word = dibs_ivs_attached_word(ivs, sig, dmb->idx);

	return (atomic_read(word) & BIT(dmb->idx % 32)) &&
	       !dibs_ivs_gone(ivs, dmb->writer, dmb->writer_gen);
}

/* Let the index of @dmb be reused after a grace period; under the lock. */
static void dibs_ivs_drain_idx(struct dibs_ivs_dev *ivs,
			       struct dibs_ivs_dmb *dmb)
{
	void *sig = dibs_ivs_sig(ivs, ivs->slot, dmb->writer);

	/* The writer's moves are over: drop the signals they left. */
	atomic64_andnot(BIT_ULL(dmb->idx % 64),
			dibs_ivs_pending(ivs, sig, dmb->idx / 64));
	atomic_set(dibs_ivs_mask(ivs, sig, dmb->idx), 0);
	/* A delivery that took them before may still be running. */
	dibs_idx_drain(&ivs->idx, dmb->idx);
}

/* Release what @dmb holds if it can be; frees it when nothing is left. */
static void dibs_ivs_release(struct dibs_ivs_dev *ivs, struct dibs_ivs_dmb *dmb)
{
	lockdep_assert_held(&ivs->lock);
	if ((dmb->hold & DIBS_IVS_HOLD_MOVES) &&
	    dibs_ivs_moves_ended(ivs, dmb)) {
		dmb->hold &= ~DIBS_IVS_HOLD_MOVES;
		dibs_ivs_drain_idx(ivs, dmb);
	}
	if (!(dmb->hold & DIBS_IVS_HOLD_MOVES) &&
	    (dmb->hold & DIBS_IVS_HOLD_ATTACHED) &&
	    !dibs_ivs_attached_by_writer(ivs, dmb))
		dmb->hold &= ~DIBS_IVS_HOLD_ATTACHED;
	if (dmb->hold)
		return;
	list_del(&dmb->held);
	dibs_ivs_free_mem(ivs, dmb);
	kfree_rcu(dmb, rcu);
}

static int dibs_ivs_unregister_dmb(struct dibs_dev *dibs,
				   struct dibs_dmb *desc)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct dibs_ivs_dmb *dmb;
	unsigned long deadline;

	mutex_lock(&ivs->lock);
	dmb = dibs_ivs_find(ivs, desc->dmb_tok);
	if (!dmb) {
		mutex_unlock(&ivs->lock);
		return -ENOENT;
	}
	WRITE_ONCE(dibs_ivs_desc(ivs, ivs->slot, dmb->idx)->token, 0);
	/* Pairs with the barrier between moves_begun and the token read. */
	smp_mb();
	dmb->moves_begun =
		le64_to_cpu(READ_ONCE(dibs_ivs_peer_at(ivs, dmb->writer)->moves_begun));
	dibs_dmb_clear_owner(dibs, dmb->idx);
	RCU_INIT_POINTER(ivs->dmbs[dmb->idx], NULL);
	dibs_dmb_unregistered(dibs, dmb->idx, dmb->len, dmb->token);

	deadline = jiffies + ivs->timeout;
	while (!dibs_ivs_moves_ended(ivs, dmb)) {
		if (time_after(jiffies, deadline)) {
			pr_warn("%s: moves of slot %u into DMB %u do not end; keeping it\n",
				dev_name(&dibs->dev), dmb->writer, dmb->idx);
			break;
		}
		usleep_range(DIBS_IVS_POLL_US, 2 * DIBS_IVS_POLL_US);
	}
	/* Held until whatever of this is not over yet is. */
	dmb->hold = DIBS_IVS_HOLD_MOVES | DIBS_IVS_HOLD_ATTACHED;
	list_add(&dmb->held, &ivs->held);
	dibs_ivs_release(ivs, dmb);
	mutex_unlock(&ivs->lock);
	return 0;
}

/**
 * struct dibs_ivs_target - a remote DMB, checked against its descriptor
 * @s: the owner's slot.
 * @idx: the DMB's index.
 * @off: region offset of its memory.
 * @len: its length.
 */
struct dibs_ivs_target {
	unsigned int s;
	unsigned int idx;
	u64 off;
	u32 len;
};

/*
 * Check that @token names a DMB that this device may write now, reading its
 * descriptor once; under RCU. The caller has counted its move as begun.
 */
static int dibs_ivs_check_target(struct dibs_ivs_dev *ivs, u64 token,
				 struct dibs_ivs_target *t)
{
	struct dibs_ivs_view *view = rcu_dereference(ivs->view);
	struct dibs_ivshmem_desc *d;
	u64 heap, off;
	u32 len, wgen;
	u16 writer;

	if (!dibs_ivs_token_split(ivs, token, &t->s, &t->idx))
		return -ENOENT;
	if (!dibs_ivs_view_alive(view, t->s))
		return -ENETUNREACH;
	d = dibs_ivs_desc(ivs, t->s, t->idx);
	/* Pairs with the owner's release of the token: the fields follow. */
	if (le64_to_cpu(smp_load_acquire(&d->token)) != token)
		return -ENOENT;
	len = le32_to_cpu(READ_ONCE(d->len));
	writer = le16_to_cpu(READ_ONCE(d->writer));
	off = le64_to_cpu(READ_ONCE(d->offset));
	wgen = le32_to_cpu(READ_ONCE(d->writer_gen));
	if (writer != ivs->slot || wgen != ivs->gen)
		return -EACCES;
	heap = ivs->l.heap_off + t->s * ivs->l.heap_size;
	if (!len || len > DIBS_IVSHMEM_MAX_DMB_LEN || off < heap ||
	    off - heap > ivs->l.heap_size - len) {
		pr_warn_ratelimited("%s: descriptor %u of slot %u is corrupt\n",
				    dev_name(&ivs->dibs->dev), t->idx, t->s);
		return -EIO;
	}
	t->off = off;
	t->len = len;
	return 0;
}

static void dibs_ivs_raise(struct dibs_ivs_dev *ivs,
			   const struct dibs_ivs_target *t,
			   unsigned int sig_idx)
{
	void *sig = dibs_ivs_sig(ivs, t->s, ivs->slot);

	/*
	 * The data before the mask (fully ordered)... Bits already set are
	 * signals the owner has not taken yet: this one joins them.
	 */
	if (atomic_fetch_or(BIT(sig_idx), dibs_ivs_mask(ivs, sig, t->idx)))
		dibs_signal_coalesced(ivs->dibs, t->idx, BIT(sig_idx));
	/* ...and the mask before the pending bit. */
	smp_mb__before_atomic();
	atomic64_or(BIT_ULL(t->idx % 64),
		    dibs_ivs_pending(ivs, sig, t->idx / 64));
}

static int dibs_ivs_move_data(struct dibs_dev *dibs, u64 dmb_tok,
			      unsigned int idx, bool sf, unsigned int offset,
			      void *data, unsigned int size)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);
	struct dibs_ivs_target t;
	int ret;

	if (idx >= DIBS_IVS_SIGNALS) {
		dibs_move_failed(dibs, dmb_tok, offset, size, -EINVAL);
		return -EINVAL;
	}

	/* Fully ordered: the owner sees the move begun or its token gone. */
	atomic64_inc_return((atomic64_t *)&me->moves_begun);
	rcu_read_lock();
	if (READ_ONCE(ivs->leaving))
		ret = -ESHUTDOWN;
	else
		ret = dibs_ivs_check_target(ivs, dmb_tok, &t);
	if (!ret && (size > t.len || offset > t.len - size))
		ret = -EINVAL;
	if (!ret) {
		memcpy(ivs->base + t.off + offset, data, size);
		dibs_moved(dibs, size, sf);
		if (sf)
			dibs_ivs_raise(ivs, &t, idx);
	}
	rcu_read_unlock();
	/* The move's writes before its end, for an owner's acquire. */
	smp_mb__before_atomic();
	atomic64_inc((atomic64_t *)&me->moves_done);
	if (ret)
		dibs_move_failed(dibs, dmb_tok, offset, size, ret);
	else if (sf)
		dibs_ivs_ring(ivs, t.s, DIBS_IVSHMEM_VEC_SIGNAL);
	return ret;
}

/* Deliver the signals raised by slot @from; under the signal lock. */
static void dibs_ivs_deliver_from(struct dibs_ivs_dev *ivs, unsigned int from)
{
	void *sig = dibs_ivs_sig(ivs, ivs->slot, from);
	unsigned int word, words = DIV_ROUND_UP(ivs->l.max_dmbs, 64);
	struct dibs_ivs_dmb *dmb;
	unsigned long bits;
	unsigned int bit, idx;
	u32 mask;

	for (word = 0; word < words; word++) {
		atomic64_t *p = dibs_ivs_pending(ivs, sig, word);

		if (!atomic64_read(p))
			continue;
		bits = atomic64_xchg(p, 0);
		for_each_set_bit(bit, &bits, 64) {
			idx = word * 64 + bit;
			if (idx >= ivs->l.max_dmbs)
				break;
			mask = atomic_xchg(dibs_ivs_mask(ivs, sig, idx), 0);
			mask &= GENMASK(DIBS_IVS_SIGNALS - 1, 0);
			dmb = rcu_dereference(ivs->dmbs[idx]);
			if (mask && dmb && dmb->writer == from)
				dibs_handle_irq(ivs->dibs, idx, mask);
		}
	}
}

static void dibs_ivs_deliver(struct dibs_ivs_dev *ivs)
{
	unsigned long flags;
	unsigned int from;

	spin_lock_irqsave(&ivs->sig_lock, flags);
	rcu_read_lock();
	for (from = 0; from < ivs->l.max_peers; from++)
		dibs_ivs_deliver_from(ivs, from);
	rcu_read_unlock();
	spin_unlock_irqrestore(&ivs->sig_lock, flags);
}

/**
 * dibs_ivs_irq() - an interrupt of a device's ivshmem function
 * @ivs: the device
 * @vector: %DIBS_IVSHMEM_VEC_SIGNAL or %DIBS_IVSHMEM_VEC_CONTROL
 *
 * Delivers pending signals, or schedules the peer check. Must not be called
 * once dibs_ivs_dev_destroy() has begun.
 *
 * Context: any context up to hard interrupt.
 */
void dibs_ivs_irq(struct dibs_ivs_dev *ivs, unsigned int vector)
{
	if (vector == DIBS_IVSHMEM_VEC_SIGNAL)
		dibs_ivs_deliver(ivs);
	else if (!READ_ONCE(ivs->stopping))
		mod_delayed_work(system_wq, &ivs->work, 0);
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_irq);

static int dibs_ivs_support_mmapped_rdmb(struct dibs_dev *dibs)
{
	return 1;
}

static struct dibs_ivs_attach *dibs_ivs_find_attach(struct dibs_ivs_dev *ivs,
						    u64 token)
{
	struct dibs_ivs_attach *a;

	lockdep_assert_held(&ivs->lock);
	list_for_each_entry(a, &ivs->attached, node)
		if (a->token == token)
			return a;
	return NULL;
}

static int dibs_ivs_attach_dmb(struct dibs_dev *dibs, struct dibs_dmb *desc)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct dibs_ivs_attach *a, *new;
	struct dibs_ivs_target t;
	atomic_t *word;
	int ret;

	new = kzalloc_obj(*new);
	if (!new)
		return -ENOMEM;
	mutex_lock(&ivs->lock);
	if (ivs->leaving) {
		ret = -ESHUTDOWN;
		goto out;
	}
	if (!dibs_ivs_token_split(ivs, desc->dmb_tok, &t.s, &t.idx)) {
		ret = -ENOENT;
		goto out;
	}
	a = dibs_ivs_find_attach(ivs, desc->dmb_tok);
	word = dibs_ivs_attached_word(ivs, dibs_ivs_sig(ivs, t.s, ivs->slot),
				      t.idx);
	if (!a) {
		atomic_or(BIT(t.idx % 32), word);
		/* The owner sees the bit, or we see its token gone. */
		smp_mb__after_atomic();
	}
	rcu_read_lock();
	ret = dibs_ivs_check_target(ivs, desc->dmb_tok, &t);
	rcu_read_unlock();
	if (ret) {
		if (!a)
			atomic_andnot(BIT(t.idx % 32), word);
		goto out;
	}
	if (!a) {
		a = new;
		new = NULL;
		a->token = desc->dmb_tok;
		a->slot = t.s;
		a->idx = t.idx;
		list_add(&a->node, &ivs->attached);
		ivs->peers[t.s].attached++;
	}
	a->count++;
	desc->cpu_addr = ivs->base + t.off;
	desc->dmb_len = t.len;
	desc->idx = t.idx;
	desc->dma_addr = DIBS_DMA_ADDR_NONE;
	dibs_dmb_attached(dibs, desc);
out:
	mutex_unlock(&ivs->lock);
	kfree(new);
	return ret;
}

/* Drop one attachment of @a; under the lock. */
static void dibs_ivs_detach(struct dibs_ivs_dev *ivs, struct dibs_ivs_attach *a)
{
	void *sig = dibs_ivs_sig(ivs, a->slot, ivs->slot);

	lockdep_assert_held(&ivs->lock);
	if (--a->count)
		return;
	/* Writes through the mapping before the owner may reuse it. */
	smp_mb__before_atomic();
	atomic_andnot(BIT(a->idx % 32), dibs_ivs_attached_word(ivs, sig, a->idx));
	ivs->peers[a->slot].attached--;
	dibs_ivs_ring(ivs, a->slot, DIBS_IVSHMEM_VEC_CONTROL);
	list_del(&a->node);
	kfree(a);
}

static int dibs_ivs_detach_dmb(struct dibs_dev *dibs, u64 token)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct dibs_ivs_attach *a;
	int ret = 0;

	mutex_lock(&ivs->lock);
	a = dibs_ivs_find_attach(ivs, token);
	if (a) {
		dibs_ivs_detach(ivs, a);
		dibs_dmb_detached(dibs, token);
		/* An acknowledgment may have waited for this. */
		if (!ivs->stopping)
			mod_delayed_work(system_wq, &ivs->work, 0);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&ivs->lock);
	return ret;
}

static int dibs_ivs_signal_event(struct dibs_dev *dibs, const uuid_t *rgid,
				 u32 trigger_irq, u32 event_code, u64 info)
{
	struct dibs_ivs_dev *ivs = to_ivs(dibs);
	struct dibs_ivshmem_event *e;
	struct dibs_ivshmem_mbox *mb;
	struct dibs_ivs_peer *peer;
	int s, ret = 0;
	u32 tail;

	mutex_lock(&ivs->lock);
	rcu_read_lock();
	s = dibs_ivs_find_gid(ivs, rgid);
	rcu_read_unlock();
	if (ivs->leaving)
		s = -ESHUTDOWN;
	if (s < 0) {
		ret = s;
		goto out;
	}
	peer = &ivs->peers[s];
	mb = dibs_ivs_mbox(ivs, s, ivs->slot);
	tail = le32_to_cpu(READ_ONCE(mb->tail));
	if (peer->tx_head - tail >= DIBS_IVSHMEM_MBOX_ENTRIES) {
		ret = -EAGAIN;
		goto out;
	}
	e = &mb->entries[peer->tx_head % DIBS_IVSHMEM_MBOX_ENTRIES];
	WRITE_ONCE(e->code, cpu_to_le32(event_code));
	WRITE_ONCE(e->trigger, cpu_to_le32(trigger_irq));
	WRITE_ONCE(e->info, cpu_to_le64(info));
	WRITE_ONCE(mb->gen, cpu_to_le32(ivs->gen));
	peer->tx_head++;
	/* The entry and gen before the head that publishes them. */
	smp_store_release(&mb->head, cpu_to_le32(peer->tx_head));
	dibs_ivs_ring(ivs, s, DIBS_IVSHMEM_VEC_CONTROL);
out:
	mutex_unlock(&ivs->lock);
	return ret;
}

static int dibs_ivs_vlan_id(struct dibs_dev *dibs, u64 vlan_id)
{
	return vlan_id < 4096 || vlan_id == DIBS_IVS_VLAN_RESERVED ? 0 : -EINVAL;
}

static const struct dibs_dev_ops dibs_ivs_ops = {
	.get_fabric_id = dibs_ivs_get_fabric_id,
	.query_remote_gid = dibs_ivs_query_remote_gid,
	.max_dmbs = dibs_ivs_max_dmbs,
	.register_dmb = dibs_ivs_register_dmb,
	.unregister_dmb = dibs_ivs_unregister_dmb,
	.move_data = dibs_ivs_move_data,
	.add_vlan_id = dibs_ivs_vlan_id,
	.del_vlan_id = dibs_ivs_vlan_id,
	.signal_event = dibs_ivs_signal_event,
	.support_mmapped_rdmb = dibs_ivs_support_mmapped_rdmb,
	.attach_dmb = dibs_ivs_attach_dmb,
	.detach_dmb = dibs_ivs_detach_dmb,
};

/* Take the events slot @s posted to this device; under the lock. */
static void dibs_ivs_take_events(struct dibs_ivs_dev *ivs, unsigned int s)
{
	struct dibs_ivshmem_mbox *mb = dibs_ivs_mbox(ivs, ivs->slot, s);
	struct dibs_ivs_peer *peer = &ivs->peers[s];
	struct dibs_event event;
	u32 head, gen;

	lockdep_assert_held(&ivs->lock);
	/* Pairs with the sender's release of head: entries and gen follow. */
	head = le32_to_cpu(smp_load_acquire(&mb->head));
	if (head == peer->rx_tail)
		return;
	gen = le32_to_cpu(READ_ONCE(mb->gen));
	if (head - peer->rx_tail > DIBS_IVSHMEM_MBOX_ENTRIES ||
	    !peer->alive || gen != peer->gen) {
		peer->rx_tail = head;
	} else {
		for (; peer->rx_tail != head; peer->rx_tail++) {
			struct dibs_ivshmem_event *e = &mb->entries[peer->rx_tail %
						DIBS_IVSHMEM_MBOX_ENTRIES];

			memset(&event, 0, sizeof(event));
			event.type = DIBS_SW_EVENT;
			event.subtype = le32_to_cpu(READ_ONCE(e->code));
			event.data = le64_to_cpu(READ_ONCE(e->info));
			event.gid = peer->gid;
			dibs_handle_event(ivs->dibs, &event);
		}
	}
	/* The entries are read before the sender may reuse them. */
	smp_store_release(&mb->tail, cpu_to_le32(peer->rx_tail));
}

/*
 * Slot @s lost its peer: tell the clients, let go of it; under the lock.
 * The caller then releases the held DMBs the peer wrote.
 */
static void dibs_ivs_lose(struct dibs_ivs_dev *ivs, unsigned int s)
{
	struct dibs_ivs_peer *peer = &ivs->peers[s];
	struct dibs_ivs_dmb *dmb;
	struct dibs_event event = {
		.type = DIBS_DEV_EVENT,
		.subtype = DIBS_DEV_DISABLED,
		.gid = peer->gid,
	};
	unsigned int idx;

	lockdep_assert_held(&ivs->lock);
	/* What the peer posted while it was up still counts. */
	dibs_ivs_take_events(ivs, s);
	peer->alive = false;
	peer->lost = true;
	peer->lost_gen = peer->gen;
	dibs_ivs_publish(ivs);
	/* No move into the slot's heap is running once this returns. */
	synchronize_rcu();
	/* Whatever it posts from now on is dropped. */
	dibs_ivs_take_events(ivs, s);

	dibs_handle_event(ivs->dibs, &event);
	for (idx = 0; idx < ivs->l.max_dmbs; idx++) {
		dmb = rcu_dereference_protected(ivs->dmbs[idx],
						lockdep_is_held(&ivs->lock));
		if (!dmb || dmb->writer != s)
			continue;
		memset(&event, 0, sizeof(event));
		event.type = DIBS_BUF_EVENT;
		event.subtype = DIBS_OTHER_SUBTYPE;
		event.gid = dmb->writer_gid;
		event.buffer_tok = dmb->token;
		dibs_handle_event(ivs->dibs, &event);
	}
}

/**
 * dibs_ivs_peers_show() - list the device and the peers it reaches
 * @m: the seq_file of ``peers`` in the device's debugfs directory
 * @unused: unused
 *
 * Context: process context, takes &dibs_ivs_dev.lock.
 * Return: 0.
 */
VISIBLE_IF_KUNIT int dibs_ivs_peers_show(struct seq_file *m, void *unused)
{
	struct dibs_ivs_dev *ivs = m->private;
	unsigned int s;

	mutex_lock(&ivs->lock);
	for (s = 0; s < ivs->l.max_peers; s++) {
		if (s == ivs->slot)
			seq_printf(m, "%u %pUb %u self\n", s, &ivs->dibs->gid,
				   ivs->gen);
		else if (ivs->peers[s].alive)
			seq_printf(m, "%u %pUb %u peer\n", s,
				   &ivs->peers[s].gid, ivs->peers[s].gen);
	}
	mutex_unlock(&ivs->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_peers_show);
DEFINE_SHOW_ATTRIBUTE(dibs_ivs_peers);

/* The periodic and interrupt-driven look at the peer table. */
static void dibs_ivs_check_peers(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);
	struct dibs_ivs_dmb *dmb, *next;
	struct dibs_ivs_seen seen;
	bool changed = false;
	unsigned int s;
	bool up;

	lockdep_assert_held(&ivs->lock);
	for (s = 0; s < ivs->l.max_peers; s++) {
		struct dibs_ivs_peer *peer = &ivs->peers[s];

		if (s == ivs->slot)
			continue;
		dibs_ivs_read_peer(ivs, s, &seen);
		up = dibs_ivs_up(ivs, s, &seen);
		if (peer->alive && (!up || seen.gen != peer->gen)) {
			dibs_ivs_lose(ivs, s);
			up = dibs_ivs_up(ivs, s, &seen);
		}
		if (!peer->alive && up) {
			peer->alive = true;
			peer->gen = seen.gen;
			peer->gid = seen.gid;
			changed = true;
		}
		/*
		 * Acknowledge the slot's generation once nothing of an earlier
		 * occupant is held here.
		 */
		if ((peer->alive || !peer->attached) &&
		    peer->acked != seen.gen) {
			peer->acked = seen.gen;
			/* Everything let go of before the joiner learns so. */
			smp_store_release(&me->ack_gen[s], cpu_to_le32(seen.gen));
		}
	}
	if (changed)
		dibs_ivs_publish(ivs);
	for (s = 0; s < ivs->l.max_peers; s++)
		if (s == ivs->slot || ivs->peers[s].alive)
			dibs_ivs_take_events(ivs, s);
	list_for_each_entry_safe(dmb, next, &ivs->held, held)
		dibs_ivs_release(ivs, dmb);
}

static void dibs_ivs_work(struct work_struct *work)
{
	struct dibs_ivs_dev *ivs = container_of(to_delayed_work(work),
						struct dibs_ivs_dev, work);

	mutex_lock(&ivs->lock);
	if (!ivs->stopping)
		dibs_ivs_check_peers(ivs);
	mutex_unlock(&ivs->lock);
}

static void dibs_ivs_beat(struct work_struct *work)
{
	struct dibs_ivs_dev *ivs = container_of(to_delayed_work(work),
						struct dibs_ivs_dev, beat);
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);

	if (READ_ONCE(ivs->stopping))
		return;
	WRITE_ONCE(me->heartbeat, cpu_to_le64(++ivs->heartbeat));
	mod_delayed_work(system_wq, &ivs->work, 0);
	queue_delayed_work(system_wq, &ivs->beat, ivs->period);
}

static void dibs_ivs_ring_connected(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivs_seen seen;
	unsigned int s;

	for (s = 0; s < ivs->l.max_peers; s++) {
		if (s == ivs->slot)
			continue;
		dibs_ivs_read_peer(ivs, s, &seen);
		if (seen.srv_state == DIBS_IVSHMEM_SRV_CONNECTED)
			dibs_ivs_ring(ivs, s, DIBS_IVSHMEM_VEC_CONTROL);
	}
}

/*
 * Joining, step 3: leave what the slot showed before (an earlier occupant,
 * or this guest before a reboot or a reload of the driver) and announce
 * the new generation, which the peers acknowledge once they have let go of
 * everything of the earlier ones.
 */
static void dibs_ivs_announce(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);

	WRITE_ONCE(me->state, cpu_to_le32(DIBS_IVSHMEM_PEER_DOWN));
	WRITE_ONCE(me->conn_gen, cpu_to_le32(ivs->conn_gen));
	/* State down before the new generation: see dibs_ivs_read_peer(). */
	smp_store_release(&me->gen, cpu_to_le32(ivs->gen));
	dibs_ivs_ring_connected(ivs);
}

/*
 * Wait until every alive peer has let go of everything of this slot's
 * earlier occupants (joining, step 4).
 */
static int dibs_ivs_wait_acks(struct dibs_ivs_dev *ivs)
{
	unsigned long deadline = jiffies + 2 * ivs->timeout;
	struct dibs_ivshmem_peer *e;
	struct dibs_ivs_seen seen;
	unsigned int s;
	bool waiting;
	u32 ack;

	do {
		waiting = false;
		for (s = 0; s < ivs->l.max_peers; s++) {
			if (s == ivs->slot)
				continue;
			dibs_ivs_read_peer(ivs, s, &seen);
			if (!dibs_ivs_track(ivs, s, &seen))
				continue;
			e = dibs_ivs_peer_at(ivs, s);
			/* Pairs with the release of the acknowledgment. */
			ack = le32_to_cpu(smp_load_acquire(&e->ack_gen[ivs->slot]));
			if (ack != ivs->gen)
				waiting = true;
		}
		if (!waiting)
			return 0;
		usleep_range(10000, 20000);
	} while (time_before(jiffies, deadline));
	return -ETIMEDOUT;
}

/* Joining, steps 5 and 6; the device is not visible to anyone yet. */
static void dibs_ivs_take_slot(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);
	unsigned int s, idx;
	u64 begun;

	for (idx = 0; idx < ivs->l.max_dmbs; idx++)
		WRITE_ONCE(dibs_ivs_desc(ivs, ivs->slot, idx)->token, 0);
	for (s = 0; s < ivs->l.max_peers; s++) {
		struct dibs_ivshmem_mbox *in = dibs_ivs_mbox(ivs, ivs->slot, s);
		struct dibs_ivshmem_mbox *out = dibs_ivs_mbox(ivs, s, ivs->slot);
		void *sig_in = dibs_ivs_sig(ivs, ivs->slot, s);
		void *sig_out = dibs_ivs_sig(ivs, s, ivs->slot);

		memset(sig_in, 0, dibs_ivs_attached(ivs, sig_in) - sig_in);
		memset(dibs_ivs_attached(ivs, sig_out), 0, ivs->l.bitmap_size);
		ivs->peers[s].rx_tail = le32_to_cpu(READ_ONCE(in->head));
		WRITE_ONCE(in->tail, cpu_to_le32(ivs->peers[s].rx_tail));
		ivs->peers[s].tx_head = le32_to_cpu(READ_ONCE(out->head));
		ivs->peers[s].acked =
			le32_to_cpu(READ_ONCE(dibs_ivs_peer_at(ivs, s)->gen));
		WRITE_ONCE(me->ack_gen[s], cpu_to_le32(ivs->peers[s].acked));
	}
	memcpy(me->gid, &ivs->dibs->gid, sizeof(me->gid));
	WRITE_ONCE(me->heartbeat, cpu_to_le64(ivs->heartbeat));
	/* A move of an earlier occupant that never ended is not waited for. */
	begun = le64_to_cpu(READ_ONCE(me->moves_begun));
	WRITE_ONCE(me->moves_done, cpu_to_le64(begun));
	/* The entry, and the cleared areas, before the slot is up. */
	smp_store_release(&me->state, cpu_to_le32(DIBS_IVSHMEM_PEER_UP));

	ivs->peers[ivs->slot].alive = true;
	ivs->peers[ivs->slot].gen = ivs->gen;
	ivs->peers[ivs->slot].gid = ivs->dibs->gid;
}

static void dibs_ivs_free(struct dibs_ivs_dev *ivs)
{
	if (ivs->heap)
		gen_pool_destroy(ivs->heap);
	dibs_idx_pool_destroy(&ivs->idx);
	kfree(ivs->dmbs);
	mutex_destroy(&ivs->lock);
	kfree(ivs);
}

static int dibs_ivs_setup(struct dibs_ivs_dev *ivs,
			  const struct dibs_ivs_params *p)
{
	struct dibs_ivshmem_header *hdr;
	struct dibs_ivs_seen seen;
	const char *why;
	unsigned int n, s;
	void *heap;
	int ret;

	hdr = kmemdup(p->base, sizeof(*hdr), GFP_KERNEL);
	if (!hdr)
		return -ENOMEM;
	ret = dibs_ivs_check_header(hdr, p->size, &ivs->l, &why);
	kfree(hdr);
	if (ret) {
		pr_info("%s: not a usable fabric region: %s\n", p->name, why);
		return ret;
	}
	for (s = 0; s < ivs->l.max_peers; s++) {
		dibs_ivs_read_peer(ivs, s, &seen);
		if (seen.srv_state == DIBS_IVSHMEM_SRV_CONNECTED &&
		    seen.srv_id == p->id)
			break;
	}
	if (s == ivs->l.max_peers) {
		pr_info("%s: the server has connected no slot with ID %u\n",
			p->name, p->id);
		return -ENODEV;
	}
	ivs->slot = s;
	ivs->conn_gen = seen.srv_gen;
	/* Differs from every generation of the slot its peers may hold. */
	ivs->gen = seen.gen + 1;

	n = ivs->l.max_dmbs;
	ivs->dmbs = kzalloc_objs(*ivs->dmbs, n);
	ivs->heap = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (dibs_idx_pool_init(&ivs->idx, n) || !ivs->dmbs || !ivs->heap)
		return -ENOMEM;
	heap = p->base + ivs->l.heap_off + s * ivs->l.heap_size;
	return gen_pool_add(ivs->heap, (unsigned long)heap, ivs->l.heap_size,
			    NUMA_NO_NODE);
}

/**
 * dibs_ivs_dev_create() - join a fabric region and add its DIBS device
 * @p: the region and its function
 *
 * Checks the region's header, joins the fabric in the slot the server
 * connected with ivshmem ID @p->id (waiting until the other peers have let
 * go of the slot's earlier occupants) and adds the DIBS device. From the
 * call on, @p->ops must deliver interrupts with dibs_ivs_irq(), which
 * tolerates being called for a device that is still joining only through
 * the returned pointer, so the caller publishes the pointer before passing
 * interrupts on.
 *
 * Context: process context, may sleep for up to twice the timeout.
 * Return: the device, or an ERR_PTR(): -EINVAL or -EPROTO for a region that
 * is not a fabric of this version, -ENODEV if the server has connected no
 * slot with the ID, -ETIMEDOUT if other peers did not let go of the slot,
 * -ENOMEM, or the error of dibs_dev_add().
 */
struct dibs_ivs_dev *dibs_ivs_dev_create(const struct dibs_ivs_params *p)
{
	struct dibs_ivs_dev *ivs;
	struct dibs_dev *dibs;
	int ret;

	ivs = kzalloc_obj(*ivs);
	if (!ivs)
		return ERR_PTR(-ENOMEM);
	ivs->base = p->base;
	ivs->hw = p->ops;
	ivs->hw_priv = p->hw_priv;
	ivs->period = p->period ?: HZ;
	ivs->timeout = p->timeout ?: DIBS_IVSHMEM_HEARTBEAT_TIMEOUT * HZ;
	mutex_init(&ivs->lock);
	spin_lock_init(&ivs->sig_lock);
	INIT_LIST_HEAD(&ivs->held);
	INIT_LIST_HEAD(&ivs->attached);
	INIT_DELAYED_WORK(&ivs->work, dibs_ivs_work);
	RCU_INIT_POINTER(ivs->view, &ivs->views[0]);
	ivs->view_gp = get_state_synchronize_rcu();
	INIT_DELAYED_WORK(&ivs->beat, dibs_ivs_beat);
	ret = dibs_ivs_setup(ivs, p);
	if (ret)
		goto err_free;

	dibs = dibs_dev_alloc();
	if (!dibs) {
		ret = -ENOMEM;
		goto err_free;
	}
	ivs->dibs = dibs;
	dibs->ops = &dibs_ivs_ops;
	dibs->drv_priv = ivs;
	dibs->dev.parent = p->parent;
	uuid_gen(&dibs->gid);
	ret = dev_set_name(&dibs->dev, "%s", p->name);
	if (ret)
		goto err_put;

	dibs_ivs_announce(ivs);
	ret = dibs_ivs_wait_acks(ivs);
	if (ret) {
		pr_info("%s: other peers still hold slot %u\n", p->name,
			ivs->slot);
		goto err_put;
	}
	mutex_lock(&ivs->lock);
	dibs_ivs_take_slot(ivs);
	dibs_ivs_publish(ivs);
	mutex_unlock(&ivs->lock);
	ret = dibs_dev_add(dibs);
	if (ret)
		goto err_leave;

	ivs->debugfs = debugfs_create_dir(dev_name(&dibs->dev),
					  dibs_ivs_debugfs);
	debugfs_create_file("peers", 0444, ivs->debugfs, ivs,
			    &dibs_ivs_peers_fops);
	dibs_ivs_ring_connected(ivs);
	queue_delayed_work(system_wq, &ivs->beat, ivs->period);
	mod_delayed_work(system_wq, &ivs->work, 0);
	return ivs;

err_leave:
	/* Ordered after everything this device wrote to the region. */
	smp_store_release(&dibs_ivs_peer_at(ivs, ivs->slot)->state,
			  cpu_to_le32(DIBS_IVSHMEM_PEER_DOWN));
	dibs_ivs_ring_connected(ivs);
err_put:
	put_device(&dibs->dev);
err_free:
	dibs_ivs_free(ivs);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_dev_create);

/*
 * Let go of what faulty clients left behind after dibs_dev_del(): the
 * region stays, so nothing of it leaks, but whoever kept a pointer into it
 * must not use it. Returns how many DMBs there were.
 */
static unsigned int dibs_ivs_abandon(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivs_attach *a, *anext;
	struct dibs_ivs_dmb *dmb, *next;
	unsigned int idx, left = 0;

	lockdep_assert_held(&ivs->lock);
	for (idx = 0; idx < ivs->l.max_dmbs; idx++) {
		dmb = rcu_dereference_protected(ivs->dmbs[idx],
						lockdep_is_held(&ivs->lock));
		if (!dmb)
			continue;
		WRITE_ONCE(dibs_ivs_desc(ivs, ivs->slot, idx)->token, 0);
		RCU_INIT_POINTER(ivs->dmbs[idx], NULL);
		list_add(&dmb->held, &ivs->held);
		left++;
	}
	list_for_each_entry_safe(dmb, next, &ivs->held, held) {
		list_del(&dmb->held);
		dibs_ivs_free_mem(ivs, dmb);
		kfree_rcu(dmb, rcu);
	}
	list_for_each_entry_safe(a, anext, &ivs->attached, node) {
		a->count = 1;
		dibs_ivs_detach(ivs, a);
		left++;
	}
	return left;
}

/**
 * dibs_ivs_dev_destroy() - leave the fabric and remove the DIBS device
 * @ivs: the device
 *
 * Stops moves, attachments and events from this device, marks the slot
 * leaving, takes the device away from every client (whose del_dev()
 * unregisters and detaches its DMBs), and marks the slot down. Signals are
 * no longer delivered once the caller stops calling dibs_ivs_irq(), which
 * it must do before the call; the peer check runs until the clients are
 * gone.
 *
 * Context: process context, may sleep.
 */
void dibs_ivs_dev_destroy(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivshmem_peer *me = dibs_ivs_peer_at(ivs, ivs->slot);
	unsigned int left;

	/* No reader of the peers is left once this returns. */
	debugfs_remove(ivs->debugfs);
	mutex_lock(&ivs->lock);
	WRITE_ONCE(ivs->leaving, true);
	mutex_unlock(&ivs->lock);
	/* Moves that began before are over: no more from this slot. */
	synchronize_rcu();
	/* Peers stop counting on this device before it tears down. */
	smp_store_release(&me->state, cpu_to_le32(DIBS_IVSHMEM_PEER_LEAVING));
	dibs_ivs_ring_connected(ivs);

	/* The heartbeat goes on: peers wait for what clients hold. */
	dibs_dev_del(ivs->dibs);

	mutex_lock(&ivs->lock);
	WRITE_ONCE(ivs->stopping, true);
	mutex_unlock(&ivs->lock);
	cancel_delayed_work_sync(&ivs->beat);
	cancel_delayed_work_sync(&ivs->work);

	mutex_lock(&ivs->lock);
	left = dibs_ivs_abandon(ivs);
	mutex_unlock(&ivs->lock);
	if (left)
		pr_err("%s: %u DMBs and attachments left by clients after removal\n",
		       dev_name(&ivs->dibs->dev), left);
	/* Ordered after everything this device wrote to the region. */
	smp_store_release(&me->state, cpu_to_le32(DIBS_IVSHMEM_PEER_DOWN));
	dibs_ivs_ring_connected(ivs);
	put_device(&ivs->dibs->dev);
	dibs_ivs_free(ivs);
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_dev_destroy);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * dibs_ivs_dev_dibs() - the DIBS device of an ivshmem device
 * @ivs: the device
 *
 * Return: its &struct dibs_dev.
 */
struct dibs_dev *dibs_ivs_dev_dibs(struct dibs_ivs_dev *ivs)
{
	return ivs->dibs;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_dev_dibs);

/**
 * dibs_ivs_dmbs_held() - DMBs whose memory a device holds
 * @ivs: the device
 *
 * Context: process context, may sleep.
 * Return: DMBs registered, or unregistered but not reusable yet.
 */
unsigned int dibs_ivs_dmbs_held(struct dibs_ivs_dev *ivs)
{
	struct dibs_ivs_dmb *dmb;
	unsigned int idx, count = 0;

	mutex_lock(&ivs->lock);
	for (idx = 0; idx < ivs->l.max_dmbs; idx++)
		if (rcu_access_pointer(ivs->dmbs[idx]))
			count++;
	list_for_each_entry(dmb, &ivs->held, held)
		count++;
	mutex_unlock(&ivs->lock);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_dmbs_held);

/**
 * dibs_ivs_poll() - run the peer check now
 * @ivs: the device
 *
 * Context: process context, may sleep.
 */
void dibs_ivs_poll(struct dibs_ivs_dev *ivs)
{
	mutex_lock(&ivs->lock);
	dibs_ivs_check_peers(ivs);
	mutex_unlock(&ivs->lock);
}
EXPORT_SYMBOL_IF_KUNIT(dibs_ivs_poll);
#endif

/* The PCI function. */

#define DIBS_IVS_PCI_VENDOR	0x1af4
#define DIBS_IVS_PCI_DEVICE	0x1110
/* BAR0 registers. */
#define DIBS_IVS_REG_IVPOSITION	8
#define DIBS_IVS_REG_DOORBELL	12
#define DIBS_IVS_BAR_REGS	0
#define DIBS_IVS_BAR_SHM	2

/**
 * struct dibs_ivs_pci - a bound ivshmem function
 * @pdev: the function.
 * @regs: its BAR0.
 * @pgmap: struct pages for its region.
 * @ivs: the DIBS device, once it is up; read by the interrupt handlers.
 */
struct dibs_ivs_pci {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct dev_pagemap pgmap;
	struct dibs_ivs_dev *ivs;
};

static void dibs_ivs_pci_ring(void *hw_priv, u16 id, unsigned int vector)
{
	struct dibs_ivs_pci *ip = hw_priv;

	writel((u32)id << 16 | vector, ip->regs + DIBS_IVS_REG_DOORBELL);
}

static const struct dibs_ivs_hw_ops dibs_ivs_pci_ops = {
	.ring = dibs_ivs_pci_ring,
};

static irqreturn_t dibs_ivs_pci_signal(int irq, void *data)
{
	struct dibs_ivs_pci *ip = data;
	/* Pairs with the release in probe: the device is set up. */
	struct dibs_ivs_dev *ivs = smp_load_acquire(&ip->ivs);

	if (ivs)
		dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_SIGNAL);
	return IRQ_HANDLED;
}

static irqreturn_t dibs_ivs_pci_control(int irq, void *data)
{
	struct dibs_ivs_pci *ip = data;
	/* Pairs with the release in probe: the device is set up. */
	struct dibs_ivs_dev *ivs = smp_load_acquire(&ip->ivs);

	if (ivs)
		dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_CONTROL);
	return IRQ_HANDLED;
}

static void dibs_ivs_pci_free_irqs(struct dibs_ivs_pci *ip)
{
	free_irq(pci_irq_vector(ip->pdev, DIBS_IVSHMEM_VEC_CONTROL), ip);
	free_irq(pci_irq_vector(ip->pdev, DIBS_IVSHMEM_VEC_SIGNAL), ip);
	pci_free_irq_vectors(ip->pdev);
}

static int dibs_ivs_pci_irqs(struct dibs_ivs_pci *ip)
{
	struct pci_dev *pdev = ip->pdev;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, DIBS_IVSHMEM_VECTORS,
				    DIBS_IVSHMEM_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_info(&pdev->dev, "needs %d MSI-X vectors (ivshmem-doorbell,vectors=2)\n",
			 DIBS_IVSHMEM_VECTORS);
		return ret;
	}
	ret = request_irq(pci_irq_vector(pdev, DIBS_IVSHMEM_VEC_SIGNAL),
			  dibs_ivs_pci_signal, 0, "dibs_ivshmem-signal", ip);
	if (ret)
		goto err_vectors;
	ret = request_irq(pci_irq_vector(pdev, DIBS_IVSHMEM_VEC_CONTROL),
			  dibs_ivs_pci_control, 0, "dibs_ivshmem-control", ip);
	if (ret)
		goto err_signal;
	return 0;

err_signal:
	free_irq(pci_irq_vector(pdev, DIBS_IVSHMEM_VEC_SIGNAL), ip);
err_vectors:
	pci_free_irq_vectors(pdev);
	return ret;
}

static int dibs_ivs_pci_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	struct dibs_ivs_params p = { };
	struct dibs_ivs_dev *ivs;
	struct dibs_ivs_pci *ip;
	struct resource *shm;
	u32 ivposition;
	void *base;
	int ret;

	ip = devm_kzalloc(&pdev->dev, sizeof(*ip), GFP_KERNEL);
	if (!ip)
		return -ENOMEM;
	ip->pdev = pdev;
	pci_set_drvdata(pdev, ip);
	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto err_disable;
	ip->regs = pci_iomap(pdev, DIBS_IVS_BAR_REGS, 0);
	if (!ip->regs) {
		ret = -ENOMEM;
		goto err_release;
	}
	shm = &pdev->resource[DIBS_IVS_BAR_SHM];
	if (!(resource_type(shm) & IORESOURCE_MEM) ||
	    resource_size(shm) < 2 * DIBS_IVSHMEM_HEAP_ALIGN ||
	    !IS_ALIGNED(shm->start, DIBS_IVSHMEM_HEAP_ALIGN) ||
	    !IS_ALIGNED(resource_size(shm), DIBS_IVSHMEM_HEAP_ALIGN)) {
		dev_info(&pdev->dev, "no usable shared memory BAR\n");
		ret = -ENODEV;
		goto err_unmap;
	}
	ip->pgmap.type = MEMORY_DEVICE_GENERIC;
	ip->pgmap.range.start = shm->start;
	ip->pgmap.range.end = shm->end;
	ip->pgmap.nr_range = 1;
	ip->pgmap.vmemmap_shift = ilog2(DIBS_IVSHMEM_HEAP_ALIGN) - PAGE_SHIFT;
	base = devm_memremap_pages(&pdev->dev, &ip->pgmap);
	if (IS_ERR(base)) {
		ret = PTR_ERR(base);
		dev_info(&pdev->dev, "cannot map the shared memory: %d\n", ret);
		goto err_unmap;
	}
	ivposition = readl(ip->regs + DIBS_IVS_REG_IVPOSITION);

	pci_set_master(pdev);
	ret = dibs_ivs_pci_irqs(ip);
	if (ret)
		goto err_unmap;

	p.parent = &pdev->dev;
	p.name = pci_name(pdev);
	p.base = base;
	p.size = resource_size(shm);
	p.id = min_t(u32, ivposition, U16_MAX);
	p.ops = &dibs_ivs_pci_ops;
	p.hw_priv = ip;
	ivs = dibs_ivs_dev_create(&p);
	if (IS_ERR(ivs)) {
		ret = PTR_ERR(ivs);
		goto err_irqs;
	}
	/* The device is complete before the handlers see it. */
	smp_store_release(&ip->ivs, ivs);
	/* Interrupts that came while joining were not passed on. */
	dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_SIGNAL);
	dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_CONTROL);
	dev_info(&pdev->dev, "joined fabric 0x%04x in slot %u with ID %u\n",
		 dibs_ivs_get_fabric_id(ivs->dibs), ivs->slot, ivposition);
	return 0;

err_irqs:
	dibs_ivs_pci_free_irqs(ip);
	pci_clear_master(pdev);
err_unmap:
	pci_iounmap(pdev, ip->regs);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void dibs_ivs_pci_remove(struct pci_dev *pdev)
{
	struct dibs_ivs_pci *ip = pci_get_drvdata(pdev);

	dibs_ivs_pci_free_irqs(ip);
	dibs_ivs_dev_destroy(ip->ivs);
	pci_clear_master(pdev);
	pci_iounmap(pdev, ip->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id dibs_ivs_pci_ids[] = {
	{ PCI_DEVICE(DIBS_IVS_PCI_VENDOR, DIBS_IVS_PCI_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, dibs_ivs_pci_ids);

static struct pci_driver dibs_ivs_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = dibs_ivs_pci_ids,
	.probe = dibs_ivs_pci_probe,
	.remove = dibs_ivs_pci_remove,
	.driver.probe_type = PROBE_PREFER_ASYNCHRONOUS,
};

static int __init dibs_ivs_init(void)
{
	int ret;

	dibs_ivs_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = pci_register_driver(&dibs_ivs_pci_driver);
	if (ret)
		debugfs_remove(dibs_ivs_debugfs);
	return ret;
}

static void __exit dibs_ivs_exit(void)
{
	pci_unregister_driver(&dibs_ivs_pci_driver);
	debugfs_remove(dibs_ivs_debugfs);
}

module_init(dibs_ivs_init);
module_exit(dibs_ivs_exit);

MODULE_DESCRIPTION("DIBS device over QEMU's ivshmem shared memory");
MODULE_LICENSE("GPL");
