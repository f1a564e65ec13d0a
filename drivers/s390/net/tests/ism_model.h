/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A software model of ISM functions on a fabric, for the KUnit suite of the
 * ISM driver. It plugs in below the driver as a struct ism_transport.
 */
#ifndef _ISM_MODEL_H
#define _ISM_MODEL_H

#include <linux/device.h>
#include <linux/types.h>

#include "../ism.h"

/*
 * Response codes the modelled function uses to refuse a command. Real
 * firmware codes are not documented; the driver treats every non-zero code
 * other than ISM_ERROR alike.
 */
#define ISM_MODEL_RC_BAD_CMD	0x0001	/* unknown command or wrong length */
#define ISM_MODEL_RC_STATE	0x0002	/* SBA or IEQ (un)registered twice */
#define ISM_MODEL_RC_NO_PEER	0x0003	/* no such GID (on that VLAN) */
#define ISM_MODEL_RC_BAD_DMB	0x0004	/* bad DMB index, length or token */
#define ISM_MODEL_RC_VLAN	0x0005	/* VLAN table full, duplicate, absent */

/* Stores into DMBs that a function remembers for inspection. */
#define ISM_MODEL_STORE_LOG	8
/* Commands that a function remembers for inspection. */
#define ISM_MODEL_CMD_LOG	16

/**
 * struct ism_model_store - one store into a DMB, as the function saw it
 * @req: the request word.
 * @len: the length.
 */
struct ism_model_store {
	u64 req;
	unsigned int len;
};

struct ism_model_fabric;
struct ism_model_fn;

struct ism_model_fabric *ism_model_fabric_create(u16 fabric_id);
void ism_model_fabric_destroy(struct ism_model_fabric *fabric);
struct ism_model_fn *ism_model_fn_create(struct ism_model_fabric *fabric,
					 struct device *dev, u64 gid,
					 u32 name_id);
void ism_model_fn_destroy(struct ism_model_fn *fn);
struct ism_transport *ism_model_transport(struct ism_model_fn *fn);

/* Knobs: make the function misbehave, deterministically. */
void ism_model_fail_cmd(struct ism_model_fn *fn, u32 code, u16 ret);
void ism_model_garble_resp_len(struct ism_model_fn *fn, u32 code, u16 len);
void ism_model_fail_transport(struct ism_model_fn *fn, int err);
void ism_model_set_dead(struct ism_model_fn *fn);
void ism_model_raise_event(struct ism_model_fn *fn, u32 type, u32 code,
			   u64 tok, u64 time, u64 info, bool irq);
void ism_model_raise_signal(struct ism_model_fn *fn, unsigned int idx,
			    u16 mask);

/* Inspection. */
bool ism_model_sba_registered(struct ism_model_fn *fn, dma_addr_t *addr);
bool ism_model_ieq_registered(struct ism_model_fn *fn, dma_addr_t *addr);
unsigned int ism_model_nr_dmbs(struct ism_model_fn *fn);
bool ism_model_dmb(struct ism_model_fn *fn, unsigned int idx, u64 *tok,
		   dma_addr_t *addr, u32 *len, u64 *rgid);
bool ism_model_has_vlan(struct ism_model_fn *fn, u64 vlan_id);
unsigned int ism_model_irqs(struct ism_model_fn *fn);
unsigned int ism_model_cmds(struct ism_model_fn *fn);
u32 ism_model_cmd_log(struct ism_model_fn *fn, unsigned int nr);
unsigned int ism_model_stores(struct ism_model_fn *fn);
struct ism_model_store ism_model_store_log(struct ism_model_fn *fn,
					   unsigned int nr);

#endif /* _ISM_MODEL_H */
