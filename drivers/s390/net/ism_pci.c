// SPDX-License-Identifier: GPL-2.0
/*
 * IBM ISM (Internal Shared Memory) virtual PCI function: the PCI driver.
 * Probe claims the function and hands it to the device logic in ism_drv.c
 * together with the s390 transport; remove undoes probe in reverse.
 */

#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "ism.h"

#define ISM_PCI_VENDOR_IBM	0x1014
#define ISM_PCI_DEVICE_ISM	0x04ed

static const struct pci_device_id ism_pci_ids[] = {
	{ PCI_DEVICE(ISM_PCI_VENDOR_IBM, ISM_PCI_DEVICE_ISM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ism_pci_ids);

/**
 * ism_probe() - claim an ISM function and offer it to DIBS clients
 * @pdev: the function
 * @id: its entry in ism_pci_ids
 *
 * The function is only reached through zPCI instructions, never through
 * mapped BARs, but its memory regions are claimed all the same. It has
 * exactly one MSI vector, installed before the function is started because
 * the function may interrupt as soon as its SBA is registered.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno; on error everything is undone.
 */
static int ism_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ism_transport *tp;
	struct ism_dev *ism;
	int ret;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = pci_request_mem_regions(pdev, "ism");
	if (ret)
		goto err_disable_device;
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto err_clear_master;
	tp = ism_s390_transport_create(pdev);
	if (IS_ERR(tp)) {
		ret = PTR_ERR(tp);
		goto err_free_vectors;
	}
	ism = ism_dev_create(&pdev->dev, tp);
	if (IS_ERR(ism)) {
		ret = PTR_ERR(ism);
		goto err_destroy_transport;
	}
	ret = request_irq(pci_irq_vector(pdev, 0), ism_irq_handler, 0,
			  pci_name(pdev), ism);
	if (ret)
		goto err_destroy_dev;
	ret = ism_dev_start(ism);
	if (ret)
		goto err_free_irq;
	pci_set_drvdata(pdev, ism);
	return 0;

err_free_irq:
	free_irq(pci_irq_vector(pdev, 0), ism);
err_destroy_dev:
	ism_dev_destroy(ism);
err_destroy_transport:
	ism_s390_transport_destroy(tp);
err_free_vectors:
	pci_free_irq_vectors(pdev);
err_clear_master:
	pci_clear_master(pdev);
	pci_release_mem_regions(pdev);
err_disable_device:
	pci_disable_device(pdev);
	return ret;
}

/**
 * ism_remove() - take an ISM function away, in the reverse order of probe
 * @pdev: the function
 *
 * The interrupt is freed only after ism_dev_stop() has unregistered the
 * SBA and the IEQ, and the state only after free_irq() has waited for a
 * running handler, so the handler never sees freed memory.
 *
 * Context: process context, may sleep.
 */
static void ism_remove(struct pci_dev *pdev)
{
	struct ism_dev *ism = pci_get_drvdata(pdev);
	struct ism_transport *tp = ism->tp;

	ism_dev_stop(ism);
	free_irq(pci_irq_vector(pdev, 0), ism);
	ism_dev_destroy(ism);
	ism_s390_transport_destroy(tp);
	pci_free_irq_vectors(pdev);
	pci_clear_master(pdev);
	pci_release_mem_regions(pdev);
	pci_disable_device(pdev);
}

static struct pci_driver ism_pci_driver = {
	.name = "ism",
	.id_table = ism_pci_ids,
	.probe = ism_probe,
	.remove = ism_remove,
};
module_pci_driver(ism_pci_driver);

MODULE_DESCRIPTION("IBM ISM virtual PCI function as a DIBS device");
MODULE_AUTHOR("IBM Corporation");
MODULE_LICENSE("GPL");
