/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIBS over ivshmem: the interface between the fabric logic and what
 * provides the shared region and the doorbells (the PCI function, or the
 * software model of the KUnit suite).
 */
#ifndef _DIBS_IVSHMEM_H
#define _DIBS_IVSHMEM_H

#include <linux/dibs.h>
#include <linux/types.h>

struct device;
struct dibs_ivs_dev;

/**
 * struct dibs_ivs_hw_ops - what the fabric needs of an ivshmem function
 * @ring: ring vector @vector of the peer with ivshmem ID @id.
 *	Context: any context up to hard interrupt, does not sleep.
 */
struct dibs_ivs_hw_ops {
	void (*ring)(void *hw_priv, u16 id, unsigned int vector);
};

/**
 * struct dibs_ivs_params - how to bring up a device on a region
 * @parent: the device the DIBS device sits under; may be NULL.
 * @name: name of the DIBS device (printf-free, at most 31 characters).
 * @base: the region, mapped in the linear map, @size bytes.
 * @size: size of the region.
 * @id: this function's ivshmem ID (its IVPosition); its slot is the one
 *	the server connected with this ID.
 * @ops: doorbells.
 * @hw_priv: passed to @ops.
 * @period: interval of the heartbeat and the peer table check, in jiffies;
 *	0 for one second.
 * @timeout: how long a peer's heartbeat may stand still, and how long to
 *	wait for other peers' moves and acknowledgements, in jiffies; 0 for
 *	%DIBS_IVSHMEM_HEARTBEAT_TIMEOUT seconds.
 */
struct dibs_ivs_params {
	struct device *parent;
	const char *name;
	void *base;
	u64 size;
	u16 id;
	const struct dibs_ivs_hw_ops *ops;
	void *hw_priv;
	unsigned long period;
	unsigned long timeout;
};

/**
 * struct dibs_ivs_layout - the checked copy of a region's header
 * @region_size: bytes of the region.
 * @peer_off: offset of the peer table.
 * @mbox_off: offset of the mailboxes.
 * @sig_off: offset of the signal areas.
 * @desc_off: offset of the descriptor tables.
 * @heap_off: offset of the heaps.
 * @heap_size: bytes of one peer's heap.
 * @sig_size: bytes of one signal area.
 * @bitmap_size: bytes of one bitmap in a signal area.
 * @fabric_id: the fabric id.
 * @max_peers: slots.
 * @max_dmbs: DMBs per slot.
 */
struct dibs_ivs_layout {
	u64 region_size;
	u64 peer_off;
	u64 mbox_off;
	u64 sig_off;
	u64 desc_off;
	u64 heap_off;
	u64 heap_size;
	u32 sig_size;
	u32 bitmap_size;
	u16 fabric_id;
	u16 max_peers;
	u16 max_dmbs;
};

struct dibs_ivs_dev *dibs_ivs_dev_create(const struct dibs_ivs_params *p);
void dibs_ivs_dev_destroy(struct dibs_ivs_dev *ivs);
void dibs_ivs_irq(struct dibs_ivs_dev *ivs, unsigned int vector);

#if IS_ENABLED(CONFIG_KUNIT)
struct dibs_ivshmem_header;
struct seq_file;

int dibs_ivs_check_header(const struct dibs_ivshmem_header *hdr, u64 size,
			  struct dibs_ivs_layout *l, const char **why);
struct dibs_dev *dibs_ivs_dev_dibs(struct dibs_ivs_dev *ivs);
unsigned int dibs_ivs_dmbs_held(struct dibs_ivs_dev *ivs);
void dibs_ivs_poll(struct dibs_ivs_dev *ivs);
int dibs_ivs_peers_show(struct seq_file *m, void *unused);
#endif

#endif /* _DIBS_IVSHMEM_H */
