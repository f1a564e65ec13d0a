// SPDX-License-Identifier: GPL-2.0
/*
 * IBM ISM (Internal Shared Memory) virtual PCI function: the s390
 * transport. The function is reached only with the zPCI load and store
 * block instructions addressed by the current function handle, never with
 * MIO instructions or mapped BARs. Built only on s390.
 */

#include <linux/err.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/pci.h>
#include <asm/pci_insn.h>
#include <asm/pci_io.h>

#include "ism.h"

/* zPCI address spaces (BARs) of the function. */
#define ISM_S390_SPACE_DMB	0	/* stores into remote DMBs */
#define ISM_S390_SPACE_CMD	2	/* the command window */

/**
 * struct ism_s390_transport - the s390 transport to one function
 * @tp: the transport the driver uses.
 * @pdev: the function.
 */
struct ism_s390_transport {
	struct ism_transport tp;
	struct pci_dev *pdev;
};

static struct zpci_dev *ism_s390_zdev(struct ism_transport *tp)
{
	return to_zpci(container_of(tp, struct ism_s390_transport, tp)->pdev);
}

/*
 * The request word of an instruction. The function handle changes when the
 * function is re-enabled, so it is read anew for every instruction.
 */
static u64 ism_s390_req(struct ism_transport *tp, u8 space, u16 len)
{
	return ZPCI_CREATE_REQ(READ_ONCE(ism_s390_zdev(tp)->fh), space, len);
}

static int ism_s390_cmd_store(struct ism_transport *tp, unsigned int offset,
			      const void *data, unsigned int len)
{
	return __zpci_store_block(data, ism_s390_req(tp, ISM_S390_SPACE_CMD,
						     len), offset);
}

static int ism_s390_cmd_load8(struct ism_transport *tp, unsigned int offset,
			      void *data)
{
	u64 val;
	int ret;

	ret = __zpci_load(&val, ism_s390_req(tp, ISM_S390_SPACE_CMD,
					     sizeof(val)), offset);
	if (!ret)
		memcpy(data, &val, sizeof(val));
	return ret;
}

static int ism_s390_dmb_store(struct ism_transport *tp, u64 req,
			      const void *data, unsigned int len)
{
	return __zpci_store_block(data, ism_s390_req(tp, ISM_S390_SPACE_DMB,
						     len), req);
}

static u16 ism_s390_fabric_id(struct ism_transport *tp)
{
	return ism_s390_zdev(tp)->pchid;
}

/* The user-defined id if there is one, else the function id. */
static u32 ism_s390_name_id(struct ism_transport *tp)
{
	struct zpci_dev *zdev = ism_s390_zdev(tp);

	return zdev->uid ? zdev->uid : zdev->fid;
}

static const struct ism_transport_ops ism_s390_transport_ops = {
	.cmd_store = ism_s390_cmd_store,
	.cmd_load8 = ism_s390_cmd_load8,
	.dmb_store = ism_s390_dmb_store,
	.fabric_id = ism_s390_fabric_id,
	.name_id = ism_s390_name_id,
};

/**
 * ism_s390_transport_create() - the transport to an ISM PCI function
 * @pdev: the function; must outlive the transport
 *
 * Context: process context, may sleep.
 * Return: the transport, or ERR_PTR(-ENOMEM).
 */
struct ism_transport *ism_s390_transport_create(struct pci_dev *pdev)
{
	struct ism_s390_transport *s390;

	s390 = kzalloc_obj(*s390);
	if (!s390)
		return ERR_PTR(-ENOMEM);
	s390->tp.ops = &ism_s390_transport_ops;
	s390->pdev = pdev;
	return &s390->tp;
}

/**
 * ism_s390_transport_destroy() - free a transport
 * @tp: from ism_s390_transport_create()
 *
 * Context: process context, may sleep.
 */
void ism_s390_transport_destroy(struct ism_transport *tp)
{
	kfree(container_of(tp, struct ism_s390_transport, tp));
}
