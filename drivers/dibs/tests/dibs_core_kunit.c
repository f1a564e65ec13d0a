// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the DIBS core, driven through a fake device driver and
 * fake clients defined here.
 *
 * The registries are global, so devices or clients of other built-in code
 * may exist while these tests run; the tests only count what happens to
 * their own fake devices and never assume how many client slots are free.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/dibs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <trace/events/dibs.h>

#include "../dibs_core.h"
#include "dibs_fault_kunit.h"
#include "dibs_stats_kunit.h"

#define FAKE_MAX_DMBS		16
#define FAKE_FABRIC_ID		0x1234
#define NR_TEST_CLIENTS		(MAX_DIBS_CLIENTS + 1)
#define TEST_CLIENT_DMBS	4
#define LOG_SIZE		64
#define RACE_ROUNDS		100
#define RACE_THREADS		2

/*
 * The race cases run this many times longer (harness/kunit.sh kcsan,
 * "make stress", sets it on the kernel command line).
 */
static unsigned int stress_factor = 1;
module_param(stress_factor, uint, 0444);
MODULE_PARM_DESC(stress_factor, "run the race cases this many times longer");

/* ---- the fake device driver ---- */

static int fake_max_dmbs_value = FAKE_MAX_DMBS;

static u16 fake_get_fabric_id(struct dibs_dev *dev)
{
	return FAKE_FABRIC_ID;
}

static int fake_query_remote_gid(struct dibs_dev *dev, const uuid_t *rgid,
				 u32 vid_valid, u32 vid)
{
	return uuid_equal(rgid, &dev->gid) ? 0 : -ENETUNREACH;
}

static int fake_max_dmbs(void)
{
	return fake_max_dmbs_value;
}

/* DMB n gets token n + 1; no memory is involved. */
static int fake_register_dmb(struct dibs_dev *dev, struct dibs_dmb *dmb,
			     struct dibs_client *client)
{
	int ret;

	ret = dibs_dmb_set_owner(dev, dmb->idx, client);
	if (!ret)
		dmb->dmb_tok = dmb->idx + 1;
	return ret;
}

static int fake_unregister_dmb(struct dibs_dev *dev, struct dibs_dmb *dmb)
{
	return dibs_dmb_clear_owner(dev, dmb->idx);
}

static int fake_move_data(struct dibs_dev *dev, u64 dmb_tok, unsigned int idx,
			  bool sf, unsigned int offset, void *data,
			  unsigned int size)
{
	if (!dmb_tok || dmb_tok > FAKE_MAX_DMBS)
		return -EINVAL;
	return sf ? dibs_handle_irq(dev, dmb_tok - 1, BIT(idx)) : 0;
}

static int fake_vlan_id(struct dibs_dev *dev, u64 vlan_id)
{
	return 0;
}

static int fake_signal_event(struct dibs_dev *dev, const uuid_t *rgid,
			     u32 trigger_irq, u32 event_code, u64 info)
{
	return 0;
}

static int fake_support_mmapped_rdmb(struct dibs_dev *dev)
{
	return 0;
}

static int fake_attach_dmb(struct dibs_dev *dev, struct dibs_dmb *dmb)
{
	return -EOPNOTSUPP;
}

static int fake_detach_dmb(struct dibs_dev *dev, u64 token)
{
	return -EOPNOTSUPP;
}

enum fake_op {
	OP_FABRIC	= BIT(0),
	OP_QUERY	= BIT(1),
	OP_MAX_DMBS	= BIT(2),
	OP_REGISTER	= BIT(3),
	OP_UNREGISTER	= BIT(4),
	OP_MOVE		= BIT(5),
	OP_ADD_VLAN	= BIT(6),
	OP_DEL_VLAN	= BIT(7),
	OP_SIGNAL	= BIT(8),
	OP_MMAPPED	= BIT(9),
	OP_ATTACH	= BIT(10),
	OP_DETACH	= BIT(11),
};

#define OPS_MANDATORY	(OP_FABRIC | OP_QUERY | OP_MAX_DMBS | OP_REGISTER | \
			 OP_UNREGISTER | OP_MOVE)
#define OPS_VLAN	(OP_ADD_VLAN | OP_DEL_VLAN)
#define OPS_ZERO_COPY	(OP_MMAPPED | OP_ATTACH | OP_DETACH)

static void fake_build_ops(struct dibs_dev_ops *ops, unsigned long present)
{
	memset(ops, 0, sizeof(*ops));
	if (present & OP_FABRIC)
		ops->get_fabric_id = fake_get_fabric_id;
	if (present & OP_QUERY)
		ops->query_remote_gid = fake_query_remote_gid;
	if (present & OP_MAX_DMBS)
		ops->max_dmbs = fake_max_dmbs;
	if (present & OP_REGISTER)
		ops->register_dmb = fake_register_dmb;
	if (present & OP_UNREGISTER)
		ops->unregister_dmb = fake_unregister_dmb;
	if (present & OP_MOVE)
		ops->move_data = fake_move_data;
	if (present & OP_ADD_VLAN)
		ops->add_vlan_id = fake_vlan_id;
	if (present & OP_DEL_VLAN)
		ops->del_vlan_id = fake_vlan_id;
	if (present & OP_SIGNAL)
		ops->signal_event = fake_signal_event;
	if (present & OP_MMAPPED)
		ops->support_mmapped_rdmb = fake_support_mmapped_rdmb;
	if (present & OP_ATTACH)
		ops->attach_dmb = fake_attach_dmb;
	if (present & OP_DETACH)
		ops->detach_dmb = fake_detach_dmb;
}

/* Every fake device is recognised by this driver-private marker. */
static const char fake_drv_marker[] = "dibs-core-test";

static bool is_fake(const struct dibs_dev *dev)
{
	return dev->drv_priv == fake_drv_marker;
}

KUNIT_DEFINE_ACTION_WRAPPER(put_device_action, put_device, struct device *);

static void fake_dev_del_action(void *data)
{
	struct dibs_dev *dibs = data;
	struct dibs_core_dev *core = container_of(dibs, struct dibs_core_dev,
						  dibs);

	if (core->state == DIBS_DEV_ADDED)
		dibs_dev_del(dibs);
}

/* A device with all ops but without the optional ones, not yet added. */
static struct dibs_dev *fake_dev_alloc(struct kunit *test, const char *name,
				       u8 gid_seed)
{
	struct dibs_dev_ops *ops;
	struct dibs_dev *dibs;
	int i, ret;

	ops = kunit_kzalloc(test, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	fake_build_ops(ops, OPS_MANDATORY);

	dibs = dibs_dev_alloc();
	KUNIT_ASSERT_NOT_NULL(test, dibs);
	ret = kunit_add_action_or_reset(test, put_device_action, &dibs->dev);
	KUNIT_ASSERT_EQ(test, 0, ret);
	dibs->ops = ops;
	dibs->drv_priv = (void *)fake_drv_marker;
	for (i = 0; i < sizeof(dibs->gid.b); i++)
		dibs->gid.b[i] = gid_seed + i;
	KUNIT_ASSERT_EQ(test, 0, dev_set_name(&dibs->dev, "%s", name));
	return dibs;
}

static struct dibs_dev *fake_dev_add(struct kunit *test, const char *name,
				     u8 gid_seed)
{
	struct dibs_dev *dibs = fake_dev_alloc(test, name, gid_seed);

	KUNIT_ASSERT_EQ(test, 0, dibs_dev_add(dibs));
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, fake_dev_del_action,
						  dibs));
	return dibs;
}

/* ---- the fake clients ---- */

struct test_dmb {
	struct dibs_dev *dev;
	struct dibs_dmb dmb;
	bool registered;
};

struct test_client {
	struct dibs_client client;
	atomic_t add_calls;
	atomic_t del_calls;
	atomic_t irq_calls;
	atomic_t event_calls;
	/* handler calls outside add_dev() .. del_dev() */
	atomic_t late_calls;
	spinlock_t lock;	/* protects the last_* fields */
	unsigned int last_idx;
	u16 last_mask;
	struct dibs_event last_event;
	/* time each handler spends, to widen race windows */
	unsigned int dwell_us;
	/* leave DMBs registered in del_dev(), as a buggy client would */
	bool keep_dmbs;
	/* try to register a DMB from del_dev(); the result goes here */
	bool register_in_del;
	int register_in_del_ret;
	struct test_dmb dmbs[TEST_CLIENT_DMBS];
};

static struct test_client test_clients[NR_TEST_CLIENTS];

/* Order of add_dev()/del_dev() calls on fake devices, across clients. */
struct call_record {
	char op;
	int client;
	struct dibs_dev *dev;
};

static DEFINE_SPINLOCK(call_log_lock);
static struct call_record call_log[LOG_SIZE];
static unsigned int call_log_len;

static void log_call(char op, struct test_client *tc, struct dibs_dev *dev)
{
	spin_lock(&call_log_lock);
	if (call_log_len < LOG_SIZE)
		call_log[call_log_len++] = (struct call_record){
			.op = op, .client = tc - test_clients, .dev = dev,
		};
	spin_unlock(&call_log_lock);
}

static int test_dmb_unregister(struct test_dmb *td)
{
	int ret;

	if (!td->registered)
		return -ENOENT;
	ret = td->dev->ops->unregister_dmb(td->dev, &td->dmb);
	if (!ret)
		td->registered = false;
	return ret;
}

static void tc_add_dev(struct test_client *tc, struct dibs_dev *dev)
{
	if (!is_fake(dev))
		return;
	atomic_inc(&tc->add_calls);
	log_call('a', tc, dev);
	WRITE_ONCE(dev->priv[tc->client.id], tc);
}

static void tc_del_dev(struct test_client *tc, struct dibs_dev *dev)
{
	struct dibs_dmb dmb = { .idx = FAKE_MAX_DMBS - 1 };
	int i;

	if (!is_fake(dev))
		return;
	WRITE_ONCE(dev->priv[tc->client.id], NULL);
	atomic_inc(&tc->del_calls);
	log_call('d', tc, dev);

	if (tc->register_in_del)
		tc->register_in_del_ret =
			dev->ops->register_dmb(dev, &dmb, &tc->client);
	if (tc->keep_dmbs)
		return;
	for (i = 0; i < TEST_CLIENT_DMBS; i++)
		if (tc->dmbs[i].dev == dev)
			test_dmb_unregister(&tc->dmbs[i]);
}

/*
 * A handler must only run between add_dev() (which sets the private data)
 * and del_dev() (which clears it first): check at entry and, after dwelling
 * to give a racing del_dev() a chance, at exit.
 */
static void tc_check_attached(struct test_client *tc, struct dibs_dev *dev)
{
	if (READ_ONCE(dev->priv[tc->client.id]) != tc)
		atomic_inc(&tc->late_calls);
	if (!tc->dwell_us)
		return;
	udelay(tc->dwell_us);
	if (READ_ONCE(dev->priv[tc->client.id]) != tc)
		atomic_inc(&tc->late_calls);
}

static void tc_handle_irq(struct test_client *tc, struct dibs_dev *dev,
			  unsigned int idx, u16 mask)
{
	unsigned long flags;

	if (!is_fake(dev))
		return;
	tc_check_attached(tc, dev);
	spin_lock_irqsave(&tc->lock, flags);
	tc->last_idx = idx;
	tc->last_mask = mask;
	spin_unlock_irqrestore(&tc->lock, flags);
	atomic_inc(&tc->irq_calls);
}

static void tc_handle_event(struct test_client *tc, struct dibs_dev *dev,
			    const struct dibs_event *event)
{
	unsigned long flags;

	if (!is_fake(dev))
		return;
	tc_check_attached(tc, dev);
	spin_lock_irqsave(&tc->lock, flags);
	tc->last_event = *event;
	spin_unlock_irqrestore(&tc->lock, flags);
	atomic_inc(&tc->event_calls);
}

#define DEFINE_TEST_CLIENT(n)						\
static struct test_client *const tc##n = &test_clients[n];		\
static void tc##n##_add_dev(struct dibs_dev *dev)			\
{									\
	tc_add_dev(tc##n, dev);						\
}									\
static void tc##n##_del_dev(struct dibs_dev *dev)			\
{									\
	tc_del_dev(tc##n, dev);						\
}									\
static void tc##n##_handle_irq(struct dibs_dev *dev, unsigned int idx,	\
			       u16 mask)				\
{									\
	tc_handle_irq(tc##n, dev, idx, mask);				\
}									\
static void tc##n##_handle_event(struct dibs_dev *dev,			\
				 const struct dibs_event *event)	\
{									\
	tc_handle_event(tc##n, dev, event);				\
}									\
static const struct dibs_client_ops tc##n##_ops = {			\
	.add_dev = tc##n##_add_dev,					\
	.del_dev = tc##n##_del_dev,					\
	.handle_irq = tc##n##_handle_irq,				\
	.handle_event = tc##n##_handle_event,				\
}

DEFINE_TEST_CLIENT(0);
DEFINE_TEST_CLIENT(1);
DEFINE_TEST_CLIENT(2);
DEFINE_TEST_CLIENT(3);
DEFINE_TEST_CLIENT(4);
DEFINE_TEST_CLIENT(5);
DEFINE_TEST_CLIENT(6);
DEFINE_TEST_CLIENT(7);
DEFINE_TEST_CLIENT(8);

static const struct dibs_client_ops *const test_client_ops[NR_TEST_CLIENTS] = {
	&tc0_ops, &tc1_ops, &tc2_ops, &tc3_ops, &tc4_ops,
	&tc5_ops, &tc6_ops, &tc7_ops, &tc8_ops,
};

static void tc_unregister_action(void *data)
{
	dibs_unregister_client(data);
}

/* Register @tc, to be unregistered at the end of the test if still needed. */
static int tc_register(struct kunit *test, struct test_client *tc)
{
	int ret = dibs_register_client(&tc->client);

	if (!ret)
		KUNIT_EXPECT_EQ(test, 0,
				kunit_add_action_or_reset(test,
							  tc_unregister_action,
							  &tc->client));
	return ret;
}

static void test_dmb_unregister_action(void *data)
{
	test_dmb_unregister(data);
}

/* Register DMB @idx of @tc on @dev through the fake driver. */
static int tc_register_dmb(struct kunit *test, struct test_client *tc,
			   struct dibs_dev *dev, unsigned int idx)
{
	struct test_dmb *td = NULL;
	int i, ret;

	for (i = 0; i < TEST_CLIENT_DMBS; i++) {
		if (!tc->dmbs[i].registered) {
			td = &tc->dmbs[i];
			break;
		}
	}
	KUNIT_ASSERT_NOT_NULL(test, td);

	*td = (struct test_dmb){ .dev = dev, .dmb = { .idx = idx } };
	ret = dev->ops->register_dmb(dev, &td->dmb, &tc->client);
	if (ret)
		return ret;
	td->registered = true;
	KUNIT_EXPECT_EQ(test, 0,
			kunit_add_action_or_reset(test,
						  test_dmb_unregister_action,
						  td));
	return 0;
}

static struct test_dmb *tc_find_dmb(struct test_client *tc,
				    struct dibs_dev *dev, unsigned int idx)
{
	int i;

	for (i = 0; i < TEST_CLIENT_DMBS; i++)
		if (tc->dmbs[i].registered && tc->dmbs[i].dev == dev &&
		    tc->dmbs[i].dmb.idx == idx)
			return &tc->dmbs[i];
	return NULL;
}

static int dibs_test_init(struct kunit *test)
{
	int i;

	fake_max_dmbs_value = FAKE_MAX_DMBS;
	for (i = 0; i < NR_TEST_CLIENTS; i++) {
		memset(&test_clients[i], 0, sizeof(test_clients[i]));
		spin_lock_init(&test_clients[i].lock);
		test_clients[i].client.name = "dibs-core-test";
		test_clients[i].client.ops = test_client_ops[i];
	}
	call_log_len = 0;
	return 0;
}

/* ---- client registry ---- */

static void dibs_test_register_assigns_distinct_ids(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));
	KUNIT_EXPECT_LT(test, a->client.id, MAX_DIBS_CLIENTS);
	KUNIT_EXPECT_LT(test, b->client.id, MAX_DIBS_CLIENTS);
	KUNIT_EXPECT_NE(test, a->client.id, b->client.id);
}

static void dibs_test_register_beyond_max_fails(struct kunit *test)
{
	struct dibs_dev *dibs;
	int i, registered = 0, ret = 0;

	for (i = 0; i < NR_TEST_CLIENTS; i++) {
		ret = tc_register(test, &test_clients[i]);
		if (ret)
			break;
		registered++;
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_EXPECT_GE(test, registered, 1);
	KUNIT_EXPECT_LE(test, registered, MAX_DIBS_CLIENTS);

	/* The refused client is not half registered: it sees no device. */
	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&test_clients[registered].add_calls));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&test_clients[0].add_calls));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs_unregister_client(&test_clients[registered].client));
	KUNIT_EXPECT_NOT_NULL(test, dibs);
}

static void dibs_test_id_reused_after_unregister(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	u8 id;

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	id = a->client.id;
	KUNIT_ASSERT_EQ(test, 0, dibs_unregister_client(&a->client));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));
	KUNIT_EXPECT_EQ(test, b->client.id, id);
}

struct bad_client_case {
	const char *name;
	bool null_client;
	bool null_ops;
	bool no_add_dev;
	bool no_del_dev;
};

static const struct bad_client_case bad_client_cases[] = {
	{ .name = "NULL client", .null_client = true },
	{ .name = "NULL ops", .null_ops = true },
	{ .name = "no add_dev", .no_add_dev = true },
	{ .name = "no del_dev", .no_del_dev = true },
};

KUNIT_ARRAY_PARAM_DESC(bad_client, bad_client_cases, name);

static void dibs_test_register_rejects_bad_client(struct kunit *test)
{
	const struct bad_client_case *c = test->param_value;
	struct test_client *tc = &test_clients[0];
	struct dibs_client_ops *ops;
	struct dibs_client *client = &tc->client;

	ops = kunit_kzalloc(test, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	*ops = *test_client_ops[0];
	if (c->no_add_dev)
		ops->add_dev = NULL;
	if (c->no_del_dev)
		ops->del_dev = NULL;
	client->ops = c->null_ops ? NULL : ops;
	if (c->null_client)
		client = NULL;

	fake_dev_add(test, "fake0", 1);
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_register_client(client));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->add_calls));
	/* No slot was taken: the same client registers fine once fixed. */
	tc->client.ops = test_client_ops[0];
	KUNIT_EXPECT_EQ(test, 0, tc_register(test, tc));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->add_calls));
}

static void dibs_test_register_twice_fails(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	u8 id;

	fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	id = tc->client.id;
	KUNIT_EXPECT_EQ(test, -EEXIST, dibs_register_client(&tc->client));
	KUNIT_EXPECT_EQ(test, id, tc->client.id);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->add_calls));
}

static void dibs_test_unregister_unknown_fails(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];

	fake_dev_add(test, "fake0", 1);
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_unregister_client(NULL));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_unregister_client(&tc->client));

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->del_calls));
}

/* ---- add_dev()/del_dev() replay and order ---- */

static void dibs_test_add_dev_replayed_in_device_order(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *d0, *d1, *d2;

	d0 = fake_dev_add(test, "fake0", 1);
	d1 = fake_dev_add(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	d2 = fake_dev_add(test, "fake2", 3);

	KUNIT_ASSERT_EQ(test, 3, call_log_len);
	KUNIT_EXPECT_PTR_EQ(test, call_log[0].dev, d0);
	KUNIT_EXPECT_PTR_EQ(test, call_log[1].dev, d1);
	KUNIT_EXPECT_PTR_EQ(test, call_log[2].dev, d2);
	KUNIT_EXPECT_EQ(test, 'a', call_log[0].op);
	KUNIT_EXPECT_EQ(test, 'a', call_log[2].op);
	KUNIT_EXPECT_PTR_EQ(test, tc, dibs_get_priv(d1, &tc->client));
}

static void dibs_test_del_dev_on_unregister_newest_first(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *d0, *d1;

	d0 = fake_dev_add(test, "fake0", 1);
	d1 = fake_dev_add(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, dibs_unregister_client(&tc->client));

	KUNIT_ASSERT_EQ(test, 4, call_log_len);
	KUNIT_EXPECT_EQ(test, 'd', call_log[2].op);
	KUNIT_EXPECT_PTR_EQ(test, call_log[2].dev, d1);
	KUNIT_EXPECT_EQ(test, 'd', call_log[3].op);
	KUNIT_EXPECT_PTR_EQ(test, call_log[3].dev, d0);
	KUNIT_EXPECT_NULL(test, d0->priv[tc->client.id]);
}

static void dibs_test_new_device_reaches_every_client(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	struct dibs_dev *dibs;

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));
	dibs = fake_dev_add(test, "fake0", 1);

	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->add_calls));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&b->add_calls));
	KUNIT_EXPECT_PTR_EQ(test, a, dibs_get_priv(dibs, &a->client));
	KUNIT_EXPECT_PTR_EQ(test, b, dibs_get_priv(dibs, &b->client));
}

static void dibs_test_dev_del_reaches_every_client(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	struct dibs_dev *d0, *d1;

	d0 = fake_dev_add(test, "fake0", 1);
	d1 = fake_dev_add(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));

	dibs_dev_del(d0);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->del_calls));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&b->del_calls));
	KUNIT_EXPECT_NULL(test, d0->priv[a->client.id]);
	KUNIT_EXPECT_NULL(test, d0->priv[b->client.id]);
	KUNIT_EXPECT_FALSE(test, device_is_registered(&d0->dev));

	/* The other device is untouched; unregistering visits only it. */
	KUNIT_EXPECT_PTR_EQ(test, a, dibs_get_priv(d1, &a->client));
	KUNIT_ASSERT_EQ(test, 0, dibs_unregister_client(&a->client));
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&a->del_calls));
}

static void dibs_test_dev_del_twice_is_harmless(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	dibs_dev_del(dibs);
	dibs_dev_del(dibs);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->del_calls));
}

/* ---- device validation ---- */

struct dev_add_case {
	const char *name;
	unsigned long ops;
	int max_dmbs;
	bool null_ops;
	bool null_gid;
	bool no_name;
};

static const struct dev_add_case dev_add_cases[] = {
	{ "NULL ops", OPS_MANDATORY, FAKE_MAX_DMBS, .null_ops = true },
	{ "no get_fabric_id", OPS_MANDATORY & ~OP_FABRIC, FAKE_MAX_DMBS },
	{ "no query_remote_gid", OPS_MANDATORY & ~OP_QUERY, FAKE_MAX_DMBS },
	{ "no max_dmbs", OPS_MANDATORY & ~OP_MAX_DMBS, FAKE_MAX_DMBS },
	{ "no register_dmb", OPS_MANDATORY & ~OP_REGISTER, FAKE_MAX_DMBS },
	{ "no unregister_dmb", OPS_MANDATORY & ~OP_UNREGISTER, FAKE_MAX_DMBS },
	{ "no move_data", OPS_MANDATORY & ~OP_MOVE, FAKE_MAX_DMBS },
	{ "add_vlan_id only", OPS_MANDATORY | OP_ADD_VLAN, FAKE_MAX_DMBS },
	{ "del_vlan_id only", OPS_MANDATORY | OP_DEL_VLAN, FAKE_MAX_DMBS },
	{ "support_mmapped_rdmb only", OPS_MANDATORY | OP_MMAPPED,
	  FAKE_MAX_DMBS },
	{ "attach_dmb only", OPS_MANDATORY | OP_ATTACH, FAKE_MAX_DMBS },
	{ "detach_dmb only", OPS_MANDATORY | OP_DETACH, FAKE_MAX_DMBS },
	{ "zero-copy without detach", OPS_MANDATORY | OP_MMAPPED | OP_ATTACH,
	  FAKE_MAX_DMBS },
	{ "zero-copy without attach", OPS_MANDATORY | OP_MMAPPED | OP_DETACH,
	  FAKE_MAX_DMBS },
	{ "zero-copy without support", OPS_MANDATORY | OP_ATTACH | OP_DETACH,
	  FAKE_MAX_DMBS },
	{ "max_dmbs 0", OPS_MANDATORY, 0 },
	{ "max_dmbs negative", OPS_MANDATORY, -1 },
	{ "max_dmbs above limit", OPS_MANDATORY, DIBS_MAX_DMBS + 1 },
	{ "null GID", OPS_MANDATORY, FAKE_MAX_DMBS, .null_gid = true },
	{ "no name", OPS_MANDATORY, FAKE_MAX_DMBS, .no_name = true },
};

KUNIT_ARRAY_PARAM_DESC(dev_add, dev_add_cases, name);

static void dibs_test_dev_add_rejects_bad_device(struct kunit *test)
{
	const struct dev_add_case *c = test->param_value;
	struct test_client *tc = &test_clients[0];
	struct dibs_dev_ops *ops;
	struct dibs_dev *dibs;
	uuid_t gid;

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	dibs = fake_dev_alloc(test, "fake-bad", 1);
	ops = (struct dibs_dev_ops *)dibs->ops;
	gid = dibs->gid;
	fake_build_ops(ops, c->ops);
	fake_max_dmbs_value = c->max_dmbs;
	if (c->null_ops)
		dibs->ops = NULL;
	if (c->null_gid)
		dibs->gid = uuid_null;
	if (c->no_name) {
		kfree_const(dibs->dev.kobj.name);
		dibs->dev.kobj.name = NULL;
	}

	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dev_add(dibs));
	KUNIT_EXPECT_FALSE(test, device_is_registered(&dibs->dev));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->add_calls));

	/* Nothing stuck: the repaired device is accepted. */
	fake_build_ops(ops, OPS_MANDATORY | OPS_VLAN | OP_SIGNAL |
		       OPS_ZERO_COPY);
	fake_max_dmbs_value = FAKE_MAX_DMBS;
	dibs->ops = ops;
	dibs->gid = gid;
	if (c->no_name)
		KUNIT_ASSERT_EQ(test, 0, dev_set_name(&dibs->dev, "fake-bad"));
	KUNIT_ASSERT_EQ(test, 0, dibs_dev_add(dibs));
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, fake_dev_del_action,
						  dibs));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->add_calls));
}

static void dibs_test_dev_add_accepts_max_dmbs_limits(struct kunit *test)
{
	struct dibs_dev *dibs;

	fake_max_dmbs_value = 1;
	dibs = fake_dev_add(test, "fake-one", 1);
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, 1, 1));

	fake_max_dmbs_value = DIBS_MAX_DMBS;
	dibs = fake_dev_add(test, "fake-max", 2);
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs_handle_irq(dibs, DIBS_MAX_DMBS - 1, 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, DIBS_MAX_DMBS, 1));
}

static void dibs_test_dev_add_twice_fails(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dev_add(dibs));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->add_calls));

	dibs_dev_del(dibs);
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dev_add(dibs));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->add_calls));
}

/* ---- sysfs ---- */

static ssize_t show_attr(struct kunit *test, struct dibs_dev *dibs,
			 const char *name, char *buf)
{
	const struct attribute_group *const *groups = dibs->dev.class->dev_groups;
	struct device_attribute *da;
	struct attribute *const *attr;

	for (; groups && *groups; groups++) {
		for (attr = (*groups)->attrs; *attr; attr++) {
			if (strcmp((*attr)->name, name))
				continue;
			KUNIT_EXPECT_EQ(test, 0444, (*attr)->mode);
			da = container_of(*attr, struct device_attribute, attr);
			KUNIT_EXPECT_NULL(test, da->store);
			return da->show(&dibs->dev, da, buf);
		}
	}
	KUNIT_FAIL(test, "no attribute %s", name);
	return -ENOENT;
}

static void dibs_test_sysfs_attributes(struct kunit *test)
{
	static const char gid[] = "01020304-0506-0708-090a-0b0c0d0e0f10\n";
	struct dibs_dev *dibs;
	struct device *found;
	char *buf;

	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	dibs = fake_dev_add(test, "fake0", 1);

	KUNIT_EXPECT_EQ(test, strlen(gid), show_attr(test, dibs, "gid", buf));
	KUNIT_EXPECT_STREQ(test, gid, buf);
	KUNIT_EXPECT_EQ(test, 7, show_attr(test, dibs, "fabric_id", buf));
	KUNIT_EXPECT_STREQ(test, "0x1234\n", buf);

	KUNIT_EXPECT_STREQ(test, "dibs", dibs->dev.class->name);
	found = class_find_device_by_name(dibs->dev.class, "fake0");
	KUNIT_EXPECT_PTR_EQ(test, &dibs->dev, found);
	put_device(found);
}

/* ---- dispatch ---- */

static void dibs_test_irq_reaches_owner_only(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, a, dibs, 3));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, b, dibs, 5));

	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 3, 0x8001));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->irq_calls));
	KUNIT_EXPECT_EQ(test, 3, a->last_idx);
	KUNIT_EXPECT_EQ(test, 0x8001, a->last_mask);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&b->irq_calls));

	/* Through the driver: move_data() with a signal on DMB 5. */
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, 6, 2, true, 0,
						      NULL, 0));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&b->irq_calls));
	KUNIT_EXPECT_EQ(test, 5, b->last_idx);
	KUNIT_EXPECT_EQ(test, BIT(2), b->last_mask);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->irq_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&a->late_calls));
}

static void dibs_test_irq_bad_index_is_dropped(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs, *unadded;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 0));

	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, FAKE_MAX_DMBS, 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, UINT_MAX, 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 1, 1));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->irq_calls));

	unadded = fake_dev_alloc(test, "fake1", 2);
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(unadded, 0, 1));
	dibs_handle_event(unadded, &(struct dibs_event){});
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->event_calls));
}

static void dibs_test_irq_stops_at_unregister_dmb(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 7));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 7, 1));
	KUNIT_ASSERT_EQ(test, 0,
			test_dmb_unregister(tc_find_dmb(tc, dibs, 7)));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 7, 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->irq_calls));
}

static void dibs_test_event_reaches_every_client(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	struct dibs_event event = {
		.type = DIBS_SW_EVENT, .subtype = 0x83, .data = 0x1122334455667788,
		.gid = UUID_INIT(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
	};
	struct dibs_dev *d0, *d1;

	d0 = fake_dev_add(test, "fake0", 1);
	d1 = fake_dev_add(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));

	dibs_handle_event(d0, &event);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->event_calls));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&b->event_calls));
	KUNIT_EXPECT_EQ(test, DIBS_SW_EVENT, a->last_event.type);
	KUNIT_EXPECT_EQ(test, 0x83, b->last_event.subtype);
	KUNIT_EXPECT_EQ(test, 0x1122334455667788, b->last_event.data);
	KUNIT_EXPECT_TRUE(test, uuid_equal(&event.gid, &a->last_event.gid));

	/* An unregistered client hears nothing more. */
	KUNIT_ASSERT_EQ(test, 0, dibs_unregister_client(&a->client));
	dibs_handle_event(d1, &event);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->event_calls));
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&b->event_calls));
}

/* ---- DMB ownership ---- */

/*
 * SMC-D unregisters from its module exit and ignores the result: a client
 * that leaves DMBs behind must still be unregistered completely, and
 * nothing of it may be reachable afterwards.
 */
static void dibs_test_unregister_with_dmbs_left_completes(struct kunit *test)
{
	struct test_client *tc = &test_clients[0], *next = &test_clients[1];
	struct dibs_dev *d0, *d1;

	d0 = fake_dev_add(test, "fake0", 1);
	d1 = fake_dev_add(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, d0, 1));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, d1, 2));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, d1, 3));
	tc->keep_dmbs = true;

	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&tc->del_calls));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_unregister_client(&tc->client));

	/* The DMBs belong to nobody: their signals reach no handler. */
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(d0, 1, 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(d1, 2, 1));
	dibs_handle_event(d1, &(struct dibs_event){ .type = DIBS_DEV_EVENT });
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->irq_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->event_calls));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(d1, 3));

	/* The slot is clean: its next holder may own those indices. */
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, next));
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_set_owner(d1, 2, &next->client));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(d1, 2, 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&next->irq_calls));
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_clear_owner(d1, 2));

	/* Device removal calls nothing of the departed client. */
	dibs_dev_del(d1);
	dibs_dev_del(d0);
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&tc->del_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->late_calls));

	/* A departed client registers again with nothing charged to it. */
	tc->keep_dmbs = false;
	KUNIT_ASSERT_EQ(test, 0, dibs_register_client(&tc->client));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
}

static void dibs_test_set_owner_rejects_bad_input(struct kunit *test)
{
	struct test_client *a = &test_clients[0], *b = &test_clients[1];
	struct dibs_dev *dibs, *unadded;

	dibs = fake_dev_add(test, "fake0", 1);
	unadded = fake_dev_alloc(test, "fake1", 2);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, a));
	KUNIT_ASSERT_EQ(test, 0, dibs_dmb_set_owner(dibs, 4, &a->client));

	KUNIT_EXPECT_EQ(test, -EINVAL,
			dibs_dmb_set_owner(dibs, FAKE_MAX_DMBS, &a->client));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dmb_set_owner(dibs, 5, NULL));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dmb_set_owner(dibs, 5, &b->client));
	KUNIT_EXPECT_EQ(test, -ENODEV,
			dibs_dmb_set_owner(unadded, 0, &a->client));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, b));
	KUNIT_EXPECT_EQ(test, -EBUSY, dibs_dmb_set_owner(dibs, 4, &b->client));

	/* DMB 4 still belongs to a. */
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 4, 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&a->irq_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&b->irq_calls));
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_clear_owner(dibs, 4));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&a->client));
}

static void dibs_test_clear_owner_rejects_bad_input(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, dibs_dmb_set_owner(dibs, 1, &tc->client));

	KUNIT_EXPECT_EQ(test, -EINVAL,
			dibs_dmb_clear_owner(dibs, FAKE_MAX_DMBS));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 2));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 1, 1));
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_clear_owner(dibs, 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 1));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
}

/*
 * Drivers written for the published header write the owner table
 * themselves. The core must survive any value there: no access outside its
 * client table (KASAN), no dispatch to a slot nobody holds.
 */
static void dibs_test_driver_written_owner_ids(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	WRITE_ONCE(dibs->dmb_clientid_arr[3], 200);
	WRITE_ONCE(dibs->dmb_clientid_arr[4], tc->client.id);
	WRITE_ONCE(dibs->dmb_clientid_arr[5], MAX_DIBS_CLIENTS);
	WRITE_ONCE(dibs->dmb_clientid_arr[6], NO_DIBS_CLIENT - 1);

	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 3, 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 5, 1));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 4, 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->irq_calls));

	/* Clearing them works. */
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_clear_owner(dibs, 3));
	KUNIT_EXPECT_EQ(test, 0, dibs_dmb_clear_owner(dibs, 4));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 4));

	/* A DMB the client really owns is still taken away from it. */
	KUNIT_ASSERT_EQ(test, 0, dibs_dmb_set_owner(dibs, 4, &tc->client));
	tc->keep_dmbs = true;
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 4));

	/* The rest goes with the device. */
	dibs_dev_del(dibs);
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 5));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_dmb_clear_owner(dibs, 6));
}

static void dibs_test_no_new_dmb_while_unregistering(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];

	fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	tc->register_in_del = true;
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, -ESHUTDOWN, tc->register_in_del_ret);
}

static void dibs_test_dev_del_with_dmbs_registered(struct kunit *test)
{
	struct test_client *good = &test_clients[0], *bad = &test_clients[1];
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, good));
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, bad));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, good, dibs, 1));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, bad, dibs, 2));
	bad->keep_dmbs = true;

	dibs_dev_del(dibs);
	KUNIT_EXPECT_NULL(test, tc_find_dmb(good, dibs, 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&bad->del_calls));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 2, 1));
	KUNIT_EXPECT_EQ(test, -ENODEV,
			dibs_dmb_set_owner(dibs, 3, &good->client));

	/* The leftover DMB no longer pins its client. */
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&bad->client));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&good->client));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&bad->late_calls));
}

/* ---- races ---- */

struct race_ctx {
	spinlock_t lock;	/* protects target */
	struct dibs_dev *target;
	unsigned int idx;
	atomic_t rounds;
};

static int race_dispatcher(void *data)
{
	struct dibs_event event = { .type = DIBS_DEV_EVENT };
	struct race_ctx *ctx = data;
	struct dibs_dev *dibs;

	while (!kthread_should_stop()) {
		spin_lock(&ctx->lock);
		dibs = ctx->target;
		if (dibs)
			get_device(&dibs->dev);
		spin_unlock(&ctx->lock);

		if (dibs) {
			dibs_handle_irq(dibs, ctx->idx, 1);
			dibs_handle_event(dibs, &event);
			put_device(&dibs->dev);
			atomic_inc(&ctx->rounds);
		}
		cond_resched();
	}
	return 0;
}

static void race_set_target(struct race_ctx *ctx, struct dibs_dev *dibs)
{
	spin_lock(&ctx->lock);
	ctx->target = dibs;
	spin_unlock(&ctx->lock);
}

/* Wait until @counter has grown by @n, but never more than 1 s. */
static void race_wait(atomic_t *counter, int n)
{
	int goal = atomic_read(counter) + n;
	unsigned long deadline = jiffies + HZ;

	while (atomic_read(counter) < goal && time_before(jiffies, deadline))
		usleep_range(50, 100);
}

/* Let the dispatchers run a few rounds. */
static void race_let_run(struct race_ctx *ctx)
{
	race_wait(&ctx->rounds, RACE_THREADS);
}

static void race_start(struct kunit *test, struct race_ctx *ctx,
		       struct task_struct **threads)
{
	int i;

	for (i = 0; i < RACE_THREADS; i++) {
		threads[i] = kthread_run(race_dispatcher, ctx,
					 "dibs-race-%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(threads[i]));
	}
}

static void race_stop(struct task_struct **threads)
{
	int i;

	for (i = 0; i < RACE_THREADS; i++)
		kthread_stop(threads[i]);
}

static void dibs_test_race_dispatch_vs_client_unregister(struct kunit *test)
{
	struct task_struct *threads[RACE_THREADS];
	struct test_client *tc = &test_clients[0];
	struct race_ctx ctx = { .idx = 3 };
	int round;

	spin_lock_init(&ctx.lock);
	tc->dwell_us = 20;
	ctx.target = fake_dev_add(test, "fake0", 1);
	race_start(test, &ctx, threads);

	for (round = 0; round < RACE_ROUNDS * stress_factor; round++) {
		if (tc_register(test, tc) ||
		    tc_register_dmb(test, tc, ctx.target, ctx.idx))
			break;
		race_let_run(&ctx);
		if (test_dmb_unregister(tc_find_dmb(tc, ctx.target, ctx.idx)) ||
		    dibs_unregister_client(&tc->client))
			break;
	}
	race_stop(threads);

	KUNIT_EXPECT_EQ(test, RACE_ROUNDS * stress_factor, round);
	KUNIT_EXPECT_EQ(test, RACE_ROUNDS * stress_factor,
			atomic_read(&tc->del_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->late_calls));
	KUNIT_EXPECT_GT(test, atomic_read(&tc->irq_calls), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&tc->event_calls), 0);
}

static void dibs_test_race_dispatch_vs_dev_del(struct kunit *test)
{
	struct task_struct *threads[RACE_THREADS];
	struct test_client *tc = &test_clients[0];
	struct race_ctx ctx = { .idx = 3 };
	struct dibs_dev_ops *ops;
	struct dibs_dev *dibs;
	int round;

	ops = kunit_kzalloc(test, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	fake_build_ops(ops, OPS_MANDATORY);
	spin_lock_init(&ctx.lock);
	tc->dwell_us = 20;
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	race_start(test, &ctx, threads);

	for (round = 0; round < RACE_ROUNDS * stress_factor; round++) {
		dibs = dibs_dev_alloc();
		if (!dibs)
			break;
		dibs->ops = ops;
		dibs->drv_priv = (void *)fake_drv_marker;
		dibs->gid.b[0] = 1;
		if (dev_set_name(&dibs->dev, "fake-race") ||
		    dibs_dev_add(dibs)) {
			put_device(&dibs->dev);
			break;
		}
		if (tc_register_dmb(test, tc, dibs, ctx.idx)) {
			dibs_dev_del(dibs);
			put_device(&dibs->dev);
			break;
		}
		race_set_target(&ctx, dibs);
		race_let_run(&ctx);
		/* tc's del_dev() unregisters the DMB while dispatch goes on. */
		dibs_dev_del(dibs);
		race_let_run(&ctx);
		race_set_target(&ctx, NULL);
		put_device(&dibs->dev);
	}
	race_stop(threads);

	KUNIT_EXPECT_EQ(test, RACE_ROUNDS * stress_factor, round);
	KUNIT_EXPECT_EQ(test, RACE_ROUNDS * stress_factor,
			atomic_read(&tc->del_calls));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&tc->late_calls));
	KUNIT_EXPECT_GT(test, atomic_read(&tc->irq_calls), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&tc->event_calls), 0);
}

/* Indices the owner racers share, so that they also race each other. */
#define OWNER_RACE_IDXS		4

struct owner_race {
	struct dibs_dev *dibs;
	struct dibs_client *client;
	atomic_t gen;		/* odd while the client is unregistered */
	atomic_t claims;	/* set_owner() succeeded */
	atomic_t refusals;	/* set_owner() refused a closing or gone client */
	atomic_t taken;		/* clear_owner() found the owner taken away */
	atomic_t wrong;		/* anything the core does not promise */
};

static int owner_racer(void *data)
{
	struct owner_race *r = data;
	unsigned int idx = 0;
	int gen, ret;

	while (!kthread_should_stop()) {
		idx = (idx + 1) % OWNER_RACE_IDXS;
		gen = atomic_read_acquire(&r->gen);
		ret = dibs_dmb_set_owner(r->dibs, idx, r->client);
		smp_rmb();	/* the owner's checks before the generation */
		if (!ret) {
			atomic_inc(&r->claims);
			/* The whole call ran while the client was gone. */
			if (gen % 2 && gen == atomic_read(&r->gen))
				atomic_inc(&r->wrong);
			ret = dibs_dmb_clear_owner(r->dibs, idx);
			if (ret == -ENOENT)
				atomic_inc(&r->taken);
			else if (ret)
				atomic_inc(&r->wrong);
		} else if (ret == -ESHUTDOWN || ret == -EINVAL) {
			atomic_inc(&r->refusals);
		} else if (ret != -EBUSY) {
			atomic_inc(&r->wrong);
		}
		cond_resched();
	}
	return 0;
}

/*
 * Threads claim and release DMB indices for a client while it is
 * unregistered, again and again. The owner table takes no lock, so each
 * claim must either come before the client's closing mark, and then be
 * released by its thread or taken away by dibs_unregister_client(), or be
 * refused; once dibs_unregister_client() has returned, the table holds
 * nothing of the client and every claim is refused.
 */
static void dibs_test_race_set_owner_vs_client_unregister(struct kunit *test)
{
	struct task_struct *threads[RACE_THREADS];
	struct test_client *tc = &test_clients[0];
	struct owner_race r = { .client = &tc->client };
	unsigned int idx, left = 0;
	int i, round;

	r.dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	for (i = 0; i < RACE_THREADS; i++) {
		threads[i] = kthread_run(owner_racer, &r, "dibs-owner-%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(threads[i]));
	}

	for (round = 0; round < RACE_ROUNDS * stress_factor; round++) {
		race_wait(&r.claims, 2 * RACE_THREADS);
		if (dibs_unregister_client(&tc->client))
			break;
		/* Fully ordered, as value-returning atomics are. */
		atomic_inc_return(&r.gen);
		for (idx = 0; idx < OWNER_RACE_IDXS; idx++)
			if (READ_ONCE(r.dibs->dmb_clientid_arr[idx]) !=
			    NO_DIBS_CLIENT)
				left++;
		race_wait(&r.refusals, RACE_THREADS);
		atomic_inc_return(&r.gen);
		if (tc_register(test, tc))
			break;
	}
	for (i = 0; i < RACE_THREADS; i++)
		kthread_stop(threads[i]);

	KUNIT_EXPECT_EQ(test, RACE_ROUNDS * stress_factor, round);
	KUNIT_EXPECT_EQ(test, 0, left);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&r.wrong));
	KUNIT_EXPECT_GT(test, atomic_read(&r.claims), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&r.refusals), 0);
	/* Each thread holds at most one index when its client goes. */
	KUNIT_EXPECT_LE(test, atomic_read(&r.taken),
			RACE_THREADS * RACE_ROUNDS * stress_factor);
}

static void dibs_test_idx_pool_free(void *data)
{
	dibs_idx_pool_destroy(data);
}

static struct dibs_idx_pool *dibs_test_idx_pool(struct kunit *test,
						unsigned int nr)
{
	struct dibs_idx_pool *pool = kunit_kzalloc(test, sizeof(*pool),
						   GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, 0, dibs_idx_pool_init(pool, nr));
	ret = kunit_add_action_or_reset(test, dibs_test_idx_pool_free, pool);
	KUNIT_ASSERT_EQ(test, 0, ret);
	return pool;
}

/* Lowest free index first; requests honoured; bad ones refused. */
static void dibs_test_idx_reserve(struct kunit *test)
{
	struct dibs_idx_pool *pool = dibs_test_idx_pool(test, 4);

	KUNIT_EXPECT_EQ(test, 0, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, 2, dibs_idx_reserve(pool, 2));
	KUNIT_EXPECT_EQ(test, 1, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, -EBUSY, dibs_idx_reserve(pool, 2));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_idx_reserve(pool, 4));
	KUNIT_EXPECT_EQ(test, 3, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, -ENOSPC, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, 4, dibs_idx_in_use(pool));
	/* A refused request changed nothing. */
	KUNIT_EXPECT_EQ(test, 0xf, *pool->used);
	dibs_idx_release(pool, 1);
	KUNIT_EXPECT_EQ(test, 3, dibs_idx_in_use(pool));
	KUNIT_EXPECT_EQ(test, 1, dibs_idx_reserve(pool, 0));
}

/*
 * A drained index is not handed out while others are free; when it is the
 * last, and when it is requested by number, it comes back drained.
 */
static void dibs_test_idx_drain(struct kunit *test)
{
	struct dibs_idx_pool *pool = dibs_test_idx_pool(test, 3);

	KUNIT_ASSERT_EQ(test, 0, dibs_idx_reserve(pool, 0));
	KUNIT_ASSERT_EQ(test, 1, dibs_idx_reserve(pool, 0));
	dibs_idx_drain(pool, 0);
	KUNIT_EXPECT_EQ(test, 1, dibs_idx_in_use(pool));
	KUNIT_EXPECT_EQ(test, 2, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, 0, dibs_idx_reserve(pool, 0));
	KUNIT_EXPECT_EQ(test, 0, *pool->draining);
	KUNIT_EXPECT_EQ(test, 3, dibs_idx_in_use(pool));
	dibs_idx_drain(pool, 1);
	KUNIT_EXPECT_EQ(test, -EBUSY, dibs_idx_reserve(pool, 2));
	KUNIT_EXPECT_EQ(test, 1, dibs_idx_reserve(pool, 1));
	KUNIT_EXPECT_EQ(test, 0, *pool->draining);
	KUNIT_EXPECT_EQ(test, -ENOSPC, dibs_idx_reserve(pool, 0));
}

/* ---- statistics ---- */

static void dibs_test_stats_count(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dmb dmb = { .idx = 2, .dmb_len = 5000, .dmb_tok = 3 };
	u64 want[DIBS_STAT_NR] = {};
	struct dibs_dev *dibs;

	dibs = fake_dev_alloc(test, "fake0", 1);
	dibs_test_expect_stats(test, dibs, NULL, want);

	dibs_moved(dibs, 64, false);
	dibs_moved(dibs, 1000, true);
	dibs_moved(dibs, 0, true);
	want[DIBS_STAT_MOVES] = 3;
	want[DIBS_STAT_BYTES_MOVED] = 1064;
	want[DIBS_STAT_SIGNALS_SENT] = 2;
	dibs_test_expect_stats(test, dibs, NULL, want);

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	dibs_dmb_registered(dibs, &dmb, &tc->client);
	dibs_dmb_attached(dibs, &dmb);
	dibs_dmb_attached(dibs, &dmb);
	want[DIBS_STAT_DMB_REGS] = 1;
	want[DIBS_STAT_DMB_BYTES_REG] = 5000;
	want[DIBS_STAT_ATTACHES] = 2;
	dibs_test_expect_stats(test, dibs, NULL, want);

	dibs_dmb_detached(dibs, dmb.dmb_tok);
	dibs_dmb_unregistered(dibs, dmb.idx, dmb.dmb_len, dmb.dmb_tok);
	want[DIBS_STAT_DETACHES] = 1;
	want[DIBS_STAT_DMB_UNREGS] = 1;
	want[DIBS_STAT_DMB_BYTES_UNREG] = 5000;
	dibs_test_expect_stats(test, dibs, NULL, want);

	/* Another device counts on its own. */
	memset(want, 0, sizeof(want));
	dibs_test_expect_stats(test, fake_dev_alloc(test, "fake1", 2), NULL,
			       want);
}

struct move_error_case {
	const char *name;
	int err;
	enum dibs_stat stat;
};

static const struct move_error_case move_error_cases[] = {
	{ "-ENOENT is a bad token", -ENOENT, DIBS_STAT_MOVE_ERR_TOKEN },
	{ "-EINVAL is out of range", -EINVAL, DIBS_STAT_MOVE_ERR_RANGE },
	{ "-ENETUNREACH is unreachable", -ENETUNREACH,
	  DIBS_STAT_MOVE_ERR_UNREACH },
	{ "-EIO is other", -EIO, DIBS_STAT_MOVE_ERR_OTHER },
	{ "-EACCES is other", -EACCES, DIBS_STAT_MOVE_ERR_OTHER },
	{ "-EOPNOTSUPP is other", -EOPNOTSUPP, DIBS_STAT_MOVE_ERR_OTHER },
	{ "-ESHUTDOWN is other", -ESHUTDOWN, DIBS_STAT_MOVE_ERR_OTHER },
};

KUNIT_ARRAY_PARAM_DESC(move_error, move_error_cases, name);

static void dibs_test_stats_move_error_cause(struct kunit *test)
{
	const struct move_error_case *c = test->param_value;
	u64 want[DIBS_STAT_NR] = {};
	struct dibs_dev *dibs;

	dibs = fake_dev_alloc(test, "fake0", 1);
	dibs_move_failed(dibs, 0x1234, 4096, 64, c->err);
	dibs_move_failed(dibs, 0x1234, 4096, 64, c->err);
	want[c->stat] = 2;
	dibs_test_expect_stats(test, dibs, NULL, want);
}

static void dibs_test_stats_signals_delivered(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	u64 want[DIBS_STAT_NR] = {};
	struct dibs_dev *dibs;

	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 3));

	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 3, 0x0003));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 3, 0x0100));
	/* Signals that reach no handler are not delivered. */
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 4, 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, FAKE_MAX_DMBS, 1));
	want[DIBS_STAT_SIGNALS_DELIVERED] = 2;
	dibs_test_expect_stats(test, dibs, NULL, want);
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&tc->irq_calls));
}

static long stats_move_on_cpu(void *data)
{
	dibs_moved(data, 10, true);
	return raw_smp_processor_id();
}

/* Each CPU counts in its own copy; a read sums them all. */
static void dibs_test_stats_sum_cpus(struct kunit *test)
{
	u64 want[DIBS_STAT_NR] = {};
	struct dibs_dev *dibs;
	unsigned int n = 0;
	int cpu;

	dibs = fake_dev_alloc(test, "fake0", 1);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ(test, cpu,
				work_on_cpu(cpu, stats_move_on_cpu, dibs));
		n++;
	}
	cpus_read_unlock();
	want[DIBS_STAT_MOVES] = n;
	want[DIBS_STAT_BYTES_MOVED] = 10 * n;
	want[DIBS_STAT_SIGNALS_SENT] = n;
	dibs_test_expect_stats(test, dibs, NULL, want);
}

static void expect_attr(struct kunit *test, struct dibs_dev *dibs,
			const char *name, u64 value)
{
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	char want[24];

	KUNIT_ASSERT_NOT_NULL(test, buf);
	snprintf(want, sizeof(want), "%llu\n", value);
	KUNIT_EXPECT_EQ_MSG(test, strlen(want),
			    show_attr(test, dibs, name, buf), "%s", name);
	KUNIT_EXPECT_STREQ_MSG(test, want, buf, "%s", name);
}

static void dibs_test_stats_sysfs(struct kunit *test)
{
	static const char *const files[] = {
		"moves", "bytes_moved", "signals_sent", "signals_delivered",
		"move_errors", "move_errors_token", "move_errors_range",
		"move_errors_unreachable", "move_errors_other", "dmbs",
		"dmb_bytes", "dmb_registrations", "dmb_unregistrations",
		"attaches", "detaches",
	};
	const struct attribute_group *const *groups;
	struct test_client *tc = &test_clients[0];
	struct dibs_dmb a = { .idx = 1, .dmb_len = 100, .dmb_tok = 2 };
	struct dibs_dmb b = { .idx = 2, .dmb_len = 4096, .dmb_tok = 3 };
	struct dibs_dev *dibs;
	int i, nr = 0;

	dibs = fake_dev_add(test, "fake0", 1);
	for (i = 0; i < ARRAY_SIZE(files); i++)
		expect_attr(test, dibs, files[i], 0);
	/* The directory holds these files and nothing else. */
	for (groups = dibs->dev.class->dev_groups; *groups; groups++)
		if ((*groups)->name && !strcmp((*groups)->name, "statistics"))
			while ((*groups)->attrs[nr])
				nr++;
	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(files), nr);

	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	dibs_moved(dibs, 300, true);
	dibs_moved(dibs, 200, false);
	dibs_move_failed(dibs, 9, 0, 1, -ENOENT);
	dibs_move_failed(dibs, 9, 0, 1, -EINVAL);
	dibs_move_failed(dibs, 9, 0, 1, -EINVAL);
	dibs_move_failed(dibs, 9, 0, 1, -ENETUNREACH);
	dibs_move_failed(dibs, 9, 0, 1, -EIO);
	dibs_dmb_registered(dibs, &a, &tc->client);
	dibs_dmb_registered(dibs, &b, &tc->client);
	dibs_dmb_unregistered(dibs, a.idx, a.dmb_len, a.dmb_tok);
	dibs_dmb_attached(dibs, &b);
	dibs_dmb_detached(dibs, b.dmb_tok);
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 5));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 5, 1));

	expect_attr(test, dibs, "moves", 2);
	expect_attr(test, dibs, "bytes_moved", 500);
	expect_attr(test, dibs, "signals_sent", 1);
	expect_attr(test, dibs, "signals_delivered", 1);
	expect_attr(test, dibs, "move_errors", 5);
	expect_attr(test, dibs, "move_errors_token", 1);
	expect_attr(test, dibs, "move_errors_range", 2);
	expect_attr(test, dibs, "move_errors_unreachable", 1);
	expect_attr(test, dibs, "move_errors_other", 1);
	expect_attr(test, dibs, "dmbs", 1);
	expect_attr(test, dibs, "dmb_bytes", 4096);
	expect_attr(test, dibs, "dmb_registrations", 2);
	expect_attr(test, dibs, "dmb_unregistrations", 1);
	expect_attr(test, dibs, "attaches", 1);
	expect_attr(test, dibs, "detaches", 1);

	/* An unregistration read before its registration shows 0, not -1. */
	dibs_dmb_unregistered(dibs, b.idx, b.dmb_len, b.dmb_tok);
	dibs_dmb_unregistered(dibs, b.idx, b.dmb_len, b.dmb_tok);
	expect_attr(test, dibs, "dmbs", 0);
	expect_attr(test, dibs, "dmb_bytes", 0);
	expect_attr(test, dibs, "dmb_unregistrations", 3);
}

/* ---- tracepoints ---- */

enum trace_ev {
	EV_CLIENT_REG, EV_CLIENT_UNREG, EV_DEV_ADD, EV_DEV_DEL, EV_DMB_REG,
	EV_DMB_UNREG, EV_ATTACH, EV_DETACH, EV_MOVE_ERR, EV_SIGNAL,
	EV_COALESCED, EV_EVENT, NR_EV
};

/* What the probes saw of the test's own clients and devices. */
struct trace_rec {
	unsigned int calls;
	u64 v[5];
};

static struct trace_rec trace_recs[NR_EV];

#if IS_ENABLED(CONFIG_TRACEPOINTS)
static void trace_note(enum trace_ev ev, u64 v0, u64 v1, u64 v2, u64 v3,
		       u64 v4)
{
	struct trace_rec *r = &trace_recs[ev];

	r->calls++;
	r->v[0] = v0;
	r->v[1] = v1;
	r->v[2] = v2;
	r->v[3] = v3;
	r->v[4] = v4;
}

static bool is_test_client(const struct dibs_client *client)
{
	int i;

	for (i = 0; i < NR_TEST_CLIENTS; i++)
		if (client == &test_clients[i].client)
			return true;
	return false;
}

static void probe_client_register(void *data, const struct dibs_client *client,
				  unsigned int dmbs)
{
	if (is_test_client(client))
		trace_note(EV_CLIENT_REG, client->id, dmbs, 0, 0, 0);
}

static void probe_client_unregister(void *data,
				    const struct dibs_client *client,
				    unsigned int dmbs)
{
	if (is_test_client(client))
		trace_note(EV_CLIENT_UNREG, client->id, dmbs, 0, 0, 0);
}

static void probe_dev_add(void *data, const struct dibs_dev *dibs,
			  u16 fabric_id, unsigned int max_dmbs)
{
	if (is_fake(dibs))
		trace_note(EV_DEV_ADD, fabric_id, max_dmbs, dibs->gid.b[0],
			   0, 0);
}

static void probe_dev_del(void *data, const struct dibs_dev *dibs,
			  unsigned int dmbs)
{
	if (is_fake(dibs))
		trace_note(EV_DEV_DEL, dmbs, 0, 0, 0, 0);
}

static void probe_dmb_register(void *data, const struct dibs_dev *dibs,
			       const struct dibs_dmb *dmb,
			       const struct dibs_client *client)
{
	if (is_fake(dibs))
		trace_note(EV_DMB_REG, client->id, dmb->idx, dmb->dmb_len,
			   dmb->dmb_tok, 0);
}

static void probe_dmb_unregister(void *data, const struct dibs_dev *dibs,
				 unsigned int idx, u32 len, u64 token)
{
	if (is_fake(dibs))
		trace_note(EV_DMB_UNREG, idx, len, token, 0, 0);
}

static void probe_dmb_attach(void *data, const struct dibs_dev *dibs,
			     unsigned int idx, u32 len, u64 token)
{
	if (is_fake(dibs))
		trace_note(EV_ATTACH, idx, len, token, 0, 0);
}

static void probe_dmb_detach(void *data, const struct dibs_dev *dibs,
			     u64 token)
{
	if (is_fake(dibs))
		trace_note(EV_DETACH, token, 0, 0, 0, 0);
}

static void probe_move_error(void *data, const struct dibs_dev *dibs,
			     u64 token, unsigned int offset, unsigned int size,
			     int err)
{
	if (is_fake(dibs))
		trace_note(EV_MOVE_ERR, token, offset, size, err, 0);
}

static void probe_signal(void *data, const struct dibs_dev *dibs,
			 unsigned int idx, u16 mask, u8 client)
{
	if (is_fake(dibs))
		trace_note(EV_SIGNAL, idx, mask, client, 0, 0);
}

static void probe_signal_coalesced(void *data, const struct dibs_dev *dibs,
				   unsigned int idx, u16 mask)
{
	if (is_fake(dibs))
		trace_note(EV_COALESCED, idx, mask, 0, 0, 0);
}

static void probe_event(void *data, const struct dibs_dev *dibs,
			const struct dibs_event *event)
{
	if (is_fake(dibs))
		trace_note(EV_EVENT, event->type, event->subtype,
			   event->buffer_tok, event->data, event->gid.b[0]);
}

static const struct {
	struct tracepoint *tp;
	void *probe;
} trace_probes[NR_EV] = {
	[EV_CLIENT_REG] = { &__tracepoint_dibs_client_register,
			    probe_client_register },
	[EV_CLIENT_UNREG] = { &__tracepoint_dibs_client_unregister,
			      probe_client_unregister },
	[EV_DEV_ADD] = { &__tracepoint_dibs_dev_add, probe_dev_add },
	[EV_DEV_DEL] = { &__tracepoint_dibs_dev_del, probe_dev_del },
	[EV_DMB_REG] = { &__tracepoint_dibs_dmb_register, probe_dmb_register },
	[EV_DMB_UNREG] = { &__tracepoint_dibs_dmb_unregister,
			   probe_dmb_unregister },
	[EV_ATTACH] = { &__tracepoint_dibs_dmb_attach, probe_dmb_attach },
	[EV_DETACH] = { &__tracepoint_dibs_dmb_detach, probe_dmb_detach },
	[EV_MOVE_ERR] = { &__tracepoint_dibs_move_error, probe_move_error },
	[EV_SIGNAL] = { &__tracepoint_dibs_signal, probe_signal },
	[EV_COALESCED] = { &__tracepoint_dibs_signal_coalesced,
			   probe_signal_coalesced },
	[EV_EVENT] = { &__tracepoint_dibs_event, probe_event },
};

static unsigned int trace_probes_registered;

static void trace_probes_unregister(void *data)
{
	while (trace_probes_registered) {
		trace_probes_registered--;
		tracepoint_probe_unregister(trace_probes[trace_probes_registered].tp,
					    trace_probes[trace_probes_registered].probe,
					    NULL);
	}
	tracepoint_synchronize_unregister();
}

/* Attach a probe to every DIBS tracepoint until the test ends. */
static void trace_probes_register(struct kunit *test)
{
	int ret;

	memset(trace_recs, 0, sizeof(trace_recs));
	for (trace_probes_registered = 0; trace_probes_registered < NR_EV;
	     trace_probes_registered++) {
		ret = tracepoint_probe_register(trace_probes[trace_probes_registered].tp,
						trace_probes[trace_probes_registered].probe,
						NULL);
		if (ret)
			break;
	}
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, trace_probes_unregister,
						  NULL));
	KUNIT_ASSERT_EQ(test, 0, ret);
}
#else
static void trace_probes_register(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_TRACEPOINTS");
}
#endif

static void expect_trace(struct kunit *test, enum trace_ev ev,
			 unsigned int calls, u64 v0, u64 v1, u64 v2, u64 v3,
			 u64 v4)
{
	const struct trace_rec *r = &trace_recs[ev];

	KUNIT_EXPECT_EQ_MSG(test, calls, r->calls, "event %d", ev);
	KUNIT_EXPECT_EQ_MSG(test, v0, r->v[0], "event %d", ev);
	KUNIT_EXPECT_EQ_MSG(test, v1, r->v[1], "event %d", ev);
	KUNIT_EXPECT_EQ_MSG(test, v2, r->v[2], "event %d", ev);
	KUNIT_EXPECT_EQ_MSG(test, v3, r->v[3], "event %d", ev);
	KUNIT_EXPECT_EQ_MSG(test, v4, r->v[4], "event %d", ev);
}

static void dibs_test_trace_registry(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dev *dibs;
	u8 id;

	trace_probes_register(test);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));
	id = tc->client.id;
	expect_trace(test, EV_CLIENT_REG, 1, id, 0, 0, 0, 0);

	dibs = fake_dev_add(test, "fake0", 7);
	expect_trace(test, EV_DEV_ADD, 1, FAKE_FABRIC_ID, FAKE_MAX_DMBS, 7,
		     0, 0);

	/* A client that leaves DMBs behind: the events count them. */
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 1));
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 2));
	tc->keep_dmbs = true;
	dibs_dev_del(dibs);
	expect_trace(test, EV_DEV_DEL, 1, 2, 0, 0, 0, 0);

	dibs = fake_dev_add(test, "fake1", 8);
	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 3));
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&tc->client));
	expect_trace(test, EV_CLIENT_UNREG, 1, id, 1, 0, 0, 0);
	dibs_dev_del(dibs);
	expect_trace(test, EV_DEV_DEL, 2, 0, 0, 0, 0, 0);

	/* Refused operations leave no trace. */
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_unregister_client(&tc->client));
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_dev_add(dibs));
	expect_trace(test, EV_CLIENT_UNREG, 1, id, 1, 0, 0, 0);
	expect_trace(test, EV_DEV_ADD, 2, FAKE_FABRIC_ID, FAKE_MAX_DMBS, 8,
		     0, 0);
	expect_trace(test, EV_CLIENT_REG, 1, id, 0, 0, 0, 0);
}

static void dibs_test_trace_data_path(struct kunit *test)
{
	struct test_client *tc = &test_clients[0];
	struct dibs_dmb dmb = { .idx = 4, .dmb_len = 3000, .dmb_tok = 0xabc };
	struct dibs_event event = {
		.type = DIBS_SW_EVENT, .subtype = 0x42, .buffer_tok = 0x77,
		.data = 0x1122334455667788, .gid.b = { 0x99 },
	};
	struct dibs_dev *dibs;

	trace_probes_register(test);
	dibs = fake_dev_add(test, "fake0", 1);
	KUNIT_ASSERT_EQ(test, 0, tc_register(test, tc));

	dibs_dmb_registered(dibs, &dmb, &tc->client);
	expect_trace(test, EV_DMB_REG, 1, tc->client.id, 4, 3000, 0xabc, 0);
	dibs_dmb_attached(dibs, &dmb);
	expect_trace(test, EV_ATTACH, 1, 4, 3000, 0xabc, 0, 0);
	dibs_dmb_detached(dibs, 0xabc);
	expect_trace(test, EV_DETACH, 1, 0xabc, 0, 0, 0, 0);
	dibs_dmb_unregistered(dibs, 4, 3000, 0xabc);
	expect_trace(test, EV_DMB_UNREG, 1, 4, 3000, 0xabc, 0, 0);

	dibs_move_failed(dibs, 0xdef, 128, 64, -ENOENT);
	expect_trace(test, EV_MOVE_ERR, 1, 0xdef, 128, 64, (u64)-ENOENT, 0);
	/* Moves that succeed are counted, not traced. */
	dibs_moved(dibs, 64, true);
	expect_trace(test, EV_MOVE_ERR, 1, 0xdef, 128, 64, (u64)-ENOENT, 0);

	KUNIT_ASSERT_EQ(test, 0, tc_register_dmb(test, tc, dibs, 6));
	KUNIT_EXPECT_EQ(test, 0, dibs_handle_irq(dibs, 6, 0x0005));
	expect_trace(test, EV_SIGNAL, 1, 6, 0x0005, tc->client.id, 0, 0);
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs_handle_irq(dibs, 7, 0x0002));
	expect_trace(test, EV_SIGNAL, 2, 7, 0x0002, NO_DIBS_CLIENT, 0, 0);
	/* An index out of range is not a signal of the device. */
	KUNIT_EXPECT_EQ(test, -EINVAL, dibs_handle_irq(dibs, FAKE_MAX_DMBS, 1));
	KUNIT_EXPECT_EQ(test, 2, trace_recs[EV_SIGNAL].calls);

	dibs_signal_coalesced(dibs, 6, 0x0008);
	expect_trace(test, EV_COALESCED, 1, 6, 0x0008, 0, 0, 0);

	dibs_handle_event(dibs, &event);
	expect_trace(test, EV_EVENT, 1, DIBS_SW_EVENT, 0x42, 0x77,
		     0x1122334455667788, 0x99);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&tc->event_calls));
}

static struct kunit_case dibs_core_test_cases[] = {
	KUNIT_CASE(dibs_test_register_assigns_distinct_ids),
	KUNIT_CASE(dibs_test_register_beyond_max_fails),
	KUNIT_CASE(dibs_test_id_reused_after_unregister),
	KUNIT_CASE_PARAM(dibs_test_register_rejects_bad_client,
			 bad_client_gen_params),
	KUNIT_CASE(dibs_test_register_twice_fails),
	KUNIT_CASE(dibs_test_unregister_unknown_fails),
	KUNIT_CASE(dibs_test_add_dev_replayed_in_device_order),
	KUNIT_CASE(dibs_test_del_dev_on_unregister_newest_first),
	KUNIT_CASE(dibs_test_new_device_reaches_every_client),
	KUNIT_CASE(dibs_test_dev_del_reaches_every_client),
	KUNIT_CASE(dibs_test_dev_del_twice_is_harmless),
	KUNIT_CASE_PARAM(dibs_test_dev_add_rejects_bad_device,
			 dev_add_gen_params),
	KUNIT_CASE(dibs_test_dev_add_accepts_max_dmbs_limits),
	KUNIT_CASE(dibs_test_dev_add_twice_fails),
	KUNIT_CASE(dibs_test_sysfs_attributes),
	KUNIT_CASE(dibs_test_irq_reaches_owner_only),
	KUNIT_CASE(dibs_test_irq_bad_index_is_dropped),
	KUNIT_CASE(dibs_test_irq_stops_at_unregister_dmb),
	KUNIT_CASE(dibs_test_event_reaches_every_client),
	KUNIT_CASE(dibs_test_unregister_with_dmbs_left_completes),
	KUNIT_CASE(dibs_test_set_owner_rejects_bad_input),
	KUNIT_CASE(dibs_test_clear_owner_rejects_bad_input),
	KUNIT_CASE(dibs_test_driver_written_owner_ids),
	KUNIT_CASE(dibs_test_no_new_dmb_while_unregistering),
	KUNIT_CASE(dibs_test_dev_del_with_dmbs_registered),
	KUNIT_CASE(dibs_test_idx_reserve),
	KUNIT_CASE(dibs_test_idx_drain),
	KUNIT_CASE(dibs_test_stats_count),
	KUNIT_CASE_PARAM(dibs_test_stats_move_error_cause,
			 move_error_gen_params),
	KUNIT_CASE(dibs_test_stats_signals_delivered),
	KUNIT_CASE(dibs_test_stats_sum_cpus),
	KUNIT_CASE(dibs_test_stats_sysfs),
	KUNIT_CASE(dibs_test_trace_registry),
	KUNIT_CASE(dibs_test_trace_data_path),
	KUNIT_CASE_SLOW(dibs_test_race_dispatch_vs_client_unregister),
	KUNIT_CASE_SLOW(dibs_test_race_dispatch_vs_dev_del),
	KUNIT_CASE_SLOW(dibs_test_race_set_owner_vs_client_unregister),
	{}
};

static struct kunit_suite dibs_core_test_suite = {
	.name = "dibs_core",
	.init = dibs_test_init,
	.test_cases = dibs_core_test_cases,
};

/* ---- allocation failure at every point (see dibs_fault_kunit.h) ---- */

struct core_fault_ctx {
	struct dibs_dev *dibs;
	struct test_client *tc;
};

static int core_fault_init(struct kunit *test)
{
	struct core_fault_ctx *ctx;

	dibs_test_init(test);
	dibs_fault_require(test);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->tc = &test_clients[0];
	test->priv = ctx;
	return 0;
}

static void core_fault_put(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;

	put_device(&ctx->dibs->dev);
	ctx->dibs = NULL;
}

static int core_fault_dev_alloc(void *data)
{
	struct core_fault_ctx *ctx = data;

	ctx->dibs = dibs_dev_alloc();
	return ctx->dibs ? 0 : -ENOMEM;
}

static void dibs_fault_dev_alloc(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "dibs_dev_alloc()",
		.run = core_fault_dev_alloc,
		.undo = core_fault_put,
	};

	struct dibs_fault_count count;

	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, test->priv,
						 &count));
	/* The device with the core's state (and a new slab for it, maybe). */
	KUNIT_EXPECT_GE(test, count.failing, 1);
}

/*
 * A fresh device for each dibs_dev_add(), allocated with no failure armed;
 * the test drops the references when it ends.
 */
static void core_fault_dev_prepare(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;

	ctx->dibs = fake_dev_alloc(test, "dibs-fault-test", 0x5a);
}

static int core_fault_dev_add(void *data)
{
	struct core_fault_ctx *ctx = data;

	return dibs_dev_add(ctx->dibs);
}

static void core_fault_dev_add_failed(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;
	struct dibs_core_dev *core = container_of(ctx->dibs,
						  struct dibs_core_dev, dibs);

	KUNIT_EXPECT_FALSE(test, device_is_registered(&ctx->dibs->dev));
	KUNIT_EXPECT_EQ(test, core->state, DIBS_DEV_ALLOCATED);
	KUNIT_EXPECT_NULL(test, ctx->dibs->dmb_clientid_arr);
	KUNIT_EXPECT_NULL(test, ctx->dibs->subs[ctx->tc->client.id]);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->add_calls), 0);
}

static void core_fault_dev_add_undo(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->add_calls), 1);
	dibs_dev_del(ctx->dibs);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->del_calls), 1);
	atomic_set(&ctx->tc->add_calls, 0);
	atomic_set(&ctx->tc->del_calls, 0);
}

static void dibs_fault_dev_add(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "dibs_dev_add()",
		.prepare = core_fault_dev_prepare,
		.run = core_fault_dev_add,
		.failed = core_fault_dev_add_failed,
		.undo = core_fault_dev_add_undo,
	};
	struct core_fault_ctx *ctx = test->priv;
	struct dibs_fault_count count;

	KUNIT_ASSERT_EQ(test, tc_register(test, ctx->tc), 0);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/* The owner table, and at least one for the device in sysfs. */
	KUNIT_EXPECT_GE(test, count.failing, 2);
}

static int core_fault_register_client(void *data)
{
	struct core_fault_ctx *ctx = data;

	return dibs_register_client(&ctx->tc->client);
}

static void core_fault_register_client_failed(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->add_calls), 0);
	KUNIT_EXPECT_EQ(test, dibs_unregister_client(&ctx->tc->client),
			-ENOENT);
}

static void core_fault_register_client_undo(struct kunit *test, void *data)
{
	struct core_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->add_calls), 1);
	KUNIT_EXPECT_EQ(test, dibs_unregister_client(&ctx->tc->client), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->tc->del_calls), 1);
	atomic_set(&ctx->tc->add_calls, 0);
	atomic_set(&ctx->tc->del_calls, 0);
}

static void dibs_fault_register_client(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "dibs_register_client()",
		.run = core_fault_register_client,
		.failed = core_fault_register_client_failed,
		.undo = core_fault_register_client_undo,
	};

	struct dibs_fault_count count;

	fake_dev_add(test, "dibs-fault-dev", 0x61);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, test->priv,
						 &count));
	/* Registration, add_dev() replay included, allocates nothing. */
	KUNIT_EXPECT_EQ(test, count.points, 0);
}

static struct kunit_case dibs_core_fault_cases[] = {
	KUNIT_CASE(dibs_fault_dev_alloc),
	KUNIT_CASE(dibs_fault_dev_add),
	KUNIT_CASE(dibs_fault_register_client),
	{}
};

static struct kunit_suite dibs_core_fault_suite = {
	.name = "dibs_core_fault",
	.suite_init = dibs_fault_suite_init,
	.init = core_fault_init,
	.test_cases = dibs_core_fault_cases,
};

kunit_test_suites(&dibs_core_test_suite, &dibs_core_fault_suite);

MODULE_DESCRIPTION("KUnit tests for the DIBS core");
MODULE_LICENSE("GPL");
