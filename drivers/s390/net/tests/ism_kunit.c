// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the ISM driver. Two functions of the software model in
 * ism_model.c sit on one modelled fabric, each driven by the real driver
 * (ism_dev_create() and ism_dev_start() with the model as transport, in
 * place of PCI probe), and a test DIBS client records what the driver
 * delivers. Interrupts are delivered by calling ism_irq_handler() after
 * the model has raised them.
 */

#include <kunit/device.h>
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/dibs.h>
#include <linux/dma-mapping.h>
#include <linux/irq_work.h>
#include <linux/irqflags.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page-flags.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "dibs_fault_kunit.h"
#include "dibs_stats_kunit.h"
#include "../ism.h"
#include "ism_model.h"

#define TEST_FABRIC_ID		0x0abc
#define GID_A			0x0102030405060708ULL
#define GID_B			0x1112131415161718ULL
#define GID_UNKNOWN		0x2122232425262728ULL
#define NAME_ID_A		0xa1
#define NAME_ID_B		0xb2
#define TEST_LOG		32
#define TEST_REGS		(ISM_NR_DMBS + 8)
#define TEST_DMB_LEN		(2 * SZ_4K)

/**
 * struct ism_test_side - a modelled function and the driver on top of it
 * @dev: the device standing in for the PCI function.
 * @fn: the modelled function.
 * @ism: the driver's state.
 */
struct ism_test_side {
	struct device *dev;
	struct ism_model_fn *fn;
	struct ism_dev *ism;
};

/**
 * struct ism_test_reg - a DMB the test client registered
 * @dibs: the device it is registered with, NULL if the entry is unused.
 * @dmb: the DMB.
 */
struct ism_test_reg {
	struct dibs_dev *dibs;
	struct dibs_dmb dmb;
};

/**
 * struct ism_test_irq - a handle_irq() call the test client received
 * @dibs: the device.
 * @idx: the DMB index.
 * @mask: the signalling mask.
 */
struct ism_test_irq {
	struct dibs_dev *dibs;
	unsigned int idx;
	u16 mask;
};

/**
 * struct ism_test_ctx - state of one test case
 * @client: the test DIBS client.
 * @test: the test case.
 * @fabric: the modelled fabric.
 * @a: first function.
 * @b: second function.
 * @regs: DMBs registered through ism_test_reg().
 * @nr_regs: entries of @regs used so far.
 * @leak_in_del_dev: the client's del_dev() leaves its DMBs registered.
 * @lock: protects the logs below, written by the client's callbacks.
 * @irqs: handle_irq() calls.
 * @nr_irqs: their number.
 * @events: handle_event() calls.
 * @event_devs: the device of each.
 * @nr_events: their number.
 * @nr_added: add_dev() calls for the devices of @a and @b.
 * @nr_deleted: del_dev() calls for them.
 */
struct ism_test_ctx {
	struct dibs_client client;
	struct kunit *test;
	struct ism_model_fabric *fabric;
	struct ism_test_side a;
	struct ism_test_side b;
	struct ism_test_reg *regs;
	unsigned int nr_regs;
	bool leak_in_del_dev;
	spinlock_t lock;	/* protects the logs */
	struct ism_test_irq irqs[TEST_LOG];
	unsigned int nr_irqs;
	struct dibs_event events[TEST_LOG];
	struct dibs_dev *event_devs[TEST_LOG];
	unsigned int nr_events;
	unsigned int nr_added;
	unsigned int nr_deleted;
};

/* Tests run one at a time; the client's callbacks find their test here. */
static struct ism_test_ctx *ism_test_ctx;

static uuid_t ism_test_uuid(u64 gid)
{
	uuid_t uuid = {};

	put_unaligned_be64(gid, uuid.b);
	return uuid;
}

/* ---- the test client ---- */

/*
 * The client also sees the kernel's other DIBS devices (a loopback device,
 * when DIBS_LO is built in); it counts and cleans up only the test's own.
 */
static bool ism_test_is_ours(struct ism_test_ctx *ctx, struct dibs_dev *dibs)
{
	struct device *parent = dibs->dev.parent;

	return parent && (parent == ctx->a.dev || parent == ctx->b.dev);
}

static void ism_test_add_dev(struct dibs_dev *dibs)
{
	if (ism_test_is_ours(ism_test_ctx, dibs))
		ism_test_ctx->nr_added++;
}

static void ism_test_del_dev(struct dibs_dev *dibs)
{
	struct ism_test_ctx *ctx = ism_test_ctx;
	struct ism_test_reg *reg;
	unsigned int i;

	if (!ism_test_is_ours(ctx, dibs))
		return;
	ctx->nr_deleted++;
	for (i = 0; i < ctx->nr_regs; i++) {
		reg = &ctx->regs[i];
		if (reg->dibs != dibs)
			continue;
		if (!ctx->leak_in_del_dev)
			KUNIT_EXPECT_EQ(ctx->test,
					dibs->ops->unregister_dmb(dibs, &reg->dmb),
					0);
		reg->dibs = NULL;
	}
}

static void ism_test_handle_irq(struct dibs_dev *dibs, unsigned int idx,
				u16 dmbemask)
{
	struct ism_test_ctx *ctx = ism_test_ctx;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	if (ctx->nr_irqs < TEST_LOG)
		ctx->irqs[ctx->nr_irqs] = (struct ism_test_irq){
			.dibs = dibs, .idx = idx, .mask = dmbemask };
	ctx->nr_irqs++;
	spin_unlock_irqrestore(&ctx->lock, flags);
}

static void ism_test_handle_event(struct dibs_dev *dibs,
				  const struct dibs_event *event)
{
	struct ism_test_ctx *ctx = ism_test_ctx;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	if (ctx->nr_events < TEST_LOG) {
		ctx->events[ctx->nr_events] = *event;
		ctx->event_devs[ctx->nr_events] = dibs;
	}
	ctx->nr_events++;
	spin_unlock_irqrestore(&ctx->lock, flags);
}

static const struct dibs_client_ops ism_test_client_ops = {
	.add_dev = ism_test_add_dev,
	.del_dev = ism_test_del_dev,
	.handle_irq = ism_test_handle_irq,
	.handle_event = ism_test_handle_event,
};

/* ---- fixture ---- */

static struct dibs_dev *dibs_of(struct ism_test_side *side)
{
	return side->ism->dibs;
}

static const struct dibs_dev_ops *ops_of(struct ism_test_side *side)
{
	return side->ism->dibs->ops;
}

KUNIT_DEFINE_ACTION_WRAPPER(ism_test_fabric_destroy, ism_model_fabric_destroy,
			    struct ism_model_fabric *);
KUNIT_DEFINE_ACTION_WRAPPER(ism_test_fn_destroy, ism_model_fn_destroy,
			    struct ism_model_fn *);
KUNIT_DEFINE_ACTION_WRAPPER(ism_test_dev_destroy, ism_dev_destroy,
			    struct ism_dev *);
KUNIT_DEFINE_ACTION_WRAPPER(ism_test_dev_stop, ism_dev_stop, struct ism_dev *);

/* Run @action with @data when the test ends. */
static void ism_test_defer(struct kunit *test, kunit_action_t *action,
			   void *data)
{
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, action, data), 0);
}

static void ism_test_unregister_client(void *data)
{
	struct ism_test_ctx *ctx = data;

	KUNIT_EXPECT_EQ(ctx->test, dibs_unregister_client(&ctx->client), 0);
}

/* A modelled function and the driver's state for it, not started. */
static void ism_test_side_init(struct kunit *test, struct ism_test_side *side,
			       const char *name, u64 gid, u32 name_id)
{
	struct ism_test_ctx *ctx = test->priv;

	side->dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, side->dev);
	/* What a PCI bus provides for its devices. */
	side->dev->dma_mask = &side->dev->coherent_dma_mask;
	side->dev->dma_parms = kunit_kzalloc(test,
					     sizeof(*side->dev->dma_parms),
					     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, side->dev->dma_parms);

	side->fn = ism_model_fn_create(ctx->fabric, side->dev, gid, name_id);
	KUNIT_ASSERT_NOT_NULL(test, side->fn);
	ism_test_defer(test, ism_test_fn_destroy, side->fn);

	side->ism = ism_dev_create(side->dev, ism_model_transport(side->fn));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, side->ism);
	ism_test_defer(test, ism_test_dev_destroy, side->ism);
}

static void ism_test_start(struct kunit *test, struct ism_test_side *side)
{
	KUNIT_ASSERT_EQ(test, ism_dev_start(side->ism), 0);
	ism_test_defer(test, ism_test_dev_stop, side->ism);
}

/* Run ism_dev_stop() now rather than at the end of the test. */
static void ism_test_stop(struct kunit *test, struct ism_test_side *side)
{
	kunit_release_action(test, ism_test_dev_stop, side->ism);
}

static void ism_test_start_both(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;

	ism_test_start(test, &ctx->a);
	ism_test_start(test, &ctx->b);
}

static int ism_test_init(struct kunit *test)
{
	struct ism_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->regs = kunit_kcalloc(test, TEST_REGS, sizeof(*ctx->regs),
				  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->regs);
	ctx->test = test;
	spin_lock_init(&ctx->lock);
	test->priv = ctx;
	ism_test_ctx = ctx;

	ctx->client.name = "ism_test";
	ctx->client.ops = &ism_test_client_ops;
	KUNIT_ASSERT_EQ(test, dibs_register_client(&ctx->client), 0);
	ism_test_defer(test, ism_test_unregister_client, ctx);

	ctx->fabric = ism_model_fabric_create(TEST_FABRIC_ID);
	KUNIT_ASSERT_NOT_NULL(test, ctx->fabric);
	ism_test_defer(test, ism_test_fabric_destroy, ctx->fabric);

	ism_test_side_init(test, &ctx->a, "ism-test-a", GID_A, NAME_ID_A);
	ism_test_side_init(test, &ctx->b, "ism-test-b", GID_B, NAME_ID_B);
	return 0;
}

/* Register a DMB on @side for writer @rgid as the test client. */
static int ism_test_reg(struct kunit *test, struct ism_test_side *side,
			u32 len, u64 rgid, u32 idx, struct dibs_dmb **dmb)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_reg *reg;
	int ret;

	KUNIT_ASSERT_LT(test, ctx->nr_regs, TEST_REGS);
	reg = &ctx->regs[ctx->nr_regs++];
	reg->dmb.dmb_len = len;
	reg->dmb.rgid = ism_test_uuid(rgid);
	reg->dmb.idx = idx;
	ret = ops_of(side)->register_dmb(dibs_of(side), &reg->dmb,
					 &ctx->client);
	if (!ret)
		reg->dibs = dibs_of(side);
	*dmb = &reg->dmb;
	return ret;
}

static int ism_test_unreg(struct ism_test_side *side, struct dibs_dmb *dmb)
{
	int ret = ops_of(side)->unregister_dmb(dibs_of(side), dmb);

	if (!ret)
		container_of(dmb, struct ism_test_reg, dmb)->dibs = NULL;
	return ret;
}

static int ism_test_move(struct ism_test_side *side, u64 tok, unsigned int idx,
			 bool sf, unsigned int offset, void *data,
			 unsigned int size)
{
	return ops_of(side)->move_data(dibs_of(side), tok, idx, sf, offset,
				       data, size);
}

/* Run the interrupt handler in hard interrupt context, as the IRQ core does. */
struct ism_test_irq_work {
	struct irq_work work;
	struct ism_dev *ism;
	irqreturn_t ret;
	bool in_hardirq;
};

static void ism_test_irq_fn(struct irq_work *work)
{
	struct ism_test_irq_work *w = container_of(work, struct ism_test_irq_work,
						   work);

	/*
	 * The driver requests its interrupt without IRQF_NO_THREAD, so the
	 * IRQ core tells lockdep that the handler could be threaded (as it
	 * is with forced threading), which lets handlers take spinlock_t.
	 */
	lockdep_hardirq_threaded();
	w->in_hardirq = in_hardirq();
	w->ret = ism_irq_handler(0, w->ism);
}

static void ism_test_irq(struct ism_test_side *side)
{
	struct ism_test_irq_work w = {
		.work = IRQ_WORK_INIT_HARD(ism_test_irq_fn),
		.ism = side->ism,
		.ret = IRQ_NONE,
	};

	irq_work_queue(&w.work);
	irq_work_sync(&w.work);
	KUNIT_EXPECT_TRUE(ism_test_ctx->test, w.in_hardirq);
	KUNIT_EXPECT_EQ(ism_test_ctx->test, w.ret, IRQ_HANDLED);
}

static bool ism_test_all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* ---- bring-up and teardown ---- */

static void ism_start_registers_areas_and_offers_device(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	uuid_t gid = ism_test_uuid(GID_A);
	dma_addr_t addr;

	ism_test_start(test, a);

	KUNIT_ASSERT_TRUE(test, ism_model_sba_registered(a->fn, &addr));
	KUNIT_EXPECT_EQ(test, addr, a->ism->sba_dma);
	KUNIT_ASSERT_TRUE(test, ism_model_ieq_registered(a->fn, &addr));
	KUNIT_EXPECT_EQ(test, addr, a->ism->ieq_dma);
	/* The order of the probe sequence. */
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, 0), ISM_REG_SBA);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, 1), ISM_REG_IEQ);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, 2), ISM_QUERY_INFO);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, 3), ISM_READ_GID);

	/* Bytes 0-7: the GID, big-endian; bytes 8-15: zero. */
	KUNIT_EXPECT_MEMEQ(test, &dibs_of(a)->gid, &gid, sizeof(gid));
	KUNIT_EXPECT_STREQ(test, dev_name(&dibs_of(a)->dev), "isma1");
	KUNIT_EXPECT_PTR_EQ(test, dibs_of(a)->dev.parent, a->dev);
	KUNIT_EXPECT_EQ(test, ctx->nr_added, 1);
}

static void ism_device_reports_fabric_and_limits(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	const struct dibs_dev_ops *ops;

	ism_test_start(test, &ctx->a);
	ops = ops_of(&ctx->a);
	KUNIT_EXPECT_EQ(test, ops->get_fabric_id(dibs_of(&ctx->a)),
			TEST_FABRIC_ID);
	KUNIT_EXPECT_EQ(test, ops->max_dmbs(), ISM_NR_DMBS);
	/* ISM cannot map remote DMBs. */
	KUNIT_EXPECT_NULL(test, ops->support_mmapped_rdmb);
	KUNIT_EXPECT_NULL(test, ops->attach_dmb);
	KUNIT_EXPECT_NULL(test, ops->detach_dmb);
	KUNIT_EXPECT_NOT_NULL(test, ops->add_vlan_id);
	KUNIT_EXPECT_NOT_NULL(test, ops->signal_event);
	/* The DMA limits of the function. */
	KUNIT_EXPECT_EQ(test, dma_get_mask(ctx->a.dev), DMA_BIT_MASK(64));
	KUNIT_EXPECT_EQ(test, dma_get_seg_boundary(ctx->a.dev), SZ_1M - 1);
	KUNIT_EXPECT_EQ(test, dma_get_max_seg_size(ctx->a.dev), SZ_1M);
}

static void ism_create_needs_dma_parameters(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct device *dev;
	struct ism_dev *ism;

	dev = kunit_device_register(test, "ism-test-nodma");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	ism = ism_dev_create(dev, ism_model_transport(ctx->a.fn));
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(ism), -EINVAL);
}

/**
 * struct ism_start_failure - a way for ism_dev_start() to fail
 * @name: description.
 * @code: command the model refuses or garbles.
 * @fw_ret: response code to refuse with, or 0 to garble the length.
 * @resp_len: response length to garble to.
 * @transport_err: errno every access fails with, or 0.
 * @gid: GID of the function.
 * @err: what ism_dev_start() must return.
 */
struct ism_start_failure {
	const char *name;
	u32 code;
	u16 fw_ret;
	u16 resp_len;
	int transport_err;
	u64 gid;
	int err;
};

static const struct ism_start_failure ism_start_failures[] = {
	{ "REG_SBA refused", ISM_REG_SBA, 0x0100, 0, 0, GID_A, -EREMOTEIO },
	{ "REG_IEQ refused", ISM_REG_IEQ, 0x0100, 0, 0, GID_A, -EREMOTEIO },
	{ "READ_GID refused", ISM_READ_GID, 0x0100, 0, 0, GID_A, -EREMOTEIO },
	{ "READ_GID unanswered", ISM_READ_GID, ISM_ERROR, 0, 0, GID_A, -EIO },
	{ "READ_GID answer too short", ISM_READ_GID, 0, 8, 0, GID_A, -EPROTO },
	{ "READ_GID answer too long", ISM_READ_GID, 0, 24, 0, GID_A, -EPROTO },
	{ "READ_GID answer not in 8-byte units", ISM_READ_GID, 0, 12, 0,
	  GID_A, -EPROTO },
	{ "PCI instructions fail", 0, 0, 0, -EIO, GID_A, -EIO },
	{ "GID zero", 0, 0, 0, 0, 0, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(ism_start_failures, ism_start_failures, name);

static void ism_start_failure_leaves_function_down(struct kunit *test)
{
	const struct ism_start_failure *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	dma_addr_t addr;

	if (param->gid != GID_A) {
		/* A second function with the GID under test. */
		a->fn = ism_model_fn_create(ctx->fabric, a->dev, param->gid, 1);
		KUNIT_ASSERT_NOT_NULL(test, a->fn);
		ism_test_defer(test, ism_test_fn_destroy, a->fn);
		a->ism = ism_dev_create(a->dev, ism_model_transport(a->fn));
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a->ism);
		ism_test_defer(test, ism_test_dev_destroy, a->ism);
	}
	if (param->fw_ret)
		ism_model_fail_cmd(a->fn, param->code, param->fw_ret);
	else if (param->code)
		ism_model_garble_resp_len(a->fn, param->code, param->resp_len);
	ism_model_fail_transport(a->fn, param->transport_err);

	KUNIT_EXPECT_EQ(test, ism_dev_start(a->ism), param->err);
	KUNIT_EXPECT_FALSE(test, ism_model_sba_registered(a->fn, &addr));
	KUNIT_EXPECT_FALSE(test, ism_model_ieq_registered(a->fn, &addr));
	KUNIT_EXPECT_EQ(test, ctx->nr_added, 0);

	if (!param->gid)
		return;
	/* Nothing was left behind: with the fault gone, start works. */
	ism_model_fail_cmd(a->fn, 0, 0);
	ism_model_garble_resp_len(a->fn, 0, 0);
	ism_model_fail_transport(a->fn, 0);
	ism_test_start(test, a);
	KUNIT_EXPECT_EQ(test, ctx->nr_added, 1);
}

static void ism_start_ignores_failing_query_info(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;

	ism_model_fail_cmd(ctx->a.fn, ISM_QUERY_INFO, 0x0100);
	ism_test_start(test, &ctx->a);
	KUNIT_EXPECT_EQ(test, ctx->nr_added, 1);
}

static void ism_stop_withdraws_device_then_unregisters_ieq_and_sba(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	unsigned int cmds;
	dma_addr_t addr;

	ism_test_start(test, a);
	cmds = ism_model_cmds(a->fn);
	ism_test_stop(test, a);

	KUNIT_EXPECT_EQ(test, ctx->nr_deleted, 1);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds + 2);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, cmds), ISM_UNREG_IEQ);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, cmds + 1),
			ISM_UNREG_SBA);
	KUNIT_EXPECT_FALSE(test, ism_model_sba_registered(a->fn, &addr));
	KUNIT_EXPECT_FALSE(test, ism_model_ieq_registered(a->fn, &addr));
}

/**
 * struct ism_kept_area - an area whose unregistration the function refuses
 * @name: description.
 * @code: the refused command.
 */
struct ism_kept_area {
	const char *name;
	u32 code;
};

static const struct ism_kept_area ism_kept_areas[] = {
	{ "IEQ", ISM_UNREG_IEQ },
	{ "SBA", ISM_UNREG_SBA },
};

KUNIT_ARRAY_PARAM_DESC(ism_kept_areas, ism_kept_areas, name);

static void ism_stop_keeps_area_the_function_still_writes(struct kunit *test)
{
	const struct ism_kept_area *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	bool kept = param->code == ISM_UNREG_SBA;
	dma_addr_t addr;

	ism_test_start(test, a);
	ism_model_fail_cmd(a->fn, param->code, 0x0100);
	ism_test_stop(test, a);

	/* The refused one stays registered and is not freed; the other goes. */
	KUNIT_EXPECT_EQ(test, ism_model_sba_registered(a->fn, &addr), kept);
	KUNIT_EXPECT_EQ(test, a->ism->sba_registered, kept);
	KUNIT_EXPECT_EQ(test, ism_model_ieq_registered(a->fn, &addr), !kept);
	KUNIT_EXPECT_EQ(test, a->ism->ieq_registered, !kept);
	KUNIT_EXPECT_EQ(test, ctx->nr_deleted, 1);
}

static void ism_stop_unregisters_dmbs_of_clients(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_dmb *dmb;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->b, SZ_4K, GID_A, 0, &dmb),
			0);

	ism_test_stop(test, &ctx->a);
	KUNIT_EXPECT_EQ(test, ctx->nr_deleted, 1);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->a.fn), 0);
	/* The other function is untouched. */
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->b.fn), 1);
}

static void ism_stop_unregisters_dmbs_a_client_left_behind(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_dmb *dmb;

	ism_test_start(test, &ctx->a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);

	ctx->leak_in_del_dev = true;
	ism_test_stop(test, &ctx->a);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->a.fn), 0);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(ctx->a.ism->dmb_map, ISM_NR_DMBS));
	/*
	 * The function no longer writes it, but the client that left it may
	 * still touch it, so its memory is not freed (KASAN would report an
	 * access to freed pages).
	 */
	memset(dmb->cpu_addr, 0x5a, SZ_4K);
}

/* ---- DMB registration ---- */

static void ism_register_dmb_gives_zeroed_page_backed_buffer(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	u32 len = 65 * SZ_1K, model_len;
	struct dibs_dmb *dmb;
	struct folio *folio;
	dma_addr_t addr;
	u64 tok, rgid;

	ism_test_start(test, a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, len, GID_B, 0, &dmb), 0);

	KUNIT_EXPECT_EQ(test, dmb->idx, ISM_DMB_BIT_OFFSET);
	KUNIT_EXPECT_NE(test, dmb->dmb_tok, 0);
	KUNIT_EXPECT_EQ(test, dmb->dmb_tok & ~ISM_REQ_TOK_MASK, 0);
	KUNIT_ASSERT_TRUE(test, ism_model_dmb(a->fn, dmb->idx, &tok, &addr,
					      &model_len, &rgid));
	KUNIT_EXPECT_EQ(test, tok, dmb->dmb_tok);
	KUNIT_EXPECT_EQ(test, addr, dmb->dma_addr);
	KUNIT_EXPECT_EQ(test, model_len, len);
	KUNIT_EXPECT_EQ(test, rgid, GID_B);

	KUNIT_ASSERT_NOT_NULL(test, dmb->cpu_addr);
	KUNIT_EXPECT_NE(test, dmb->dma_addr, 0);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(dmb->cpu_addr, len));
	/*
	 * One folio that starts at cpu_addr: SMC-D splices out of a DMB with
	 * a reference on its first page and an offset anywhere in it.
	 */
	KUNIT_EXPECT_TRUE(test, virt_addr_valid(dmb->cpu_addr));
	folio = virt_to_folio(dmb->cpu_addr);
	KUNIT_EXPECT_FALSE(test, folio_test_slab(folio));
	KUNIT_EXPECT_PTR_EQ(test, folio_address(folio), dmb->cpu_addr);
	KUNIT_EXPECT_EQ(test, folio_size(folio), PAGE_SIZE << get_order(len));
	KUNIT_EXPECT_PTR_EQ(test, virt_to_folio((u8 *)dmb->cpu_addr + len - 1),
			    folio);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(dmb->cpu_addr));
	/* Never across a 1 MiB boundary of the bus address space. */
	KUNIT_EXPECT_EQ(test, dmb->dma_addr / SZ_1M,
			(dmb->dma_addr + PAGE_ALIGN(len) - 1) / SZ_1M);
}

static void ism_register_dmb_takes_up_to_1mib(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_dmb *dmb;

	ism_test_start(test, &ctx->a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_1M, GID_B, 0,
					   &dmb), 0);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(dmb->cpu_addr, SZ_1M));
	KUNIT_EXPECT_EQ(test, dmb->dma_addr % SZ_1M, 0);
}

static void ism_register_dmb_picks_requested_or_lowest_free_index(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_dmb *dmb;

	ism_test_start(test, &ctx->a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 100,
					   &dmb), 0);
	KUNIT_EXPECT_EQ(test, dmb->idx, 100);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);
	KUNIT_EXPECT_EQ(test, dmb->idx, 32);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B,
					   ISM_NR_DMBS - 1, &dmb), 0);
	KUNIT_EXPECT_EQ(test, dmb->idx, ISM_NR_DMBS - 1);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, &ctx->a, SZ_4K, GID_B, 0, &dmb),
			0);
	KUNIT_EXPECT_EQ(test, dmb->idx, 33);
}

/**
 * struct ism_bad_dmb - a register_dmb() call that must be refused
 * @name: description.
 * @len: DMB length.
 * @idx: requested index.
 * @foreign_rgid: the writer's GID is not an ISM GID.
 * @err: the expected error.
 */
struct ism_bad_dmb {
	const char *name;
	u32 len;
	u32 idx;
	bool foreign_rgid;
	int err;
};

#define ISM_TEST_BUSY_IDX	40

static const struct ism_bad_dmb ism_bad_dmbs[] = {
	{ "length zero", 0, 0, false, -EINVAL },
	{ "longer than 1 MiB", SZ_1M + 1, 0, false, -EINVAL },
	{ "length near 4 GiB", U32_MAX - 1, 0, false, -EINVAL },
	{ "index below 32", SZ_4K, ISM_DMB_BIT_OFFSET - 1, false, -EINVAL },
	{ "index past the last", SZ_4K, ISM_NR_DMBS, false, -EINVAL },
	{ "index in use", SZ_4K, ISM_TEST_BUSY_IDX, false, -EBUSY },
	{ "writer GID not of ISM form", SZ_4K, 0, true, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(ism_bad_dmbs, ism_bad_dmbs, name);

static void ism_register_dmb_refuses_bad_input(struct kunit *test)
{
	const struct ism_bad_dmb *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	struct dibs_dmb *busy, dmb = {};
	unsigned int cmds;

	ism_test_start(test, a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B,
					   ISM_TEST_BUSY_IDX, &busy), 0);
	cmds = ism_model_cmds(a->fn);

	dmb.dmb_len = param->len;
	dmb.idx = param->idx;
	dmb.rgid = ism_test_uuid(GID_B);
	if (param->foreign_rgid)
		dmb.rgid.b[15] = 1;
	KUNIT_EXPECT_EQ(test, ops_of(a)->register_dmb(dibs_of(a), &dmb,
						      &ctx->client),
			param->err);

	/* Nothing was sent, allocated or recorded. */
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(a->fn), 1);
	KUNIT_EXPECT_EQ(test, dmb.dmb_tok, 0);
	KUNIT_EXPECT_NULL(test, dmb.cpu_addr);
	KUNIT_EXPECT_EQ(test, bitmap_weight(a->ism->dmb_map, ISM_NR_DMBS), 1);
	KUNIT_EXPECT_EQ(test, ism_test_unreg(a, busy), 0);
}

static void ism_register_dmb_runs_out_after_1888(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	struct dibs_dmb *dmb;
	unsigned int i, cmds;

	ism_test_start(test, a);
	for (i = ISM_DMB_BIT_OFFSET; i < ISM_NR_DMBS; i++)
		KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, 0,
						   &dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(a->fn),
			ISM_NR_DMBS - ISM_DMB_BIT_OFFSET);

	cmds = ism_model_cmds(a->fn);
	KUNIT_EXPECT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, 0, &dmb),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);
}

static void ism_register_dmb_refused_by_client_state(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_client stranger = { .name = "stranger" };
	struct ism_test_side *a = &ctx->a;
	struct dibs_dmb dmb = { .dmb_len = SZ_4K };
	unsigned int cmds;

	ism_test_start(test, a);
	cmds = ism_model_cmds(a->fn);
	dmb.rgid = ism_test_uuid(GID_B);
	/* A client the core does not know: dibs_dmb_set_owner() refuses. */
	stranger.id = ctx->client.id;
	KUNIT_EXPECT_EQ(test, ops_of(a)->register_dmb(dibs_of(a), &dmb,
						      &stranger), -EINVAL);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(a->ism->dmb_map, ISM_NR_DMBS));
}

/* ---- moving data and signalling ---- */

static void ism_move_data_lands_in_peer_dmb(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb;
	unsigned int irqs;
	u8 buf[50];

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, TEST_DMB_LEN, GID_A, 0,
					   &dmb), 0);
	memset(buf, 0x5a, sizeof(buf));
	irqs = ism_model_irqs(b->fn);

	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, false, 100, buf,
					    sizeof(buf)), 0);
	KUNIT_EXPECT_MEMEQ(test, (u8 *)dmb->cpu_addr + 100, buf, sizeof(buf));
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(dmb->cpu_addr, 100));
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero((u8 *)dmb->cpu_addr + 150,
						  TEST_DMB_LEN - 150));
	/* No signal: no interrupt, nothing for the client. */
	KUNIT_EXPECT_EQ(test, ism_model_irqs(b->fn), irqs);
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 0);
}

static void ism_move_data_to_own_dmb(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	struct dibs_dmb *dmb;
	u64 val = 0x1122334455667788ULL;

	ism_test_start(test, a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_A, 0, &dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 1, true, 8, &val,
					    sizeof(val)), 0);
	KUNIT_EXPECT_MEMEQ(test, (u8 *)dmb->cpu_addr + 8, &val, sizeof(val));
	ism_test_irq(a);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].mask, BIT(1));
}

static void ism_signal_reaches_owner_and_clears_sba(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb;
	unsigned int irqs;
	u8 *sba;
	u32 val = 7;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, TEST_DMB_LEN, GID_A, 0,
					   &dmb), 0);
	irqs = ism_model_irqs(b->fn);

	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 3, true, 0, &val,
					    sizeof(val)), 0);
	KUNIT_EXPECT_EQ(test, ism_model_irqs(b->fn), irqs + 1);
	/* DMB 32 is SBA byte 8, mask 0x80; its signal mask at 256 + 64. */
	sba = (u8 *)b->ism->sba;
	KUNIT_EXPECT_EQ(test, sba[0], 0x80);
	KUNIT_EXPECT_EQ(test, sba[8], 0x80);
	KUNIT_EXPECT_EQ(test, sba[256 + 2 * 32 + 1], BIT(3));

	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_PTR_EQ(test, ctx->irqs[0].dibs, dibs_of(b));
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].idx, dmb->idx);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].mask, BIT(3));
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(sba, ISM_AREA_SIZE));

	/* Handled signals are not delivered again. */
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 1);
}

static void ism_signals_coalesce_into_one_mask(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb;
	u8 val = 1;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, TEST_DMB_LEN, GID_A, 0,
					   &dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, true, 0, &val, 1),
			0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 15, true, 1, &val,
					    1), 0);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].mask, BIT(0) | BIT(15));
}

static void ism_irq_delivers_each_dmb_in_index_order(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *high, *low;
	u8 val = 1;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, SZ_4K, GID_A, 1000, &high),
			0);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, SZ_4K, GID_A, 39, &low), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, high->dmb_tok, 2, true, 0, &val,
					    1), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, low->dmb_tok, 4, true, 0, &val, 1),
			0);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 2);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].idx, 39);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].mask, BIT(4));
	KUNIT_EXPECT_EQ(test, ctx->irqs[1].idx, 1000);
	KUNIT_EXPECT_EQ(test, ctx->irqs[1].mask, BIT(2));
}

static void ism_irq_clears_signals_nobody_owns(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *b = &ctx->b;

	ism_test_start(test, b);
	ism_model_raise_signal(b->fn, 50, BIT(9));
	ism_model_raise_signal(b->fn, ISM_NR_DMBS - 1, BIT(0));
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 0);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(b->ism->sba, ISM_AREA_SIZE));
}

/**
 * struct ism_split - how a move must be split into stores
 * @name: description.
 * @offset: offset of the move.
 * @size: size of the move.
 * @nr: number of stores.
 * @len: length of each store.
 */
struct ism_split {
	const char *name;
	unsigned int offset;
	unsigned int size;
	unsigned int nr;
	unsigned int len[4];
};

static const struct ism_split ism_splits[] = {
	{ "within one page", 10, 100, 1, { 100 } },
	{ "exactly one page", 0, SZ_4K, 1, { SZ_4K } },
	{ "across one boundary", 4000, 200, 2, { 96, 104 } },
	{ "two aligned pages", SZ_4K, 2 * SZ_4K, 2, { SZ_4K, SZ_4K } },
	{ "unaligned over three pages", 100, 10000, 3, { 3996, SZ_4K, 1908 } },
};

KUNIT_ARRAY_PARAM_DESC(ism_splits, ism_splits, name);

static void ism_move_data_splits_at_4k_of_target(struct kunit *test)
{
	const struct ism_split *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	unsigned int first, i, offset = param->offset;
	struct ism_model_store store;
	struct dibs_dmb *dmb;
	u8 *buf;

	buf = kunit_kmalloc(test, param->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < param->size; i++)
		buf[i] = i * 7 + 1;
	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, 4 * SZ_4K, GID_A, 0, &dmb),
			0);

	first = ism_model_stores(a->fn);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 2, true,
					    param->offset, buf, param->size), 0);
	KUNIT_ASSERT_EQ(test, ism_model_stores(a->fn) - first, param->nr);
	for (i = 0; i < param->nr; i++) {
		store = ism_model_store_log(a->fn, first + i);
		KUNIT_EXPECT_EQ(test, store.len, param->len[i]);
		KUNIT_EXPECT_EQ(test, store.req,
				ism_dmb_req(dmb->dmb_tok, 2, i == param->nr - 1,
					    offset));
		offset += param->len[i];
	}
	KUNIT_EXPECT_MEMEQ(test, (u8 *)dmb->cpu_addr + param->offset, buf,
			   param->size);
	/* The flag on the last store alone: exactly one signal. */
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].mask, BIT(2));
}

/**
 * struct ism_bad_move - a move_data() call that must be refused
 * @name: description.
 * @tok_xor: bits flipped in the token.
 * @zero_tok: use token 0.
 * @idx: signalling index.
 * @sf: signal.
 * @offset: offset.
 * @size: size.
 * @err: the expected error.
 */
struct ism_bad_move {
	const char *name;
	u64 tok_xor;
	bool zero_tok;
	unsigned int idx;
	bool sf;
	unsigned int offset;
	unsigned int size;
	int err;
};

static const struct ism_bad_move ism_driver_refused_moves[] = {
	{ "signalling index 16", 0, false, 16, true, 0, 8, -EINVAL },
	{ "end past 1 MiB", 0, false, 0, true, SZ_1M - 4, 8, -EINVAL },
	{ "offset plus size wraps", 0, false, 0, true, UINT_MAX - 3, 8,
	  -EINVAL },
	{ "size past 1 MiB", 0, false, 0, false, 0, SZ_1M + 1, -EINVAL },
	{ "token with a non-zero lower half", 1, false, 0, true, 0, 8,
	  -ENOENT },
	{ "token zero", 0, true, 0, true, 0, 8, -ENOENT },
	{ "signal without data", 0, false, 0, true, 0, 0, -EOPNOTSUPP },
};

KUNIT_ARRAY_PARAM_DESC(ism_driver_refused_moves, ism_driver_refused_moves,
		       name);

static const struct ism_bad_move ism_function_refused_moves[] = {
	{ "past the end of the DMB", 0, false, 0, true, 6000 - 4, 8, -EIO },
	{ "unknown token", BIT_ULL(40), false, 0, true, 0, 8, -EIO },
};

KUNIT_ARRAY_PARAM_DESC(ism_function_refused_moves, ism_function_refused_moves,
		       name);

#define ISM_TEST_BAD_MOVE_BUF	8

static void ism_test_bad_move(struct kunit *test, bool by_driver)
{
	const struct ism_bad_move *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	unsigned int stores, irqs;
	struct dibs_dmb *dmb;
	void *buf;
	u64 tok;

	/*
	 * Only as long as a correct driver can read before refusing: KASAN
	 * catches one that reads further.
	 */
	buf = kunit_kmalloc(test, ISM_TEST_BAD_MOVE_BUF, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xff, ISM_TEST_BAD_MOVE_BUF);
	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, 6000, GID_A, 0, &dmb), 0);
	tok = param->zero_tok ? 0 : dmb->dmb_tok ^ param->tok_xor;
	stores = ism_model_stores(a->fn);
	irqs = ism_model_irqs(b->fn);

	KUNIT_EXPECT_EQ(test, ism_test_move(a, tok, param->idx, param->sf,
					    param->offset, buf, param->size),
			param->err);
	/* Refused by the driver: nothing reached the function. */
	KUNIT_EXPECT_EQ(test, ism_model_stores(a->fn) - stores,
			by_driver ? 0 : 1);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(dmb->cpu_addr, 6000));
	KUNIT_EXPECT_EQ(test, ism_model_irqs(b->fn), irqs);
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 0);
}

static void ism_move_data_refuses_bad_input(struct kunit *test)
{
	ism_test_bad_move(test, true);
}

static void ism_move_data_reports_refusal_by_function(struct kunit *test)
{
	ism_test_bad_move(test, false);
}

static void ism_move_data_keeps_pieces_before_a_refused_one(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb;
	u8 *buf;

	buf = kunit_kmalloc(test, 2000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x3c, 2000);
	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, 6000, GID_A, 0, &dmb), 0);
	/* Bytes 4090-4095 fit; the piece from 4096 on ends past 6000. */
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, true, 4090, buf,
					    2000), -EIO);
	KUNIT_EXPECT_MEMEQ(test, (u8 *)dmb->cpu_addr + 4090, buf, 6);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero((u8 *)dmb->cpu_addr + 4096,
						  6000 - 4096));
	/* The signal was on the refused piece. */
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 0);
}

static void ism_move_data_into_vlan_dmb_needs_membership(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb dmb = {
		.dmb_len = SZ_4K,
		.vlan_valid = 1,
		.vlan_id = 0x0123,
	};
	u8 val = 1;

	ism_test_start_both(test);
	dmb.rgid = ism_test_uuid(GID_A);
	KUNIT_ASSERT_EQ(test, ops_of(b)->register_dmb(dibs_of(b), &dmb,
						      &ctx->client), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb.dmb_tok, 0, false, 0, &val,
					    1), -EIO);
	KUNIT_EXPECT_EQ(test, ops_of(a)->add_vlan_id(dibs_of(a), 0x0123), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb.dmb_tok, 0, false, 0, &val,
					    1), 0);
	KUNIT_EXPECT_EQ(test, *(u8 *)dmb.cpu_addr, 1);
	KUNIT_EXPECT_EQ(test, ops_of(b)->unregister_dmb(dibs_of(b), &dmb), 0);
}

static void ism_move_data_only_to_the_allowed_writer(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *b = &ctx->b;
	struct dibs_dmb *dmb;
	u8 val = 1;

	ism_test_start_both(test);
	/* Only A may write it; B tries. */
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, SZ_4K, GID_A, 0, &dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(b, dmb->dmb_tok, 0, true, 0, &val,
					    1), -EIO);
	KUNIT_EXPECT_TRUE(test, ism_test_all_zero(dmb->cpu_addr, SZ_4K));
}

static void ism_move_data_of_nothing_stores_nothing(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb;
	unsigned int stores;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, SZ_4K, GID_A, 0, &dmb), 0);
	stores = ism_model_stores(a->fn);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, false, 0, NULL,
					    0), 0);
	KUNIT_EXPECT_EQ(test, ism_model_stores(a->fn), stores);
}

/* ---- statistics ---- */

/*
 * The writer counts its moves and their errors by cause, the owner its
 * DMBs and the signals it delivers.
 */
static void ism_statistics_add_up(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	u64 a0[DIBS_STAT_NR], b0[DIBS_STAT_NR];
	u64 wa[DIBS_STAT_NR] = {}, wb[DIBS_STAT_NR] = {};
	struct dibs_dmb *dmb, *bad;
	u8 buf[50] = {};

	ism_test_start_both(test);
	dibs_dev_get_stats(dibs_of(a), a0);
	dibs_dev_get_stats(dibs_of(b), b0);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, 6000, GID_A, 0, &dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_test_reg(test, b, 0, GID_A, 0, &bad),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, false, 0, buf,
					    50), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 3, true, 100, buf,
					    8), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, false, 0, NULL,
					    0), 0);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, 0, 0, false, 0, buf, 8),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 16, true, 0, buf,
					    8), -EINVAL);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, true, 0, NULL,
					    0), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, dmb->dmb_tok, 0, false, 5996,
					    buf, 8), -EIO);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_EQ(test, ism_test_unreg(b, dmb), 0);

	wa[DIBS_STAT_MOVES] = 3;
	wa[DIBS_STAT_BYTES_MOVED] = 58;
	wa[DIBS_STAT_SIGNALS_SENT] = 1;
	wa[DIBS_STAT_MOVE_ERR_TOKEN] = 1;
	wa[DIBS_STAT_MOVE_ERR_RANGE] = 1;
	wa[DIBS_STAT_MOVE_ERR_OTHER] = 2;
	dibs_test_expect_stats(test, dibs_of(a), a0, wa);
	wb[DIBS_STAT_SIGNALS_DELIVERED] = 1;
	wb[DIBS_STAT_DMB_REGS] = 1;
	wb[DIBS_STAT_DMB_UNREGS] = 1;
	wb[DIBS_STAT_DMB_BYTES_REG] = 6000;
	wb[DIBS_STAT_DMB_BYTES_UNREG] = 6000;
	dibs_test_expect_stats(test, dibs_of(b), b0, wb);
}

/* ---- unregistration ---- */

static void ism_unregister_dmb_frees_index_and_stops_signals(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	struct dibs_dmb *dmb;
	unsigned int idx;

	ism_test_start(test, a);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, 0, &dmb), 0);
	idx = dmb->idx;
	KUNIT_EXPECT_EQ(test, ism_test_unreg(a, dmb), 0);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(a->fn), 0);
	KUNIT_EXPECT_EQ(test, ism_model_cmd_log(a->fn, ism_model_cmds(a->fn) - 1),
			ISM_UNREG_DMB);

	/* A late signal for the index reaches nobody. */
	ism_model_raise_signal(a->fn, idx, BIT(0));
	ism_test_irq(a);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 0);

	/* The index is free again. */
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, idx, &dmb), 0);
	KUNIT_EXPECT_EQ(test, dmb->idx, idx);
}

/**
 * struct ism_bad_unreg - an unregister_dmb() call that must be refused
 * @name: description.
 * @idx: index to name (0: the registered DMB's).
 * @tok_xor: bits flipped in the token.
 * @err: the expected error.
 */
struct ism_bad_unreg {
	const char *name;
	u32 idx;
	u64 tok_xor;
	int err;
};

static const struct ism_bad_unreg ism_bad_unregs[] = {
	{ "index below 32", 5, 0, -EINVAL },
	{ "index past the last", ISM_NR_DMBS, 0, -EINVAL },
	{ "index not registered", 77, 0, -ENOENT },
	{ "wrong token", 0, BIT_ULL(50), -ENOENT },
};

KUNIT_ARRAY_PARAM_DESC(ism_bad_unregs, ism_bad_unregs, name);

static void ism_unregister_dmb_refuses_unknown_dmb(struct kunit *test)
{
	const struct ism_bad_unreg *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *dmb, bad;
	unsigned int cmds;
	u8 val = 1;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, 0, &dmb), 0);
	bad = *dmb;
	if (param->idx)
		bad.idx = param->idx;
	bad.dmb_tok ^= param->tok_xor;
	cmds = ism_model_cmds(a->fn);

	KUNIT_EXPECT_EQ(test, ops_of(a)->unregister_dmb(dibs_of(a), &bad),
			param->err);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);
	/* The real DMB is still registered and signals still arrive. */
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(a->fn), 1);
	KUNIT_EXPECT_EQ(test, ism_test_move(b, dmb->dmb_tok, 0, true, 0, &val, 1),
			0);
	ism_test_irq(a);
	KUNIT_EXPECT_EQ(test, ctx->nr_irqs, 1);
}

static void ism_dead_function_lets_go_of_dmbs(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	uuid_t gid_a = ism_test_uuid(GID_A);
	struct dibs_dmb *dmb;
	u64 tok;
	u8 val = 1;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, b, SZ_4K, GID_A, 0, &dmb), 0);
	tok = dmb->dmb_tok;
	ism_model_set_dead(b->fn);

	/* No answer: the function writes nothing any more, the DMB is freed. */
	KUNIT_EXPECT_EQ(test, ism_test_unreg(b, dmb), 0);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(b->ism->dmb_map, ISM_NR_DMBS));
	KUNIT_EXPECT_EQ(test, ops_of(b)->query_remote_gid(dibs_of(b), &gid_a, 0,
							  0), -EIO);
	KUNIT_EXPECT_EQ(test, ism_test_move(a, tok, 0, true, 0, &val, 1), -EIO);
	/* Stopping a dead function frees its SBA and IEQ as well. */
	ism_test_stop(test, b);
	KUNIT_EXPECT_FALSE(test, b->ism->sba_registered);
	KUNIT_EXPECT_FALSE(test, b->ism->ieq_registered);
}

/* ---- peers, VLANs and events ---- */

static void ism_query_remote_gid_asks_the_function(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	uuid_t gid_a = ism_test_uuid(GID_A), gid_b = ism_test_uuid(GID_B);
	uuid_t unknown = ism_test_uuid(GID_UNKNOWN), foreign = gid_b;
	const struct dibs_dev_ops *ops;
	unsigned int cmds;

	ism_test_start_both(test);
	ops = ops_of(a);
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &gid_b, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &gid_a, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &unknown, 0, 0),
			-ENETUNREACH);

	/* Not an ISM GID: the function is not even asked. */
	foreign.b[8] = 1;
	cmds = ism_model_cmds(a->fn);
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &foreign, 0, 0),
			-ENETUNREACH);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);

	/* On a VLAN, only members are reachable. */
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &gid_b, 1, 7),
			-ENETUNREACH);
	KUNIT_EXPECT_EQ(test, ops_of(b)->add_vlan_id(dibs_of(b), 7), 0);
	KUNIT_EXPECT_EQ(test, ops->query_remote_gid(dibs_of(a), &gid_b, 1, 7), 0);
	KUNIT_EXPECT_EQ(test, ops_of(b)->del_vlan_id(dibs_of(b), 7), 0);
}

/*
 * SMC-D calls the VLAN operations under spin_lock_irqsave(): they must not
 * sleep (DEBUG_ATOMIC_SLEEP reports it if they do).
 */
static void ism_vlan_ops_run_under_a_spinlock(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	const struct dibs_dev_ops *ops;
	unsigned long flags;
	spinlock_t lock;	/* stands for SMC-D's lock */
	int add, del;

	spin_lock_init(&lock);
	ism_test_start(test, a);
	ops = ops_of(a);
	spin_lock_irqsave(&lock, flags);
	add = ops->add_vlan_id(dibs_of(a), 0x1fff);
	del = ops->del_vlan_id(dibs_of(a), 0x1fff);
	spin_unlock_irqrestore(&lock, flags);
	KUNIT_EXPECT_EQ(test, add, 0);
	KUNIT_EXPECT_EQ(test, del, 0);
	KUNIT_EXPECT_FALSE(test, ism_model_has_vlan(a->fn, 0x1fff));
}

static void ism_vlan_ids_are_added_and_removed(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	const struct dibs_dev_ops *ops;

	ism_test_start(test, a);
	ops = ops_of(a);
	KUNIT_EXPECT_EQ(test, ops->add_vlan_id(dibs_of(a), 7), 0);
	/* The ISMv2 probe. */
	KUNIT_EXPECT_EQ(test, ops->add_vlan_id(dibs_of(a), 0x1fff), 0);
	KUNIT_EXPECT_TRUE(test, ism_model_has_vlan(a->fn, 7));
	KUNIT_EXPECT_TRUE(test, ism_model_has_vlan(a->fn, 0x1fff));

	KUNIT_EXPECT_EQ(test, ops->del_vlan_id(dibs_of(a), 7), 0);
	KUNIT_EXPECT_FALSE(test, ism_model_has_vlan(a->fn, 7));
	KUNIT_EXPECT_EQ(test, ops->del_vlan_id(dibs_of(a), 7), -EREMOTEIO);
	KUNIT_EXPECT_TRUE(test, ism_model_has_vlan(a->fn, 0x1fff));
	KUNIT_EXPECT_EQ(test, ops->del_vlan_id(dibs_of(a), 0x1fff), 0);
}

static void ism_signal_event_arrives_as_sw_event(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	uuid_t gid_a = ism_test_uuid(GID_A), gid_b = ism_test_uuid(GID_B);
	struct dibs_event *event = &ctx->events[0];
	unsigned int irqs;

	ism_test_start_both(test);
	irqs = ism_model_irqs(b->fn);
	KUNIT_EXPECT_EQ(test, ops_of(a)->signal_event(dibs_of(a), &gid_b, 1, 0x83,
						      0x0123456789abcdefULL),
			0);
	KUNIT_EXPECT_EQ(test, ism_model_irqs(b->fn), irqs + 1);

	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_events, 1);
	KUNIT_EXPECT_PTR_EQ(test, ctx->event_devs[0], dibs_of(b));
	KUNIT_EXPECT_EQ(test, event->type, DIBS_SW_EVENT);
	KUNIT_EXPECT_EQ(test, event->subtype, 0x83);
	KUNIT_EXPECT_MEMEQ(test, &event->gid, &gid_a, sizeof(gid_a));
	KUNIT_EXPECT_EQ(test, event->buffer_tok, 0);
	KUNIT_EXPECT_EQ(test, event->data, 0x0123456789abcdefULL);
	KUNIT_EXPECT_NE(test, event->time, 0);
	KUNIT_EXPECT_EQ(test, ((u8 *)b->ism->sba)[0], 0);

	/* Delivered once. */
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_events, 1);
}

static void ism_signal_event_without_trigger_waits_for_interrupt(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	uuid_t gid_b = ism_test_uuid(GID_B);
	unsigned int irqs;

	ism_test_start_both(test);
	irqs = ism_model_irqs(b->fn);
	KUNIT_EXPECT_EQ(test, ops_of(a)->signal_event(dibs_of(a), &gid_b, 0, 0x80,
						      1), 0);
	KUNIT_EXPECT_EQ(test, ism_model_irqs(b->fn), irqs);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_events, 1);
	KUNIT_EXPECT_EQ(test, ctx->events[0].subtype, 0x80);
}

static void ism_signal_event_to_unknown_gid_fails(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	uuid_t unknown = ism_test_uuid(GID_UNKNOWN), foreign = unknown;
	unsigned int cmds;

	ism_test_start(test, a);
	KUNIT_EXPECT_EQ(test, ops_of(a)->signal_event(dibs_of(a), &unknown, 1, 1,
						      0), -EREMOTEIO);
	foreign.b[12] = 1;
	cmds = ism_model_cmds(a->fn);
	KUNIT_EXPECT_EQ(test, ops_of(a)->signal_event(dibs_of(a), &foreign, 1, 1,
						      0), -ENETUNREACH);
	KUNIT_EXPECT_EQ(test, ism_model_cmds(a->fn), cmds);
}

/**
 * struct ism_event_case - a device-generated event and its DIBS form
 * @name: description.
 * @type: the entry's type.
 * @code: the entry's code.
 * @tok: the entry's token.
 * @dibs_type: expected &dibs_event.type.
 * @subtype: expected &dibs_event.subtype.
 * @gid: expected GID in bytes 0-7 (0: all-zero GID).
 * @buffer_tok: expected &dibs_event.buffer_tok.
 */
struct ism_event_case {
	const char *name;
	u32 type;
	u32 code;
	u64 tok;
	u32 dibs_type;
	u32 subtype;
	u64 gid;
	u64 buffer_tok;
};

#define ISM_TEST_TOK	0x0000123400000000ULL

static const struct ism_event_case ism_event_cases[] = {
	{ "peer disabled", ISM_EVENT_DEV, 0x07, GID_A, DIBS_DEV_EVENT,
	  DIBS_DEV_DISABLED, GID_A, 0 },
	{ "peer in error state", ISM_EVENT_DEV, 0x01, GID_A, DIBS_DEV_EVENT,
	  DIBS_DEV_ERR_STATE, GID_A, 0 },
	{ "peer event with other code", ISM_EVENT_DEV, 0x42, GID_A,
	  DIBS_DEV_EVENT, DIBS_OTHER_SUBTYPE, GID_A, 0 },
	{ "buffer unregistered", ISM_EVENT_BUF, 0x04, ISM_TEST_TOK,
	  DIBS_BUF_EVENT, DIBS_BUF_UNREGISTERED, 0, ISM_TEST_TOK },
	{ "buffer owner in error state", ISM_EVENT_BUF, 0x02, ISM_TEST_TOK,
	  DIBS_BUF_EVENT, DIBS_OTHER_SUBTYPE, 0, ISM_TEST_TOK },
	{ "software event", ISM_EVENT_SWR, 0x04, GID_A, DIBS_SW_EVENT, 0x04,
	  GID_A, 0 },
	{ "unknown type", 9, 0x04, ISM_TEST_TOK, DIBS_OTHER_TYPE,
	  DIBS_BUF_UNREGISTERED, 0, 0 },
};

KUNIT_ARRAY_PARAM_DESC(ism_event_cases, ism_event_cases, name);

static void ism_device_events_are_translated(struct kunit *test)
{
	const struct ism_event_case *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *b = &ctx->b;
	struct dibs_event *event = &ctx->events[0];
	uuid_t gid = {};

	ism_test_start(test, b);
	ism_model_raise_event(b->fn, param->type, param->code, param->tok,
			      0x1122334455667788ULL, 0x8877665544332211ULL,
			      true);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_events, 1);
	KUNIT_EXPECT_EQ(test, event->type, param->dibs_type);
	KUNIT_EXPECT_EQ(test, event->subtype, param->subtype);
	if (param->gid)
		gid = ism_test_uuid(param->gid);
	KUNIT_EXPECT_MEMEQ(test, &event->gid, &gid, sizeof(gid));
	KUNIT_EXPECT_EQ(test, event->buffer_tok, param->buffer_tok);
	KUNIT_EXPECT_EQ(test, event->time, 0x1122334455667788ULL);
	KUNIT_EXPECT_EQ(test, event->data, 0x8877665544332211ULL);
}

static void ism_events_arrive_in_order_across_queue_wrap(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *b = &ctx->b;
	unsigned int i;

	ism_test_start(test, b);
	for (i = 0; i < 2 * ISM_IEQ_ENTRIES + 2; i++) {
		ism_model_raise_event(b->fn, ISM_EVENT_SWR, i, GID_A, 1, 0,
				      true);
		/* Drain every 10 events: the ring wraps between drains. */
		if (i % 10 == 9)
			ism_test_irq(b);
	}
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_events, 2 * ISM_IEQ_ENTRIES + 2);
	for (i = 0; i < ctx->nr_events; i++)
		KUNIT_EXPECT_EQ(test, ctx->events[i].subtype, i);
}

static void ism_event_queue_survives_invalid_index(struct kunit *test)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *b = &ctx->b;

	ism_test_start(test, b);
	ism_model_raise_event(b->fn, ISM_EVENT_SWR, 1, GID_A, 1, 0, true);
	/* A broken function announces entry 99 of 15. */
	WRITE_ONCE(b->ism->ieq->hdr.idx, cpu_to_be64(99));
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_events, 0);

	/* Once the index makes sense again, the events arrive. */
	WRITE_ONCE(b->ism->ieq->hdr.idx, cpu_to_be64(1));
	ism_model_raise_event(b->fn, ISM_EVENT_SWR, 2, GID_A, 1, 0, true);
	ism_test_irq(b);
	KUNIT_ASSERT_EQ(test, ctx->nr_events, 2);
	KUNIT_EXPECT_EQ(test, ctx->events[0].subtype, 1);
	KUNIT_EXPECT_EQ(test, ctx->events[1].subtype, 2);
}

/* ---- every command refused in turn ---- */

enum ism_test_op {
	ISM_OP_REGISTER_DMB,
	ISM_OP_UNREGISTER_DMB,
	ISM_OP_QUERY_REMOTE_GID,
	ISM_OP_ADD_VLAN_ID,
	ISM_OP_DEL_VLAN_ID,
	ISM_OP_SIGNAL_EVENT,
};

/**
 * struct ism_refusal - an operation whose command the function refuses
 * @name: description.
 * @op: the operation.
 * @code: its command.
 * @fw_ret: the function's response code.
 * @transport_err: errno all accesses fail with, or 0.
 * @err: what the operation must return.
 */
struct ism_refusal {
	const char *name;
	enum ism_test_op op;
	u32 code;
	u16 fw_ret;
	int transport_err;
	int err;
};

static const struct ism_refusal ism_refusals[] = {
	{ "REG_DMB refused", ISM_OP_REGISTER_DMB, ISM_REG_DMB, 0x0100, 0,
	  -EREMOTEIO },
	{ "UNREG_DMB refused", ISM_OP_UNREGISTER_DMB, ISM_UNREG_DMB, 0x0100, 0,
	  -EREMOTEIO },
	{ "QUERY_RGID refused", ISM_OP_QUERY_REMOTE_GID, ISM_QUERY_RGID,
	  0x0100, 0, -ENETUNREACH },
	{ "ADD_VLAN_ID refused", ISM_OP_ADD_VLAN_ID, ISM_ADD_VLAN_ID, 0x0100, 0,
	  -EREMOTEIO },
	{ "DEL_VLAN_ID refused", ISM_OP_DEL_VLAN_ID, ISM_DEL_VLAN_ID, 0x0100, 0,
	  -EREMOTEIO },
	{ "SIGNAL_IEQ refused", ISM_OP_SIGNAL_EVENT, ISM_SIGNAL_IEQ, 0x0100, 0,
	  -EREMOTEIO },
	{ "REG_DMB unanswered", ISM_OP_REGISTER_DMB, 0, 0, -EIO, -EIO },
	{ "QUERY_RGID unanswered", ISM_OP_QUERY_REMOTE_GID, 0, 0, -EIO, -EIO },
	{ "ADD_VLAN_ID unanswered", ISM_OP_ADD_VLAN_ID, 0, 0, -EIO, -EIO },
	{ "DEL_VLAN_ID unanswered", ISM_OP_DEL_VLAN_ID, 0, 0, -EIO, -EIO },
	{ "SIGNAL_IEQ unanswered", ISM_OP_SIGNAL_EVENT, 0, 0, -EIO, -EIO },
};

KUNIT_ARRAY_PARAM_DESC(ism_refusals, ism_refusals, name);

#define ISM_TEST_REFUSED_IDX	64
#define ISM_TEST_VLAN		9

static int ism_test_run_op(struct kunit *test, enum ism_test_op op,
			   struct dibs_dmb *registered, struct dibs_dmb **dmb)
{
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a;
	uuid_t gid_b = ism_test_uuid(GID_B);

	switch (op) {
	case ISM_OP_REGISTER_DMB:
		return ism_test_reg(test, a, SZ_4K, GID_B, ISM_TEST_REFUSED_IDX,
				    dmb);
	case ISM_OP_UNREGISTER_DMB:
		return ism_test_unreg(a, registered);
	case ISM_OP_QUERY_REMOTE_GID:
		return ops_of(a)->query_remote_gid(dibs_of(a), &gid_b, 0, 0);
	case ISM_OP_ADD_VLAN_ID:
		return ops_of(a)->add_vlan_id(dibs_of(a), ISM_TEST_VLAN + 1);
	case ISM_OP_DEL_VLAN_ID:
		return ops_of(a)->del_vlan_id(dibs_of(a), ISM_TEST_VLAN);
	case ISM_OP_SIGNAL_EVENT:
		return ops_of(a)->signal_event(dibs_of(a), &gid_b, 1, 5, 6);
	}
	return -EINVAL;
}

static void ism_refused_command_changes_nothing(struct kunit *test)
{
	const struct ism_refusal *param = test->param_value;
	struct ism_test_ctx *ctx = test->priv;
	struct ism_test_side *a = &ctx->a, *b = &ctx->b;
	struct dibs_dmb *registered, *dmb = NULL;
	u8 val = 1;

	ism_test_start_both(test);
	KUNIT_ASSERT_EQ(test, ism_test_reg(test, a, SZ_4K, GID_B, 0,
					   &registered), 0);
	KUNIT_ASSERT_EQ(test, ops_of(a)->add_vlan_id(dibs_of(a), ISM_TEST_VLAN),
			0);

	if (param->code)
		ism_model_fail_cmd(a->fn, param->code, param->fw_ret);
	ism_model_fail_transport(a->fn, param->transport_err);
	KUNIT_EXPECT_EQ(test, ism_test_run_op(test, param->op, registered, &dmb),
			param->err);
	ism_model_fail_cmd(a->fn, 0, 0);
	ism_model_fail_transport(a->fn, 0);

	/* Everything as before. */
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(a->fn), 1);
	KUNIT_EXPECT_EQ(test, bitmap_weight(a->ism->dmb_map, ISM_NR_DMBS), 1);
	KUNIT_EXPECT_TRUE(test, ism_model_has_vlan(a->fn, ISM_TEST_VLAN));
	KUNIT_EXPECT_FALSE(test, ism_model_has_vlan(a->fn, ISM_TEST_VLAN + 1));
	if (dmb) {
		KUNIT_EXPECT_EQ(test, dmb->dmb_tok, 0);
		KUNIT_EXPECT_NULL(test, dmb->cpu_addr);
	}
	/* The DMB still works, nothing else got signalled. */
	KUNIT_EXPECT_EQ(test, ism_test_move(b, registered->dmb_tok, 0, true, 0,
					    &val, 1), 0);
	ism_model_raise_signal(a->fn, ISM_TEST_REFUSED_IDX, BIT(0));
	ism_test_irq(a);
	KUNIT_ASSERT_EQ(test, ctx->nr_irqs, 1);
	KUNIT_EXPECT_EQ(test, ctx->irqs[0].idx, registered->idx);
	ism_test_irq(b);
	KUNIT_EXPECT_EQ(test, ctx->nr_events, 0);

	/* And the operation works once the function accepts it. */
	KUNIT_EXPECT_EQ(test, ism_test_run_op(test, param->op, registered, &dmb),
			0);
}

static struct kunit_case ism_test_cases[] = {
	KUNIT_CASE(ism_start_registers_areas_and_offers_device),
	KUNIT_CASE(ism_device_reports_fabric_and_limits),
	KUNIT_CASE(ism_create_needs_dma_parameters),
	KUNIT_CASE_PARAM(ism_start_failure_leaves_function_down,
			 ism_start_failures_gen_params),
	KUNIT_CASE(ism_start_ignores_failing_query_info),
	KUNIT_CASE(ism_stop_withdraws_device_then_unregisters_ieq_and_sba),
	KUNIT_CASE_PARAM(ism_stop_keeps_area_the_function_still_writes,
			 ism_kept_areas_gen_params),
	KUNIT_CASE(ism_stop_unregisters_dmbs_of_clients),
	KUNIT_CASE(ism_stop_unregisters_dmbs_a_client_left_behind),
	KUNIT_CASE(ism_register_dmb_gives_zeroed_page_backed_buffer),
	KUNIT_CASE(ism_register_dmb_takes_up_to_1mib),
	KUNIT_CASE(ism_register_dmb_picks_requested_or_lowest_free_index),
	KUNIT_CASE_PARAM(ism_register_dmb_refuses_bad_input,
			 ism_bad_dmbs_gen_params),
	KUNIT_CASE_SLOW(ism_register_dmb_runs_out_after_1888),
	KUNIT_CASE(ism_register_dmb_refused_by_client_state),
	KUNIT_CASE(ism_move_data_lands_in_peer_dmb),
	KUNIT_CASE(ism_move_data_to_own_dmb),
	KUNIT_CASE(ism_signal_reaches_owner_and_clears_sba),
	KUNIT_CASE(ism_signals_coalesce_into_one_mask),
	KUNIT_CASE(ism_irq_delivers_each_dmb_in_index_order),
	KUNIT_CASE(ism_irq_clears_signals_nobody_owns),
	KUNIT_CASE_PARAM(ism_move_data_splits_at_4k_of_target,
			 ism_splits_gen_params),
	KUNIT_CASE_PARAM(ism_move_data_refuses_bad_input,
			 ism_driver_refused_moves_gen_params),
	KUNIT_CASE_PARAM(ism_move_data_reports_refusal_by_function,
			 ism_function_refused_moves_gen_params),
	KUNIT_CASE(ism_move_data_keeps_pieces_before_a_refused_one),
	KUNIT_CASE(ism_move_data_into_vlan_dmb_needs_membership),
	KUNIT_CASE(ism_move_data_only_to_the_allowed_writer),
	KUNIT_CASE(ism_move_data_of_nothing_stores_nothing),
	KUNIT_CASE(ism_statistics_add_up),
	KUNIT_CASE(ism_unregister_dmb_frees_index_and_stops_signals),
	KUNIT_CASE_PARAM(ism_unregister_dmb_refuses_unknown_dmb,
			 ism_bad_unregs_gen_params),
	KUNIT_CASE(ism_dead_function_lets_go_of_dmbs),
	KUNIT_CASE(ism_query_remote_gid_asks_the_function),
	KUNIT_CASE(ism_vlan_ids_are_added_and_removed),
	KUNIT_CASE(ism_vlan_ops_run_under_a_spinlock),
	KUNIT_CASE(ism_signal_event_arrives_as_sw_event),
	KUNIT_CASE(ism_signal_event_without_trigger_waits_for_interrupt),
	KUNIT_CASE(ism_signal_event_to_unknown_gid_fails),
	KUNIT_CASE_PARAM(ism_device_events_are_translated,
			 ism_event_cases_gen_params),
	KUNIT_CASE(ism_events_arrive_in_order_across_queue_wrap),
	KUNIT_CASE(ism_event_queue_survives_invalid_index),
	KUNIT_CASE_PARAM(ism_refused_command_changes_nothing,
			 ism_refusals_gen_params),
	{}
};

static struct kunit_suite ism_test_suite = {
	.name = "ism",
	.init = ism_test_init,
	.test_cases = ism_test_cases,
};

/* ---- allocation failure at every point (see dibs_fault_kunit.h) ---- */

static int ism_fault_init(struct kunit *test)
{
	int ret = ism_test_init(test);

	if (!ret)
		dibs_fault_require(test);
	return ret;
}

/* What the PCI probe does, on function a: create and start. */
static int ism_fault_probe(void *data)
{
	struct ism_test_ctx *ctx = data;
	struct ism_dev *ism;

	ism = ism_dev_create(ctx->a.dev, ism_model_transport(ctx->a.fn));
	if (IS_ERR(ism))
		return PTR_ERR(ism);
	ctx->a.ism = ism;
	return ism_dev_start(ism);
}

static void ism_fault_probe_failed(struct kunit *test, void *data)
{
	struct ism_test_ctx *ctx = data;
	dma_addr_t addr;

	KUNIT_EXPECT_FALSE(test, ism_model_sba_registered(ctx->a.fn, &addr));
	KUNIT_EXPECT_FALSE(test, ism_model_ieq_registered(ctx->a.fn, &addr));
	KUNIT_EXPECT_EQ(test, ctx->nr_added, 0);
	if (ctx->a.ism)
		ism_dev_destroy(ctx->a.ism);
	ctx->a.ism = NULL;
}

static void ism_fault_probe_undo(struct kunit *test, void *data)
{
	struct ism_test_ctx *ctx = data;
	dma_addr_t addr;

	KUNIT_EXPECT_EQ(test, ctx->nr_added, 1);
	ism_dev_stop(ctx->a.ism);
	ism_dev_destroy(ctx->a.ism);
	ctx->a.ism = NULL;
	KUNIT_EXPECT_EQ(test, ctx->nr_deleted, 1);
	KUNIT_EXPECT_FALSE(test, ism_model_sba_registered(ctx->a.fn, &addr));
	ctx->nr_added = 0;
	ctx->nr_deleted = 0;
}

static void ism_fault_probe_sweep(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "ism_dev_create() and ism_dev_start()",
		.run = ism_fault_probe,
		.failed = ism_fault_probe_failed,
		.undo = ism_fault_probe_undo,
	};
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_fault_count count;

	/* The fixture's driver of function a makes way for the sweep's. */
	kunit_release_action(test, ism_test_dev_destroy, ctx->a.ism);
	ctx->a.ism = NULL;
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/*
	 * The driver's state, its DMB table, the two areas, the DIBS device,
	 * its name and owner table, and more for sysfs.
	 */
	KUNIT_EXPECT_GE(test, count.failing, 7);
}

static int ism_fault_register(void *data)
{
	struct ism_test_ctx *ctx = data;
	struct dibs_dmb *dmb;

	return ism_test_reg(ctx->test, &ctx->a, SZ_64K, GID_B, 0, &dmb);
}

static void ism_fault_register_failed(struct kunit *test, void *data)
{
	struct ism_test_ctx *ctx = data;
	struct ism_test_reg *reg = &ctx->regs[ctx->nr_regs - 1];

	KUNIT_EXPECT_NULL(test, reg->dibs);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->a.fn), 0);
	KUNIT_EXPECT_EQ(test, dibs_fault_owned(dibs_of(&ctx->a),
					       ops_of(&ctx->a)->max_dmbs()), 0);
}

static void ism_fault_register_undo(struct kunit *test, void *data)
{
	struct ism_test_ctx *ctx = data;
	struct ism_test_reg *reg = &ctx->regs[ctx->nr_regs - 1];

	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->a.fn), 1);
	KUNIT_EXPECT_EQ(test, dibs_fault_owned(dibs_of(&ctx->a),
					       ops_of(&ctx->a)->max_dmbs()), 1);
	KUNIT_EXPECT_EQ(test, reg->dmb.idx, ISM_DMB_BIT_OFFSET);
	KUNIT_EXPECT_EQ(test, ism_test_unreg(&ctx->a, &reg->dmb), 0);
}

static void ism_fault_register_dmb(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "register_dmb()",
		.run = ism_fault_register,
		.failed = ism_fault_register_failed,
		.undo = ism_fault_register_undo,
	};
	struct ism_test_ctx *ctx = test->priv;
	struct dibs_fault_count count;

	ism_test_start(test, &ctx->a);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/* The memory, 16 pages. */
	KUNIT_EXPECT_GE(test, count.failing, 1);
	KUNIT_EXPECT_EQ(test, ism_model_nr_dmbs(ctx->a.fn), 0);
}

static struct kunit_case ism_fault_cases[] = {
	KUNIT_CASE(ism_fault_probe_sweep),
	KUNIT_CASE(ism_fault_register_dmb),
	{}
};

static struct kunit_suite ism_fault_suite = {
	.name = "ism_fault",
	.suite_init = dibs_fault_suite_init,
	.init = ism_fault_init,
	.test_cases = ism_fault_cases,
};

kunit_test_suites(&ism_test_suite, &ism_fault_suite);

MODULE_DESCRIPTION("KUnit tests of the ISM driver, against a model of ISM");
MODULE_LICENSE("GPL");
/*
 * MODULE_IMPORT_NS(), spelt out: its argument became a string literal in
 * 6.13, and this suite builds in 6.12 trees too.
 */
MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING");
