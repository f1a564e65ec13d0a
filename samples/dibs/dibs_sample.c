// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS sample client
 *
 * The smallest useful DIBS client. On every device that can reach itself
 * (the loopback device can), it registers a DMB that the device itself may
 * write, writes a greeting into it with move_data() and a signal, as a
 * peer would, and prints the greeting once handle_irq() has reported it.
 *
 * A client that talks to a peer does the same with the peer's GID as the
 * DMB's remote writer, and tells the peer the DMB's token through some
 * other channel (SMC-D uses its TCP connection, and signal_event() is
 * another). The ping-pong client in drivers/dibs/tests/ shows both.
 */

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/dibs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

/* The signalling index the sender sets in the owner's handle_irq() mask. */
#define SAMPLE_SIGNAL	0

static const char sample_greeting[] = "Hello from DIBS";

/**
 * struct sample_dev - what the client keeps for one device
 * @dibs: the device.
 * @work: sends the greeting; it has to wait for handle_irq(), which cannot
 *	run before add_dev() has returned.
 * @idx: index of the DMB that the greeting goes to.
 * @arrived: completed by handle_irq() when the DMB has been signalled.
 */
struct sample_dev {
	struct dibs_dev *dibs;
	struct work_struct work;
	unsigned int idx;
	struct completion arrived;
};

static struct dibs_client sample_client;

static void sample_greet(struct work_struct *work)
{
	struct sample_dev *sd = container_of(work, struct sample_dev, work);
	struct dibs_dev *dibs = sd->dibs;
	struct dibs_dmb dmb = {
		.dmb_len = SZ_4K,
		.rgid = dibs->gid,	/* the only one who may write the DMB */
	};
	char text[sizeof(sample_greeting)];
	int ret;

	if (dibs->ops->query_remote_gid(dibs, &dibs->gid, 0, 0))
		return;		/* a device that needs a peer */

	ret = dibs->ops->register_dmb(dibs, &dmb, &sample_client);
	if (ret) {
		dev_err(&dibs->dev, "dibs_sample: register_dmb: %d\n", ret);
		return;
	}
	sd->idx = dmb.idx;

	/*
	 * What the peer does: write into the DMB it knows by its token, and
	 * signal the owner. The write is complete when move_data() returns.
	 */
	ret = dibs->ops->move_data(dibs, dmb.dmb_tok, SAMPLE_SIGNAL, true, 0,
				   (void *)sample_greeting,
				   sizeof(sample_greeting));
	if (!ret && !wait_for_completion_timeout(&sd->arrived, HZ))
		ret = -ETIMEDOUT;

	if (ret) {
		dev_err(&dibs->dev, "dibs_sample: no greeting: %d\n", ret);
	} else {
		/* The owner reads its DMB through cpu_addr. */
		memcpy(text, dmb.cpu_addr, sizeof(text));
		text[sizeof(text) - 1] = '\0';
		dev_info(&dibs->dev, "dibs_sample: DMB %u received \"%s\"\n",
			 dmb.idx, text);
	}

	/* A client must let go of its DMBs before del_dev() returns. */
	ret = dibs->ops->unregister_dmb(dibs, &dmb);
	if (ret)
		dev_err(&dibs->dev, "dibs_sample: unregister_dmb: %d\n", ret);
}

/* Any context up to hard interrupt: note the signal, leave the work. */
static void sample_handle_irq(struct dibs_dev *dibs, unsigned int idx,
			      u16 dmbemask)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);

	if (idx == sd->idx && (dmbemask & BIT(SAMPLE_SIGNAL)))
		complete(&sd->arrived);
}

/* Process context, with the DIBS registry mutex held. */
static void sample_add_dev(struct dibs_dev *dibs)
{
	struct sample_dev *sd;

	sd = kzalloc_obj(*sd);
	if (!sd)
		return;		/* the client simply does not use the device */
	sd->dibs = dibs;
	INIT_WORK(&sd->work, sample_greet);
	init_completion(&sd->arrived);
	dibs_set_priv(dibs, &sample_client, sd);
	schedule_work(&sd->work);
}

/*
 * The device goes away or the client is unregistered: no handler runs any
 * more, so a greeting still in flight times out, and its work unregisters
 * the DMB before cancel_work_sync() returns.
 */
static void sample_del_dev(struct dibs_dev *dibs)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);

	if (!sd)
		return;
	cancel_work_sync(&sd->work);
	dibs_set_priv(dibs, &sample_client, NULL);
	kfree(sd);
}

static const struct dibs_client_ops sample_ops = {
	.add_dev = sample_add_dev,
	.del_dev = sample_del_dev,
	.handle_irq = sample_handle_irq,
	/* .handle_event is optional; this client uses no events. */
};

static struct dibs_client sample_client = {
	.name = "dibs_sample",
	.ops = &sample_ops,
};

static int __init sample_init(void)
{
	/* Calls add_dev() for every device there is already. */
	return dibs_register_client(&sample_client);
}
module_init(sample_init);

static void __exit sample_exit(void)
{
	/* Calls del_dev() for every device the client has. */
	dibs_unregister_client(&sample_client);
}
module_exit(sample_exit);

MODULE_DESCRIPTION("DIBS sample client: a greeting through a DMB");
MODULE_LICENSE("GPL");
