// SPDX-License-Identifier: GPL-2.0
/*
 * A software model of ISM functions on a fabric, for the KUnit suite of the
 * ISM driver, much as netdevsim models a NIC.
 *
 * Each modelled function is a struct ism_transport: the driver's commands
 * and DMB stores arrive here instead of at the s390 PCI instructions. The
 * model executes the commands, keeps each function's DMB table and VLANs,
 * copies DMB stores into the owner's DMB and signals it, and queues events,
 * writing the SBA, the IEQ and the DMBs in host memory through their bus
 * addresses just as the function's DMA would. It decodes everything the
 * driver sends byte by byte, from the documented offsets, and never uses
 * the driver's structure definitions for that, so a layout or byte-order
 * mistake in the driver shows up as a test failure on any architecture.
 *
 * Knobs make it refuse a command, garble a response, fail the transport or
 * die, deterministically, so every error path of the driver is reachable.
 * Interrupts are only counted: the tests call the driver's handler.
 */

#include <linux/bits.h>
#include <linux/dma-direct.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "ism_model.h"

#define ISM_MODEL_WINDOW	256
#define ISM_MODEL_VLANS		64

/**
 * struct ism_model_fabric - functions that can reach each other
 * @lock: protects the fabric, all its functions, and what the model writes
 *	into their host memory. Taken with interrupts disabled.
 * @fns: the functions.
 * @fabric_id: the PCHID every function reports.
 * @next_tok: upper half of the last DMB token handed out.
 * @clock: time stamp of the last event.
 */
struct ism_model_fabric {
	spinlock_t lock;	/* protects everything on the fabric */
	struct list_head fns;
	u16 fabric_id;
	u32 next_tok;
	u64 clock;
};

/**
 * struct ism_model_dmb - a DMB registered with a modelled function
 * @used: the slot holds a DMB.
 * @tok: its token.
 * @addr: bus address of its buffer.
 * @len: its length.
 * @rgid: the only function that may write it.
 * @vlan_valid: the writer must be a member of @vlan_id.
 * @vlan_id: the writer's VLAN.
 */
struct ism_model_dmb {
	bool used;
	u64 tok;
	dma_addr_t addr;
	u32 len;
	u64 rgid;
	u32 vlan_valid;
	u32 vlan_id;
};

/**
 * struct ism_model_fn - a modelled ISM function
 * @tp: the transport the driver uses.
 * @fabric: the fabric.
 * @list: entry in &ism_model_fabric.fns.
 * @dev: the device whose DMA the function performs.
 * @gid: its GID.
 * @name_id: its name id.
 * @window: the command window.
 * @sba_valid: an SBA is registered.
 * @sba: its bus address.
 * @ieq_valid: an IEQ is registered.
 * @ieq: its bus address.
 * @ieq_next: IEQ entry written next.
 * @dmbs: DMB table, indexed by DMB index.
 * @nr_dmbs: DMBs registered.
 * @vlans: VLANs the function is a member of.
 * @nr_vlans: valid entries of @vlans.
 * @fail_code: refuse commands with this code...
 * @fail_ret: ...with this response code.
 * @garble_code: answer successful commands with this code...
 * @garble_len: ...with this response length.
 * @fail_transport: fail every access with this errno.
 * @dead: in error state: every access fails, nothing is written.
 * @irqs: interrupts raised.
 * @cmds: commands executed.
 * @cmd_log: their codes, the last %ISM_MODEL_CMD_LOG of them.
 * @stores: DMB stores attempted by this function.
 * @store_log: the last %ISM_MODEL_STORE_LOG of them.
 */
struct ism_model_fn {
	struct ism_transport tp;
	struct ism_model_fabric *fabric;
	struct list_head list;
	struct device *dev;
	u64 gid;
	u32 name_id;
	u8 window[ISM_MODEL_WINDOW] __aligned(8);
	bool sba_valid;
	dma_addr_t sba;
	bool ieq_valid;
	dma_addr_t ieq;
	unsigned int ieq_next;
	struct ism_model_dmb *dmbs;
	unsigned int nr_dmbs;
	u64 vlans[ISM_MODEL_VLANS];
	unsigned int nr_vlans;
	u32 fail_code;
	u16 fail_ret;
	u32 garble_code;
	u16 garble_len;
	int fail_transport;
	bool dead;
	unsigned int irqs;
	unsigned int cmds;
	u32 cmd_log[ISM_MODEL_CMD_LOG];
	unsigned int stores;
	struct ism_model_store store_log[ISM_MODEL_STORE_LOG];
};

static struct ism_model_fn *to_model_fn(struct ism_transport *tp)
{
	return container_of(tp, struct ism_model_fn, tp);
}

/* Host memory at a bus address of @fn's device, as its DMA reaches it. */
static u8 *ism_model_host(struct ism_model_fn *fn, dma_addr_t addr)
{
	return phys_to_virt(dma_to_phys(fn->dev, addr));
}

static struct ism_model_fn *ism_model_find(struct ism_model_fabric *fabric,
					   u64 gid)
{
	struct ism_model_fn *fn;

	list_for_each_entry(fn, &fabric->fns, list)
		if (fn->gid == gid && !fn->dead)
			return fn;
	return NULL;
}

static bool ism_model_in_vlan(struct ism_model_fn *fn, u64 vlan_id)
{
	unsigned int i;

	for (i = 0; i < fn->nr_vlans; i++)
		if (fn->vlans[i] == vlan_id)
			return true;
	return false;
}

/* Set bit @nr of the SBA's MSB-first bit string. */
static void ism_model_sba_set(u8 *sba, unsigned int nr)
{
	sba[nr / BITS_PER_BYTE] |= 0x80 >> (nr % BITS_PER_BYTE);
}

/* Signal DMB @idx of @fn with signalling mask @mask and interrupt. */
static void ism_model_signal(struct ism_model_fn *fn, unsigned int idx,
			     u16 mask)
{
	u8 *sba;

	if (!fn->sba_valid || fn->dead)
		return;
	sba = ism_model_host(fn, fn->sba);
	/* The mask of DMB idx: big-endian 16 bits at offset 256 + 2 * idx. */
	sba[256 + 2 * idx] |= mask >> 8;
	sba[256 + 2 * idx + 1] |= mask & 0xff;
	/* The DMB bits start at byte 4, bit position 32. */
	ism_model_sba_set(sba, 32 + idx);
	ism_model_sba_set(sba, 0);
	fn->irqs++;
}

/* Queue an event in @fn's IEQ; lost if it has none. */
static void ism_model_post(struct ism_model_fn *fn, u32 type, u32 code,
			   u64 tok, u64 time, u64 info, bool irq)
{
	u8 *ieq, *entry;

	if (!fn->ieq_valid || fn->dead)
		return;
	ieq = ism_model_host(fn, fn->ieq);
	entry = ieq + 32 + 32 * fn->ieq_next;
	put_unaligned_be32(type, entry);
	put_unaligned_be32(code, entry + 4);
	put_unaligned_be64(tok, entry + 8);
	put_unaligned_be64(time, entry + 16);
	put_unaligned_be64(info, entry + 24);
	/* The entry is complete before the index announces it. */
	smp_wmb();
	put_unaligned_be64(fn->ieq_next + 1, ieq);
	fn->ieq_next = (fn->ieq_next + 1) % ISM_IEQ_ENTRIES;
	if (fn->sba_valid) {
		ism_model_sba_set(ism_model_host(fn, fn->sba), 1);
		if (irq)
			fn->irqs++;
	}
}

/* ---- commands; each returns the response code ---- */

static u16 ism_model_reg_sba(struct ism_model_fn *fn, u8 *w)
{
	if (fn->sba_valid)
		return ISM_MODEL_RC_STATE;
	fn->sba = get_unaligned_be64(w + 8);
	fn->sba_valid = true;
	return 0;
}

static u16 ism_model_reg_ieq(struct ism_model_fn *fn, u8 *w)
{
	if (fn->ieq_valid)
		return ISM_MODEL_RC_STATE;
	/* A header and 15 entries of 32 bytes. */
	if (get_unaligned_be64(w + 16) != 32 + 32 * ISM_IEQ_ENTRIES)
		return ISM_MODEL_RC_BAD_CMD;
	fn->ieq = get_unaligned_be64(w + 8);
	fn->ieq_valid = true;
	fn->ieq_next = 0;
	return 0;
}

static u16 ism_model_unreg_area(bool *valid)
{
	if (!*valid)
		return ISM_MODEL_RC_STATE;
	*valid = false;
	return 0;
}

static u16 ism_model_vlan(struct ism_model_fn *fn, u8 *w, bool add)
{
	u64 vlan_id = get_unaligned_be64(w + 8);
	unsigned int i;

	for (i = 0; i < fn->nr_vlans; i++)
		if (fn->vlans[i] == vlan_id)
			break;
	if (add) {
		if (i < fn->nr_vlans || fn->nr_vlans == ISM_MODEL_VLANS)
			return ISM_MODEL_RC_VLAN;
		fn->vlans[fn->nr_vlans++] = vlan_id;
	} else {
		if (i == fn->nr_vlans)
			return ISM_MODEL_RC_VLAN;
		fn->vlans[i] = fn->vlans[--fn->nr_vlans];
	}
	return 0;
}

static u16 ism_model_query_info(struct ism_model_fn *fn, u8 *w, u16 *len)
{
	unsigned int i;

	memset(w + 8, 0, 192);
	put_unaligned_be32(1, w + 8);
	put_unaligned_be32(ISM_MODEL_WINDOW, w + 12);
	put_unaligned_be64(fn->gid, w + 24);
	put_unaligned_be64(fn->sba, w + 32);
	put_unaligned_be64(fn->ieq, w + 40);
	put_unaligned_be32(32 + 32 * ISM_IEQ_ENTRIES, w + 48);
	put_unaligned_be32(fn->nr_dmbs, w + 56);
	put_unaligned_be32(fn->nr_dmbs, w + 60);
	put_unaligned_be32(fn->nr_vlans, w + 68);
	for (i = 0; i < fn->nr_vlans; i++)
		put_unaligned_be16(fn->vlans[i], w + 72 + 2 * i);
	*len = 200;
	return 0;
}

static u16 ism_model_query_rgid(struct ism_model_fn *fn, u8 *w)
{
	struct ism_model_fn *peer;

	peer = ism_model_find(fn->fabric, get_unaligned_be64(w + 8));
	if (!peer)
		return ISM_MODEL_RC_NO_PEER;
	if (get_unaligned_be32(w + 16) &&
	    !ism_model_in_vlan(peer, get_unaligned_be32(w + 20)))
		return ISM_MODEL_RC_NO_PEER;
	return 0;
}

static u16 ism_model_reg_dmb(struct ism_model_fn *fn, u8 *w, u16 *len)
{
	u32 idx = get_unaligned_be32(w + 20);
	u32 dmb_len = get_unaligned_be32(w + 16);
	struct ism_model_dmb *dmb;

	if (!fn->sba_valid)
		return ISM_MODEL_RC_STATE;
	if (idx >= ISM_NR_DMBS || fn->dmbs[idx].used || !dmb_len ||
	    dmb_len > SZ_1M || !get_unaligned_be64(w + 8))
		return ISM_MODEL_RC_BAD_DMB;

	dmb = &fn->dmbs[idx];
	dmb->used = true;
	fn->fabric->next_tok++;
	dmb->tok = (u64)fn->fabric->next_tok << 32;
	dmb->addr = get_unaligned_be64(w + 8);
	dmb->len = dmb_len;
	dmb->vlan_valid = get_unaligned_be32(w + 24);
	dmb->vlan_id = get_unaligned_be32(w + 28);
	dmb->rgid = get_unaligned_be64(w + 32);
	fn->nr_dmbs++;
	put_unaligned_be64(dmb->tok, w + 8);
	*len = 16;
	return 0;
}

static u16 ism_model_unreg_dmb(struct ism_model_fn *fn, u8 *w)
{
	u64 tok = get_unaligned_be64(w + 8);
	unsigned int idx;

	for (idx = 0; idx < ISM_NR_DMBS; idx++) {
		if (fn->dmbs[idx].used && fn->dmbs[idx].tok == tok) {
			memset(&fn->dmbs[idx], 0, sizeof(fn->dmbs[idx]));
			fn->nr_dmbs--;
			return 0;
		}
	}
	return ISM_MODEL_RC_BAD_DMB;
}

static u16 ism_model_signal_ieq(struct ism_model_fn *fn, u8 *w)
{
	struct ism_model_fn *peer;

	peer = ism_model_find(fn->fabric, get_unaligned_be64(w + 8));
	if (!peer)
		return ISM_MODEL_RC_NO_PEER;
	ism_model_post(peer, ISM_EVENT_SWR, get_unaligned_be32(w + 20),
		       fn->gid, ++fn->fabric->clock,
		       get_unaligned_be64(w + 24), get_unaligned_be32(w + 16));
	return 0;
}

/* Request length of each command, from the interface description. */
static u16 ism_model_req_len(u32 code)
{
	switch (code) {
	case ISM_READ_GID:
	case ISM_QUERY_INFO:
	case ISM_UNREG_SBA:
	case ISM_UNREG_IEQ:
		return 8;
	case ISM_REG_SBA:
	case ISM_ADD_VLAN_ID:
	case ISM_DEL_VLAN_ID:
	case ISM_UNREG_DMB:
		return 16;
	case ISM_REG_IEQ:
	case ISM_QUERY_RGID:
		return 24;
	case ISM_SIGNAL_IEQ:
		return 32;
	case ISM_REG_DMB:
		return 40;
	default:
		return 0;
	}
}

static u16 ism_model_run(struct ism_model_fn *fn, u32 code, u8 *w, u16 *len)
{
	switch (code) {
	case ISM_REG_SBA:
		return ism_model_reg_sba(fn, w);
	case ISM_REG_IEQ:
		return ism_model_reg_ieq(fn, w);
	case ISM_READ_GID:
		put_unaligned_be64(fn->gid, w + 8);
		*len = 16;
		return 0;
	case ISM_ADD_VLAN_ID:
		return ism_model_vlan(fn, w, true);
	case ISM_DEL_VLAN_ID:
		return ism_model_vlan(fn, w, false);
	case ISM_QUERY_INFO:
		return ism_model_query_info(fn, w, len);
	case ISM_QUERY_RGID:
		return ism_model_query_rgid(fn, w);
	case ISM_REG_DMB:
		return ism_model_reg_dmb(fn, w, len);
	case ISM_UNREG_DMB:
		return ism_model_unreg_dmb(fn, w);
	case ISM_SIGNAL_IEQ:
		return ism_model_signal_ieq(fn, w);
	case ISM_UNREG_SBA:
		return ism_model_unreg_area(&fn->sba_valid);
	case ISM_UNREG_IEQ:
		return ism_model_unreg_area(&fn->ieq_valid);
	default:
		return ISM_MODEL_RC_BAD_CMD;
	}
}

/* Execute the request in the window and leave the response there. */
static void ism_model_exec(struct ism_model_fn *fn)
{
	u8 *w = fn->window;
	u32 code = get_unaligned_be32(w);
	u16 len = 8, ret;

	fn->cmd_log[fn->cmds++ % ISM_MODEL_CMD_LOG] = code;
	if (code == fn->fail_code)
		ret = fn->fail_ret;
	else if (get_unaligned_be16(w + 4) ||
		 get_unaligned_be16(w + 6) != ism_model_req_len(code))
		ret = ISM_MODEL_RC_BAD_CMD;
	else
		ret = ism_model_run(fn, code, w, &len);

	if (ret)
		len = 8;
	else if (code == fn->garble_code)
		len = fn->garble_len;
	put_unaligned_be16(ret, w + 4);
	put_unaligned_be16(len, w + 6);
}

/* ---- the transport ---- */

static int ism_model_access(struct ism_model_fn *fn)
{
	if (fn->dead)
		return -EIO;
	return fn->fail_transport;
}

static int ism_model_cmd_store(struct ism_transport *tp, unsigned int offset,
			       const void *data, unsigned int len)
{
	struct ism_model_fn *fn = to_model_fn(tp);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	ret = ism_model_access(fn);
	if (ret)
		goto out;
	/* 8-byte units; the header alone at offset 0 executes. */
	if (!len || len % 8 || offset % 8 || offset + len > ISM_MODEL_WINDOW ||
	    (!offset && len != 8)) {
		ret = -EIO;
		goto out;
	}
	memcpy(fn->window + offset, data, len);
	if (!offset)
		ism_model_exec(fn);
out:
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return ret;
}

static int ism_model_cmd_load8(struct ism_transport *tp, unsigned int offset,
			       void *data)
{
	struct ism_model_fn *fn = to_model_fn(tp);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	ret = ism_model_access(fn);
	if (!ret && (offset % 8 || offset + 8 > ISM_MODEL_WINDOW))
		ret = -EIO;
	if (!ret)
		memcpy(data, fn->window + offset, 8);
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return ret;
}

/* The DMB a token names, and its owner; NULL if none. */
static struct ism_model_dmb *ism_model_find_dmb(struct ism_model_fabric *fabric,
						u64 tok,
						struct ism_model_fn **owner,
						unsigned int *idx)
{
	struct ism_model_fn *fn;
	unsigned int i;

	list_for_each_entry(fn, &fabric->fns, list) {
		if (fn->dead)
			continue;
		for (i = 0; i < ISM_NR_DMBS; i++) {
			if (fn->dmbs[i].used && fn->dmbs[i].tok == tok) {
				*owner = fn;
				*idx = i;
				return &fn->dmbs[i];
			}
		}
	}
	return NULL;
}

/*
 * A store refused by the function fails like a PCI store block with
 * condition code 1 does: -EIO.
 */
static int ism_model_dmb_store(struct ism_transport *tp, u64 req,
			       const void *data, unsigned int len)
{
	struct ism_model_fn *fn = to_model_fn(tp), *owner;
	/* The request word: token, index, flag and offset (bits 63-0). */
	u64 tok = req & GENMASK_ULL(63, 32);
	unsigned int sidx = (req >> 24) & 0xff;
	bool sf = req & BIT_ULL(23);
	u32 offset = req & GENMASK_ULL(22, 0);
	struct ism_model_dmb *dmb;
	unsigned long flags;
	unsigned int idx;
	int ret;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	fn->store_log[fn->stores++ % ISM_MODEL_STORE_LOG] =
		(struct ism_model_store){ .req = req, .len = len };
	ret = ism_model_access(fn);
	if (ret)
		goto out;
	ret = -EIO;
	if (!len || len > SZ_4K || offset / SZ_4K != (offset + len - 1) / SZ_4K)
		goto out;
	dmb = ism_model_find_dmb(fn->fabric, tok, &owner, &idx);
	if (!dmb || dmb->rgid != fn->gid || offset + len > dmb->len ||
	    (sf && sidx > 15))
		goto out;
	if (dmb->vlan_valid && !ism_model_in_vlan(fn, dmb->vlan_id))
		goto out;
	memcpy(ism_model_host(owner, dmb->addr) + offset, data, len);
	if (sf)
		ism_model_signal(owner, idx, BIT(sidx));
	ret = 0;
out:
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return ret;
}

static u16 ism_model_fabric_id(struct ism_transport *tp)
{
	return to_model_fn(tp)->fabric->fabric_id;
}

static u32 ism_model_name_id(struct ism_transport *tp)
{
	return to_model_fn(tp)->name_id;
}

static const struct ism_transport_ops ism_model_transport_ops = {
	.cmd_store = ism_model_cmd_store,
	.cmd_load8 = ism_model_cmd_load8,
	.dmb_store = ism_model_dmb_store,
	.fabric_id = ism_model_fabric_id,
	.name_id = ism_model_name_id,
};

/* ---- life cycle ---- */

/**
 * ism_model_fabric_create() - create an empty fabric
 * @fabric_id: the PCHID its functions report
 *
 * Context: process context, may sleep.
 * Return: the fabric or NULL.
 */
struct ism_model_fabric *ism_model_fabric_create(u16 fabric_id)
{
	struct ism_model_fabric *fabric;

	fabric = kzalloc_obj(*fabric);
	if (!fabric)
		return NULL;
	spin_lock_init(&fabric->lock);
	INIT_LIST_HEAD(&fabric->fns);
	fabric->fabric_id = fabric_id;
	return fabric;
}

/**
 * ism_model_fabric_destroy() - free a fabric without functions
 * @fabric: the fabric
 *
 * Context: process context.
 */
void ism_model_fabric_destroy(struct ism_model_fabric *fabric)
{
	WARN_ON(!list_empty(&fabric->fns));
	kfree(fabric);
}

/**
 * ism_model_fn_create() - plug a new function into a fabric
 * @fabric: the fabric
 * @dev: the device whose DMA the function performs; its bus addresses must
 *	be direct-mapped
 * @gid: the function's GID
 * @name_id: the function's name id
 *
 * Context: process context, may sleep.
 * Return: the function or NULL.
 */
struct ism_model_fn *ism_model_fn_create(struct ism_model_fabric *fabric,
					 struct device *dev, u64 gid,
					 u32 name_id)
{
	struct ism_model_fn *fn;
	unsigned long flags;

	fn = kzalloc_obj(*fn);
	if (!fn)
		return NULL;
	fn->dmbs = kvzalloc_objs(*fn->dmbs, ISM_NR_DMBS);
	if (!fn->dmbs) {
		kfree(fn);
		return NULL;
	}
	fn->tp.ops = &ism_model_transport_ops;
	fn->fabric = fabric;
	fn->dev = dev;
	fn->gid = gid;
	fn->name_id = name_id;
	spin_lock_irqsave(&fabric->lock, flags);
	list_add_tail(&fn->list, &fabric->fns);
	spin_unlock_irqrestore(&fabric->lock, flags);
	return fn;
}

/**
 * ism_model_fn_destroy() - unplug and free a function
 * @fn: the function
 *
 * Context: process context.
 */
void ism_model_fn_destroy(struct ism_model_fn *fn)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	list_del(&fn->list);
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	kvfree(fn->dmbs);
	kfree(fn);
}

/**
 * ism_model_transport() - the transport that reaches a function
 * @fn: the function
 *
 * Context: any context.
 * Return: the transport.
 */
struct ism_transport *ism_model_transport(struct ism_model_fn *fn)
{
	return &fn->tp;
}

/* ---- knobs ---- */

/**
 * ism_model_fail_cmd() - refuse every command with a code
 * @fn: the function
 * @code: the command code; 0 ends refusing
 * @ret: the response code to refuse with (%ISM_ERROR: "no response")
 *
 * A refused command has no effect.
 *
 * Context: any context.
 */
void ism_model_fail_cmd(struct ism_model_fn *fn, u32 code, u16 ret)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	fn->fail_code = code;
	fn->fail_ret = ret;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/**
 * ism_model_garble_resp_len() - answer a command with a wrong length
 * @fn: the function
 * @code: the command code; 0 ends garbling
 * @len: the response length to report
 *
 * The command is executed; only the length in its response is wrong.
 *
 * Context: any context.
 */
void ism_model_garble_resp_len(struct ism_model_fn *fn, u32 code, u16 len)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	fn->garble_code = code;
	fn->garble_len = len;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/**
 * ism_model_fail_transport() - fail every access, as a PCI instruction can
 * @fn: the function
 * @err: negative errno to fail with; 0 ends failing
 *
 * Context: any context.
 */
void ism_model_fail_transport(struct ism_model_fn *fn, int err)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	fn->fail_transport = err;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/**
 * ism_model_set_dead() - put a function into error state, for good
 * @fn: the function
 *
 * Every access fails with -EIO, the function writes no host memory any
 * more, and its GID and DMBs are gone from the fabric.
 *
 * Context: any context.
 */
void ism_model_set_dead(struct ism_model_fn *fn)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	fn->dead = true;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/**
 * ism_model_raise_event() - let a function generate an event
 * @fn: the function
 * @type: the entry's type
 * @code: the entry's code
 * @tok: the entry's token field
 * @time: the entry's time stamp
 * @info: the entry's info
 * @irq: also raise an interrupt
 *
 * Context: any context.
 */
void ism_model_raise_event(struct ism_model_fn *fn, u32 type, u32 code,
			   u64 tok, u64 time, u64 info, bool irq)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	ism_model_post(fn, type, code, tok, time, info, irq);
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/**
 * ism_model_raise_signal() - signal a DMB index, registered or not
 * @fn: the function
 * @idx: the DMB index
 * @mask: the signalling mask
 *
 * Context: any context.
 */
void ism_model_raise_signal(struct ism_model_fn *fn, unsigned int idx,
			    u16 mask)
{
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	ism_model_signal(fn, idx, mask);
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
}

/* ---- inspection ---- */

/**
 * ism_model_sba_registered() - whether the function has an SBA
 * @fn: the function
 * @addr: set to its bus address if it has one
 *
 * Context: any context.
 * Return: whether an SBA is registered.
 */
bool ism_model_sba_registered(struct ism_model_fn *fn, dma_addr_t *addr)
{
	unsigned long flags;
	bool valid;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	valid = fn->sba_valid;
	if (valid)
		*addr = fn->sba;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return valid;
}

/**
 * ism_model_ieq_registered() - whether the function has an IEQ
 * @fn: the function
 * @addr: set to its bus address if it has one
 *
 * Context: any context.
 * Return: whether an IEQ is registered.
 */
bool ism_model_ieq_registered(struct ism_model_fn *fn, dma_addr_t *addr)
{
	unsigned long flags;
	bool valid;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	valid = fn->ieq_valid;
	if (valid)
		*addr = fn->ieq;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return valid;
}

/**
 * ism_model_nr_dmbs() - number of DMBs registered with a function
 * @fn: the function
 *
 * Context: any context.
 * Return: the number.
 */
unsigned int ism_model_nr_dmbs(struct ism_model_fn *fn)
{
	unsigned long flags;
	unsigned int nr;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	nr = fn->nr_dmbs;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return nr;
}

/**
 * ism_model_dmb() - what the function knows about a DMB index
 * @fn: the function
 * @idx: the DMB index
 * @tok: set to the token
 * @addr: set to the bus address
 * @len: set to the length
 * @rgid: set to the allowed writer
 *
 * The outputs are only set if a DMB is registered at @idx.
 *
 * Context: any context.
 * Return: whether a DMB is registered at @idx.
 */
bool ism_model_dmb(struct ism_model_fn *fn, unsigned int idx, u64 *tok,
		   dma_addr_t *addr, u32 *len, u64 *rgid)
{
	unsigned long flags;
	bool used;

	if (idx >= ISM_NR_DMBS)
		return false;
	spin_lock_irqsave(&fn->fabric->lock, flags);
	used = fn->dmbs[idx].used;
	if (used) {
		*tok = fn->dmbs[idx].tok;
		*addr = fn->dmbs[idx].addr;
		*len = fn->dmbs[idx].len;
		*rgid = fn->dmbs[idx].rgid;
	}
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return used;
}

/**
 * ism_model_has_vlan() - whether the function is a member of a VLAN
 * @fn: the function
 * @vlan_id: the VLAN
 *
 * Context: any context.
 * Return: whether it is.
 */
bool ism_model_has_vlan(struct ism_model_fn *fn, u64 vlan_id)
{
	unsigned long flags;
	bool member;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	member = ism_model_in_vlan(fn, vlan_id);
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return member;
}

/**
 * ism_model_irqs() - interrupts the function has raised
 * @fn: the function
 *
 * Context: any context.
 * Return: their number.
 */
unsigned int ism_model_irqs(struct ism_model_fn *fn)
{
	unsigned long flags;
	unsigned int nr;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	nr = fn->irqs;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return nr;
}

/**
 * ism_model_cmds() - commands the function has executed or refused
 * @fn: the function
 *
 * Context: any context.
 * Return: their number.
 */
unsigned int ism_model_cmds(struct ism_model_fn *fn)
{
	unsigned long flags;
	unsigned int nr;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	nr = fn->cmds;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return nr;
}

/**
 * ism_model_cmd_log() - code of a recent command
 * @fn: the function
 * @nr: number of the command, counting from 0; one of the last
 *	%ISM_MODEL_CMD_LOG
 *
 * Context: any context.
 * Return: the command code.
 */
u32 ism_model_cmd_log(struct ism_model_fn *fn, unsigned int nr)
{
	unsigned long flags;
	u32 code;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	code = fn->cmd_log[nr % ISM_MODEL_CMD_LOG];
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return code;
}

/**
 * ism_model_stores() - DMB stores the function was asked to do
 * @fn: the writing function
 *
 * Context: any context.
 * Return: their number, refused ones included.
 */
unsigned int ism_model_stores(struct ism_model_fn *fn)
{
	unsigned long flags;
	unsigned int nr;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	nr = fn->stores;
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return nr;
}

/**
 * ism_model_store_log() - a recent DMB store
 * @fn: the writing function
 * @nr: number of the store, counting from 0; one of the last
 *	%ISM_MODEL_STORE_LOG
 *
 * Context: any context.
 * Return: the store.
 */
struct ism_model_store ism_model_store_log(struct ism_model_fn *fn,
					   unsigned int nr)
{
	struct ism_model_store store;
	unsigned long flags;

	spin_lock_irqsave(&fn->fabric->lock, flags);
	store = fn->store_log[nr % ISM_MODEL_STORE_LOG];
	spin_unlock_irqrestore(&fn->fabric->lock, flags);
	return store;
}
