// SPDX-License-Identifier: GPL-2.0
/*
 * IBM ISM (Internal Shared Memory) virtual PCI function as a DIBS device:
 * the command channel, the DIBS device operations, the interrupt handler
 * and the bring-up and teardown of one function. Independent of how the
 * function is reached (see struct ism_transport_ops), so it builds and is
 * tested on any architecture.
 */

#define pr_fmt(fmt) "ism: " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/dibs.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "ism.h"

/**
 * DOC: the ISM driver
 *
 * An ISM function is a virtual PCI function of IBM Z that moves data
 * between operating systems on the same machine. Each function appears as
 * one DIBS device; functions with the same fabric id (the PCHID) can reach
 * each other.
 *
 * The driver talks to the function in three ways. Commands (register a
 * buffer, query a peer, ...) go through a command window: the driver
 * stores the request body, then the header, which executes the command,
 * and reads the response back 8 bytes at a time; the function accepts one
 * command at a time. Data goes into a peer's DMB with store instructions
 * addressed by the DMB's token and offset, at most 4 KiB at a time and
 * never across a 4 KiB boundary of the DMB. In the other direction the
 * function writes two areas in host memory and raises the function's one
 * MSI: the signal block area (SBA) with one bit and one signal mask per
 * DMB index, and the interrupt event queue (IEQ).
 *
 * The function answers a command with a 16-bit code, 0 for success. Those
 * codes are not errno values and never reach DIBS clients; the driver maps
 * them (see ism_cmd()).
 *
 * GIDs of ISM functions are 64 bits; as DIBS GIDs they are UUIDs whose
 * bytes 0-7 hold the GID in big-endian order and whose bytes 8-15 are
 * zero. A DIBS GID with non-zero bytes 8-15 is not an ISM GID and never
 * reachable through ISM.
 */

/* ---- command channel ---- */

static void ism_cmd_init(struct ism_cmd_hdr *hdr, u32 code, size_t len)
{
	memset(hdr, 0, len);
	hdr->cmd = cpu_to_be32(code);
	hdr->len = cpu_to_be16(len);
}

/**
 * ism_cmd() - execute one command
 * @ism: the function
 * @cmd: the request, prepared with ism_cmd_init(); 8-byte aligned,
 *	overwritten by the response
 * @resp_len: length of the response the command defines, header included
 *
 * Stores the request body, then the header, which executes the command,
 * then reads the response header and, on success, the response body.
 *
 * The function's answer is mapped to an errno: 0 is success; %ISM_ERROR
 * ("no valid response") and a failed store or load both mean the function
 * did not answer and give -EIO; any other code means the function refused
 * the command and gives -EREMOTEIO. A successful response of a length
 * other than @resp_len gives -EPROTO.
 *
 * Context: any context; does not sleep (takes &ism_dev.cmd_lock with
 * interrupts disabled).
 * Return: 0, -EIO, -EREMOTEIO or -EPROTO as described.
 */
static int ism_cmd(struct ism_dev *ism, struct ism_cmd_hdr *cmd,
		   size_t resp_len)
{
	const struct ism_transport_ops *ops = ism->tp->ops;
	unsigned int len = be16_to_cpu(cmd->len), off;
	u32 code = be32_to_cpu(cmd->cmd);
	struct ism_cmd_hdr resp;
	unsigned long flags;
	u16 fw_ret = 0;
	int ret;

	spin_lock_irqsave(&ism->cmd_lock, flags);
	if (len > sizeof(*cmd)) {
		ret = ops->cmd_store(ism->tp, sizeof(*cmd), cmd + 1,
				     len - sizeof(*cmd));
		if (ret)
			goto no_answer;
	}
	ret = ops->cmd_store(ism->tp, 0, cmd, sizeof(*cmd));
	if (ret)
		goto no_answer;
	ret = ops->cmd_load8(ism->tp, 0, &resp);
	if (ret)
		goto no_answer;

	fw_ret = be16_to_cpu(resp.ret);
	if (fw_ret == ISM_ERROR)
		goto no_answer;
	if (fw_ret) {
		ret = -EREMOTEIO;
		goto out;
	}
	if (be16_to_cpu(resp.len) != resp_len) {
		ret = -EPROTO;
		goto out;
	}
	*cmd = resp;
	for (off = sizeof(*cmd); off < resp_len; off += 8) {
		ret = ops->cmd_load8(ism->tp, off, (u8 *)cmd + off);
		if (ret)
			goto no_answer;
	}
	goto out;

no_answer:
	ret = -EIO;
out:
	spin_unlock_irqrestore(&ism->cmd_lock, flags);
	if (ret)
		dev_dbg(ism->dev, "command 0x%x failed: %d (code 0x%x)\n",
			code, ret, fw_ret);
	return ret;
}

/* A command that is only a header and answers with only a header. */
static int ism_cmd_simple(struct ism_dev *ism, u32 code)
{
	struct ism_cmd_hdr cmd;

	ism_cmd_init(&cmd, code, sizeof(cmd));
	return ism_cmd(ism, &cmd, sizeof(cmd));
}

/* ---- GIDs ---- */

/* Whether @gid can name an ISM function: its bytes 8-15 are zero. */
static bool ism_gid_is_ism(const uuid_t *gid)
{
	return !memchr_inv(&gid->b[8], 0, UUID_SIZE - 8);
}

/* The 8-byte GID field of a command: bytes 0-7 of the UUID, unchanged. */
static __be64 ism_gid_field(const uuid_t *gid)
{
	__be64 field;

	memcpy(&field, gid->b, sizeof(field));
	return field;
}

/* ---- DIBS device operations ---- */

static struct ism_dev *ism_from_dibs(struct dibs_dev *dibs)
{
	return dibs->drv_priv;
}

/**
 * ism_get_fabric_id() - &dibs_dev_ops.get_fabric_id: the function's PCHID
 * @dibs: the device
 *
 * Context: any context.
 * Return: the fabric id.
 */
static u16 ism_get_fabric_id(struct dibs_dev *dibs)
{
	struct ism_transport *tp = ism_from_dibs(dibs)->tp;

	return tp->ops->fabric_id(tp);
}

/**
 * ism_max_dmbs() - &dibs_dev_ops.max_dmbs
 *
 * Indices below %ISM_DMB_BIT_OFFSET exist but are never handed out.
 *
 * Context: any context.
 * Return: %ISM_NR_DMBS.
 */
static int ism_max_dmbs(void)
{
	return ISM_NR_DMBS;
}

/**
 * ism_query_remote_gid() - &dibs_dev_ops.query_remote_gid
 * @dibs: the device
 * @rgid: GID of the remote device
 * @vid_valid: non-zero if @vid applies
 * @vid: the VLAN
 *
 * Context: process context, may sleep.
 * Return: 0 if reachable; -ENETUNREACH if the function says it is not, or
 * @rgid is not an ISM GID (no command is sent then); -EIO or -EPROTO if
 * the function did not answer properly (see ism_cmd()).
 */
static int ism_query_remote_gid(struct dibs_dev *dibs, const uuid_t *rgid,
				u32 vid_valid, u32 vid)
{
	struct ism_query_rgid cmd;
	int ret;

	if (!ism_gid_is_ism(rgid))
		return -ENETUNREACH;

	ism_cmd_init(&cmd.hdr, ISM_QUERY_RGID, sizeof(cmd));
	cmd.rgid = ism_gid_field(rgid);
	cmd.vlan_valid = cpu_to_be32(vid_valid);
	cmd.vlan_id = cpu_to_be32(vid);
	ret = ism_cmd(ism_from_dibs(dibs), &cmd.hdr, sizeof(cmd.hdr));
	return ret == -EREMOTEIO ? -ENETUNREACH : ret;
}

/* Reserve the DMB index @idx (0: the lowest free one). Under dmb_lock. */
static int ism_dmb_reserve(struct ism_dev *ism, u32 idx)
{
	lockdep_assert_held(&ism->dmb_lock);
	if (!idx) {
		idx = find_next_zero_bit(ism->dmb_map, ISM_NR_DMBS,
					 ISM_DMB_BIT_OFFSET);
		if (idx >= ISM_NR_DMBS)
			return -ENOSPC;
	} else if (idx < ISM_DMB_BIT_OFFSET || idx >= ISM_NR_DMBS) {
		return -EINVAL;
	} else if (test_bit(idx, ism->dmb_map)) {
		return -EBUSY;
	}
	__set_bit(idx, ism->dmb_map);
	return idx;
}

/*
 * Forget DMB @idx, which the function no longer writes: unmap it and, if
 * @free, free its memory. A DMB its client left behind is not freed, as
 * the client may still touch it. Under dmb_lock.
 */
static void ism_dmb_release(struct ism_dev *ism, u32 idx, bool free)
{
	struct ism_dmb_slot *slot = &ism->dmbs[idx];

	lockdep_assert_held(&ism->dmb_lock);
	dma_unmap_single(ism->dev, slot->dma_addr, slot->size,
			 DMA_FROM_DEVICE);
	if (free)
		folio_put(virt_to_folio(slot->cpu_addr));
	memset(slot, 0, sizeof(*slot));
	__clear_bit(idx, ism->dmb_map);
}

static int ism_reg_dmb(struct ism_dev *ism, struct dibs_dmb *dmb, u32 idx,
		       dma_addr_t dma_addr, u64 *tok)
{
	union {
		struct ism_reg_dmb req;
		struct ism_reg_dmb_resp resp;
	} cmd;
	int ret;

	ism_cmd_init(&cmd.req.hdr, ISM_REG_DMB, sizeof(cmd.req));
	cmd.req.dmb = cpu_to_be64(dma_addr);
	cmd.req.dmb_len = cpu_to_be32(dmb->dmb_len);
	cmd.req.sba_idx = cpu_to_be32(idx);
	cmd.req.vlan_valid = cpu_to_be32(dmb->vlan_valid);
	cmd.req.vlan_id = cpu_to_be32(dmb->vlan_id);
	cmd.req.rgid = ism_gid_field(&dmb->rgid);
	ret = ism_cmd(ism, &cmd.req.hdr, sizeof(cmd.resp));
	if (!ret)
		*tok = be64_to_cpu(cmd.resp.dmb_tok);
	return ret;
}

/**
 * ism_register_dmb() - &dibs_dev_ops.register_dmb
 * @dibs: the device
 * @dmb: the DMB; see &dibs_dev_ops.register_dmb
 * @client: the owner
 *
 * The buffer is zeroed, physically contiguous, page-backed memory of the
 * DMB length rounded up to pages, mapped for the function to write. It
 * lies inside a naturally aligned power-of-two block of at most 1 MiB, so
 * it never crosses the function's 1 MiB DMA segment boundary.
 *
 * Context: process context, may sleep.
 * Return: 0; -EINVAL if the length is 0 or above %ISM_DMB_MAX_LEN, the
 * requested index is below %ISM_DMB_BIT_OFFSET or not below
 * %ISM_NR_DMBS, or @dmb->rgid is not an ISM GID; -EBUSY if the requested
 * index is in use; -ENOSPC if no index is free; -ENOMEM; the error of
 * dibs_dmb_set_owner(); or an error of ism_cmd(). Nothing changes on
 * error.
 */
static int ism_register_dmb(struct dibs_dev *dibs, struct dibs_dmb *dmb,
			    struct dibs_client *client)
{
	struct ism_dev *ism = ism_from_dibs(dibs);
	struct ism_dmb_slot *slot;
	struct folio *folio;
	size_t size;
	int ret, idx;
	u64 tok;

	if (!dmb->dmb_len || dmb->dmb_len > ISM_DMB_MAX_LEN ||
	    !ism_gid_is_ism(&dmb->rgid))
		return -EINVAL;
	size = PAGE_ALIGN(dmb->dmb_len);

	mutex_lock(&ism->dmb_lock);
	idx = ism_dmb_reserve(ism, dmb->idx);
	if (idx < 0) {
		ret = idx;
		goto out_unlock;
	}
	slot = &ism->dmbs[idx];
	slot->size = size;
	folio = folio_alloc(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN,
			    get_order(size));
	if (!folio) {
		ret = -ENOMEM;
		goto err_release_idx;
	}
	slot->cpu_addr = folio_address(folio);
	slot->dma_addr = dma_map_single(ism->dev, slot->cpu_addr, size,
					DMA_FROM_DEVICE);
	if (dma_mapping_error(ism->dev, slot->dma_addr)) {
		ret = -ENOMEM;
		goto err_free_pages;
	}
	/* Route signals before the function can send any. */
	ret = dibs_dmb_set_owner(dibs, idx, client);
	if (ret)
		goto err_unmap;
	ret = ism_reg_dmb(ism, dmb, idx, slot->dma_addr, &tok);
	if (ret)
		goto err_clear_owner;

	slot->tok = tok;
	slot->len = dmb->dmb_len;
	dmb->idx = idx;
	dmb->dmb_tok = tok;
	dmb->cpu_addr = slot->cpu_addr;
	dmb->dma_addr = slot->dma_addr;
	mutex_unlock(&ism->dmb_lock);
	dibs_dmb_registered(dibs, dmb, client);
	return 0;

err_clear_owner:
	dibs_dmb_clear_owner(dibs, idx);
err_unmap:
	dma_unmap_single(ism->dev, slot->dma_addr, size, DMA_FROM_DEVICE);
err_free_pages:
	folio_put(folio);
err_release_idx:
	memset(slot, 0, sizeof(*slot));
	__clear_bit(idx, ism->dmb_map);
out_unlock:
	mutex_unlock(&ism->dmb_lock);
	return ret;
}

/*
 * Unregister DMB @idx with the function and release it (see
 * ism_dmb_release() for @free). A function that does not answer (-EIO)
 * writes no DMB any more, so its DMBs are released too; any other failure
 * keeps the DMB, which the function may still write. Under dmb_lock.
 */
static int ism_dmb_unregister(struct ism_dev *ism, u32 idx, bool free)
{
	struct ism_unreg_dmb cmd;
	int ret;

	lockdep_assert_held(&ism->dmb_lock);
	ism_cmd_init(&cmd.hdr, ISM_UNREG_DMB, sizeof(cmd));
	cmd.dmb_tok = cpu_to_be64(ism->dmbs[idx].tok);
	ret = ism_cmd(ism, &cmd.hdr, sizeof(cmd.hdr));
	if (ret && ret != -EIO)
		return ret;
	if (ret)
		dev_warn(ism->dev, "freeing DMB %u of a function that does not answer\n",
			 idx);
	/* Already cleared if dibs_dev_del() dropped a leftover DMB. */
	dibs_dmb_clear_owner(ism->dibs, idx);
	dibs_dmb_unregistered(ism->dibs, idx, ism->dmbs[idx].len,
			      ism->dmbs[idx].tok);
	ism_dmb_release(ism, idx, free);
	return 0;
}

/**
 * ism_unregister_dmb() - &dibs_dev_ops.unregister_dmb
 * @dibs: the device
 * @dmb: a DMB registered with ism_register_dmb(), named by @dmb->idx and
 *	@dmb->dmb_tok
 *
 * If the function does not answer, it writes no DMB any more: the DMB is
 * freed and 0 returned.
 *
 * Context: process context, may sleep.
 * Return: 0; -EINVAL if @dmb->idx is out of range; -ENOENT if no DMB
 * with this index and token is registered; -EREMOTEIO or -EPROTO if the
 * function refused (see ism_cmd()), in which case the DMB stays registered.
 */
static int ism_unregister_dmb(struct dibs_dev *dibs, struct dibs_dmb *dmb)
{
	struct ism_dev *ism = ism_from_dibs(dibs);
	int ret;

	if (dmb->idx < ISM_DMB_BIT_OFFSET || dmb->idx >= ISM_NR_DMBS)
		return -EINVAL;

	mutex_lock(&ism->dmb_lock);
	if (!test_bit(dmb->idx, ism->dmb_map) ||
	    ism->dmbs[dmb->idx].tok != dmb->dmb_tok)
		ret = -ENOENT;
	else
		ret = ism_dmb_unregister(ism, dmb->idx, true);
	mutex_unlock(&ism->dmb_lock);
	return ret;
}

/* The move of ism_move_data(), without the accounting. */
static int ism_move(struct ism_transport *tp, u64 dmb_tok, unsigned int idx,
		    bool sf, unsigned int offset, void *data, unsigned int size)
{
	unsigned int chunk;
	u64 req;
	int ret;

	if (idx > ISM_DMBE_IDX_MAX || size > ISM_DMB_MAX_LEN ||
	    offset > ISM_DMB_MAX_LEN - size)
		return -EINVAL;
	if (!dmb_tok || dmb_tok & ~ISM_REQ_TOK_MASK)
		return -ENOENT;
	if (!size)
		return sf ? -EOPNOTSUPP : 0;

	while (size) {
		chunk = min(size, ISM_DMB_CHUNK - offset % ISM_DMB_CHUNK);
		req = ism_dmb_req(dmb_tok, idx, sf && chunk == size, offset);
		ret = tp->ops->dmb_store(tp, req, data, chunk);
		if (ret)
			return ret;
		offset += chunk;
		data += chunk;
		size -= chunk;
	}
	return 0;
}

/**
 * ism_move_data() - &dibs_dev_ops.move_data
 * @dibs: the device
 * @dmb_tok: token of the remote DMB
 * @idx: signalling index, at most %ISM_DMBE_IDX_MAX
 * @sf: signal the owner of the DMB
 * @offset: where in the DMB
 * @data: what
 * @size: how many bytes
 *
 * Writes in pieces that do not cross a 4 KiB boundary of the target; only
 * the last piece carries the signalling flag. The function checks the
 * token, the range against the DMB's length and the writer; a piece it
 * refuses fails the move, and pieces before it stay written. The function
 * cannot signal without writing, so a signal with @size 0 is refused.
 *
 * Context: process or softirq context; does not sleep.
 * Return: 0; -EINVAL if @idx is above %ISM_DMBE_IDX_MAX or @offset +
 * @size exceeds %ISM_DMB_MAX_LEN; -ENOENT if @dmb_tok cannot be an ISM
 * token (zero, or a non-zero lower half); nothing is written in these
 * cases. -EOPNOTSUPP if @sf is set and @size is 0; or the transport's
 * error for a refused piece (-EIO on s390), which is also what a token of
 * ISM form that names no DMB gets: only the function knows its DMBs.
 */
static int ism_move_data(struct dibs_dev *dibs, u64 dmb_tok, unsigned int idx,
			 bool sf, unsigned int offset, void *data,
			 unsigned int size)
{
	int ret;

	ret = ism_move(ism_from_dibs(dibs)->tp, dmb_tok, idx, sf, offset, data,
		       size);
	if (ret)
		dibs_move_failed(dibs, dmb_tok, offset, size, ret);
	else
		dibs_moved(dibs, size, sf);
	return ret;
}

static int ism_vlan_cmd(struct dibs_dev *dibs, u32 code, u64 vlan_id)
{
	struct ism_vlan cmd;

	ism_cmd_init(&cmd.hdr, code, sizeof(cmd));
	cmd.vlan_id = cpu_to_be64(vlan_id);
	return ism_cmd(ism_from_dibs(dibs), &cmd.hdr, sizeof(cmd.hdr));
}

/**
 * ism_add_vlan_id() - &dibs_dev_ops.add_vlan_id
 * @dibs: the device
 * @vlan_id: the VLAN; 0x1FFF is accepted only by ISMv2 functions, which is
 *	how clients detect ISMv2
 *
 * Context: any context; does not sleep (SMC-D calls it under a spinlock).
 * Return: 0 or an error of ism_cmd().
 */
static int ism_add_vlan_id(struct dibs_dev *dibs, u64 vlan_id)
{
	return ism_vlan_cmd(dibs, ISM_ADD_VLAN_ID, vlan_id);
}

/**
 * ism_del_vlan_id() - &dibs_dev_ops.del_vlan_id
 * @dibs: the device
 * @vlan_id: the VLAN
 *
 * Context: any context; does not sleep.
 * Return: 0 or an error of ism_cmd().
 */
static int ism_del_vlan_id(struct dibs_dev *dibs, u64 vlan_id)
{
	return ism_vlan_cmd(dibs, ISM_DEL_VLAN_ID, vlan_id);
}

/**
 * ism_signal_event() - &dibs_dev_ops.signal_event
 * @dibs: the device
 * @rgid: the target
 * @trigger_irq: zero lets the target's function delay the interrupt
 * @event_code: arrives as &dibs_event.subtype
 * @info: arrives as &dibs_event.data
 *
 * Context: process context, may sleep.
 * Return: 0; -ENETUNREACH if @rgid is not an ISM GID (nothing is sent);
 * or an error of ism_cmd().
 */
static int ism_signal_event(struct dibs_dev *dibs, const uuid_t *rgid,
			    u32 trigger_irq, u32 event_code, u64 info)
{
	struct ism_signal_ieq cmd;

	if (!ism_gid_is_ism(rgid))
		return -ENETUNREACH;

	ism_cmd_init(&cmd.hdr, ISM_SIGNAL_IEQ, sizeof(cmd));
	cmd.rgid = ism_gid_field(rgid);
	cmd.trigger_irq = cpu_to_be32(trigger_irq);
	cmd.event_code = cpu_to_be32(event_code);
	cmd.info = cpu_to_be64(info);
	return ism_cmd(ism_from_dibs(dibs), &cmd.hdr, sizeof(cmd.hdr));
}

/* ISM cannot map a remote DMB, so the zero-copy operations stay NULL. */
static const struct dibs_dev_ops ism_dibs_ops = {
	.get_fabric_id = ism_get_fabric_id,
	.query_remote_gid = ism_query_remote_gid,
	.max_dmbs = ism_max_dmbs,
	.register_dmb = ism_register_dmb,
	.unregister_dmb = ism_unregister_dmb,
	.move_data = ism_move_data,
	.add_vlan_id = ism_add_vlan_id,
	.del_vlan_id = ism_del_vlan_id,
	.signal_event = ism_signal_event,
};

/* ---- interrupts ---- */

/* Hand each signalled DMB's mask to its owner, lowest index first. */
static void ism_handle_dmb_signals(struct ism_dev *ism)
{
	struct ism_sba *sba = ism->sba;
	unsigned int byte, idx;
	u16 mask;

	for (byte = ISM_DMB_BIT_OFFSET / BITS_PER_BYTE;
	     byte < ARRAY_SIZE(sba->dmb_bits); byte++) {
		if (!READ_ONCE(sba->dmb_bits[byte]))
			continue;
		for (idx = byte * BITS_PER_BYTE;
		     idx < (byte + 1) * BITS_PER_BYTE; idx++) {
			if (!ism_sba_test_and_clear(sba, ISM_SBA_BIT_DMB(idx)))
				continue;
			/*
			 * The bit is clear before the mask is taken: a signal
			 * that arrives meanwhile sets the bit again and is
			 * delivered by the next interrupt.
			 */
			mask = be16_to_cpu(READ_ONCE(sba->dmbe_mask[idx]));
			WRITE_ONCE(sba->dmbe_mask[idx], 0);
			/* -ENOENT: nobody owns the DMB any more. */
			dibs_handle_irq(ism->dibs, idx, mask);
		}
	}
}

/* Translate one IEQ entry into a DIBS event. */
static void ism_event_to_dibs(const struct ism_eq_entry *entry,
			      struct dibs_event *event)
{
	u32 type = be32_to_cpu(entry->type);
	u32 code = be32_to_cpu(entry->code);

	memset(event, 0, sizeof(*event));
	switch (type) {
	case ISM_EVENT_BUF:
		event->type = DIBS_BUF_EVENT;
		event->buffer_tok = be64_to_cpu(entry->tok);
		break;
	case ISM_EVENT_DEV:
	case ISM_EVENT_SWR:
		event->type = type == ISM_EVENT_DEV ? DIBS_DEV_EVENT :
						      DIBS_SW_EVENT;
		/* The token field holds the peer's GID. */
		memcpy(event->gid.b, &entry->tok, sizeof(entry->tok));
		break;
	default:
		event->type = DIBS_OTHER_TYPE;
		break;
	}

	if (type == ISM_EVENT_SWR) {
		event->subtype = code;
	} else {
		switch (code) {
		case ISM_EVENT_CODE_BUF_UNREGISTERED:
			event->subtype = DIBS_BUF_UNREGISTERED;
			break;
		case ISM_EVENT_CODE_DEV_DISABLED:
			event->subtype = DIBS_DEV_DISABLED;
			break;
		case ISM_EVENT_CODE_DEV_ERR_STATE:
			event->subtype = DIBS_DEV_ERR_STATE;
			break;
		default:
			event->subtype = DIBS_OTHER_SUBTYPE;
			break;
		}
	}
	event->time = be64_to_cpu(entry->time);
	event->data = be64_to_cpu(entry->info);
}

/* Deliver the IEQ entries written since the last call, oldest first. */
static void ism_drain_ieq(struct ism_dev *ism)
{
	struct ism_eq_entry entry;
	struct dibs_event event;
	u64 produced;

	for (;;) {
		produced = be64_to_cpu(READ_ONCE(ism->ieq->hdr.idx));
		if (produced == (u64)(ism->ieq_idx + 1))
			break;
		/* Anything else would never match: a broken function. */
		if (!produced || produced > ISM_IEQ_ENTRIES) {
			dev_err_ratelimited(ism->dev, "invalid event queue index %llu\n",
					    produced);
			break;
		}
		ism->ieq_idx = (ism->ieq_idx + 1) % ISM_IEQ_ENTRIES;
		/* Read the entry only after the index that announced it. */
		dma_rmb();
		entry = ism->ieq->entry[ism->ieq_idx];
		ism_event_to_dibs(&entry, &event);
		dibs_handle_event(ism->dibs, &event);
	}
}

/**
 * ism_irq_handler() - the function's interrupt handler
 * @irq: the interrupt number (unused)
 * @data: the &struct ism_dev
 *
 * Clears the summary bit first, so that a signal arriving during the scan
 * raises a new interrupt; then clears each set DMB bit and hands the DMB's
 * mask to dibs_handle_irq(); then, if the event bit was set, delivers the
 * new IEQ entries with dibs_handle_event(). All bits are cleared with
 * atomic, fully ordered operations because the function sets them
 * concurrently. The IRQ core never runs the handler of the one vector
 * twice at the same time, which &ism_dev.ieq_idx relies on.
 *
 * Context: hard interrupt context.
 * Return: %IRQ_HANDLED.
 */
irqreturn_t ism_irq_handler(int irq, void *data)
{
	struct ism_dev *ism = data;

	ism_sba_test_and_clear(ism->sba, ISM_SBA_BIT_SUMMARY);
	ism_handle_dmb_signals(ism);
	if (ism_sba_test_and_clear(ism->sba, ISM_SBA_BIT_EVENT))
		ism_drain_ieq(ism);
	return IRQ_HANDLED;
}
EXPORT_SYMBOL_IF_KUNIT(ism_irq_handler);

/* ---- bring-up and teardown ---- */

/* The DMA limits of the function: 64-bit, segments of 1 MiB, aligned. */
static int ism_dma_setup(struct device *dev)
{
	int ret;

	/* Without DMA parameters the segment limits cannot be honoured. */
	if (!dev->dma_parms)
		return -EINVAL;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	dma_set_seg_boundary(dev, ISM_DMB_MAX_LEN - 1);
	dma_set_max_seg_size(dev, ISM_DMB_MAX_LEN);
	return 0;
}

/**
 * ism_dev_create() - allocate the driver's state of one function
 * @parent: the device of the function; needs DMA parameters
 *	(&device.dma_parms), as every PCI device has
 * @tp: the transport to the function; must outlive the returned state
 *
 * Sets the DMA limits of @parent, allocates the SBA, the IEQ and the DIBS
 * device. Talks to no function yet: the caller installs
 * ism_irq_handler() with the result, then calls ism_dev_start().
 *
 * Context: process context, may sleep.
 * Return: the state, or an ERR_PTR(): -EINVAL if @parent has no DMA
 * parameters, the error of dma_set_mask_and_coherent(), or -ENOMEM.
 */
struct ism_dev *ism_dev_create(struct device *parent, struct ism_transport *tp)
{
	struct ism_dev *ism;
	int ret;

	ism = kzalloc_obj(*ism);
	if (!ism)
		return ERR_PTR(-ENOMEM);
	ism->dev = parent;
	ism->tp = tp;
	ism->ieq_idx = -1;
	spin_lock_init(&ism->cmd_lock);
	mutex_init(&ism->dmb_lock);

	ret = ism_dma_setup(parent);
	if (ret)
		goto err_free_ism;
	ret = -ENOMEM;
	ism->dmbs = kvzalloc_objs(*ism->dmbs, ISM_NR_DMBS);
	if (!ism->dmbs)
		goto err_free_ism;
	ism->sba = dma_alloc_coherent(parent, ISM_AREA_SIZE, &ism->sba_dma,
				      GFP_KERNEL);
	if (!ism->sba)
		goto err_free_dmbs;
	ism->ieq = dma_alloc_coherent(parent, ISM_AREA_SIZE, &ism->ieq_dma,
				      GFP_KERNEL);
	if (!ism->ieq)
		goto err_free_sba;
	ism->dibs = dibs_dev_alloc();
	if (!ism->dibs)
		goto err_free_ieq;
	ism->dibs->ops = &ism_dibs_ops;
	ism->dibs->drv_priv = ism;
	ism->dibs->dev.parent = parent;
	return ism;

err_free_ieq:
	dma_free_coherent(parent, ISM_AREA_SIZE, ism->ieq, ism->ieq_dma);
err_free_sba:
	dma_free_coherent(parent, ISM_AREA_SIZE, ism->sba, ism->sba_dma);
err_free_dmbs:
	kvfree(ism->dmbs);
err_free_ism:
	mutex_destroy(&ism->dmb_lock);
	kfree(ism);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(ism_dev_create);

static int ism_register_sba(struct ism_dev *ism)
{
	struct ism_reg_sba cmd;
	int ret;

	ism_cmd_init(&cmd.hdr, ISM_REG_SBA, sizeof(cmd));
	cmd.sba = cpu_to_be64(ism->sba_dma);
	ret = ism_cmd(ism, &cmd.hdr, sizeof(cmd.hdr));
	if (!ret)
		ism->sba_registered = true;
	return ret;
}

/* Memory stays allocated unless the function has let go of it. */
static void ism_unregister_sba(struct ism_dev *ism)
{
	int ret = ism_cmd_simple(ism, ISM_UNREG_SBA);

	if (ret && ret != -EIO)
		dev_err(ism->dev, "cannot unregister the SBA (%d), leaking it\n",
			ret);
	else
		ism->sba_registered = false;
}

static int ism_register_ieq(struct ism_dev *ism)
{
	struct ism_reg_ieq cmd;
	int ret;

	ism_cmd_init(&cmd.hdr, ISM_REG_IEQ, sizeof(cmd));
	cmd.ieq = cpu_to_be64(ism->ieq_dma);
	cmd.len = cpu_to_be64(sizeof(struct ism_ieq));
	ret = ism_cmd(ism, &cmd.hdr, sizeof(cmd.hdr));
	if (!ret) {
		ism->ieq_registered = true;
		ism->ieq_idx = -1;
	}
	return ret;
}

static void ism_unregister_ieq(struct ism_dev *ism)
{
	int ret = ism_cmd_simple(ism, ISM_UNREG_IEQ);

	if (ret && ret != -EIO)
		dev_err(ism->dev, "cannot unregister the IEQ (%d), leaking it\n",
			ret);
	else
		ism->ieq_registered = false;
}

/* Log what the function says about itself; nothing depends on it. */
static void ism_log_info(struct ism_dev *ism)
{
	struct ism_query_info cmd;

	ism_cmd_init(&cmd.hdr, ISM_QUERY_INFO, sizeof(cmd.hdr));
	if (ism_cmd(ism, &cmd.hdr, sizeof(cmd)))
		return;
	dev_dbg(ism->dev, "version %u, %u DMBs owned, %u VLANs\n",
		be32_to_cpu(cmd.version), be32_to_cpu(cmd.dmbs_owned),
		be32_to_cpu(cmd.vlan_nr_ids));
}

static int ism_read_gid(struct ism_dev *ism, uuid_t *gid)
{
	struct ism_read_gid cmd;
	int ret;

	ism_cmd_init(&cmd.hdr, ISM_READ_GID, sizeof(cmd.hdr));
	ret = ism_cmd(ism, &cmd.hdr, sizeof(cmd));
	if (ret)
		return ret;
	memset(gid, 0, sizeof(*gid));
	memcpy(gid->b, &cmd.gid, sizeof(cmd.gid));
	return 0;
}

/**
 * ism_dev_start() - bring a function up and offer it to DIBS clients
 * @ism: from ism_dev_create(), with ism_irq_handler() installed
 *
 * Registers the SBA and the IEQ, logs the function's information, reads
 * its GID, names the DIBS device "ism" followed by the function's name id
 * in hex, and adds it, which calls add_dev() of every DIBS client.
 *
 * Context: process context, may sleep.
 * Return: 0, an error of ism_cmd(), or of dev_set_name() or
 * dibs_dev_add() (-EINVAL for a zero GID). On error the function is
 * left as before the call.
 */
int ism_dev_start(struct ism_dev *ism)
{
	int ret;

	ret = ism_register_sba(ism);
	if (ret)
		return ret;
	ret = ism_register_ieq(ism);
	if (ret)
		goto err_unregister_sba;
	ism_log_info(ism);
	ret = ism_read_gid(ism, &ism->dibs->gid);
	if (ret)
		goto err_unregister_ieq;
	ret = dev_set_name(&ism->dibs->dev, "ism%x",
			   ism->tp->ops->name_id(ism->tp));
	if (ret)
		goto err_unregister_ieq;
	ret = dibs_dev_add(ism->dibs);
	if (ret)
		goto err_unregister_ieq;
	return 0;

err_unregister_ieq:
	ism_unregister_ieq(ism);
err_unregister_sba:
	ism_unregister_sba(ism);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ism_dev_start);

/**
 * ism_dev_stop() - take a function away from DIBS clients and shut it down
 * @ism: a function started with ism_dev_start()
 *
 * Withdraws the DIBS device, whose clients unregister their DMBs in their
 * del_dev(); unregisters DMBs a client left behind with the function and
 * unmaps them, but leaks their memory, which that client may still touch
 * (a warning gives their number); then
 * unregisters the IEQ and the SBA, after which the function raises no
 * more interrupts. The caller then removes ism_irq_handler() and calls
 * ism_dev_destroy().
 *
 * Context: process context, may sleep.
 */
void ism_dev_stop(struct ism_dev *ism)
{
	unsigned int idx, left = 0;

	dibs_dev_del(ism->dibs);

	mutex_lock(&ism->dmb_lock);
	for_each_set_bit(idx, ism->dmb_map, ISM_NR_DMBS) {
		left++;
		if (ism_dmb_unregister(ism, idx, false))
			dev_err(ism->dev, "cannot unregister DMB %u\n", idx);
	}
	mutex_unlock(&ism->dmb_lock);
	if (left)
		dev_warn(ism->dev, "%u DMBs left by clients after removal; leaking their memory\n",
			 left);

	ism_unregister_ieq(ism);
	ism_unregister_sba(ism);
}
EXPORT_SYMBOL_IF_KUNIT(ism_dev_stop);

/**
 * ism_dev_destroy() - free the driver's state of one function
 * @ism: from ism_dev_create(); not started, or stopped with
 *	ism_dev_stop(), and ism_irq_handler() no longer installed
 *
 * Drops the driver's reference to the DIBS device and frees the SBA and
 * the IEQ. Memory the function could not be made to let go of (an SBA,
 * IEQ or DMB whose unregistration it refused) is leaked on purpose rather
 * than handed back while the function may still write it.
 *
 * Context: process context, may sleep.
 */
void ism_dev_destroy(struct ism_dev *ism)
{
	put_device(&ism->dibs->dev);
	if (!ism->ieq_registered)
		dma_free_coherent(ism->dev, ISM_AREA_SIZE, ism->ieq,
				  ism->ieq_dma);
	if (!ism->sba_registered)
		dma_free_coherent(ism->dev, ISM_AREA_SIZE, ism->sba,
				  ism->sba_dma);
	kvfree(ism->dmbs);
	mutex_destroy(&ism->dmb_lock);
	kfree(ism);
}
EXPORT_SYMBOL_IF_KUNIT(ism_dev_destroy);
