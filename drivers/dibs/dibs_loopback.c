// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS loopback device: a software DIBS device on the loopback fabric, whose
 * DMBs live in kernel memory and which can only talk to itself.
 */

#define pr_fmt(fmt) "dibs_loopback: " fmt

#include <linux/bitmap.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/dibs.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "dibs_core.h"
#include "dibs_loopback.h"

/**
 * DOC: loopback
 *
 * Loading ``dibs_loopback`` creates one device named ``lo`` with a random
 * GID on the loopback fabric (%DIBS_LOOPBACK_FABRIC). A loopback device
 * reaches only itself: query_remote_gid() and register_dmb() accept only
 * the device's own GID and answer ``-ENETUNREACH`` for any other.
 *
 * The memory of a DMB is one zeroed folio of ``get_order(len)``, so clients
 * may take a reference on its first page and reach any byte of the DMB
 * through it (SMC-D splices received data that way). A DMB of a
 * power-of-two length holds exactly that many bytes plus a small
 * descriptor; other lengths are rounded up to the next power of two of
 * pages. Sizes range from 1 byte to %DIBS_LO_MAX_DMB_LEN (1 MiB); a device
 * has %DIBS_LO_MAX_DMBS (5000) DMB indices. The memory has no DMA mapping:
 * register_dmb() and attach_dmb() report its ``dma_addr`` as
 * %DIBS_DMA_ADDR_NONE, never as 0, which SMC-D reads as "never registered"
 * (it would then never unregister the DMB).
 *
 * A DMB token holds the DMB index in its low 16 bits and 48 random bits
 * above them. It is therefore never 0, unique among live DMBs, and not
 * guessable, and move_data() finds its DMB with one array lookup under RCU:
 * the data path takes no lock and allocates nothing.
 *
 * An unregistered DMB's memory is freed at once (and its descriptor too, or
 * kept for the device's next DMB), unless a move_data() is copying into it
 * at that moment: every copy names the DMB it writes in a per-CPU hazard
 * slot while it runs, and a DMB that a slot names is freed only after an
 * RCU grace period. So a concurrent move_data() never writes into freed
 * memory, and a client that registers and unregisters DMBs in quick
 * succession gets the same, still cached memory back instead of waiting for
 * grace periods. This costs each move one full memory barrier, and each
 * unregistration a look at four slots per possible CPU.
 *
 * A move with the signal flag calls the owner's handle_irq() synchronously,
 * with bit ``idx`` (counted from the least significant bit) of the mask set
 * for signalling index ``idx`` (0 to 15), the same numbering a client uses
 * in move_data(). Signals for a DMB whose handle_irq() is already running are
 * coalesced into one further call once it returns, so one DMB's handler
 * never runs on two CPUs at once and never recurses.
 *
 * The core delivers a signal to whichever client owns the DMB index at
 * that moment, so the index of an unregistered DMB is not handed out again
 * until an RCU grace period has passed: a move that found the old DMB, and
 * the signals it delivers, all run under rcu_read_lock() and are over by
 * then, and can never reach the next owner of the index. New DMBs take the
 * lowest index that is neither registered nor draining so; draining indices
 * are freed only when all are taken, or when a client asks for one by
 * number (register_dmb() then waits for the grace period if it has not
 * passed).
 *
 * Zero-copy is supported: attach_dmb() returns the DMB's own address and
 * pins the DMB until detach_dmb(), even if the owner unregisters it
 * meanwhile. A device created while the module parameter ``zero_copy`` is
 * 0 answers support_mmapped_rdmb() with 0 and attach_dmb() with
 * ``-EOPNOTSUPP`` for its whole life (clients such as SMC-D decide once
 * per connection how they write), so that clients' copy path can be tested
 * on loopback too.
 *
 * Errors, besides those of the core:
 *
 * - register_dmb(): ``-EINVAL`` for a length of 0 or above 1 MiB or a
 *   requested index out of range, ``-EBUSY`` if the requested index is
 *   taken, ``-ENOSPC`` if all indices are in use, ``-ENETUNREACH`` if the
 *   remote GID is not the device's own, ``-ENOMEM``; on error nothing
 *   stays allocated but, at most, the descriptor kept for the next DMB;
 * - unregister_dmb(), attach_dmb(), detach_dmb(): ``-ENOENT`` for a token
 *   that names no DMB of the device (never issued, unregistered, or of
 *   another device), and for detach_dmb() also one with no mapping left;
 * - move_data(): ``-ENOENT`` for such a token, ``-EINVAL`` for a
 *   signalling index above 15 or ``offset + size`` beyond the DMB; nothing
 *   is written then;
 * - query_remote_gid(): ``-ENETUNREACH`` for any GID but the device's own.
 *
 * VLANs mean nothing on a device that only reaches itself; the VLAN
 * operations are absent and the VLAN fields of a DMB are ignored.
 *
 * There is no signal_event(): the only peer of a loopback device is the
 * device itself, so an event would come back to its sender. SMC-D sends
 * its peer an event when a link group ends and, on receiving one,
 * terminates every link group to the sender's GID, which on loopback would
 * abort all its live connections. Without signal_event() SMC-D skips that
 * announcement, as it does on upstream's loopback device.
 *
 * Further devices are added and removed at run time through debugfs::
 *
 *   echo lo1 > /sys/kernel/debug/dibs_loopback/new_device
 *   echo lo1 > /sys/kernel/debug/dibs_loopback/del_device
 *
 * Names are 1 to 15 characters from ``[a-z0-9_-]``; a duplicate name is
 * refused with ``-EEXIST``, an unknown one with ``-ENODEV``.
 *
 * Removing a device, or unloading the module, first takes the device away
 * from every client (dibs_dev_del()), whose del_dev() must unregister and
 * detach all its DMBs. A DMB that a faulty client keeps after that (or one
 * whose owner unregistered from DIBS without unregistering it) is never
 * freed under it: its memory is left allocated and reported in the kernel
 * log, and the rest of the device is freed.
 */

/* The signal state word: pending signal bits, and a handler running. */
#define DIBS_LO_SIG_RUNNING	BIT(DIBS_LO_SIGNALS)

/**
 * struct dibs_lo_dmb - a registered DMB
 * @token: the DMB's token.
 * @cpu_addr: its memory, the start of one folio.
 * @len: its length as registered.
 * @idx: its index on the device.
 * @registered: the owner has not unregistered it yet.
 * @attached: number of attach_dmb() calls not yet detached.
 * @orphan: entry in &dibs_lo_dev.orphans while unregistered but attached.
 * @rcu: for freeing after a grace period, if a move still holds it.
 *
 * @registered, @attached and @orphan are protected by &dibs_lo_dev.lock.
 */
struct dibs_lo_dmb {
	u64 token;
	void *cpu_addr;
	u32 len;
	u32 idx;
	bool registered;
	unsigned int attached;
	struct list_head orphan;
	struct rcu_head rcu;
};

/**
 * struct dibs_lo_dev - a loopback device
 * @dibs: the DIBS device.
 * @name: its name.
 * @node: entry in the list of all loopback devices.
 * @lock: serialises register, unregister, attach and detach; protects
 *	@idx, @orphans and the writers of @dmbs.
 * @idx: the DMB indices; an unregistered DMB's index drains for an RCU
 *	grace period, as a move that found the DMB may still signal through
 *	it.
 * @orphans: DMBs unregistered by their owner but still attached.
 * @dmbs: the registered DMBs by index; read under RCU by move_data().
 * @signals: per DMB index, pending signal bits and %DIBS_LO_SIG_RUNNING;
 *	see dibs_lo_signal(). The index drains before its next DMB, so no
 *	signal for the old one is left in it then.
 * @token_key: the random key of the device's tokens; see
 *	dibs_lo_new_token().
 * @tokens: number of tokens issued; under @lock.
 * @spare: the descriptor of the DMB freed last, for the next one, or NULL;
 *	under @lock. Clients register and unregister DMBs in turn, and this
 *	saves a round trip through the slab allocator each time.
 * @zero_copy: attach_dmb() is supported; fixed at creation.
 */
struct dibs_lo_dev {
	struct dibs_dev *dibs;
	char name[DIBS_LO_NAME_MAX + 1];
	bool zero_copy;
	struct list_head node;
	struct mutex lock;	/* see above */
	struct dibs_idx_pool idx;
	struct list_head orphans;
	struct dibs_lo_dmb __rcu **dmbs;
	atomic_t *signals;
	siphash_key_t token_key;
	u64 tokens;
	struct dibs_lo_dmb *spare;
};

static bool zero_copy = true;
module_param(zero_copy, bool, 0644);
MODULE_PARM_DESC(zero_copy,
		 "Loopback devices created from now on support zero-copy writers (attach_dmb()); default: 1");

/* Serialises creating and removing devices; protects dibs_lo_devices. */
static DEFINE_MUTEX(dibs_lo_devices_lock);
static LIST_HEAD(dibs_lo_devices);
static struct dentry *dibs_lo_debugfs;

static struct dibs_lo_dev *to_lo_dev(struct dibs_dev *dibs)
{
	return dibs->drv_priv;
}

static u16 dibs_lo_get_fabric_id(struct dibs_dev *dibs)
{
	return DIBS_LOOPBACK_FABRIC;
}

static int dibs_lo_query_remote_gid(struct dibs_dev *dibs, const uuid_t *rgid,
				    u32 vid_valid, u32 vid)
{
	return uuid_equal(rgid, &dibs->gid) ? 0 : -ENETUNREACH;
}

static int dibs_lo_max_dmbs(void)
{
	return DIBS_LO_MAX_DMBS;
}

/*
 * Nesting levels of move_data() on one CPU: task, softirq, hardirq and NMI
 * context, as interrupt_context_level() counts them.
 */
#define DIBS_LO_LEVELS	4

/**
 * struct dibs_lo_hazards - the DMBs a CPU's moves are writing
 * @dmb: per nesting level, the DMB being written, or NULL.
 *
 * See dibs_lo_write(). A move on one level runs with preemption disabled
 * and can only be interrupted by a higher level, so each level has at most
 * one move in progress.
 */
struct dibs_lo_hazards {
	const void *dmb[DIBS_LO_LEVELS];
};

static DEFINE_PER_CPU(struct dibs_lo_hazards, dibs_lo_hazards);

/*
 * Whether a move may be using @dmb, which the caller has taken out of the
 * index table. Pairs with smp_mb() in dibs_lo_write().
 */
static bool dibs_lo_dmb_busy(const struct dibs_lo_dmb *dmb)
{
	struct dibs_lo_hazards *hz;
	int cpu, level;

	/* Orders the unpublishing before the reads of the slots. */
	smp_mb();
	for_each_possible_cpu(cpu) {
		hz = per_cpu_ptr(&dibs_lo_hazards, cpu);
		for (level = 0; level < DIBS_LO_LEVELS; level++)
			if (READ_ONCE(hz->dmb[level]) == dmb)
				return true;
	}
	return false;
}

static void dibs_lo_dmb_free_rcu(struct rcu_head *head)
{
	struct dibs_lo_dmb *dmb = container_of(head, struct dibs_lo_dmb, rcu);

	folio_put(virt_to_folio(dmb->cpu_addr));
	kfree(dmb);
}

/* A descriptor for a new DMB, contents undefined; under the lock. */
static struct dibs_lo_dmb *dibs_lo_dmb_alloc(struct dibs_lo_dev *ldev)
{
	struct dibs_lo_dmb *dmb = ldev->spare;

	lockdep_assert_held(&ldev->lock);
	if (!dmb)
		return kmalloc_obj(*dmb);
	ldev->spare = NULL;
	return dmb;
}

/* Free @dmb, a descriptor no move can reach; under the lock. */
static void dibs_lo_dmb_free(struct dibs_lo_dev *ldev, struct dibs_lo_dmb *dmb)
{
	lockdep_assert_held(&ldev->lock);
	if (ldev->spare)
		kfree(dmb);
	else
		ldev->spare = dmb;
}

/*
 * Free @dmb and its memory once nobody can reach it; under the lock. It
 * goes at once unless a move is still using it, and then after an RCU
 * grace period, which ends that move.
 */
static void dibs_lo_dmb_put(struct dibs_lo_dev *ldev, struct dibs_lo_dmb *dmb)
{
	if (dmb->registered || dmb->attached)
		return;
	if (dibs_lo_dmb_busy(dmb)) {
		call_rcu(&dmb->rcu, dibs_lo_dmb_free_rcu);
		return;
	}
	folio_put(virt_to_folio(dmb->cpu_addr));
	dibs_lo_dmb_free(ldev, dmb);
}

/* The DMB index that @token names; it may be out of range. */
static unsigned int dibs_lo_token_idx(u64 token)
{
	return token & GENMASK(DIBS_LO_TOKEN_IDX_BITS - 1, 0);
}

/* The registered DMB with @token, or NULL; under &dibs_lo_dev.lock. */
static struct dibs_lo_dmb *dibs_lo_find(struct dibs_lo_dev *ldev, u64 token)
{
	unsigned int idx = dibs_lo_token_idx(token);
	struct dibs_lo_dmb *dmb;

	if (idx >= DIBS_LO_MAX_DMBS)
		return NULL;
	dmb = rcu_dereference_protected(ldev->dmbs[idx],
					lockdep_is_held(&ldev->lock));
	if (!dmb || dmb->token != token)
		return NULL;
	return dmb;
}

/*
 * A fresh token for index @idx: 48 bits that nobody can predict above the
 * index, never 0. They come from a keyed pseudo-random function (SipHash
 * with the device's random key) of the number of tokens issued, which
 * costs less than drawing from the random number generator every time.
 * Under the device lock.
 */
static u64 dibs_lo_new_token(struct dibs_lo_dev *ldev, u32 idx)
{
	u64 random;

	do {
		random = siphash_1u64(ldev->tokens++, &ldev->token_key) <<
			 DIBS_LO_TOKEN_IDX_BITS;
	} while (!random);
	return random | idx;
}

static int dibs_lo_register_dmb(struct dibs_dev *dibs, struct dibs_dmb *desc,
				struct dibs_client *client)
{
	struct dibs_lo_dev *ldev = to_lo_dev(dibs);
	struct dibs_lo_dmb *dmb;
	struct folio *folio;
	int idx, ret;

	if (!desc->dmb_len || desc->dmb_len > DIBS_LO_MAX_DMB_LEN ||
	    desc->idx >= DIBS_LO_MAX_DMBS)
		return -EINVAL;
	if (!uuid_equal(&desc->rgid, &dibs->gid))
		return -ENETUNREACH;

	folio = folio_alloc(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			    __GFP_NORETRY, get_order(desc->dmb_len));
	if (!folio)
		return -ENOMEM;

	mutex_lock(&ldev->lock);
	dmb = dibs_lo_dmb_alloc(ldev);
	if (!dmb) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	idx = dibs_idx_reserve(&ldev->idx, desc->idx);
	if (idx < 0) {
		ret = idx;
		goto err_free_dmb;
	}
	ret = dibs_dmb_set_owner(dibs, idx, client);
	if (ret)
		goto err_release_idx;

	dmb->token = dibs_lo_new_token(ldev, idx);
	dmb->cpu_addr = folio_address(folio);
	dmb->len = desc->dmb_len;
	dmb->idx = idx;
	dmb->registered = true;
	dmb->attached = 0;
	rcu_assign_pointer(ldev->dmbs[idx], dmb);
	desc->idx = idx;
	desc->dmb_tok = dmb->token;
	desc->cpu_addr = dmb->cpu_addr;
	desc->dma_addr = DIBS_DMA_ADDR_NONE;
	mutex_unlock(&ldev->lock);

	dibs_dmb_registered(dibs, desc, client);
	return 0;

err_release_idx:
	dibs_idx_release(&ldev->idx, idx);
err_free_dmb:
	dibs_lo_dmb_free(ldev, dmb);
err_unlock:
	mutex_unlock(&ldev->lock);
	folio_put(folio);
	return ret;
}

/* Take @dmb out of the index table; under the lock. */
static void dibs_lo_unpublish(struct dibs_lo_dev *ldev, struct dibs_lo_dmb *dmb)
{
	lockdep_assert_held(&ldev->lock);
	dibs_dmb_clear_owner(ldev->dibs, dmb->idx);
	RCU_INIT_POINTER(ldev->dmbs[dmb->idx], NULL);
	dibs_dmb_unregistered(ldev->dibs, dmb->idx, dmb->len, dmb->token);
	/* A move that found @dmb may still signal through its index. */
	dibs_idx_drain(&ldev->idx, dmb->idx);
	dmb->registered = false;
	if (dmb->attached)
		list_add(&dmb->orphan, &ldev->orphans);
	dibs_lo_dmb_put(ldev, dmb);
}

static int dibs_lo_unregister_dmb(struct dibs_dev *dibs, struct dibs_dmb *desc)
{
	struct dibs_lo_dev *ldev = to_lo_dev(dibs);
	struct dibs_lo_dmb *dmb;
	int ret = 0;

	mutex_lock(&ldev->lock);
	dmb = dibs_lo_find(ldev, desc->dmb_tok);
	if (dmb)
		dibs_lo_unpublish(ldev, dmb);
	else
		ret = -ENOENT;
	mutex_unlock(&ldev->lock);
	return ret;
}

/*
 * Deliver signal @sig_idx to the owner of DMB index @idx, coalescing with
 * signals that arrive while its handler runs: whoever sets the RUNNING bit
 * delivers, in a loop, every bit pending until it can clear RUNNING with
 * none pending. The state word is 0 or has RUNNING set: pending bits are
 * only ever set together with it. Under RCU, which keeps the index from
 * its next DMB.
 *
 * With no handler running, which is the common case, this costs two
 * atomic operations: one to take RUNNING, one to drop it.
 */
static void dibs_lo_signal(struct dibs_lo_dev *ldev, unsigned int idx,
			   unsigned int sig_idx)
{
	atomic_t *state = &ldev->signals[idx];
	int old = 0, pending = BIT(sig_idx);

	if (!atomic_try_cmpxchg_acquire(state, &old, DIBS_LO_SIG_RUNNING)) {
		old = atomic_fetch_or(pending | DIBS_LO_SIG_RUNNING, state);
		if (old & DIBS_LO_SIG_RUNNING) {
			dibs_signal_coalesced(ldev->dibs, idx, pending);
			return;
		}
		/* The handler ended meanwhile: deliver what is pending. */
		pending = atomic_xchg(state, DIBS_LO_SIG_RUNNING);
	}

	for (;;) {
		dibs_deliver_irq(ldev->dibs, idx,
				 pending & GENMASK(DIBS_LO_SIGNALS - 1, 0));
		old = DIBS_LO_SIG_RUNNING;
		if (atomic_try_cmpxchg_release(state, &old, 0))
			return;
		pending = atomic_xchg(state, DIBS_LO_SIG_RUNNING);
	}
}

/*
 * Write @size bytes of @data at @offset into the registered DMB with
 * @token at index @idx; under RCU. Without taking a lock or a reference:
 * this CPU's hazard slot for its nesting level names the DMB while the
 * copy runs, and dibs_lo_dmb_put() frees no DMB that a slot names. The full
 * barriers on both sides order each one's write before its read, so either
 * dibs_lo_dmb_put() sees the slot or this sees the DMB gone from the table.
 * Returns 0, -ENOENT or -EINVAL.
 */
static int dibs_lo_write(struct dibs_lo_dev *ldev, unsigned int idx,
			 u64 token, unsigned int offset, const void *data,
			 unsigned int size)
{
	struct dibs_lo_dmb *dmb;
	const void **slot;
	int ret = 0;

	if (idx >= DIBS_LO_MAX_DMBS)
		return -ENOENT;
	dmb = rcu_dereference(ldev->dmbs[idx]);
	if (!dmb)
		return -ENOENT;

	preempt_disable();
	slot = &this_cpu_ptr(&dibs_lo_hazards)->dmb[interrupt_context_level()];
	WRITE_ONCE(*slot, dmb);
	/* Pairs with smp_mb() in dibs_lo_dmb_busy(). */
	smp_mb();
	if (unlikely(rcu_access_pointer(ldev->dmbs[idx]) != dmb ||
		     dmb->token != token))
		ret = -ENOENT;
	else if (size > dmb->len || offset > dmb->len - size)
		ret = -EINVAL;
	else
		memcpy(dmb->cpu_addr + offset, data, size);
	/* Done with the DMB before the slot lets it go. */
	smp_store_release(slot, NULL);
	preempt_enable();
	return ret;
}

static int dibs_lo_move_data(struct dibs_dev *dibs, u64 dmb_tok,
			     unsigned int idx, bool sf, unsigned int offset,
			     void *data, unsigned int size)
{
	unsigned int dmb_idx = dibs_lo_token_idx(dmb_tok);
	struct dibs_lo_dev *ldev = to_lo_dev(dibs);
	int ret;

	if (idx >= DIBS_LO_SIGNALS) {
		ret = -EINVAL;
		goto err;
	}

	rcu_read_lock();
	ret = dibs_lo_write(ldev, dmb_idx, dmb_tok, offset, data, size);
	if (!ret) {
		dibs_moved(dibs, size, sf);
		if (sf)
			dibs_lo_signal(ldev, dmb_idx, idx);
	}
	rcu_read_unlock();
	if (!ret)
		return 0;
err:
	dibs_move_failed(dibs, dmb_tok, offset, size, ret);
	return ret;
}

static int dibs_lo_support_mmapped_rdmb(struct dibs_dev *dibs)
{
	return to_lo_dev(dibs)->zero_copy;
}

static int dibs_lo_attach_dmb(struct dibs_dev *dibs, struct dibs_dmb *desc)
{
	struct dibs_lo_dev *ldev = to_lo_dev(dibs);
	struct dibs_lo_dmb *dmb;
	int ret = 0;

	if (!ldev->zero_copy)
		return -EOPNOTSUPP;
	mutex_lock(&ldev->lock);
	dmb = dibs_lo_find(ldev, desc->dmb_tok);
	if (dmb) {
		dmb->attached++;
		desc->cpu_addr = dmb->cpu_addr;
		desc->dmb_len = dmb->len;
		desc->idx = dmb->idx;
		desc->dma_addr = DIBS_DMA_ADDR_NONE;
		dibs_dmb_attached(dibs, desc);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&ldev->lock);
	return ret;
}

/* The attached DMB with @token, registered or orphaned; under the lock. */
static struct dibs_lo_dmb *dibs_lo_find_attached(struct dibs_lo_dev *ldev,
						 u64 token)
{
	struct dibs_lo_dmb *dmb = dibs_lo_find(ldev, token);

	lockdep_assert_held(&ldev->lock);
	if (dmb)
		return dmb->attached ? dmb : NULL;
	list_for_each_entry(dmb, &ldev->orphans, orphan)
		if (dmb->token == token)
			return dmb;
	return NULL;
}

static int dibs_lo_detach_dmb(struct dibs_dev *dibs, u64 token)
{
	struct dibs_lo_dev *ldev = to_lo_dev(dibs);
	struct dibs_lo_dmb *dmb;
	int ret = 0;

	mutex_lock(&ldev->lock);
	dmb = dibs_lo_find_attached(ldev, token);
	if (dmb) {
		if (!--dmb->attached && !dmb->registered)
			list_del(&dmb->orphan);
		dibs_lo_dmb_put(ldev, dmb);
		dibs_dmb_detached(dibs, token);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&ldev->lock);
	return ret;
}

static const struct dibs_dev_ops dibs_lo_ops = {
	.get_fabric_id = dibs_lo_get_fabric_id,
	.query_remote_gid = dibs_lo_query_remote_gid,
	.max_dmbs = dibs_lo_max_dmbs,
	.register_dmb = dibs_lo_register_dmb,
	.unregister_dmb = dibs_lo_unregister_dmb,
	.move_data = dibs_lo_move_data,
	.support_mmapped_rdmb = dibs_lo_support_mmapped_rdmb,
	.attach_dmb = dibs_lo_attach_dmb,
	.detach_dmb = dibs_lo_detach_dmb,
};

static bool dibs_lo_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > DIBS_LO_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!islower(*name) && !isdigit(*name) && *name != '_' &&
		    *name != '-')
			return false;
	return true;
}

static struct dibs_lo_dev *dibs_lo_lookup(const char *name)
{
	struct dibs_lo_dev *ldev;

	lockdep_assert_held(&dibs_lo_devices_lock);
	list_for_each_entry(ldev, &dibs_lo_devices, node)
		if (!strcmp(ldev->name, name))
			return ldev;
	return NULL;
}

static void dibs_lo_dev_free(struct dibs_lo_dev *ldev)
{
	dibs_idx_pool_destroy(&ldev->idx);
	kfree(ldev->spare);
	kvfree(ldev->signals);
	kvfree(ldev->dmbs);
	mutex_destroy(&ldev->lock);
	kfree(ldev);
}

/**
 * dibs_lo_dev_create() - create and add a loopback device
 * @name: its name, 1 to %DIBS_LO_NAME_MAX characters of ``[a-z0-9_-]``
 * @zero_copy: whether the device supports attach_dmb()
 *
 * Context: process context, may sleep; not from a client's add_dev() or
 * del_dev().
 * Return: the device; ERR_PTR(-EINVAL) for a bad name, ERR_PTR(-EEXIST) if
 * a device of that name exists, ERR_PTR(-ENOMEM), or the error of
 * dibs_dev_add().
 */
VISIBLE_IF_KUNIT struct dibs_lo_dev *
dibs_lo_dev_create(const char *name, bool zero_copy)
{
	struct dibs_lo_dev *ldev;
	struct dibs_dev *dibs;
	int ret;

	if (!dibs_lo_name_valid(name))
		return ERR_PTR(-EINVAL);

	ldev = kzalloc_obj(*ldev);
	if (!ldev)
		return ERR_PTR(-ENOMEM);
	strscpy(ldev->name, name);
	ldev->zero_copy = zero_copy;
	mutex_init(&ldev->lock);
	INIT_LIST_HEAD(&ldev->orphans);
	get_random_bytes(&ldev->token_key, sizeof(ldev->token_key));
	ldev->dmbs = kvzalloc_objs(*ldev->dmbs, DIBS_LO_MAX_DMBS);
	ldev->signals = kvzalloc_objs(*ldev->signals, DIBS_LO_MAX_DMBS);
	if (dibs_idx_pool_init(&ldev->idx, DIBS_LO_MAX_DMBS) || !ldev->dmbs ||
	    !ldev->signals) {
		ret = -ENOMEM;
		goto err_free_ldev;
	}

	dibs = dibs_dev_alloc();
	if (!dibs) {
		ret = -ENOMEM;
		goto err_free_ldev;
	}
	ldev->dibs = dibs;
	dibs->ops = &dibs_lo_ops;
	dibs->drv_priv = ldev;
	uuid_gen(&dibs->gid);
	ret = dev_set_name(&dibs->dev, "%s", name);
	if (ret)
		goto err_put_dibs;

	mutex_lock(&dibs_lo_devices_lock);
	if (dibs_lo_lookup(name)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	ret = dibs_dev_add(dibs);
	if (ret)
		goto err_unlock;
	list_add_tail(&ldev->node, &dibs_lo_devices);
	mutex_unlock(&dibs_lo_devices_lock);
	return ldev;

err_unlock:
	mutex_unlock(&dibs_lo_devices_lock);
err_put_dibs:
	put_device(&dibs->dev);
err_free_ldev:
	dibs_lo_dev_free(ldev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(dibs_lo_dev_create);

/*
 * Free the descriptors of the DMBs left on a withdrawn device, registered or
 * attached, but not their memory, which whoever kept the DMB may still
 * touch. Returns how many there were; under the device lock.
 */
static unsigned int dibs_lo_abandon_dmbs(struct dibs_lo_dev *ldev,
					 unsigned long *bytes)
{
	struct dibs_lo_dmb *dmb, *next;
	unsigned int idx, count = 0;
	LIST_HEAD(left);

	lockdep_assert_held(&ldev->lock);
	for_each_set_bit(idx, ldev->idx.used, DIBS_LO_MAX_DMBS) {
		__clear_bit(idx, ldev->idx.used);
		if (__test_and_clear_bit(idx, ldev->idx.draining))
			continue;
		dmb = rcu_dereference_protected(ldev->dmbs[idx],
						lockdep_is_held(&ldev->lock));
		RCU_INIT_POINTER(ldev->dmbs[idx], NULL);
		/* Registered DMBs are never on the orphan list. */
		list_add(&dmb->orphan, &left);
	}
	list_splice_init(&ldev->orphans, &left);
	list_for_each_entry_safe(dmb, next, &left, orphan) {
		*bytes += folio_size(virt_to_folio(dmb->cpu_addr));
		count++;
		kfree_rcu(dmb, rcu);
	}
	return count;
}

/* Withdraw @ldev from its clients and free it; under dibs_lo_devices_lock. */
static void dibs_lo_dev_remove(struct dibs_lo_dev *ldev)
{
	unsigned long bytes = 0;
	unsigned int left;

	lockdep_assert_held(&dibs_lo_devices_lock);
	list_del(&ldev->node);
	dibs_dev_del(ldev->dibs);

	mutex_lock(&ldev->lock);
	left = dibs_lo_abandon_dmbs(ldev, &bytes);
	mutex_unlock(&ldev->lock);
	if (left)
		pr_err("%s: %u DMBs left by clients after removal; leaking their %lu bytes\n",
		       ldev->name, left, bytes);
	put_device(&ldev->dibs->dev);
	dibs_lo_dev_free(ldev);
}

/**
 * dibs_lo_dev_destroy() - remove a loopback device
 * @name: the device's name
 *
 * Takes the device away from every client (their del_dev() must release
 * its DMBs) and frees it.
 *
 * Context: process context, may sleep; not from a client's add_dev() or
 * del_dev().
 * Return: 0, or -ENODEV if no loopback device has that name.
 */
VISIBLE_IF_KUNIT int dibs_lo_dev_destroy(const char *name)
{
	struct dibs_lo_dev *ldev;
	int ret = 0;

	mutex_lock(&dibs_lo_devices_lock);
	ldev = dibs_lo_lookup(name);
	if (ldev)
		dibs_lo_dev_remove(ldev);
	else
		ret = -ENODEV;
	mutex_unlock(&dibs_lo_devices_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_lo_dev_destroy);

#if IS_ENABLED(CONFIG_KUNIT)
/* Count the DMBs still registered or attached; under the device lock. */
static unsigned int dibs_lo_count_dmbs(struct dibs_lo_dev *ldev)
{
	struct dibs_lo_dmb *dmb;
	unsigned int count;

	lockdep_assert_held(&ldev->lock);
	count = dibs_idx_in_use(&ldev->idx);
	list_for_each_entry(dmb, &ldev->orphans, orphan)
		count++;
	return count;
}

/**
 * dibs_lo_dev_dibs() - the DIBS device of a loopback device
 * @ldev: the loopback device
 *
 * Return: its &struct dibs_dev.
 */
struct dibs_dev *dibs_lo_dev_dibs(struct dibs_lo_dev *ldev)
{
	return ldev->dibs;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_lo_dev_dibs);

/**
 * dibs_lo_dmbs_in_use() - DMBs a loopback device holds
 * @ldev: the loopback device
 *
 * Context: process context, may sleep.
 * Return: the number of DMBs registered, or unregistered but attached.
 */
unsigned int dibs_lo_dmbs_in_use(struct dibs_lo_dev *ldev)
{
	unsigned int count;

	mutex_lock(&ldev->lock);
	count = dibs_lo_count_dmbs(ldev);
	mutex_unlock(&ldev->lock);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_lo_dmbs_in_use);

/**
 * dibs_lo_hazard_set() - act as a move on @cpu that is using a DMB
 * @ldev: the loopback device
 * @cpu: a possible CPU
 * @token: the DMB's token, or 0 to stop
 *
 * Sets the NMI level's hazard slot of @cpu, which no move uses in
 * practice, to the registered DMB with @token, so that tests can hold a
 * DMB the way a move in progress does, across calls that sleep.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOENT if @ldev has no DMB with @token.
 */
int dibs_lo_hazard_set(struct dibs_lo_dev *ldev, unsigned int cpu, u64 token)
{
	struct dibs_lo_dmb *dmb = NULL;

	mutex_lock(&ldev->lock);
	if (token) {
		dmb = dibs_lo_find(ldev, token);
		if (!dmb) {
			mutex_unlock(&ldev->lock);
			return -ENOENT;
		}
	}
	/* Set before anything the caller does next, as in dibs_lo_write(). */
	smp_store_mb(per_cpu_ptr(&dibs_lo_hazards, cpu)->dmb[DIBS_LO_LEVELS - 1],
		     dmb);
	mutex_unlock(&ldev->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dibs_lo_hazard_set);
#endif

/* Read a device name written to a debugfs control file. */
static int dibs_lo_read_name(const char __user *ubuf, size_t count,
			     char *name)
{
	char buf[DIBS_LO_NAME_MAX + 2];
	char *trimmed;

	if (!count || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	trimmed = strim(buf);
	if (strlen(trimmed) > DIBS_LO_NAME_MAX)
		return -EINVAL;
	strscpy(name, trimmed, DIBS_LO_NAME_MAX + 1);
	return 0;
}

static ssize_t dibs_lo_new_device_write(struct file *file,
					const char __user *ubuf,
					size_t count, loff_t *ppos)
{
	char name[DIBS_LO_NAME_MAX + 1];
	struct dibs_lo_dev *ldev;
	int ret;

	ret = dibs_lo_read_name(ubuf, count, name);
	if (ret)
		return ret;
	ldev = dibs_lo_dev_create(name, READ_ONCE(zero_copy));
	if (IS_ERR(ldev)) {
		pr_info("cannot create device \"%s\": %pe\n", name, ldev);
		return PTR_ERR(ldev);
	}
	return count;
}

static ssize_t dibs_lo_del_device_write(struct file *file,
					const char __user *ubuf,
					size_t count, loff_t *ppos)
{
	char name[DIBS_LO_NAME_MAX + 1];
	int ret;

	ret = dibs_lo_read_name(ubuf, count, name);
	if (ret)
		return ret;
	ret = dibs_lo_dev_destroy(name);
	return ret ? ret : count;
}

static const struct file_operations dibs_lo_new_device_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = dibs_lo_new_device_write,
	.llseek = noop_llseek,
};

static const struct file_operations dibs_lo_del_device_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = dibs_lo_del_device_write,
	.llseek = noop_llseek,
};

static void dibs_lo_remove_all(void)
{
	struct dibs_lo_dev *ldev, *next;

	mutex_lock(&dibs_lo_devices_lock);
	list_for_each_entry_safe_reverse(ldev, next, &dibs_lo_devices, node)
		dibs_lo_dev_remove(ldev);
	mutex_unlock(&dibs_lo_devices_lock);
}

static int __init dibs_lo_init(void)
{
	struct dibs_lo_dev *ldev;

	ldev = dibs_lo_dev_create("lo", READ_ONCE(zero_copy));
	if (IS_ERR(ldev))
		return PTR_ERR(ldev);

	dibs_lo_debugfs = debugfs_create_dir("dibs_loopback", NULL);
	debugfs_create_file("new_device", 0200, dibs_lo_debugfs, NULL,
			    &dibs_lo_new_device_fops);
	debugfs_create_file("del_device", 0200, dibs_lo_debugfs, NULL,
			    &dibs_lo_del_device_fops);
	return 0;
}

static void __exit dibs_lo_exit(void)
{
	/* No new devices from debugfs once this returns. */
	debugfs_remove(dibs_lo_debugfs);
	dibs_lo_remove_all();
	/* Let DMB memory freed by call_rcu() go before the code does. */
	rcu_barrier();
}

module_init(dibs_lo_init);
module_exit(dibs_lo_exit);

MODULE_DESCRIPTION("DIBS loopback device");
MODULE_LICENSE("GPL");
