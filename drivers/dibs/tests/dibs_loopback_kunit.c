// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the DIBS loopback device, driven through a test client.
 *
 * Each test creates its own loopback devices, so the "lo" device of the
 * module, and whatever other clients use it, stay out of the way.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dibs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/dibs.h>

#include "dibs_fault_kunit.h"
#include "dibs_stats_kunit.h"
#include "../dibs_loopback.h"

/*
 * MODULE_IMPORT_NS(), spelt out: its argument became a string literal in
 * 6.13, and this suite builds in 6.12 trees too.
 */
MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING");

/*
 * The stress cases run this many times longer (harness/kunit.sh kcsan,
 * "make stress", sets it on the kernel command line).
 */
static unsigned int stress_factor = 1;
module_param(stress_factor, uint, 0444);
MODULE_PARM_DESC(stress_factor, "run the stress cases this many times longer");

#define LO_TEST_DMBS		64
#define LO_TEST_MAX_IRQS	8
#define STRESS_SLOTS		4
#define STRESS_ROUNDS		500
#define STRESS_DMB_LEN		(3 * PAGE_SIZE + 100)

/* A DMB the test client registered or attached. */
struct lo_test_dmb {
	struct dibs_dev *dibs;
	struct dibs_dmb dmb;
	bool registered;
	bool attached;
};

/* State of the test client; the client only acts on devices in @devs. */
struct lo_test_state {
	struct kunit *test;
	struct dibs_dev *devs[2];
	struct lo_test_dmb dmbs[LO_TEST_DMBS];
	atomic_t add_calls;
	atomic_t del_calls;
	atomic_t irq_calls;
	atomic_t event_calls;
	spinlock_t lock;	/* protects the fields below */
	unsigned int irq_idx[LO_TEST_MAX_IRQS];
	u16 irq_mask[LO_TEST_MAX_IRQS];
	struct dibs_event last_event;
	/* on the first signal, signal again from inside the handler */
	u64 reenter_token;
	/* stopped by del_dev() before it releases the DMBs */
	struct task_struct *traffic;
	int release_errors;
	/* del_dev() leaves the DMBs alone, as a faulty client would */
	bool keep_dmbs;
	/* cross-CPU coalescing: the handler only counts, and takes its time */
	bool slow_handler;
	atomic_t in_handler;
	atomic_t overlapping_calls;
	atomic_t foreign_calls;
	atomic_t bit_calls[2];
	int sender_cpu[2];
	/* dibs_signal_coalesced events of our devices, and the last mask */
	unsigned int coalesced;
	u16 coalesced_mask;
};

static struct lo_test_state *lts;

static bool lo_test_ours(struct dibs_dev *dibs)
{
	return lts && (dibs == lts->devs[0] || dibs == lts->devs[1]);
}

static int lo_test_release(struct lo_test_dmb *td)
{
	int ret = 0;

	if (td->attached) {
		ret = td->dibs->ops->detach_dmb(td->dibs, td->dmb.dmb_tok);
		if (!ret)
			td->attached = false;
	}
	if (td->registered) {
		ret = td->dibs->ops->unregister_dmb(td->dibs, &td->dmb);
		if (!ret)
			td->registered = false;
	}
	return ret;
}

static void lo_test_add_dev(struct dibs_dev *dibs)
{
	if (lo_test_ours(dibs))
		atomic_inc(&lts->add_calls);
}

static void lo_test_del_dev(struct dibs_dev *dibs)
{
	int i;

	if (!lo_test_ours(dibs))
		return;
	atomic_inc(&lts->del_calls);
	if (lts->traffic) {
		kthread_stop(lts->traffic);
		lts->traffic = NULL;
	}
	if (lts->keep_dmbs)
		return;
	for (i = 0; i < LO_TEST_DMBS; i++)
		if (lts->dmbs[i].dibs == dibs &&
		    lo_test_release(&lts->dmbs[i]))
			lts->release_errors++;
}

static void lo_test_slow_handler(u16 mask)
{
	u64 until;
	int i;

	if (atomic_inc_return(&lts->in_handler) > 1)
		atomic_inc(&lts->overlapping_calls);
	for (i = 0; i < 2; i++) {
		if (!(mask & BIT(i)))
			continue;
		atomic_inc(&lts->bit_calls[i]);
		/* Sent on one CPU, delivered by the other's handler loop. */
		if (raw_smp_processor_id() != lts->sender_cpu[i])
			atomic_inc(&lts->foreign_calls);
	}
	/*
	 * Long enough for the other CPU's signals to arrive meanwhile; the
	 * handler runs under RCU and must not sleep.
	 */
	until = ktime_get_ns() + 20 * NSEC_PER_USEC;
	while (ktime_get_ns() < until)
		cpu_relax();
	atomic_dec(&lts->in_handler);
}

static void lo_test_handle_irq(struct dibs_dev *dibs, unsigned int idx,
			       u16 mask)
{
	unsigned long flags;
	u64 token;
	int n;

	if (!lo_test_ours(dibs))
		return;
	if (lts->slow_handler) {
		lo_test_slow_handler(mask);
		return;
	}
	n = atomic_inc_return(&lts->irq_calls) - 1;
	spin_lock_irqsave(&lts->lock, flags);
	if (n < LO_TEST_MAX_IRQS) {
		lts->irq_idx[n] = idx;
		lts->irq_mask[n] = mask;
	}
	token = lts->reenter_token;
	lts->reenter_token = 0;
	spin_unlock_irqrestore(&lts->lock, flags);

	if (token) {
		dibs->ops->move_data(dibs, token, 3, true, 0, NULL, 0);
		dibs->ops->move_data(dibs, token, 5, true, 0, NULL, 0);
	}
}

static void lo_test_handle_event(struct dibs_dev *dibs,
				 const struct dibs_event *event)
{
	unsigned long flags;

	if (!lo_test_ours(dibs))
		return;
	spin_lock_irqsave(&lts->lock, flags);
	lts->last_event = *event;
	spin_unlock_irqrestore(&lts->lock, flags);
	atomic_inc(&lts->event_calls);
}

static const struct dibs_client_ops lo_test_client_ops = {
	.add_dev = lo_test_add_dev,
	.del_dev = lo_test_del_dev,
	.handle_irq = lo_test_handle_irq,
	.handle_event = lo_test_handle_event,
};

static struct dibs_client lo_test_client = {
	.name = "dibs-lo-test",
	.ops = &lo_test_client_ops,
};

static void lo_test_destroy_action(void *name)
{
	dibs_lo_dev_destroy(name);
}

/* Create loopback device @slot (0 or 1) of the test. */
static struct dibs_dev *lo_test_create(struct kunit *test, int slot)
{
	static const char *const names[] = { "lotest0", "lotest1" };
	struct dibs_lo_dev *ldev;
	int ret;

	ldev = dibs_lo_dev_create(names[slot], true);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(ldev), "create: %pe", ldev);
	ret = kunit_add_action_or_reset(test, lo_test_destroy_action,
					(void *)names[slot]);
	KUNIT_ASSERT_EQ(test, 0, ret);
	lts->devs[slot] = dibs_lo_dev_dibs(ldev);
	return lts->devs[slot];
}

static void lo_test_unregister_client(void *unused)
{
	dibs_unregister_client(&lo_test_client);
}

static void lo_test_release_all(void *unused)
{
	int i;

	for (i = 0; i < LO_TEST_DMBS; i++)
		lo_test_release(&lts->dmbs[i]);
}

static void lo_test_register_client(struct kunit *test)
{
	int ret;

	KUNIT_ASSERT_EQ(test, 0, dibs_register_client(&lo_test_client));
	ret = kunit_add_action_or_reset(test, lo_test_unregister_client, NULL);
	KUNIT_ASSERT_EQ(test, 0, ret);
	ret = kunit_add_action_or_reset(test, lo_test_release_all, NULL);
	KUNIT_ASSERT_EQ(test, 0, ret);
}

/* One device and the client; the usual start of a test. */
static struct dibs_dev *lo_test_setup(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_create(test, 0);

	lo_test_register_client(test);
	return dibs;
}

static struct lo_test_dmb *lo_test_slot(struct kunit *test)
{
	int i;

	for (i = 0; i < LO_TEST_DMBS; i++)
		if (!lts->dmbs[i].registered && !lts->dmbs[i].attached)
			return &lts->dmbs[i];
	KUNIT_FAIL_AND_ABORT(test, "out of DMB slots");
	return NULL;
}

/* Register a DMB of @len bytes, asking for index @idx (0: any). */
static int lo_test_register(struct kunit *test, struct dibs_dev *dibs,
			    u32 len, u32 idx, struct lo_test_dmb **out)
{
	struct lo_test_dmb *td = lo_test_slot(test);
	int ret;

	*td = (struct lo_test_dmb){
		.dibs = dibs,
		.dmb = { .dmb_len = len, .idx = idx, .rgid = dibs->gid },
	};
	ret = dibs->ops->register_dmb(dibs, &td->dmb, &lo_test_client);
	if (!ret)
		td->registered = true;
	if (out)
		*out = td;
	return ret;
}

static struct lo_test_dmb *lo_test_register_ok(struct kunit *test,
					       struct dibs_dev *dibs, u32 len)
{
	struct lo_test_dmb *td;

	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, len, 0, &td));
	return td;
}

static int lo_test_attach(struct kunit *test, struct dibs_dev *dibs,
			  u64 token, struct lo_test_dmb **out)
{
	struct lo_test_dmb *td = lo_test_slot(test);
	int ret;

	*td = (struct lo_test_dmb){ .dibs = dibs, .dmb = { .dmb_tok = token } };
	ret = dibs->ops->attach_dmb(dibs, &td->dmb);
	if (!ret)
		td->attached = true;
	*out = td;
	return ret;
}

static unsigned int lo_test_in_use(struct dibs_dev *dibs)
{
	return dibs_lo_dmbs_in_use(dibs->drv_priv);
}

static bool mem_is(const void *mem, u8 byte, size_t len)
{
	return !memchr_inv(mem, byte, len);
}

#if IS_ENABLED(CONFIG_TRACEPOINTS)
static void lo_test_probe_coalesced(void *data, const struct dibs_dev *dibs,
				    unsigned int idx, u16 mask)
{
	if (dibs == lts->devs[0] || dibs == lts->devs[1]) {
		lts->coalesced++;
		lts->coalesced_mask = mask;
	}
}

static void lo_test_untrace_coalesced(void *unused)
{
	unregister_trace_dibs_signal_coalesced(lo_test_probe_coalesced, NULL);
	tracepoint_synchronize_unregister();
}

/* Count the dibs_signal_coalesced events of the test's devices. */
static void lo_test_trace_coalesced(struct kunit *test)
{
	KUNIT_ASSERT_EQ(test, 0,
			register_trace_dibs_signal_coalesced(lo_test_probe_coalesced,
							     NULL));
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test,
						  lo_test_untrace_coalesced,
						  NULL));
}
#else
static void lo_test_trace_coalesced(struct kunit *test)
{
}
#endif

static void lo_test_forget_state(void *unused)
{
	lts = NULL;
}

/*
 * Cleanup actions run in reverse order after the test: the DMBs, the
 * client and the devices go first, and only then is the state forgotten
 * and freed.
 */
static int lo_test_init(struct kunit *test)
{
	lts = kunit_kzalloc(test, sizeof(*lts), GFP_KERNEL);
	if (!lts)
		return -ENOMEM;
	lts->test = test;
	spin_lock_init(&lts->lock);
	return kunit_add_action_or_reset(test, lo_test_forget_state, NULL);
}

/* ---- identity ---- */

static void dibs_lo_test_identity(struct kunit *test)
{
	struct dibs_dev *d0 = lo_test_create(test, 0);
	struct dibs_dev *d1 = lo_test_create(test, 1);
	const struct dibs_dev_ops *ops = d0->ops;

	KUNIT_EXPECT_STREQ(test, "lotest0", dev_name(&d0->dev));
	KUNIT_EXPECT_EQ(test, DIBS_LOOPBACK_FABRIC, ops->get_fabric_id(d0));
	KUNIT_EXPECT_EQ(test, DIBS_LO_MAX_DMBS, ops->max_dmbs());
	KUNIT_EXPECT_FALSE(test, uuid_is_null(&d0->gid));
	KUNIT_EXPECT_FALSE(test, uuid_equal(&d0->gid, &d1->gid));

	KUNIT_EXPECT_EQ(test, 0, ops->query_remote_gid(d0, &d0->gid, 0, 0));
	KUNIT_EXPECT_EQ(test, 0, ops->query_remote_gid(d0, &d0->gid, 1, 7));
	/* SMC-D asks with the reserved VLAN id 0x1FFF. */
	KUNIT_EXPECT_EQ(test, 0,
			ops->query_remote_gid(d0, &d0->gid, 1, 0x1fff));
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			ops->query_remote_gid(d0, &d1->gid, 0, 0));
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			ops->query_remote_gid(d0, &uuid_null, 0, 0));

	KUNIT_EXPECT_NULL(test, ops->add_vlan_id);
	KUNIT_EXPECT_NULL(test, ops->del_vlan_id);
	KUNIT_EXPECT_NE(test, 0, ops->support_mmapped_rdmb(d0));
}

struct bad_name_case {
	const char *desc;
	const char *name;
	int err;
};

static const struct bad_name_case bad_name_cases[] = {
	{ "empty", "", -EINVAL },
	{ "upper case", "LO", -EINVAL },
	{ "space", "lo 1", -EINVAL },
	{ "slash", "lo/1", -EINVAL },
	{ "dot", "lo.1", -EINVAL },
	{ "16 characters", "abcdefghijklmnop", -EINVAL },
	{ "taken", "lotest0", -EEXIST },
};

KUNIT_ARRAY_PARAM_DESC(bad_name, bad_name_cases, desc);

static void dibs_lo_test_create_rejects_bad_name(struct kunit *test)
{
	const struct bad_name_case *c = test->param_value;
	struct dibs_lo_dev *ldev;

	lo_test_setup(test);
	ldev = dibs_lo_dev_create(c->name, true);
	KUNIT_EXPECT_EQ(test, c->err, PTR_ERR_OR_ZERO(ldev));
	if (!IS_ERR(ldev))
		dibs_lo_dev_destroy(c->name);
	/* Only the test's own device was ever announced. */
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->add_calls));
	KUNIT_EXPECT_EQ(test, -ENODEV, dibs_lo_dev_destroy("lotest1"));
}

static void dibs_lo_test_longest_name(struct kunit *test)
{
	struct dibs_lo_dev *ldev;

	lo_test_setup(test);
	ldev = dibs_lo_dev_create("abcdefghijklmno", true);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ldev));
	KUNIT_EXPECT_STREQ(test, "abcdefghijklmno",
			   dev_name(&dibs_lo_dev_dibs(ldev)->dev));
	KUNIT_EXPECT_EQ(test, 0, dibs_lo_dev_destroy("abcdefghijklmno"));
	KUNIT_EXPECT_EQ(test, -ENODEV, dibs_lo_dev_destroy("abcdefghijklmno"));
}

/* ---- registering DMBs ---- */

static const u32 dmb_sizes[] = { 1, 100, PAGE_SIZE, PAGE_SIZE + 1, SZ_16K,
				 65 * SZ_1K, DIBS_LO_MAX_DMB_LEN };

static void dmb_size_desc(const u32 *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u bytes", *size);
}

KUNIT_ARRAY_PARAM(dmb_size, dmb_sizes, dmb_size_desc);

static void dibs_lo_test_register_gives_zeroed_pages(struct kunit *test)
{
	const u32 len = *(const u32 *)test->param_value;
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td;
	struct folio *folio;
	unsigned long off;
	u8 *mem;

	td = lo_test_register_ok(test, dibs, len);
	mem = td->dmb.cpu_addr;
	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_EXPECT_NE(test, 0, td->dmb.dmb_tok);
	KUNIT_EXPECT_LT(test, td->dmb.idx, DIBS_LO_MAX_DMBS);
	KUNIT_EXPECT_EQ(test, len, td->dmb.dmb_len);
	KUNIT_EXPECT_TRUE(test, mem_is(mem, 0, len));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(mem));
	/* SMC-D reads a dma_addr of 0 as "never registered". */
	KUNIT_EXPECT_EQ(test, DIBS_DMA_ADDR_NONE, td->dmb.dma_addr);

	/*
	 * SMC-D splices received data out of a DMB with a reference on its
	 * first page only and an offset anywhere in the DMB: the memory must
	 * be one folio of the direct map, neither slab nor vmalloc, that
	 * starts at cpu_addr and is no larger than the power of two of pages
	 * the length needs.
	 */
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(mem));
	folio = virt_to_folio(mem);
	KUNIT_EXPECT_PTR_EQ(test, mem, folio_address(folio));
	KUNIT_EXPECT_FALSE(test, folio_test_slab(folio));
	KUNIT_EXPECT_EQ(test, PAGE_SIZE << get_order(len), folio_size(folio));
	for (off = 0; off < PAGE_ALIGN(len); off += PAGE_SIZE) {
		KUNIT_EXPECT_TRUE(test, virt_addr_valid(mem + off));
		KUNIT_EXPECT_PTR_EQ(test, folio, virt_to_folio(mem + off));
	}
	folio_get(folio);
	KUNIT_EXPECT_TRUE(test, mem_is(folio_address(folio), 0, len));
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
}

static void dibs_lo_test_tokens_unique_and_random(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td[LO_TEST_DMBS];
	u64 token, upper;
	int i, j;

	for (i = 0; i < LO_TEST_DMBS; i++)
		td[i] = lo_test_register_ok(test, dibs, 1);

	for (i = 0; i < LO_TEST_DMBS; i++) {
		token = td[i]->dmb.dmb_tok;
		upper = token >> DIBS_LO_TOKEN_IDX_BITS;
		KUNIT_EXPECT_NE(test, 0, upper);
		KUNIT_EXPECT_EQ(test, td[i]->dmb.idx,
				token & GENMASK(DIBS_LO_TOKEN_IDX_BITS - 1, 0));
		for (j = 0; j < i; j++) {
			KUNIT_EXPECT_NE(test, td[j]->dmb.idx, td[i]->dmb.idx);
			/* 48 random bits: equal halves mean no randomness. */
			KUNIT_EXPECT_NE(test, upper,
					td[j]->dmb.dmb_tok >> DIBS_LO_TOKEN_IDX_BITS);
		}
	}
}

/*
 * The random part of tokens, over many registrations: every one of its 48
 * bits is set in about half the tokens, and consecutive tokens are not
 * related by a constant difference or XOR. A counter, a counter mixed
 * with a constant, or a generator with stuck bits fails this; the bound,
 * 6 standard deviations of a fair bit, a good generator fails about once
 * in 10^7 runs.
 */
#define TOKEN_SAMPLES		4096
#define TOKEN_RANDOM_BITS	(64 - DIBS_LO_TOKEN_IDX_BITS)

static void dibs_lo_test_token_bits_balanced(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	unsigned int ones[TOKEN_RANDOM_BITS] = {};
	u64 prev = 0, delta = 0, xor = 0, r;
	bool same_delta = true, same_xor = true;
	struct dibs_dmb dmb;
	unsigned int i, b, dev;
	int ret;

	for (i = 0; i < TOKEN_SAMPLES; i++) {
		dmb = (struct dibs_dmb){ .dmb_len = 1, .rgid = dibs->gid };
		ret = dibs->ops->register_dmb(dibs, &dmb, &lo_test_client);
		KUNIT_ASSERT_EQ(test, 0, ret);
		KUNIT_ASSERT_EQ(test, 0, dibs->ops->unregister_dmb(dibs, &dmb));
		r = dmb.dmb_tok >> DIBS_LO_TOKEN_IDX_BITS;
		for (b = 0; b < TOKEN_RANDOM_BITS; b++)
			ones[b] += (r >> b) & 1;
		if (i == 1) {
			delta = r - prev;
			xor = r ^ prev;
		} else if (i > 1) {
			same_delta &= r - prev == delta;
			same_xor &= (r ^ prev) == xor;
		}
		prev = r;
	}
	/* sigma = sqrt(4096) / 2 = 32 */
	for (b = 0; b < TOKEN_RANDOM_BITS; b++) {
		dev = abs((int)ones[b] - TOKEN_SAMPLES / 2);
		KUNIT_EXPECT_LE_MSG(test, dev, 6 * 32,
				    "token bit %u set in %u of %u tokens",
				    b + DIBS_LO_TOKEN_IDX_BITS, ones[b],
				    TOKEN_SAMPLES);
	}
	KUNIT_EXPECT_FALSE(test, same_delta);
	KUNIT_EXPECT_FALSE(test, same_xor);
}

static void dibs_lo_test_register_honours_index(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *a, *b;

	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, 10, 77, &a));
	KUNIT_EXPECT_EQ(test, 77, a->dmb.idx);
	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, 10,
						  DIBS_LO_MAX_DMBS - 1, &b));
	KUNIT_EXPECT_EQ(test, DIBS_LO_MAX_DMBS - 1, b->dmb.idx);
	/* Without a request the lowest free index is used. */
	b = lo_test_register_ok(test, dibs, 10);
	KUNIT_EXPECT_EQ(test, 0, b->dmb.idx);
	b = lo_test_register_ok(test, dibs, 10);
	KUNIT_EXPECT_EQ(test, 1, b->dmb.idx);
}

struct bad_register_case {
	const char *name;
	u32 len;
	u32 idx;
	bool other_gid;
	bool unregistered_client;
	int err;
};

static const struct bad_register_case bad_register_cases[] = {
	{ "length 0", 0, 0, .err = -EINVAL },
	{ "length above maximum", DIBS_LO_MAX_DMB_LEN + 1, 0, .err = -EINVAL },
	{ "length U32_MAX", U32_MAX, 0, .err = -EINVAL },
	{ "index max_dmbs", 1, DIBS_LO_MAX_DMBS, .err = -EINVAL },
	{ "index U32_MAX", 1, U32_MAX, .err = -EINVAL },
	{ "index taken", 1, 9, .err = -EBUSY },
	{ "other remote GID", 1, 0, .other_gid = true, .err = -ENETUNREACH },
	{ "unregistered client", 1, 0, .unregistered_client = true,
	  .err = -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(bad_register, bad_register_cases, name);

static void dibs_lo_test_register_rejects_bad_input(struct kunit *test)
{
	const struct bad_register_case *c = test->param_value;
	struct dibs_client stranger = { .name = "stranger",
					.ops = &lo_test_client_ops, .id = 5 };
	struct dibs_dev *dibs = lo_test_setup(test);
	struct dibs_client *client = &lo_test_client;
	struct dibs_dmb dmb = {
		.dmb_len = c->len, .idx = c->idx, .rgid = dibs->gid,
	};
	struct lo_test_dmb *taken;

	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, 1, 9, &taken));
	if (c->other_gid)
		uuid_gen(&dmb.rgid);
	if (c->unregistered_client)
		client = &stranger;

	KUNIT_EXPECT_EQ(test, c->err,
			dibs->ops->register_dmb(dibs, &dmb, client));
	KUNIT_EXPECT_EQ(test, 0, dmb.dmb_tok);
	KUNIT_EXPECT_NULL(test, dmb.cpu_addr);
	KUNIT_EXPECT_EQ(test, c->idx, dmb.idx);
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));

	/* No index leaked: the next DMB still gets the lowest one. */
	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, 1, 0, &taken));
	KUNIT_EXPECT_EQ(test, 0, taken->dmb.idx);
}

static void dibs_lo_test_register_all_indices(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct dibs_dmb *dmbs, extra = { .dmb_len = 1, .rgid = dibs->gid };
	int i, registered = 0;

	dmbs = kunit_kcalloc(test, DIBS_LO_MAX_DMBS, sizeof(*dmbs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dmbs);
	for (i = 0; i < DIBS_LO_MAX_DMBS; i++) {
		dmbs[i] = (struct dibs_dmb){ .dmb_len = 1, .rgid = dibs->gid };
		if (dibs->ops->register_dmb(dibs, &dmbs[i], &lo_test_client))
			break;
		registered++;
	}
	KUNIT_EXPECT_EQ(test, DIBS_LO_MAX_DMBS, registered);
	KUNIT_EXPECT_EQ(test, -ENOSPC,
			dibs->ops->register_dmb(dibs, &extra, &lo_test_client));
	KUNIT_EXPECT_EQ(test, DIBS_LO_MAX_DMBS, lo_test_in_use(dibs));

	/* A freed index is found again. */
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->unregister_dmb(dibs, &dmbs[1234]));
	KUNIT_EXPECT_EQ(test, 0,
			dibs->ops->register_dmb(dibs, &extra, &lo_test_client));
	KUNIT_EXPECT_EQ(test, 1234, extra.idx);
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->unregister_dmb(dibs, &extra));

	for (i = 0; i < registered; i++)
		if (i != 1234)
			KUNIT_EXPECT_EQ(test, 0,
					dibs->ops->unregister_dmb(dibs, &dmbs[i]));
	KUNIT_EXPECT_EQ(test, 0, lo_test_in_use(dibs));
}

/* ---- unregistering ---- */

static void dibs_lo_test_unregister_rejects_bad_token(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, 100);
	struct dibs_dmb forged = td->dmb;

	forged.dmb_tok = 0;
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->unregister_dmb(dibs, &forged));
	/* Right index, wrong random part. */
	forged.dmb_tok = td->dmb.dmb_tok ^ BIT_ULL(40);
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->unregister_dmb(dibs, &forged));
	forged.dmb_tok = td->dmb.dmb_tok | GENMASK_ULL(15, 0);
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->unregister_dmb(dibs, &forged));
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));

	KUNIT_EXPECT_EQ(test, 0, dibs->ops->unregister_dmb(dibs, &td->dmb));
	td->registered = false;
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->unregister_dmb(dibs, &td->dmb));
	KUNIT_EXPECT_EQ(test, 0, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, td->dmb.dmb_tok, 0, false, 0,
					     "x", 1));
}

static void dibs_lo_test_index_reuse_is_zeroed(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td;
	u64 old_token;

	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, SZ_16K, 7, &td));
	memset(td->dmb.cpu_addr, 0x5a, SZ_16K);
	old_token = td->dmb.dmb_tok;
	KUNIT_ASSERT_EQ(test, 0, lo_test_release(td));

	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, SZ_16K, 7, &td));
	KUNIT_EXPECT_TRUE(test, mem_is(td->dmb.cpu_addr, 0, SZ_16K));
	KUNIT_EXPECT_NE(test, old_token, td->dmb.dmb_tok);
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, old_token, 0, false, 0,
					     "x", 1));
}

/*
 * An unregistered DMB's index waits for a grace period before the next DMB
 * gets it: a move that found the old DMB may still signal through it.
 */
static void dibs_lo_test_index_drains_before_reuse(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *a, *b;
	u32 idx;

	a = lo_test_register_ok(test, dibs, 64);
	idx = a->dmb.idx;
	KUNIT_ASSERT_EQ(test, 0, lo_test_release(a));
	KUNIT_EXPECT_EQ(test, 0, lo_test_in_use(dibs));

	b = lo_test_register_ok(test, dibs, 64);
	KUNIT_EXPECT_NE(test, idx, b->dmb.idx);
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
}

/*
 * The next DMB may get the descriptor of the one unregistered before it:
 * the old token must still name nothing, and the new DMB stay untouched.
 */
static void dibs_lo_test_stale_token_misses_next_dmb(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *a, *b;
	struct dibs_dmb stale;

	a = lo_test_register_ok(test, dibs, 64);
	stale = a->dmb;
	KUNIT_ASSERT_EQ(test, 0, lo_test_release(a));
	b = lo_test_register_ok(test, dibs, 64);

	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, stale.dmb_tok, 0, true, 0,
					     "x", 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->attach_dmb(dibs, &stale));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->unregister_dmb(dibs, &stale));
	KUNIT_EXPECT_TRUE(test, mem_is(b->dmb.cpu_addr, 0, 64));
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, 0,
			dibs->ops->move_data(dibs, b->dmb.dmb_tok, 0, false, 0,
					     "x", 1));
}

/*
 * The memory of an unregistered DMB is freed at once: a client that
 * registers and unregisters DMBs does not wait for grace periods.
 */
static void dibs_lo_test_memory_freed_at_once(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, SZ_16K);
	struct folio *folio = virt_to_folio(td->dmb.cpu_addr);

	/* Our own reference keeps the folio to look at. */
	folio_get(folio);
	KUNIT_EXPECT_EQ(test, 2, folio_ref_count(folio));
	KUNIT_EXPECT_EQ(test, 0, lo_test_release(td));
	KUNIT_EXPECT_EQ(test, 1, folio_ref_count(folio));
	folio_put(folio);
}

struct lo_test_hazard {
	struct dibs_lo_dev *ldev;
	unsigned int cpu;
};

static void lo_test_hazard_clear(void *data)
{
	struct lo_test_hazard *hz = data;

	dibs_lo_hazard_set(hz->ldev, hz->cpu, 0);
}

/*
 * A DMB that a move is using when it is unregistered stays, memory and
 * all, until a grace period has passed; a move then finds it gone.
 */
static void dibs_lo_test_memory_kept_while_written(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, SZ_16K);
	struct folio *folio = virt_to_folio(td->dmb.cpu_addr);
	u64 tok = td->dmb.dmb_tok;
	struct lo_test_hazard *hz;

	hz = kunit_kzalloc(test, sizeof(*hz), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, hz);
	hz->ldev = dibs->drv_priv;
	hz->cpu = cpumask_last(cpu_possible_mask);
	folio_get(folio);
	KUNIT_ASSERT_EQ(test, 0, dibs_lo_hazard_set(hz->ldev, hz->cpu, tok));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
							   lo_test_hazard_clear,
							   hz));
	KUNIT_EXPECT_EQ(test, 0, lo_test_release(td));
	KUNIT_EXPECT_EQ(test, 2, folio_ref_count(folio));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, tok, 0, false, 0, "x", 1));

	kunit_release_action(test, lo_test_hazard_clear, hz);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, 1, folio_ref_count(folio));
	folio_put(folio);
}

/* ---- moving data ---- */

static void dibs_lo_test_move_data_lands(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, 3 * PAGE_SIZE);
	u8 *mem = td->dmb.cpu_addr, *buf;
	u64 tok = td->dmb.dmb_tok;

	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xc3, 3 * PAGE_SIZE);

	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, tok, 0, false, 10,
						      "hello", 5));
	KUNIT_EXPECT_MEMEQ(test, mem + 10, "hello", 5);
	KUNIT_EXPECT_TRUE(test, mem_is(mem, 0, 10));
	KUNIT_EXPECT_EQ(test, 0, mem[15]);

	/* Across page boundaries, up to the last byte. */
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, tok, 0, false,
						      PAGE_SIZE - 3, buf,
						      2 * PAGE_SIZE + 3));
	KUNIT_EXPECT_TRUE(test, mem_is(mem + PAGE_SIZE - 3, 0xc3,
				       2 * PAGE_SIZE + 3));
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, tok, 0, false,
						      0, buf, 3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, tok, 15, false,
						      3 * PAGE_SIZE, buf, 0));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->irq_calls));
}

/*
 * SMC-D moves data, and asks whether the device supports zero-copy, with
 * bottom halves disabled and a spinlock held, and from a tasklet: neither
 * may sleep (DEBUG_ATOMIC_SLEEP and lockdep report it if one does).
 */
static void dibs_lo_test_move_data_in_atomic_context(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, SZ_16K);
	spinlock_t lock;	/* stands for SMC-D's connection lock */
	int plain, signalled, zero_copy;

	spin_lock_init(&lock);
	spin_lock_bh(&lock);
	zero_copy = dibs->ops->support_mmapped_rdmb(dibs);
	plain = dibs->ops->move_data(dibs, td->dmb.dmb_tok, 0, false, 8,
				     "payload", 7);
	signalled = dibs->ops->move_data(dibs, td->dmb.dmb_tok, 0, true, 0,
					 "c", 1);
	spin_unlock_bh(&lock);

	KUNIT_EXPECT_EQ(test, 0, plain);
	KUNIT_EXPECT_EQ(test, 0, signalled);
	KUNIT_EXPECT_MEMEQ(test, td->dmb.cpu_addr, "c\0\0\0\0\0\0\0payload",
			   15);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->irq_calls));
	KUNIT_EXPECT_NE(test, 0, zero_copy);
}

static void dibs_lo_test_move_data_1_mib(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, SZ_1M);
	u8 *buf;

	buf = kunit_kmalloc(test, SZ_1M, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	get_random_bytes(buf, SZ_1M);
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, td->dmb.dmb_tok,
						      0, true, 0, buf, SZ_1M));
	KUNIT_EXPECT_MEMEQ(test, td->dmb.cpu_addr, buf, SZ_1M);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->irq_calls));
}

struct bad_move_case {
	const char *name;
	unsigned int offset;
	unsigned int size;
	unsigned int sig_idx;
	int token;	/* 0: right; 1: zero; 2: wrong random part; 3: unused idx */
	int err;
};

#define BAD_MOVE_LEN	1000

static const struct bad_move_case bad_move_cases[] = {
	{ "end past length", BAD_MOVE_LEN - 4, 5, 0, 0, -EINVAL },
	{ "offset at length", BAD_MOVE_LEN, 1, 0, 0, -EINVAL },
	{ "size past length", 0, BAD_MOVE_LEN + 1, 0, 0, -EINVAL },
	{ "offset+size wraps", UINT_MAX, 2, 0, 0, -EINVAL },
	{ "offset+size wraps to 0", UINT_MAX - 99, 100, 0, 0, -EINVAL },
	{ "size UINT_MAX", 1, UINT_MAX, 0, 0, -EINVAL },
	{ "offset UINT_MAX, size 0", UINT_MAX, 0, 0, 0, -EINVAL },
	{ "signal index 16", 0, 1, 16, 0, -EINVAL },
	{ "signal index UINT_MAX", 0, 1, UINT_MAX, 0, -EINVAL },
	{ "token 0", 0, 1, 0, 1, -ENOENT },
	{ "token with wrong random part", 0, 1, 0, 2, -ENOENT },
	{ "token of an unused index", 0, 1, 0, 3, -ENOENT },
};

KUNIT_ARRAY_PARAM_DESC(bad_move, bad_move_cases, name);

static void dibs_lo_test_move_data_rejects_bad_input(struct kunit *test)
{
	const struct bad_move_case *c = test->param_value;
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, BAD_MOVE_LEN);
	u64 tok = td->dmb.dmb_tok, want[DIBS_STAT_NR] = {};
	u8 *src;

	src = kunit_kzalloc(test, 2 * BAD_MOVE_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	memset(td->dmb.cpu_addr, 0xa5, BAD_MOVE_LEN);
	if (c->token == 1)
		tok = 0;
	else if (c->token == 2)
		tok ^= BIT_ULL(63);
	else if (c->token == 3)
		tok = (tok & ~GENMASK_ULL(15, 0)) | (td->dmb.idx + 1);

	/* Sizes beyond the source are refused before any byte is read. */
	KUNIT_EXPECT_EQ(test, c->err,
			dibs->ops->move_data(dibs, tok, c->sig_idx, true,
					     c->offset, src, c->size));
	KUNIT_EXPECT_TRUE(test, mem_is(td->dmb.cpu_addr, 0xa5, BAD_MOVE_LEN));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->irq_calls));

	/* Counted as an error of its cause, and as nothing else. */
	want[c->err == -ENOENT ? DIBS_STAT_MOVE_ERR_TOKEN :
				 DIBS_STAT_MOVE_ERR_RANGE] = 1;
	want[DIBS_STAT_DMB_REGS] = 1;
	want[DIBS_STAT_DMB_BYTES_REG] = BAD_MOVE_LEN;
	dibs_test_expect_stats(test, dibs, NULL, want);
}

/*
 * The counters add up to exactly what the client did, and refused
 * operations count only as errors of their cause.
 */
static void dibs_lo_test_stats_add_up(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct dibs_dev *other = lo_test_create(test, 1);
	struct lo_test_dmb *a = lo_test_register_ok(test, dibs, 100);
	struct lo_test_dmb *b = lo_test_register_ok(test, dibs, 5000);
	const struct dibs_dev_ops *ops = dibs->ops;
	u64 want[DIBS_STAT_NR] = {};
	struct lo_test_dmb *w1, *w2;
	u64 tok = b->dmb.dmb_tok;

	KUNIT_EXPECT_EQ(test, -EINVAL, lo_test_register(test, dibs, 0, 0, NULL));
	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, tok, 0, false, 0,
						"0123456789", 10));
	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, tok, 2, true, 4990,
						"0123456789", 10));
	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, tok, 3, true, 0, NULL,
						0));
	KUNIT_EXPECT_EQ(test, -EINVAL, ops->move_data(dibs, tok, 0, false,
						      4991, "0123456789", 10));
	KUNIT_EXPECT_EQ(test, -EINVAL, ops->move_data(dibs, tok, 16, true, 0,
						      NULL, 0));
	KUNIT_EXPECT_EQ(test, -ENOENT, ops->move_data(dibs, tok + 1, 0, false,
						      0, NULL, 0));
	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs, tok, &w1));
	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs, tok, &w2));
	KUNIT_EXPECT_EQ(test, -ENOENT, lo_test_attach(test, dibs, 1, &w2));
	KUNIT_EXPECT_EQ(test, 0, lo_test_release(w1));
	KUNIT_EXPECT_EQ(test, -ENOENT, ops->detach_dmb(dibs, 1));
	KUNIT_EXPECT_EQ(test, 0, lo_test_release(a));

	want[DIBS_STAT_MOVES] = 3;
	want[DIBS_STAT_BYTES_MOVED] = 20;
	want[DIBS_STAT_SIGNALS_SENT] = 2;
	want[DIBS_STAT_SIGNALS_DELIVERED] = 2;
	want[DIBS_STAT_MOVE_ERR_RANGE] = 2;
	want[DIBS_STAT_MOVE_ERR_TOKEN] = 1;
	want[DIBS_STAT_DMB_REGS] = 2;
	want[DIBS_STAT_DMB_UNREGS] = 1;
	want[DIBS_STAT_DMB_BYTES_REG] = 5100;
	want[DIBS_STAT_DMB_BYTES_UNREG] = 100;
	want[DIBS_STAT_ATTACHES] = 2;
	want[DIBS_STAT_DETACHES] = 1;
	dibs_test_expect_stats(test, dibs, NULL, want);
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&lts->irq_calls));

	/* The other device saw none of it. */
	memset(want, 0, sizeof(want));
	dibs_test_expect_stats(test, other, NULL, want);
}

/* ---- signalling ---- */

static void dibs_lo_test_signal_sets_index_bit(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *a = lo_test_register_ok(test, dibs, 100);
	struct lo_test_dmb *b = lo_test_register_ok(test, dibs, 100);
	const struct dibs_dev_ops *ops = dibs->ops;

	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, a->dmb.dmb_tok, 0, false,
						0, "x", 1));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->irq_calls));

	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, b->dmb.dmb_tok, 0, true,
						0, "x", 1));
	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, a->dmb.dmb_tok, 15, true,
						4, "y", 1));
	/* Size 0 still signals. */
	KUNIT_EXPECT_EQ(test, 0, ops->move_data(dibs, a->dmb.dmb_tok, 6, true,
						0, NULL, 0));

	KUNIT_ASSERT_EQ(test, 3, atomic_read(&lts->irq_calls));
	KUNIT_EXPECT_EQ(test, b->dmb.idx, lts->irq_idx[0]);
	KUNIT_EXPECT_EQ(test, BIT(0), lts->irq_mask[0]);
	KUNIT_EXPECT_EQ(test, a->dmb.idx, lts->irq_idx[1]);
	KUNIT_EXPECT_EQ(test, BIT(15), lts->irq_mask[1]);
	KUNIT_EXPECT_EQ(test, BIT(6), lts->irq_mask[2]);
}

static void dibs_lo_test_signals_coalesce_while_handled(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, 100);
	u64 want[DIBS_STAT_NR] = {};

	lo_test_trace_coalesced(test);

	/* The handler signals indices 3 and 5 again while it runs. */
	lts->reenter_token = td->dmb.dmb_tok;
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, td->dmb.dmb_tok, 1,
						      true, 0, NULL, 0));

	KUNIT_ASSERT_EQ(test, 2, atomic_read(&lts->irq_calls));
	KUNIT_EXPECT_EQ(test, BIT(1), lts->irq_mask[0]);
	KUNIT_EXPECT_EQ(test, BIT(3) | BIT(5), lts->irq_mask[1]);
	KUNIT_EXPECT_EQ(test, td->dmb.idx, lts->irq_idx[1]);

	/* Three signals sent, two handler calls delivered them. */
	want[DIBS_STAT_MOVES] = 3;
	want[DIBS_STAT_SIGNALS_SENT] = 3;
	want[DIBS_STAT_SIGNALS_DELIVERED] = 2;
	want[DIBS_STAT_DMB_REGS] = 1;
	want[DIBS_STAT_DMB_BYTES_REG] = 100;
	dibs_test_expect_stats(test, dibs, NULL, want);
	if (IS_ENABLED(CONFIG_TRACEPOINTS)) {
		KUNIT_EXPECT_EQ(test, 2, lts->coalesced);
		KUNIT_EXPECT_EQ(test, BIT(5), lts->coalesced_mask);
	}
}

/*
 * Two CPUs signal one DMB at once, each with its own signalling index.
 * The handler must never run on both at the same time; a signal that
 * arrives while it runs on the other CPU is coalesced and delivered by
 * that CPU's handler loop. The test requires such deliveries and fewer
 * calls than signals, so it shows that this happened, and calls for
 * every CPU's index.
 */
#define COALESCE_SIGNALS	3000

struct coalesce_ctx {
	struct dibs_dev *dibs;
	u64 token;
	atomic_t waiting;
};

struct coalesce_worker {
	struct coalesce_ctx *ctx;
	unsigned int sig_idx;
	int errors;
	struct completion done;
};

static int coalesce_signaller(void *data)
{
	struct coalesce_worker *w = data;
	struct coalesce_ctx *ctx = w->ctx;
	int i;

	atomic_dec(&ctx->waiting);
	while (atomic_read(&ctx->waiting))
		cpu_relax();
	for (i = 0; i < COALESCE_SIGNALS * stress_factor; i++)
		if (ctx->dibs->ops->move_data(ctx->dibs, ctx->token, w->sig_idx,
					      true, 0, NULL, 0))
			w->errors++;
	complete(&w->done);
	return 0;
}

static void dibs_lo_test_signals_coalesce_across_cpus(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, 100);
	struct coalesce_worker w[2] = {};
	struct coalesce_ctx ctx = { .dibs = dibs, .token = td->dmb.dmb_tok };
	struct task_struct *task;
	int cpu[2], i, started = 0;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	lts->sender_cpu[0] = cpu[0];
	lts->sender_cpu[1] = cpu[1];
	lts->slow_handler = true;
	atomic_set(&ctx.waiting, 2);
	for (i = 0; i < 2; i++) {
		w[i].ctx = &ctx;
		w[i].sig_idx = i;
		init_completion(&w[i].done);
		task = kthread_run_on_cpu(coalesce_signaller, &w[i], cpu[i],
					  "dibs-lo-sig/%u");
		if (IS_ERR(task)) {
			/* Release the one that waits for its partner. */
			atomic_set(&ctx.waiting, 0);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&w[i].done);
	lts->slow_handler = false;
	KUNIT_ASSERT_EQ(test, 2, started);

	kunit_info(test, "%u signals each: %d and %d calls for each CPU's index, %d delivered by the other CPU\n",
		   COALESCE_SIGNALS * stress_factor,
		   atomic_read(&lts->bit_calls[0]),
		   atomic_read(&lts->bit_calls[1]),
		   atomic_read(&lts->foreign_calls));
	KUNIT_EXPECT_EQ(test, 0, w[0].errors + w[1].errors);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->overlapping_calls));
	KUNIT_EXPECT_GT(test, atomic_read(&lts->foreign_calls), 0);
	KUNIT_EXPECT_LT(test, atomic_read(&lts->bit_calls[0]) +
			atomic_read(&lts->bit_calls[1]),
			2 * COALESCE_SIGNALS * stress_factor);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_GT(test, atomic_read(&lts->bit_calls[i]), 0);
}

static void dibs_lo_test_no_signal_after_unregister(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *td = lo_test_register_ok(test, dibs, 100);
	u64 tok = td->dmb.dmb_tok;

	KUNIT_ASSERT_EQ(test, 0, lo_test_release(td));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, tok, 0, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->irq_calls));
}

/* ---- events ---- */

/*
 * The only peer of a loopback device is the device itself: an event sent to
 * the peer would come back to the sender, and SMC-D's "link group ended"
 * event would then terminate all of its loopback link groups. So there is
 * no signal_event(), and SMC-D skips the event, as on upstream's loopback.
 */
static void dibs_lo_test_no_signal_event(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);

	KUNIT_EXPECT_NULL(test, dibs->ops->signal_event);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->event_calls));
}

/* ---- zero-copy ---- */

static void dibs_lo_test_attach_maps_the_dmb(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *owner = lo_test_register_ok(test, dibs, 5000);
	struct lo_test_dmb *writer;

	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs,
						owner->dmb.dmb_tok, &writer));
	KUNIT_EXPECT_EQ(test, 5000, writer->dmb.dmb_len);
	KUNIT_EXPECT_EQ(test, owner->dmb.idx, writer->dmb.idx);
	KUNIT_EXPECT_EQ(test, DIBS_DMA_ADDR_NONE, writer->dmb.dma_addr);

	memcpy(writer->dmb.cpu_addr + 4000, "zero-copy", 9);
	KUNIT_EXPECT_MEMEQ(test, owner->dmb.cpu_addr + 4000, "zero-copy", 9);

	/* A second attachment is counted separately. */
	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs,
						owner->dmb.dmb_tok, &writer));
	KUNIT_EXPECT_EQ(test, 0, lo_test_release(writer));
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->detach_dmb(dibs, owner->dmb.dmb_tok));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->detach_dmb(dibs, owner->dmb.dmb_tok));
}

static void dibs_lo_test_attach_rejects_bad_token(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *owner = lo_test_register_ok(test, dibs, 100);
	struct lo_test_dmb *writer;

	KUNIT_EXPECT_EQ(test, -ENOENT, lo_test_attach(test, dibs, 0, &writer));
	KUNIT_EXPECT_NULL(test, writer->dmb.cpu_addr);
	KUNIT_EXPECT_EQ(test, -ENOENT,
			lo_test_attach(test, dibs, owner->dmb.dmb_tok ^ BIT_ULL(50),
				       &writer));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->detach_dmb(dibs, 0));
	/* Registered but not attached. */
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->detach_dmb(dibs, owner->dmb.dmb_tok));
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
}

static void dibs_lo_test_attach_outlives_unregister(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *owner = lo_test_register_ok(test, dibs, SZ_16K);
	struct lo_test_dmb *writer, *next;
	u64 tok = owner->dmb.dmb_tok;

	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs, tok, &writer));
	KUNIT_ASSERT_EQ(test, 0, lo_test_release(owner));

	/* Still pinned: writing is safe (KASAN would see a use after free). */
	memset(writer->dmb.cpu_addr, 0x11, SZ_16K);
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->move_data(dibs, tok, 0, false, 0, "x", 1));
	KUNIT_EXPECT_EQ(test, -ENOENT, lo_test_attach(test, dibs, tok, &next));

	/* The index is free again while the old memory is still attached. */
	KUNIT_ASSERT_EQ(test, 0, lo_test_register(test, dibs, SZ_16K,
						  owner->dmb.idx, &next));
	KUNIT_EXPECT_TRUE(test, mem_is(next->dmb.cpu_addr, 0, SZ_16K));
	KUNIT_EXPECT_EQ(test, 2, lo_test_in_use(dibs));

	KUNIT_EXPECT_EQ(test, 0, lo_test_release(writer));
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, -ENOENT, dibs->ops->detach_dmb(dibs, tok));
}

/* A device made without zero-copy says so, and refuses every attach. */
static void dibs_lo_test_zero_copy_off(struct kunit *test)
{
	struct dibs_lo_dev *ldev;
	struct lo_test_dmb *owner, *writer;
	struct dibs_dev *dibs;

	ldev = dibs_lo_dev_create("lotest0", false);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(ldev), "create: %pe", ldev);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, lo_test_destroy_action,
						  (void *)"lotest0"));
	dibs = dibs_lo_dev_dibs(ldev);
	lts->devs[0] = dibs;
	lo_test_register_client(test);

	KUNIT_EXPECT_EQ(test, 0, dibs->ops->support_mmapped_rdmb(dibs));
	owner = lo_test_register_ok(test, dibs, SZ_16K);
	KUNIT_EXPECT_EQ(test, -EOPNOTSUPP,
			lo_test_attach(test, dibs, owner->dmb.dmb_tok, &writer));
	KUNIT_EXPECT_EQ(test, -ENOENT,
			dibs->ops->detach_dmb(dibs, owner->dmb.dmb_tok));
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, owner->dmb.dmb_tok,
						      0, false, 0, "x", 1));
}

/* ---- device removal ---- */

static int lo_test_traffic(void *data)
{
	struct lo_test_dmb *td = data;
	char buf[64] = "traffic";

	while (!kthread_should_stop()) {
		if (td->dibs->ops->move_data(td->dibs, td->dmb.dmb_tok, 2, true,
					     100, buf, sizeof(buf)))
			break;
		cond_resched();
	}
	/* Nothing may fail before del_dev() stopped us. */
	while (!kthread_should_stop())
		usleep_range(1000, 2000);
	return 0;
}

static void dibs_lo_test_remove_device_with_traffic(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *owner = lo_test_register_ok(test, dibs, SZ_64K);
	struct lo_test_dmb *writer;
	unsigned long deadline = jiffies + HZ;

	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs, owner->dmb.dmb_tok,
						&writer));
	lts->traffic = kthread_run(lo_test_traffic, owner, "dibs-lo-traffic");
	KUNIT_ASSERT_FALSE(test, IS_ERR(lts->traffic));
	while (atomic_read(&lts->irq_calls) < 10 && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_GE(test, atomic_read(&lts->irq_calls), 10);

	/* del_dev() stops the traffic, then releases both DMBs. */
	KUNIT_EXPECT_EQ(test, 0, dibs_lo_dev_destroy("lotest0"));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->del_calls));
	KUNIT_EXPECT_EQ(test, 0, lts->release_errors);
	KUNIT_EXPECT_FALSE(test, owner->registered);
	KUNIT_EXPECT_FALSE(test, writer->attached);
	KUNIT_EXPECT_NULL(test, lts->traffic);
	lts->devs[0] = NULL;
}

static void dibs_lo_test_remove_one_of_two(struct kunit *test)
{
	struct dibs_dev *d0 = lo_test_create(test, 0);
	struct dibs_dev *d1 = lo_test_create(test, 1);
	struct lo_test_dmb *td;

	lo_test_register_client(test);
	KUNIT_EXPECT_EQ(test, 2, atomic_read(&lts->add_calls));
	lo_test_register_ok(test, d0, 10);
	td = lo_test_register_ok(test, d1, 10);

	KUNIT_EXPECT_EQ(test, 0, dibs_lo_dev_destroy("lotest0"));
	lts->devs[0] = NULL;
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->del_calls));
	KUNIT_EXPECT_EQ(test, 0, lts->release_errors);
	KUNIT_EXPECT_TRUE(test, td->registered);
	KUNIT_EXPECT_EQ(test, 0, d1->ops->move_data(d1, td->dmb.dmb_tok, 0,
						    true, 0, "x", 1));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->irq_calls));
}

/*
 * SMC-D unregisters from its module exit and ignores the result. A client
 * that unregisters with DMBs left (registered and attached) is still
 * unregistered completely; its DMBs reach nobody, the device is removed
 * afterwards without calling into the departed client, and the memory the
 * client may still touch is never freed.
 */
static void dibs_lo_test_client_leaves_dmbs_behind(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct lo_test_dmb *owner = lo_test_register_ok(test, dibs, SZ_16K);
	struct lo_test_dmb *writer;
	u64 tok = owner->dmb.dmb_tok;

	KUNIT_ASSERT_EQ(test, 0, lo_test_attach(test, dibs, tok, &writer));
	lts->keep_dmbs = true;
	KUNIT_EXPECT_EQ(test, 0, dibs_unregister_client(&lo_test_client));
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->del_calls));

	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
	KUNIT_EXPECT_EQ(test, 0, dibs->ops->move_data(dibs, tok, 0, true, 0,
						      "x", 1));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&lts->irq_calls));

	KUNIT_EXPECT_EQ(test, 0, dibs_lo_dev_destroy("lotest0"));
	lts->devs[0] = NULL;
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&lts->del_calls));
	/* Still allocated: KASAN would report an access to freed pages. */
	KUNIT_EXPECT_EQ(test, 'x', *(u8 *)owner->dmb.cpu_addr);
	memset(writer->dmb.cpu_addr, 0x5a, SZ_16K);
	owner->registered = false;
	writer->attached = false;
}

/* ---- stress ---- */

struct stress_ctx {
	struct dibs_dev *dibs;
	u64 tokens[STRESS_SLOTS];
	atomic_t moves;
	atomic_t stale_moves;
	atomic_t attaches;
};

static int stress_mover(void *data)
{
	struct stress_ctx *ctx = data;
	u8 buf[256];
	int i;

	memset(buf, 0x42, sizeof(buf));
	for (i = 0; !kthread_should_stop(); i++) {
		u64 tok = READ_ONCE(ctx->tokens[i % STRESS_SLOTS]);

		if (!ctx->dibs->ops->move_data(ctx->dibs, tok, i % 16, i & 1,
					       (i * 61) % (STRESS_DMB_LEN - 256),
					       buf, sizeof(buf)))
			atomic_inc(&ctx->moves);
		else
			atomic_inc(&ctx->stale_moves);
		cond_resched();
	}
	return 0;
}

static int stress_attacher(void *data)
{
	struct stress_ctx *ctx = data;
	struct dibs_dmb dmb;
	int i;

	for (i = 0; !kthread_should_stop(); i++) {
		dmb = (struct dibs_dmb){
			.dmb_tok = READ_ONCE(ctx->tokens[i % STRESS_SLOTS]),
		};
		if (ctx->dibs->ops->attach_dmb(ctx->dibs, &dmb))
			continue;
		/* The mapping stays valid even if the owner unregisters. */
		memset(dmb.cpu_addr, i, dmb.dmb_len);
		if (!ctx->dibs->ops->detach_dmb(ctx->dibs, dmb.dmb_tok))
			atomic_inc(&ctx->attaches);
		cond_resched();
	}
	return 0;
}

static void dibs_lo_test_stress_move_attach_unregister(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct task_struct *mover, *attacher;
	struct dibs_dmb dmbs[STRESS_SLOTS];
	struct stress_ctx *ctx;
	int i, ret, round = 0;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dibs = dibs;
	for (i = 0; i < STRESS_SLOTS; i++) {
		dmbs[i] = (struct dibs_dmb){ .dmb_len = STRESS_DMB_LEN,
					     .rgid = dibs->gid };
		KUNIT_ASSERT_EQ(test, 0, dibs->ops->register_dmb(dibs, &dmbs[i],
								 &lo_test_client));
		ctx->tokens[i] = dmbs[i].dmb_tok;
	}

	mover = kthread_run(stress_mover, ctx, "dibs-lo-mover");
	KUNIT_ASSERT_FALSE(test, IS_ERR(mover));
	attacher = kthread_run(stress_attacher, ctx, "dibs-lo-attacher");
	if (IS_ERR(attacher))
		attacher = NULL;

	/* Unregister and re-register the DMBs under the other threads. */
	for (round = 0; round < STRESS_ROUNDS * stress_factor; round++) {
		i = round % STRESS_SLOTS;
		ret = dibs->ops->unregister_dmb(dibs, &dmbs[i]);
		if (!ret) {
			dmbs[i] = (struct dibs_dmb){ .dmb_len = STRESS_DMB_LEN,
						     .rgid = dibs->gid };
			ret = dibs->ops->register_dmb(dibs, &dmbs[i],
						      &lo_test_client);
		}
		if (ret) {
			KUNIT_FAIL(test, "re-registering slot %d: %d", i, ret);
			break;
		}
		WRITE_ONCE(ctx->tokens[i], dmbs[i].dmb_tok);
		cond_resched();
	}
	kthread_stop(mover);
	if (attacher)
		kthread_stop(attacher);

	for (i = 0; i < STRESS_SLOTS; i++)
		KUNIT_EXPECT_EQ(test, 0, dibs->ops->unregister_dmb(dibs, &dmbs[i]));
	KUNIT_EXPECT_EQ(test, 0, lo_test_in_use(dibs));
	KUNIT_EXPECT_NOT_NULL(test, attacher);
	KUNIT_EXPECT_EQ(test, STRESS_ROUNDS * stress_factor, round);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx->moves), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx->attaches), 0);
	kunit_info(test, "%d re-registrations under %d moves (%d to stale tokens) and %d attach/detach\n",
		   round, atomic_read(&ctx->moves) + atomic_read(&ctx->stale_moves),
		   atomic_read(&ctx->stale_moves), atomic_read(&ctx->attaches));
}

/*
 * A move with the signal flag that found a DMB just before its owner
 * unregistered it must not signal whoever owns the index next. One thread
 * moves into the current DMB of the test client, with copies long enough
 * that its signal often comes well after the DMB was found; the test
 * unregisters the DMB and at once registers a DMB of a second client at
 * the same index. The second client's handler must never run: it is never
 * signalled itself.
 */
#define STALE_LEN		SZ_256K

struct stale_ctx {
	struct dibs_dev *dibs;
	void *src;
	u64 token;
	atomic_t phase;
	unsigned long moves;
	unsigned long overlaps;
};

static atomic_t stale_next_irqs;

static void stale_next_handle_irq(struct dibs_dev *dibs, unsigned int idx,
				  u16 mask)
{
	atomic_inc(&stale_next_irqs);
}

static void stale_next_dev(struct dibs_dev *dibs)
{
}

static const struct dibs_client_ops stale_next_ops = {
	.add_dev = stale_next_dev,
	.del_dev = stale_next_dev,
	.handle_irq = stale_next_handle_irq,
};

static struct dibs_client stale_next_client = {
	.name = "dibs-lo-next-owner",
	.ops = &stale_next_ops,
};

static void stale_next_unregister(void *unused)
{
	dibs_unregister_client(&stale_next_client);
}

static int stale_mover(void *data)
{
	struct stale_ctx *ctx = data;
	int phase;
	u64 tok;

	while (!kthread_should_stop()) {
		phase = atomic_read(&ctx->phase);
		tok = READ_ONCE(ctx->token);
		if (!ctx->dibs->ops->move_data(ctx->dibs, tok, 0, true, 0,
					       ctx->src, STALE_LEN)) {
			ctx->moves++;
			/* The owner began unregistering during the move. */
			if (atomic_read(&ctx->phase) != phase)
				ctx->overlaps++;
		}
		cond_resched();
	}
	return 0;
}

static void dibs_lo_test_no_stale_signal_to_next_owner(struct kunit *test)
{
	struct dibs_dev *dibs = lo_test_setup(test);
	struct dibs_dmb next = { .dmb_len = 64, .rgid = dibs->gid };
	struct task_struct *mover;
	struct lo_test_dmb *cur;
	struct stale_ctx *ctx;
	unsigned long cycles, end;
	int ret;

	KUNIT_ASSERT_EQ(test, 0, dibs_register_client(&stale_next_client));
	ret = kunit_add_action_or_reset(test, stale_next_unregister, NULL);
	KUNIT_ASSERT_EQ(test, 0, ret);
	atomic_set(&stale_next_irqs, 0);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dibs = dibs;
	ctx->src = kunit_kzalloc(test, STALE_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->src);
	/* Index 0 cannot be asked for by number: keep it taken. */
	lo_test_register_ok(test, dibs, 64);

	mover = kthread_run(stale_mover, ctx, "dibs-lo-stale");
	KUNIT_ASSERT_FALSE(test, IS_ERR(mover));
	end = jiffies + 2 * HZ * stress_factor;
	for (cycles = 0; cycles < 2000 * stress_factor &&
	     time_before(jiffies, end); cycles++) {
		if (lo_test_register(test, dibs, STALE_LEN, 0, &cur)) {
			KUNIT_FAIL(test, "registering: cycle %lu", cycles);
			break;
		}
		WRITE_ONCE(ctx->token, cur->dmb.dmb_tok);
		/* Let the mover reach the DMB. */
		usleep_range(100, 200);
		atomic_inc(&ctx->phase);
		if (lo_test_release(cur)) {
			KUNIT_FAIL(test, "unregistering: cycle %lu", cycles);
			break;
		}
		next.idx = cur->dmb.idx;
		if (dibs->ops->register_dmb(dibs, &next, &stale_next_client)) {
			KUNIT_FAIL(test, "registering at %u", cur->dmb.idx);
			break;
		}
		if (dibs->ops->unregister_dmb(dibs, &next)) {
			KUNIT_FAIL(test, "unregistering at %u", next.idx);
			break;
		}
	}
	kthread_stop(mover);

	kunit_info(test, "%lu cycles, %lu signalled moves, %lu of them during an unregistration\n",
		   cycles, ctx->moves, ctx->overlaps);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&stale_next_irqs));
	KUNIT_EXPECT_GT(test, ctx->overlaps, 0);
	KUNIT_EXPECT_EQ(test, 1, lo_test_in_use(dibs));
}

static struct kunit_case dibs_lo_test_cases[] = {
	KUNIT_CASE(dibs_lo_test_identity),
	KUNIT_CASE_PARAM(dibs_lo_test_create_rejects_bad_name,
			 bad_name_gen_params),
	KUNIT_CASE(dibs_lo_test_longest_name),
	KUNIT_CASE_PARAM(dibs_lo_test_register_gives_zeroed_pages,
			 dmb_size_gen_params),
	KUNIT_CASE(dibs_lo_test_tokens_unique_and_random),
	KUNIT_CASE_SLOW(dibs_lo_test_token_bits_balanced),
	KUNIT_CASE(dibs_lo_test_register_honours_index),
	KUNIT_CASE_PARAM(dibs_lo_test_register_rejects_bad_input,
			 bad_register_gen_params),
	KUNIT_CASE_SLOW(dibs_lo_test_register_all_indices),
	KUNIT_CASE(dibs_lo_test_unregister_rejects_bad_token),
	KUNIT_CASE(dibs_lo_test_index_reuse_is_zeroed),
	KUNIT_CASE(dibs_lo_test_index_drains_before_reuse),
	KUNIT_CASE(dibs_lo_test_stale_token_misses_next_dmb),
	KUNIT_CASE(dibs_lo_test_memory_freed_at_once),
	KUNIT_CASE(dibs_lo_test_memory_kept_while_written),
	KUNIT_CASE(dibs_lo_test_move_data_lands),
	KUNIT_CASE(dibs_lo_test_move_data_in_atomic_context),
	KUNIT_CASE(dibs_lo_test_move_data_1_mib),
	KUNIT_CASE_PARAM(dibs_lo_test_move_data_rejects_bad_input,
			 bad_move_gen_params),
	KUNIT_CASE(dibs_lo_test_stats_add_up),
	KUNIT_CASE(dibs_lo_test_signal_sets_index_bit),
	KUNIT_CASE(dibs_lo_test_signals_coalesce_while_handled),
	KUNIT_CASE_SLOW(dibs_lo_test_signals_coalesce_across_cpus),
	KUNIT_CASE(dibs_lo_test_no_signal_after_unregister),
	KUNIT_CASE(dibs_lo_test_no_signal_event),
	KUNIT_CASE(dibs_lo_test_attach_maps_the_dmb),
	KUNIT_CASE(dibs_lo_test_attach_rejects_bad_token),
	KUNIT_CASE(dibs_lo_test_attach_outlives_unregister),
	KUNIT_CASE(dibs_lo_test_zero_copy_off),
	KUNIT_CASE(dibs_lo_test_remove_device_with_traffic),
	KUNIT_CASE(dibs_lo_test_remove_one_of_two),
	KUNIT_CASE(dibs_lo_test_client_leaves_dmbs_behind),
	KUNIT_CASE_SLOW(dibs_lo_test_stress_move_attach_unregister),
	KUNIT_CASE_SLOW(dibs_lo_test_no_stale_signal_to_next_owner),
	{}
};

static struct kunit_suite dibs_lo_test_suite = {
	.name = "dibs_loopback",
	.init = lo_test_init,
	.test_cases = dibs_lo_test_cases,
};

/* ---- allocation failure at every point (see dibs_fault_kunit.h) ---- */

#define LO_FAULT_NAME	"lofault"

struct lo_fault_ctx {
	struct dibs_dev *dibs;
	struct lo_test_dmb *td;
	struct dibs_lo_dev *ldev;
	u32 len;
	struct kunit *test;
};

static int lo_fault_init(struct kunit *test)
{
	struct lo_fault_ctx *ctx;
	int ret;

	ret = lo_test_init(test);
	if (ret)
		return ret;
	dibs_fault_require(test);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->test = test;
	test->priv = ctx;
	return 0;
}

static int lo_fault_dev_create(void *data)
{
	struct lo_fault_ctx *ctx = data;

	ctx->ldev = dibs_lo_dev_create(LO_FAULT_NAME, true);
	return PTR_ERR_OR_ZERO(ctx->ldev);
}

/*
 * A failed creation leaves no device behind: none of the name, and the
 * next try, which adds a device of the same name to sysfs, works.
 */
static void lo_fault_dev_create_failed(struct kunit *test, void *data)
{
	KUNIT_EXPECT_EQ(test, dibs_lo_dev_destroy(LO_FAULT_NAME), -ENODEV);
}

static void lo_fault_dev_create_undo(struct kunit *test, void *data)
{
	struct lo_fault_ctx *ctx = data;

	KUNIT_EXPECT_PTR_EQ(test, dibs_lo_dev_dibs(ctx->ldev)->drv_priv,
			    (void *)ctx->ldev);
	KUNIT_EXPECT_EQ(test, dibs_lo_dev_destroy(LO_FAULT_NAME), 0);
}

static void dibs_lo_fault_dev_create(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "dibs_lo_dev_create()",
		.run = lo_fault_dev_create,
		.failed = lo_fault_dev_create_failed,
		.undo = lo_fault_dev_create_undo,
	};

	struct dibs_fault_count count;

	lo_test_register_client(test);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, test->priv,
						 &count));
	/*
	 * The device, its index tables, the core's device and its name, the
	 * owner table, and more for sysfs.
	 */
	KUNIT_EXPECT_GE(test, count.failing, 7);
}

static int lo_fault_register(void *data)
{
	struct lo_fault_ctx *ctx = data;

	return lo_test_register(ctx->test, ctx->dibs, ctx->len, 0, &ctx->td);
}

static void lo_fault_register_failed(struct kunit *test, void *data)
{
	struct lo_fault_ctx *ctx = data;

	KUNIT_EXPECT_FALSE(test, ctx->td->registered);
	KUNIT_EXPECT_EQ(test, lo_test_in_use(ctx->dibs), 0);
	KUNIT_EXPECT_EQ(test, dibs_fault_owned(ctx->dibs, DIBS_LO_MAX_DMBS), 0);
}

static void lo_fault_register_undo(struct kunit *test, void *data)
{
	struct lo_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, lo_test_in_use(ctx->dibs), 1);
	KUNIT_EXPECT_EQ(test, dibs_fault_owned(ctx->dibs, DIBS_LO_MAX_DMBS), 1);
	KUNIT_EXPECT_TRUE(test, mem_is(ctx->td->dmb.cpu_addr, 0, ctx->len));
	KUNIT_EXPECT_EQ(test, lo_test_release(ctx->td), 0);
}

static const u32 lo_fault_lens[] = { 100, SZ_64K, SZ_1M };

static void lo_fault_len_desc(const u32 *len, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u bytes", *len);
}

KUNIT_ARRAY_PARAM(lo_fault_len, lo_fault_lens, lo_fault_len_desc);

static void dibs_lo_fault_register_dmb(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "register_dmb()",
		.run = lo_fault_register,
		.failed = lo_fault_register_failed,
		.undo = lo_fault_register_undo,
	};
	struct lo_fault_ctx *ctx = test->priv;
	struct dibs_fault_count count;

	ctx->len = *(const u32 *)test->param_value;
	ctx->dibs = lo_test_setup(test);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/* The descriptor (and a new slab for it, maybe) and the memory. */
	KUNIT_EXPECT_GE(test, count.failing, 2);
}

static struct kunit_case dibs_lo_fault_cases[] = {
	KUNIT_CASE(dibs_lo_fault_dev_create),
	KUNIT_CASE_PARAM(dibs_lo_fault_register_dmb, lo_fault_len_gen_params),
	{}
};

static struct kunit_suite dibs_lo_fault_suite = {
	.name = "dibs_loopback_fault",
	.suite_init = dibs_fault_suite_init,
	.init = lo_fault_init,
	.test_cases = dibs_lo_fault_cases,
};

kunit_test_suites(&dibs_lo_test_suite, &dibs_lo_fault_suite);

MODULE_DESCRIPTION("KUnit tests for the DIBS loopback device");
MODULE_LICENSE("GPL");
