// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the DIBS ivshmem device, against a software model of an
 * ivshmem region: the test plays the fabric server (it lays out the
 * header and marks slots connected or gone), several devices of the driver
 * share the region as peers, and doorbells become irq_work on the ringing
 * CPU, delivered in hard interrupt context as MSI-X would be. A test may
 * also write the region itself, as a scripted, broken or hostile peer.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/dibs.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/dibs.h>
#include <uapi/linux/dibs_ivshmem.h>

#include "dibs_fault_kunit.h"
#include "dibs_stats_kunit.h"
#include "../dibs_ivshmem.h"

/* MODULE_IMPORT_NS(), spelt out to build in 6.12 trees too. */
MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING");

#define IVT_ORDER		10	/* a 4 MiB region */
#define IVT_SIZE		(PAGE_SIZE << IVT_ORDER)
#define IVT_PEERS		3
#define IVT_DMBS		128
#define IVT_FABRIC		0xff42
#define IVT_PERIOD		(HZ / 50)
#define IVT_TIMEOUT		HZ
#define IVT_MAX_RECORDS		64
#define IVT_WAIT_MS		3000

struct ivt_model;

/* A slot of the model: the doorbells of the device in it, if any. */
struct ivt_slot {
	struct ivt_model *m;
	unsigned int s;
	struct dibs_ivs_dev *ivs;	/* receives doorbells when set */
	bool deaf;			/* doorbells to it are lost */
	atomic_t pending;		/* vectors rung, not yet delivered */
	struct irq_work work;
};

/* @next_id: the ivshmem ID of the next connection, as the server counts. */
struct ivt_model {
	void *region;
	struct dibs_ivs_layout l;
	u16 next_id;
	struct ivt_slot slots[DIBS_IVSHMEM_MAX_PEERS];
};

/* What the test client saw. */
struct ivt_record {
	spinlock_t lock;	/* protects everything below */
	unsigned int nirq;
	struct {
		struct dibs_dev *dibs;
		unsigned int idx;
		u16 mask;
	} irq[IVT_MAX_RECORDS];
	unsigned int nev;
	struct {
		struct dibs_dev *dibs;
		struct dibs_event ev;
	} ev[IVT_MAX_RECORDS];
};

static struct ivt_record *ivt_rec;

static void ivt_handle_irq(struct dibs_dev *dibs, unsigned int idx, u16 mask)
{
	unsigned long flags;

	spin_lock_irqsave(&ivt_rec->lock, flags);
	if (ivt_rec->nirq < IVT_MAX_RECORDS) {
		ivt_rec->irq[ivt_rec->nirq].dibs = dibs;
		ivt_rec->irq[ivt_rec->nirq].idx = idx;
		ivt_rec->irq[ivt_rec->nirq].mask = mask;
	}
	ivt_rec->nirq++;
	spin_unlock_irqrestore(&ivt_rec->lock, flags);
}

static void ivt_handle_event(struct dibs_dev *dibs,
			     const struct dibs_event *event)
{
	unsigned long flags;

	spin_lock_irqsave(&ivt_rec->lock, flags);
	if (ivt_rec->nev < IVT_MAX_RECORDS) {
		ivt_rec->ev[ivt_rec->nev].dibs = dibs;
		ivt_rec->ev[ivt_rec->nev].ev = *event;
	}
	ivt_rec->nev++;
	spin_unlock_irqrestore(&ivt_rec->lock, flags);
}

static void ivt_add_dev(struct dibs_dev *dibs)
{
}

static void ivt_del_dev(struct dibs_dev *dibs)
{
}

static const struct dibs_client_ops ivt_client_ops = {
	.add_dev = ivt_add_dev,
	.del_dev = ivt_del_dev,
	.handle_irq = ivt_handle_irq,
	.handle_event = ivt_handle_event,
};

static struct dibs_client ivt_client = {
	.name = "dibs_ivshmem_test",
	.ops = &ivt_client_ops,
};

/* Count the events of @type seen by @dibs, and copy the last one. */
static unsigned int ivt_events(struct dibs_dev *dibs, u32 type,
			       struct dibs_event *last)
{
	unsigned int i, n = 0;
	unsigned long flags;

	spin_lock_irqsave(&ivt_rec->lock, flags);
	for (i = 0; i < min(ivt_rec->nev, IVT_MAX_RECORDS); i++) {
		if (ivt_rec->ev[i].dibs != dibs || ivt_rec->ev[i].ev.type != type)
			continue;
		n++;
		if (last)
			*last = ivt_rec->ev[i].ev;
	}
	spin_unlock_irqrestore(&ivt_rec->lock, flags);
	return n;
}

/* The signal masks @dibs got for @idx, OR-ed; and how many calls. */
static unsigned int ivt_irqs(struct dibs_dev *dibs, unsigned int idx,
			     u16 *mask)
{
	unsigned int i, n = 0;
	unsigned long flags;

	*mask = 0;
	spin_lock_irqsave(&ivt_rec->lock, flags);
	for (i = 0; i < min(ivt_rec->nirq, IVT_MAX_RECORDS); i++) {
		if (ivt_rec->irq[i].dibs != dibs || ivt_rec->irq[i].idx != idx)
			continue;
		n++;
		*mask |= ivt_rec->irq[i].mask;
	}
	spin_unlock_irqrestore(&ivt_rec->lock, flags);
	return n;
}

#define ivt_wait_for(cond)						\
({									\
	unsigned long __end = jiffies + msecs_to_jiffies(IVT_WAIT_MS);	\
	bool __ok;							\
									\
	while (!(__ok = (cond)) && time_before(jiffies, __end))		\
		usleep_range(5000, 10000);				\
	__ok;								\
})

static void ivt_slot_work(struct irq_work *work)
{
	struct ivt_slot *slot = container_of(work, struct ivt_slot, work);
	struct dibs_ivs_dev *ivs = READ_ONCE(slot->ivs);
	unsigned int v, pending = atomic_xchg(&slot->pending, 0);

	if (!ivs)
		return;
	for (v = 0; v < DIBS_IVSHMEM_VECTORS; v++)
		if (pending & BIT(v))
			dibs_ivs_irq(ivs, v);
}

static struct dibs_ivshmem_peer *ivt_peer(struct ivt_model *m, unsigned int s);

/* Ring vector @vector of slot @s. */
static void ivt_ring(struct ivt_model *m, unsigned int s, unsigned int vector)
{
	struct ivt_slot *slot;

	if (s >= m->l.max_peers || vector >= DIBS_IVSHMEM_VECTORS)
		return;
	slot = &m->slots[s];
	if (READ_ONCE(slot->deaf) || !READ_ONCE(slot->ivs))
		return;
	atomic_or(BIT(vector), &slot->pending);
	irq_work_queue(&slot->work);
}

/* A doorbell names the ivshmem ID: ring the slot connected with it. */
static void ivt_ring_id(void *hw_priv, u16 id, unsigned int vector)
{
	struct ivt_model *m = hw_priv;
	unsigned int s;

	for (s = 0; s < m->l.max_peers; s++)
		if (le32_to_cpu(READ_ONCE(ivt_peer(m, s)->srv_id)) == id &&
		    le32_to_cpu(READ_ONCE(ivt_peer(m, s)->srv_state)) ==
		    DIBS_IVSHMEM_SRV_CONNECTED)
			ivt_ring(m, s, vector);
}

static const struct dibs_ivs_hw_ops ivt_hw_ops = {
	.ring = ivt_ring_id,
};

static struct dibs_ivshmem_header *ivt_hdr(struct ivt_model *m)
{
	return m->region;
}

static struct dibs_ivshmem_peer *ivt_peer(struct ivt_model *m, unsigned int s)
{
	return m->region + m->l.peer_off + s * DIBS_IVSHMEM_PEER_SIZE;
}

static struct dibs_ivshmem_desc *ivt_desc(struct ivt_model *m, unsigned int s,
					  unsigned int idx)
{
	return m->region + m->l.desc_off +
	       (s * m->l.max_dmbs + idx) * DIBS_IVSHMEM_DESC_SIZE;
}

/* Lay out a header for @peers slots of @dmbs DMBs, as the server does. */
static void ivt_layout(struct ivt_model *m, unsigned int peers,
		       unsigned int dmbs)
{
	struct dibs_ivshmem_header *h = ivt_hdr(m);
	u64 bitmap = ALIGN(DIV_ROUND_UP(dmbs, 8), 64);
	u64 peer_off, mbox_off, sig_off, desc_off, heap_off, heap_size;
	u32 sig_size = ALIGN(2 * bitmap + 4 * dmbs, DIBS_IVSHMEM_AREA_ALIGN);

	peer_off = DIBS_IVSHMEM_HEADER_SIZE;
	mbox_off = peer_off + ALIGN(peers * DIBS_IVSHMEM_PEER_SIZE,
				    DIBS_IVSHMEM_AREA_ALIGN);
	sig_off = mbox_off + ALIGN(peers * peers * DIBS_IVSHMEM_MBOX_SIZE,
				   DIBS_IVSHMEM_AREA_ALIGN);
	desc_off = sig_off + (u64)peers * peers * sig_size;
	heap_off = ALIGN(desc_off + ALIGN(peers * dmbs * DIBS_IVSHMEM_DESC_SIZE,
					  DIBS_IVSHMEM_AREA_ALIGN),
			 DIBS_IVSHMEM_HEAP_ALIGN);
	heap_size = (IVT_SIZE - heap_off) / peers / DIBS_IVSHMEM_HEAP_ALIGN *
		    DIBS_IVSHMEM_HEAP_ALIGN;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, DIBS_IVSHMEM_MAGIC, sizeof(h->magic));
	h->version_major = cpu_to_le16(DIBS_IVSHMEM_VERSION_MAJOR);
	h->version_minor = cpu_to_le16(DIBS_IVSHMEM_VERSION_MINOR);
	h->header_size = cpu_to_le32(DIBS_IVSHMEM_HEADER_SIZE);
	h->region_size = cpu_to_le64(IVT_SIZE);
	get_random_bytes(h->fabric_uuid, sizeof(h->fabric_uuid));
	h->fabric_id = cpu_to_le16(IVT_FABRIC);
	h->max_peers = cpu_to_le16(peers);
	h->max_dmbs = cpu_to_le16(dmbs);
	h->peer_off = cpu_to_le64(peer_off);
	h->mbox_size = cpu_to_le32(DIBS_IVSHMEM_MBOX_SIZE);
	h->sig_size = cpu_to_le32(sig_size);
	h->mbox_off = cpu_to_le64(mbox_off);
	h->sig_off = cpu_to_le64(sig_off);
	h->desc_off = cpu_to_le64(desc_off);
	h->heap_off = cpu_to_le64(heap_off);
	h->heap_size = cpu_to_le64(heap_size);
}

static void ivt_model_free(void *data)
{
	struct ivt_model *m = data;
	unsigned int s;

	for (s = 0; s < DIBS_IVSHMEM_MAX_PEERS; s++) {
		if (m->slots[s].ivs) {
			WRITE_ONCE(m->slots[s].ivs, NULL);
			irq_work_sync(&m->slots[s].work);
		}
	}
	free_pages((unsigned long)m->region, IVT_ORDER);
}

static struct ivt_model *ivt_model(struct kunit *test, unsigned int peers,
				   unsigned int dmbs)
{
	struct ivt_model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	const char *why;
	unsigned int s;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->region = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO |
					     __GFP_COMP, IVT_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, m->region);
	/* IDs that are not slot numbers, so that mixing them up shows. */
	m->next_id = 100;
	for (s = 0; s < DIBS_IVSHMEM_MAX_PEERS; s++) {
		m->slots[s].m = m;
		m->slots[s].s = s;
		init_irq_work(&m->slots[s].work, ivt_slot_work);
	}
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, ivt_model_free, m));
	ivt_layout(m, peers, dmbs);
	KUNIT_ASSERT_EQ(test, 0, dibs_ivs_check_header(ivt_hdr(m), IVT_SIZE,
						       &m->l, &why));
	return m;
}

/* The server's side: a client connects to slot @s, or leaves it. */
static void ivt_server_set(struct ivt_model *m, unsigned int s, u32 state)
{
	struct dibs_ivshmem_peer *e = ivt_peer(m, s);
	unsigned int t;

	if (state == DIBS_IVSHMEM_SRV_CONNECTED) {
		/* A new ID for every connection, as the server gives. */
		WRITE_ONCE(e->srv_id, cpu_to_le32(m->next_id++));
		WRITE_ONCE(e->srv_gen, cpu_to_le32(le32_to_cpu(e->srv_gen) + 1));
	}
	/* srv_id and srv_gen before srv_state, as the server does. */
	smp_store_release(&e->srv_state, cpu_to_le32(state));
	for (t = 0; t < m->l.max_peers; t++)
		if (t != s)
			ivt_ring(m, t, DIBS_IVSHMEM_VEC_CONTROL);
}

/*
 * A device joins slot @s; with @connect, in a new connection of the slot
 * (a new QEMU process), else in the one there is (a reloaded driver, or a
 * rebooted guest).
 */
static struct dibs_ivs_dev *ivt_try_join_in(struct ivt_model *m,
					    unsigned int s, bool connect)
{
	struct dibs_ivs_params p = {
		.name = "ivt",
		.base = m->region,
		.size = IVT_SIZE,
		.ops = &ivt_hw_ops,
		.hw_priv = m,
		.period = IVT_PERIOD,
		.timeout = IVT_TIMEOUT,
	};
	static atomic_t serial = ATOMIC_INIT(0);
	char name[16];
	struct dibs_ivs_dev *ivs;

	snprintf(name, sizeof(name), "ivt%d", atomic_inc_return(&serial));
	p.name = name;
	if (connect)
		ivt_server_set(m, s, DIBS_IVSHMEM_SRV_CONNECTED);
	p.id = le32_to_cpu(ivt_peer(m, s)->srv_id);
	ivs = dibs_ivs_dev_create(&p);
	if (!IS_ERR(ivs)) {
		/* As the PCI driver publishes its device to its handlers. */
		smp_store_release(&m->slots[s].ivs, ivs);
		dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_SIGNAL);
		dibs_ivs_irq(ivs, DIBS_IVSHMEM_VEC_CONTROL);
	}
	return ivs;
}

static struct dibs_ivs_dev *ivt_try_join(struct ivt_model *m, unsigned int s)
{
	return ivt_try_join_in(m, s, true);
}

/* The driver goes in order: stop the doorbells and destroy. */
static void ivt_unload(struct ivt_model *m, unsigned int s)
{
	struct ivt_slot *slot = &m->slots[s];
	struct dibs_ivs_dev *ivs = slot->ivs;

	WRITE_ONCE(slot->ivs, NULL);
	irq_work_sync(&slot->work);
	dibs_ivs_dev_destroy(ivs);
}

/* Leave in order, and the server notices the connection closing. */
static void ivt_leave(struct ivt_model *m, unsigned int s)
{
	ivt_unload(m, s);
	ivt_server_set(m, s, DIBS_IVSHMEM_SRV_GONE);
}

static void ivt_leave_action(void *data)
{
	struct ivt_slot *slot = data;

	if (slot->ivs)
		ivt_leave(slot->m, slot->s);
}

static struct dibs_dev *ivt_join_in(struct kunit *test, struct ivt_model *m,
				    unsigned int s, bool connect)
{
	struct dibs_ivs_dev *ivs = ivt_try_join_in(m, s, connect);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ivs);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, ivt_leave_action,
							   &m->slots[s]));
	return dibs_ivs_dev_dibs(ivs);
}

static struct dibs_dev *ivt_join(struct kunit *test, struct ivt_model *m,
				 unsigned int s)
{
	return ivt_join_in(test, m, s, true);
}

/* Whether @a reaches @b. */
static bool ivt_reaches(struct dibs_dev *a, struct dibs_dev *b)
{
	return !a->ops->query_remote_gid(a, &b->gid, 1, 0x1fff);
}

/* Join slots 0 to @n - 1 and wait until all see each other. */
static void ivt_mesh(struct kunit *test, struct ivt_model *m, unsigned int n,
		     struct dibs_dev **devs)
{
	unsigned int i, j;

	for (i = 0; i < n; i++)
		devs[i] = ivt_join(test, m, i);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			KUNIT_ASSERT_TRUE(test, ivt_wait_for(ivt_reaches(devs[i], devs[j])));
}

/* A DMB the test registered; unregistered at the end of the test. */
struct ivt_dmb {
	struct dibs_dev *dibs;
	struct dibs_dmb dmb;
};

static void ivt_unregister_action(void *data)
{
	struct ivt_dmb *td = data;

	if (td->dmb.dmb_tok)
		td->dibs->ops->unregister_dmb(td->dibs, &td->dmb);
}

static int ivt_register(struct kunit *test, struct dibs_dev *owner,
			struct dibs_dev *writer, u32 len, u32 idx,
			struct ivt_dmb **out)
{
	struct ivt_dmb *td = kunit_kzalloc(test, sizeof(*td), GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, td);
	td->dibs = owner;
	td->dmb.dmb_len = len;
	td->dmb.idx = idx;
	td->dmb.rgid = writer->gid;
	ret = owner->ops->register_dmb(owner, &td->dmb, &ivt_client);
	if (ret) {
		td->dmb.dmb_tok = 0;
		return ret;
	}
	ret = kunit_add_action_or_reset(test, ivt_unregister_action, td);
	KUNIT_ASSERT_EQ(test, 0, ret);
	*out = td;
	return 0;
}

static struct ivt_dmb *ivt_dmb(struct kunit *test, struct dibs_dev *owner,
			       struct dibs_dev *writer, u32 len)
{
	struct ivt_dmb *td;

	KUNIT_ASSERT_EQ(test, 0, ivt_register(test, owner, writer, len, 0, &td));
	return td;
}

static void ivt_unregister(struct kunit *test, struct ivt_dmb *td)
{
	KUNIT_EXPECT_EQ(test, 0, td->dibs->ops->unregister_dmb(td->dibs,
							       &td->dmb));
	td->dmb.dmb_tok = 0;
}

static int ivt_move(struct dibs_dev *dibs, u64 token, unsigned int sig,
		    bool sf, unsigned int offset, void *data, unsigned int size)
{
	return dibs->ops->move_data(dibs, token, sig, sf, offset, data, size);
}

/* @a and @b reach each other, and @b writes into a new DMB of @a. */
static void ivt_expect_paired(struct kunit *test, struct dibs_dev *a,
			      struct dibs_dev *b)
{
	u64 data = 0x5d1b;
	struct ivt_dmb *td;

	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(a, b)));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(b, a)));
	td = ivt_dmb(test, a, b, 4096);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(b, td->dmb.dmb_tok, 0, false, 0,
					  &data, sizeof(data)));
}

static void ivt_client_gone(void *data)
{
	dibs_unregister_client(&ivt_client);
	kfree(ivt_rec);
	ivt_rec = NULL;
}

/*
 * The client goes last, after the actions that unregister DMBs and remove
 * devices, which are added later and so run earlier.
 */
static int ivt_init(struct kunit *test)
{
	int ret;

	ivt_rec = kzalloc_obj(*ivt_rec);
	if (!ivt_rec)
		return -ENOMEM;
	spin_lock_init(&ivt_rec->lock);
	ret = dibs_register_client(&ivt_client);
	if (ret) {
		kfree(ivt_rec);
		ivt_rec = NULL;
		return ret;
	}
	return kunit_add_action_or_reset(test, ivt_client_gone, NULL);
}

/* The test itself plays a peer in slot @s, with GID @gid. */
static void ivt_script_peer(struct ivt_model *m, unsigned int s, uuid_t *gid)
{
	struct dibs_ivshmem_peer *e = ivt_peer(m, s);

	ivt_server_set(m, s, DIBS_IVSHMEM_SRV_CONNECTED);
	WRITE_ONCE(e->state, cpu_to_le32(DIBS_IVSHMEM_PEER_DOWN));
	e->conn_gen = e->srv_gen;
	/* Down before the new generation, as a peer joins. */
	smp_store_release(&e->gen, cpu_to_le32(le32_to_cpu(e->gen) + 1));
	uuid_gen(gid);
	memcpy(e->gid, gid, sizeof(*gid));
	le64_add_cpu(&e->heartbeat, 1);
	/* The entry before the state, as a peer joins. */
	smp_store_release(&e->state, cpu_to_le32(DIBS_IVSHMEM_PEER_UP));
}

/* --- the header --- */

struct ivt_bad_header {
	const char *name;
	void (*spoil)(struct dibs_ivshmem_header *h);
	int err;
};

#define IVT_SPOIL(fn, body)						\
static void fn(struct dibs_ivshmem_header *h)				\
{									\
	body;								\
}

IVT_SPOIL(spoil_magic, h->magic[7] = 'X')
IVT_SPOIL(spoil_major, h->version_major = cpu_to_le16(2))
IVT_SPOIL(spoil_header_size, h->header_size = cpu_to_le32(8192))
IVT_SPOIL(spoil_mbox_size, h->mbox_size = cpu_to_le32(256))
IVT_SPOIL(spoil_region_size, h->region_size = cpu_to_le64(2 * IVT_SIZE))
IVT_SPOIL(spoil_fabric_low, h->fabric_id = cpu_to_le16(0xfeff))
IVT_SPOIL(spoil_fabric_loopback, h->fabric_id = cpu_to_le16(0xffff))
IVT_SPOIL(spoil_no_peers, h->max_peers = 0)
IVT_SPOIL(spoil_many_peers, h->max_peers = cpu_to_le16(17))
IVT_SPOIL(spoil_no_dmbs, h->max_dmbs = 0)
IVT_SPOIL(spoil_many_dmbs, h->max_dmbs = cpu_to_le16(4097))
IVT_SPOIL(spoil_sig_small, h->sig_size = cpu_to_le32(0))
IVT_SPOIL(spoil_sig_unaligned, le32_add_cpu(&h->sig_size, 8))
IVT_SPOIL(spoil_heap_zero, h->heap_size = 0)
IVT_SPOIL(spoil_heap_unaligned, le64_add_cpu(&h->heap_size, -4096))
IVT_SPOIL(spoil_heap_huge, h->heap_size = cpu_to_le64(~0ULL << 20))
IVT_SPOIL(spoil_peer_in_header, h->peer_off = 0)
IVT_SPOIL(spoil_peer_unaligned, le64_add_cpu(&h->peer_off, 8))
IVT_SPOIL(spoil_mbox_overlap, h->mbox_off = h->peer_off)
IVT_SPOIL(spoil_desc_past_end, h->desc_off = cpu_to_le64(IVT_SIZE))
IVT_SPOIL(spoil_sig_wraps, h->sig_off = cpu_to_le64(-4096ULL))
IVT_SPOIL(spoil_heap_misaligned, le64_add_cpu(&h->heap_off, 4096))
IVT_SPOIL(spoil_heap_past_end, le64_add_cpu(&h->heap_off, 0x100000))
IVT_SPOIL(spoil_heap_over_desc, h->heap_off = h->desc_off)

static const struct ivt_bad_header ivt_bad_headers[] = {
	{ "magic", spoil_magic, -EINVAL },
	{ "major version", spoil_major, -EPROTO },
	{ "header size", spoil_header_size, -EINVAL },
	{ "mailbox size", spoil_mbox_size, -EINVAL },
	{ "region size", spoil_region_size, -EINVAL },
	{ "fabric id below range", spoil_fabric_low, -EINVAL },
	{ "loopback fabric id", spoil_fabric_loopback, -EINVAL },
	{ "no peers", spoil_no_peers, -EINVAL },
	{ "17 peers", spoil_many_peers, -EINVAL },
	{ "no DMBs", spoil_no_dmbs, -EINVAL },
	{ "4097 DMBs", spoil_many_dmbs, -EINVAL },
	{ "signal area too small", spoil_sig_small, -EINVAL },
	{ "signal area unaligned", spoil_sig_unaligned, -EINVAL },
	{ "heap size 0", spoil_heap_zero, -EINVAL },
	{ "heap size unaligned", spoil_heap_unaligned, -EINVAL },
	{ "heap size overflowing", spoil_heap_huge, -EINVAL },
	{ "peer table in the header", spoil_peer_in_header, -EINVAL },
	{ "peer table unaligned", spoil_peer_unaligned, -EINVAL },
	{ "mailboxes on the peer table", spoil_mbox_overlap, -EINVAL },
	{ "descriptors past the end", spoil_desc_past_end, -EINVAL },
	{ "signal areas wrapping around", spoil_sig_wraps, -EINVAL },
	{ "heap misaligned", spoil_heap_misaligned, -EINVAL },
	{ "heaps past the end", spoil_heap_past_end, -EINVAL },
	{ "heaps on the descriptors", spoil_heap_over_desc, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(ivt_bad_header, ivt_bad_headers, name);

/* A spoilt header is refused, and joining leaves the region as it was. */
static void dibs_ivs_test_bad_header(struct kunit *test)
{
	const struct ivt_bad_header *bad = test->param_value;
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivs_layout l;
	struct dibs_ivs_dev *ivs;
	const char *why = NULL;
	void *before;

	bad->spoil(ivt_hdr(m));
	KUNIT_EXPECT_EQ(test, bad->err,
			dibs_ivs_check_header(ivt_hdr(m), IVT_SIZE, &l, &why));
	KUNIT_EXPECT_NOT_NULL(test, why);

	ivt_server_set(m, 0, DIBS_IVSHMEM_SRV_CONNECTED);
	before = kunit_kmalloc(test, 2 * DIBS_IVSHMEM_HEADER_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	memcpy(before, m->region, 2 * DIBS_IVSHMEM_HEADER_SIZE);
	ivs = ivt_try_join_in(m, 0, false);
	KUNIT_EXPECT_EQ(test, bad->err, PTR_ERR_OR_ZERO(ivs));
	if (!IS_ERR(ivs))
		ivt_leave(m, 0);
	KUNIT_EXPECT_EQ(test, 0, memcmp(before, m->region,
					2 * DIBS_IVSHMEM_HEADER_SIZE));
}

/* The slot is the one the server connected with the function's ID. */
static void dibs_ivs_test_join_checks_id(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivs_params p = {
		.name = "ivt-slot",
		.base = m->region,
		.size = IVT_SIZE,
		.ops = &ivt_hw_ops,
		.hw_priv = m,
		.timeout = IVT_TIMEOUT,
	};

	ivt_server_set(m, 0, DIBS_IVSHMEM_SRV_CONNECTED);
	p.id = 0;	/* slot 1's, which the server never connected */
	KUNIT_EXPECT_EQ(test, -ENODEV, PTR_ERR(dibs_ivs_dev_create(&p)));
	p.id = le32_to_cpu(ivt_peer(m, 0)->srv_id) + 1;	/* not given out */
	KUNIT_EXPECT_EQ(test, -ENODEV, PTR_ERR(dibs_ivs_dev_create(&p)));
	ivt_server_set(m, 0, DIBS_IVSHMEM_SRV_GONE);
	p.id = le32_to_cpu(ivt_peer(m, 0)->srv_id);	/* gone */
	KUNIT_EXPECT_EQ(test, -ENODEV, PTR_ERR(dibs_ivs_dev_create(&p)));
	p.size = IVT_SIZE / 2;
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(dibs_ivs_dev_create(&p)));
	KUNIT_EXPECT_EQ(test, 0, le32_to_cpu(ivt_peer(m, 0)->state));
	KUNIT_EXPECT_EQ(test, 0, le32_to_cpu(ivt_peer(m, 1)->state));
}

/* --- peers --- */

static void dibs_ivs_test_peers_see_each_other(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	uuid_t stranger;

	ivt_mesh(test, m, 2, d);
	KUNIT_EXPECT_EQ(test, IVT_FABRIC, d[0]->ops->get_fabric_id(d[0]));
	KUNIT_EXPECT_EQ(test, IVT_FABRIC, d[1]->ops->get_fabric_id(d[1]));
	KUNIT_EXPECT_FALSE(test, uuid_equal(&d[0]->gid, &d[1]->gid));
	KUNIT_EXPECT_EQ(test, DIBS_IVSHMEM_MAX_DMBS, d[0]->ops->max_dmbs());
	uuid_gen(&stranger);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			d[0]->ops->query_remote_gid(d[0], &stranger, 0, 0));
	/* The peer table says who is who. */
	KUNIT_EXPECT_EQ(test, 0, memcmp(ivt_peer(m, 1)->gid, &d[1]->gid, 16));
	KUNIT_EXPECT_EQ(test, DIBS_IVSHMEM_PEER_UP,
			le32_to_cpu(ivt_peer(m, 0)->state));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(ivt_peer(m, 1)->gen),
			le32_to_cpu(ivt_peer(m, 0)->ack_gen[1]));
}

/* What dibs_ivs_peers_show() prints for the device in slot @s. */
static void ivt_peers_text(struct kunit *test, struct ivt_model *m,
			   unsigned int s, char *buf, size_t size)
{
	struct seq_file seq = { .buf = buf, .size = size };

	memset(buf, 0, size);
	seq.private = m->slots[s].ivs;
	KUNIT_ASSERT_EQ(test, 0, dibs_ivs_peers_show(&seq, NULL));
	KUNIT_ASSERT_LT(test, seq.count, size);
}

/* The debugfs list of peers: itself, then each peer it reaches. */
static void dibs_ivs_test_peers_listed(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	char *buf = kunit_kzalloc(test, 512, GFP_KERNEL);
	char *want = kunit_kzalloc(test, 512, GFP_KERNEL);
	struct dibs_dev *d[3];
	u32 gen[3];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, want);
	ivt_mesh(test, m, 3, d);
	for (i = 0; i < 3; i++)
		gen[i] = le32_to_cpu(ivt_peer(m, i)->gen);
	ivt_peers_text(test, m, 1, buf, 512);
	snprintf(want, 512, "0 %pUb %u peer\n1 %pUb %u self\n2 %pUb %u peer\n",
		 &d[0]->gid, gen[0], &d[1]->gid, gen[1], &d[2]->gid, gen[2]);
	KUNIT_EXPECT_STREQ(test, want, buf);

	/* A peer that left is no longer listed. */
	ivt_leave(m, 2);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(!ivt_reaches(d[1], d[2])));
	ivt_peers_text(test, m, 1, buf, 512);
	snprintf(want, 512, "0 %pUb %u peer\n1 %pUb %u self\n",
		 &d[0]->gid, gen[0], &d[1]->gid, gen[1]);
	KUNIT_EXPECT_STREQ(test, want, buf);
}

static void dibs_ivs_test_vlan_ids(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d = ivt_join(test, m, 0);

	KUNIT_EXPECT_EQ(test, 0, d->ops->add_vlan_id(d, 0));
	KUNIT_EXPECT_EQ(test, 0, d->ops->add_vlan_id(d, 4095));
	KUNIT_EXPECT_EQ(test, 0, d->ops->add_vlan_id(d, 0x1fff));
	KUNIT_EXPECT_EQ(test, -EINVAL, d->ops->add_vlan_id(d, 4096));
	KUNIT_EXPECT_EQ(test, -EINVAL, d->ops->del_vlan_id(d, ~0ULL));
	KUNIT_EXPECT_EQ(test, 0, d->ops->del_vlan_id(d, 0x1fff));
}

/* --- DMBs and moves --- */

static void dibs_ivs_test_register_dmb(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivshmem_desc *desc;
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u8 *p;
	u32 i;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 65536);
	KUNIT_EXPECT_NE(test, 0, td->dmb.dmb_tok);
	KUNIT_EXPECT_EQ(test, DIBS_DMA_ADDR_NONE, td->dmb.dma_addr);
	KUNIT_EXPECT_LT(test, td->dmb.idx, IVT_DMBS);
	/* The token names slot 0 and the index, over 48 random bits. */
	KUNIT_EXPECT_EQ(test, td->dmb.idx, td->dmb.dmb_tok & 0xfff);
	KUNIT_EXPECT_EQ(test, 0, (td->dmb.dmb_tok >> 12) & 0xf);
	KUNIT_EXPECT_NE(test, 0, td->dmb.dmb_tok >> 16);
	/* In slot 0's heap, zeroed, one compound page of the linear map. */
	p = td->dmb.cpu_addr;
	KUNIT_EXPECT_GE(test, (u64)(p - (u8 *)m->region), m->l.heap_off);
	KUNIT_EXPECT_LE(test, (u64)(p - (u8 *)m->region) + 65536,
			m->l.heap_off + m->l.heap_size);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, 65536));
	KUNIT_EXPECT_PTR_EQ(test, virt_to_page(m->region),
			    compound_head(virt_to_page(p + 65535)));
	for (i = 0; i < 65536; i++)
		if (p[i])
			break;
	KUNIT_EXPECT_EQ(test, 65536, i);
	/* The descriptor says so, for the writer in slot 1. */
	desc = ivt_desc(m, 0, td->dmb.idx);
	KUNIT_EXPECT_EQ(test, td->dmb.dmb_tok, le64_to_cpu(desc->token));
	KUNIT_EXPECT_EQ(test, 65536, le32_to_cpu(desc->len));
	KUNIT_EXPECT_EQ(test, 1, le16_to_cpu(desc->writer));
	KUNIT_EXPECT_EQ(test, (u64)(p - (u8 *)m->region),
			le64_to_cpu(desc->offset));
	ivt_unregister(test, td);
	KUNIT_EXPECT_EQ(test, 0, le64_to_cpu(desc->token));
}

static void dibs_ivs_test_register_honours_index(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct ivt_dmb *td, *other;
	struct dibs_dev *d[2];

	ivt_mesh(test, m, 2, d);
	KUNIT_ASSERT_EQ(test, 0, ivt_register(test, d[0], d[1], 100, 77, &td));
	KUNIT_EXPECT_EQ(test, 77, td->dmb.idx);
	KUNIT_EXPECT_EQ(test, -EBUSY, ivt_register(test, d[0], d[1], 100, 77,
						   &other));
	ivt_unregister(test, td);
	KUNIT_ASSERT_EQ(test, 0, ivt_register(test, d[0], d[1], 100, 77, &td));
	KUNIT_EXPECT_EQ(test, 77, td->dmb.idx);
}

struct ivt_bad_register {
	const char *name;
	u32 len;
	u32 idx;
	bool stranger;
	int err;
};

static const struct ivt_bad_register ivt_bad_registers[] = {
	{ "length 0", 0, 0, false, -EINVAL },
	{ "length past 1 MiB", 0x100001, 0, false, -EINVAL },
	{ "index past the region's DMBs", 100, IVT_DMBS, false, -EINVAL },
	{ "index past max_dmbs()", 100, DIBS_IVSHMEM_MAX_DMBS, false, -EINVAL },
	{ "writer unknown", 100, 0, true, -ENETUNREACH },
};

KUNIT_ARRAY_PARAM_DESC(ivt_bad_register, ivt_bad_registers, name);

static void dibs_ivs_test_register_rejects(struct kunit *test)
{
	const struct ivt_bad_register *bad = test->param_value;
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dmb dmb = { };
	struct dibs_dev *d[2];
	unsigned int i;

	ivt_mesh(test, m, 2, d);
	dmb.dmb_len = bad->len;
	dmb.idx = bad->idx;
	if (bad->stranger)
		uuid_gen(&dmb.rgid);
	else
		dmb.rgid = d[1]->gid;
	KUNIT_EXPECT_EQ(test, bad->err,
			d[0]->ops->register_dmb(d[0], &dmb, &ivt_client));
	KUNIT_EXPECT_EQ(test, 0, dmb.dmb_tok);
	KUNIT_EXPECT_EQ(test, 0, dibs_ivs_dmbs_held(m->slots[0].ivs));
	for (i = 0; i < IVT_DMBS; i++)
		KUNIT_EXPECT_EQ(test, 0, le64_to_cpu(ivt_desc(m, 0, i)->token));
}

/* The heap runs out with -ENOMEM, the indices with -ENOSPC. */
static void dibs_ivs_test_register_runs_out(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, 8);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	unsigned int i;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 0x100000);
	KUNIT_EXPECT_EQ(test, -ENOMEM, ivt_register(test, d[0], d[1], 4096, 0,
						    &td));
	ivt_unregister(test, td);
	for (i = 0; i < 8; i++)
		ivt_dmb(test, d[0], d[1], 4096);
	KUNIT_EXPECT_EQ(test, -ENOSPC, ivt_register(test, d[0], d[1], 4096, 0,
						    &td));
}

static void dibs_ivs_test_move_lands(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u8 *buf;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 0x100000);
	buf = kunit_kmalloc(test, 0x100000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	get_random_bytes(buf, 0x100000);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 0, false, 0,
					  buf, 0x100000));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, td->dmb.cpu_addr, 0x100000));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 0, false,
					  0x100000 - 10, buf, 10));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 0, false,
					  0x100000, buf, 0));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, td->dmb.cpu_addr + 0x100000 - 10,
					10));
	/* The writer's moves all ended. */
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ivt_peer(m, 1)->moves_begun),
			le64_to_cpu(ivt_peer(m, 1)->moves_done));
}

/* A token of a peer's DMB, with one part changed. */
enum ivt_bad_token {
	IVT_TOKEN_ZERO,
	IVT_TOKEN_NO_RANDOM,
	IVT_TOKEN_OTHER_RANDOM,
	IVT_TOKEN_SLOT_PAST,
	IVT_TOKEN_IDX_PAST,
	IVT_TOKEN_OTHER_IDX,
};

struct ivt_bad_move {
	const char *name;
	int token;	/* an enum ivt_bad_token, or -1 for the right one */
	int mover;			/* slot that moves */
	unsigned int sig;
	unsigned int offset;
	unsigned int size;
	int err;
};

static const struct ivt_bad_move ivt_bad_moves[] = {
	{ "token 0", IVT_TOKEN_ZERO, 1, 0, 0, 8, -ENOENT },
	{ "token without random bits", IVT_TOKEN_NO_RANDOM, 1, 0, 0, 8, -ENOENT },
	{ "token with other random bits", IVT_TOKEN_OTHER_RANDOM, 1, 0, 0, 8, -ENOENT },
	{ "token of a slot past the region", IVT_TOKEN_SLOT_PAST, 1, 0, 0, 8, -ENOENT },
	{ "token of an index past the region", IVT_TOKEN_IDX_PAST, 1, 0, 0, 8, -ENOENT },
	{ "token of an unused index", IVT_TOKEN_OTHER_IDX, 1, 0, 0, 8, -ENOENT },
	{ "move by the owner", -1, 0, 0, 0, 8, -EACCES },
	{ "move by a third peer", -1, 2, 0, 0, 8, -EACCES },
	{ "size past the end", -1, 1, 0, 0, 4097, -EINVAL },
	{ "offset past the end", -1, 1, 0, 4097, 0, -EINVAL },
	{ "offset + size past the end", -1, 1, 0, 4000, 97, -EINVAL },
	{ "offset + size overflowing", -1, 1, 0, 0xffffff00, 0x200, -EINVAL },
	{ "signalling index 16", -1, 1, 16, 0, 8, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(ivt_bad_move, ivt_bad_moves, name);

/* A refused move writes nothing, signals nothing and ends its count. */
static void dibs_ivs_test_move_rejects(struct kunit *test)
{
	const struct ivt_bad_move *bad = test->param_value;
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	u8 data[0x200];
	struct dibs_dev *d[3];
	struct ivt_dmb *td;
	u64 token;
	u16 mask;
	int i;

	ivt_mesh(test, m, 3, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	token = td->dmb.dmb_tok;
	switch (bad->token) {
	case IVT_TOKEN_ZERO:
		token = 0;
		break;
	case IVT_TOKEN_NO_RANDOM:
		token &= 0xffff;
		break;
	case IVT_TOKEN_OTHER_RANDOM:
		token ^= BIT_ULL(40);
		break;
	case IVT_TOKEN_SLOT_PAST:
		token = (token & ~0xf000ULL) | (IVT_PEERS << 12);
		break;
	case IVT_TOKEN_IDX_PAST:
		token = (token & ~0xfffULL) | IVT_DMBS;
		break;
	case IVT_TOKEN_OTHER_IDX:
		token = (token & ~0xfffULL) | (td->dmb.idx + 1);
		break;
	}
	memset(data, 0xa5, sizeof(data));
	KUNIT_EXPECT_EQ(test, bad->err, ivt_move(d[bad->mover], token, bad->sig,
						 true, bad->offset, data,
						 bad->size));
	for (i = 0; i < 4096; i++)
		if (((u8 *)td->dmb.cpu_addr)[i])
			break;
	KUNIT_EXPECT_EQ(test, 4096, i);
	msleep(20);
	KUNIT_EXPECT_EQ(test, 0, ivt_irqs(d[0], td->dmb.idx, &mask));
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ivt_peer(m, bad->mover)->moves_begun),
			le64_to_cpu(ivt_peer(m, bad->mover)->moves_done));
	/* And the right move still works. */
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 0, false, 0,
					  data, 8));
}

static void dibs_ivs_test_signal_delivered(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u64 value = 42;
	u16 mask;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 16384);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 5, true, 8,
					  &value, sizeof(value)));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_irqs(d[0], td->dmb.idx, &mask)));
	KUNIT_EXPECT_EQ(test, BIT(5), mask);
	KUNIT_EXPECT_EQ(test, 42, *(u64 *)(td->dmb.cpu_addr + 8));
	/* A signal without data is a signal too. */
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 15, true, 0,
					  NULL, 0));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_irqs(d[0], td->dmb.idx, &mask) == 2));
	KUNIT_EXPECT_EQ(test, BIT(5) | BIT(15), mask);
}

/* Signals raised while the owner's doorbell is quiet arrive as one call. */
static void dibs_ivs_test_signals_coalesce(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *a, *b;
	u16 mask;

	ivt_mesh(test, m, 2, d);
	a = ivt_dmb(test, d[0], d[1], 4096);
	b = ivt_dmb(test, d[0], d[1], 4096);
	WRITE_ONCE(m->slots[0].deaf, true);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], a->dmb.dmb_tok, 1, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], a->dmb.dmb_tok, 2, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], a->dmb.dmb_tok, 1, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], b->dmb.dmb_tok, 3, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, ivt_irqs(d[0], a->dmb.idx, &mask));
	WRITE_ONCE(m->slots[0].deaf, false);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_SIGNAL);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_irqs(d[0], b->dmb.idx, &mask)));
	KUNIT_EXPECT_EQ(test, BIT(3), mask);
	KUNIT_EXPECT_EQ(test, 1, ivt_irqs(d[0], a->dmb.idx, &mask));
	KUNIT_EXPECT_EQ(test, BIT(1) | BIT(2), mask);
}

/* --- statistics --- */

/* What the coalesced-signal probe saw of one device. */
struct ivt_coalesced {
	const struct dibs_dev *dibs;
	atomic_t events;
	u16 masks;
};

#if IS_ENABLED(CONFIG_TRACEPOINTS)
static void ivt_probe_coalesced(void *data, const struct dibs_dev *dibs,
				unsigned int idx, u16 mask)
{
	struct ivt_coalesced *c = data;

	if (dibs != c->dibs)
		return;
	c->masks |= mask;
	atomic_inc(&c->events);
}

static void ivt_untrace_coalesced(void *data)
{
	unregister_trace_dibs_signal_coalesced(ivt_probe_coalesced, data);
	tracepoint_synchronize_unregister();
}

/* Record the dibs_signal_coalesced events of @c->dibs. */
static void ivt_trace_coalesced(struct kunit *test, struct ivt_coalesced *c)
{
	KUNIT_ASSERT_EQ(test, 0,
			register_trace_dibs_signal_coalesced(ivt_probe_coalesced,
							     c));
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, ivt_untrace_coalesced,
						  c));
}
#else
static void ivt_trace_coalesced(struct kunit *test, struct ivt_coalesced *c)
{
}
#endif

/*
 * The writer counts its moves, the owner its DMBs and the signals it
 * delivers; signals raised before the owner took the earlier ones are
 * coalesced, and the writer, which sees that, reports them.
 */
static void dibs_ivs_test_stats_add_up(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	u64 owner0[DIBS_STAT_NR], writer0[DIBS_STAT_NR];
	u64 owner[DIBS_STAT_NR] = {}, writer[DIBS_STAT_NR] = {};
	struct ivt_coalesced coalesced = {};
	struct dibs_dmb map = {};
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u64 token;
	u16 mask;

	ivt_mesh(test, m, 2, d);
	coalesced.dibs = d[1];
	ivt_trace_coalesced(test, &coalesced);
	dibs_dev_get_stats(d[0], owner0);
	dibs_dev_get_stats(d[1], writer0);

	td = ivt_dmb(test, d[0], d[1], 4096);
	token = td->dmb.dmb_tok;
	WRITE_ONCE(m->slots[0].deaf, true);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], token, 0, false, 0,
					  "01234567", 8));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], token, 5, true, 8,
					  "0123456789abcdef", 16));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], token, 6, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], token, 5, true, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, -ENOENT, ivt_move(d[1], 0, 0, false, 0, NULL, 0));
	KUNIT_EXPECT_EQ(test, -EINVAL, ivt_move(d[1], token, 0, false, 4090,
						"01234567", 8));
	KUNIT_EXPECT_EQ(test, -EACCES, ivt_move(d[0], token, 0, false, 0,
						"01234567", 8));
	WRITE_ONCE(m->slots[0].deaf, false);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_SIGNAL);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_irqs(d[0], td->dmb.idx, &mask)));
	KUNIT_EXPECT_EQ(test, BIT(5) | BIT(6), mask);

	map.dmb_tok = token;
	KUNIT_ASSERT_EQ(test, 0, d[1]->ops->attach_dmb(d[1], &map));
	KUNIT_EXPECT_EQ(test, 0, d[1]->ops->detach_dmb(d[1], token));
	KUNIT_EXPECT_EQ(test, -ENOENT, d[1]->ops->detach_dmb(d[1], token));
	ivt_unregister(test, td);

	writer[DIBS_STAT_MOVES] = 4;
	writer[DIBS_STAT_BYTES_MOVED] = 24;
	writer[DIBS_STAT_SIGNALS_SENT] = 3;
	writer[DIBS_STAT_MOVE_ERR_TOKEN] = 1;
	writer[DIBS_STAT_MOVE_ERR_RANGE] = 1;
	writer[DIBS_STAT_ATTACHES] = 1;
	writer[DIBS_STAT_DETACHES] = 1;
	dibs_test_expect_stats(test, d[1], writer0, writer);
	owner[DIBS_STAT_SIGNALS_DELIVERED] = 1;
	owner[DIBS_STAT_MOVE_ERR_OTHER] = 1;
	owner[DIBS_STAT_DMB_REGS] = 1;
	owner[DIBS_STAT_DMB_UNREGS] = 1;
	owner[DIBS_STAT_DMB_BYTES_REG] = 4096;
	owner[DIBS_STAT_DMB_BYTES_UNREG] = 4096;
	dibs_test_expect_stats(test, d[0], owner0, owner);
	if (IS_ENABLED(CONFIG_TRACEPOINTS)) {
		KUNIT_EXPECT_EQ(test, 2, atomic_read(&coalesced.events));
		KUNIT_EXPECT_EQ(test, BIT(5) | BIT(6), coalesced.masks);
	}
}

/* Signals left pending by a DMB's writer never reach the index's next DMB. */
static void dibs_ivs_test_no_stale_signal(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u32 idx;
	u16 mask;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	idx = td->dmb.idx;
	WRITE_ONCE(m->slots[0].deaf, true);
	KUNIT_EXPECT_EQ(test, 0, ivt_move(d[1], td->dmb.dmb_tok, 4, true, 0,
					  NULL, 0));
	ivt_unregister(test, td);
	KUNIT_ASSERT_EQ(test, 0, ivt_register(test, d[0], d[1], 4096, idx, &td));
	WRITE_ONCE(m->slots[0].deaf, false);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_SIGNAL);
	msleep(50);
	KUNIT_EXPECT_EQ(test, 0, ivt_irqs(d[0], idx, &mask));
}

/* A peer's signals for a DMB it does not write are dropped. */
static void dibs_ivs_test_forged_signal_dropped(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivs_layout *l = &m->l;
	struct dibs_dev *d[3];
	struct ivt_dmb *td;
	void *sig;
	u16 mask;

	ivt_mesh(test, m, 3, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	/* Slot 2 writes the signal area from itself to slot 0. */
	sig = m->region + l->sig_off + (0 * l->max_peers + 2) * l->sig_size;
	*((__le32 *)(sig + l->bitmap_size) + td->dmb.idx) = cpu_to_le32(0xffffffff);
	((u8 *)sig)[td->dmb.idx / 8] |= BIT(td->dmb.idx % 8);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_SIGNAL);
	msleep(50);
	KUNIT_EXPECT_EQ(test, 0, ivt_irqs(d[0], td->dmb.idx, &mask));
	KUNIT_EXPECT_EQ(test, 0, ((u8 *)sig)[td->dmb.idx / 8]);
}

static void dibs_ivs_test_unregister_rejects(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dmb copy;
	struct dibs_dev *d[2];
	struct ivt_dmb *td;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	copy = td->dmb;
	/* Another device's token, and the owner's token on the writer. */
	KUNIT_EXPECT_EQ(test, -ENOENT, d[1]->ops->unregister_dmb(d[1], &copy));
	copy.dmb_tok ^= BIT_ULL(50);
	KUNIT_EXPECT_EQ(test, -ENOENT, d[0]->ops->unregister_dmb(d[0], &copy));
	KUNIT_EXPECT_EQ(test, 1, dibs_ivs_dmbs_held(m->slots[0].ivs));
	copy = td->dmb;
	ivt_unregister(test, td);
	KUNIT_EXPECT_EQ(test, -ENOENT, d[0]->ops->unregister_dmb(d[0], &copy));
	KUNIT_EXPECT_EQ(test, 0, dibs_ivs_dmbs_held(m->slots[0].ivs));
	KUNIT_EXPECT_EQ(test, -ENOENT, ivt_move(d[1], copy.dmb_tok, 0, false, 0,
						&copy, 8));
}

/* --- events --- */

static void dibs_ivs_test_signal_event(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_event ev;
	struct dibs_dev *d[2];
	uuid_t stranger;
	int i;

	ivt_mesh(test, m, 2, d);
	KUNIT_EXPECT_EQ(test, 0, d[1]->ops->signal_event(d[1], &d[0]->gid, 1,
							 0x83, 0x1234));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_events(d[0], DIBS_SW_EVENT, &ev)));
	KUNIT_EXPECT_EQ(test, 0x83, ev.subtype);
	KUNIT_EXPECT_EQ(test, 0x1234, ev.data);
	KUNIT_EXPECT_TRUE(test, uuid_equal(&ev.gid, &d[1]->gid));
	uuid_gen(&stranger);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			d[1]->ops->signal_event(d[1], &stranger, 1, 0x80, 0));

	/* A receiver that does not take its events fills its mailbox. */
	ivt_script_peer(m, 2, &stranger);
	ivt_ring(m, 1, DIBS_IVSHMEM_VEC_CONTROL);
	KUNIT_ASSERT_TRUE(test, ivt_wait_for(!d[1]->ops->query_remote_gid(d[1], &stranger, 0, 0)));
	for (i = 0; i < DIBS_IVSHMEM_MBOX_ENTRIES; i++)
		KUNIT_EXPECT_EQ(test, 0, d[1]->ops->signal_event(d[1], &stranger,
								 0, i, i));
	KUNIT_EXPECT_EQ(test, -EAGAIN,
			d[1]->ops->signal_event(d[1], &stranger, 0, 99, 99));
	/* It takes one: there is room for one more. */
	le32_add_cpu(&((struct dibs_ivshmem_mbox *)(m->region + m->l.mbox_off +
		(2 * m->l.max_peers + 1) * DIBS_IVSHMEM_MBOX_SIZE))->tail, 1);
	KUNIT_EXPECT_EQ(test, 0, d[1]->ops->signal_event(d[1], &stranger, 0, 8, 8));
	KUNIT_EXPECT_EQ(test, -EAGAIN,
			d[1]->ops->signal_event(d[1], &stranger, 0, 99, 99));
}

/* --- zero-copy --- */

static void dibs_ivs_test_attach(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dmb map = { };
	struct dibs_dev *d[3];
	struct ivt_dmb *td;

	ivt_mesh(test, m, 3, d);
	KUNIT_EXPECT_EQ(test, 1, d[1]->ops->support_mmapped_rdmb(d[1]));
	td = ivt_dmb(test, d[0], d[1], 20000);
	map.dmb_tok = td->dmb.dmb_tok;
	KUNIT_EXPECT_EQ(test, -EACCES, d[2]->ops->attach_dmb(d[2], &map));
	KUNIT_EXPECT_EQ(test, -ENOENT, d[2]->ops->detach_dmb(d[2], map.dmb_tok));
	KUNIT_ASSERT_EQ(test, 0, d[1]->ops->attach_dmb(d[1], &map));
	KUNIT_EXPECT_PTR_EQ(test, td->dmb.cpu_addr, map.cpu_addr);
	KUNIT_EXPECT_EQ(test, 20000, map.dmb_len);
	KUNIT_EXPECT_EQ(test, td->dmb.idx, map.idx);
	KUNIT_EXPECT_EQ(test, DIBS_DMA_ADDR_NONE, map.dma_addr);
	/* Twice attached, the owner unregisters: the memory stays. */
	KUNIT_ASSERT_EQ(test, 0, d[1]->ops->attach_dmb(d[1], &map));
	ivt_unregister(test, td);
	dibs_ivs_poll(m->slots[0].ivs);
	KUNIT_EXPECT_EQ(test, 1, dibs_ivs_dmbs_held(m->slots[0].ivs));
	KUNIT_EXPECT_EQ(test, 0, d[1]->ops->detach_dmb(d[1], map.dmb_tok));
	dibs_ivs_poll(m->slots[0].ivs);
	KUNIT_EXPECT_EQ(test, 1, dibs_ivs_dmbs_held(m->slots[0].ivs));
	KUNIT_EXPECT_EQ(test, 0, d[1]->ops->detach_dmb(d[1], map.dmb_tok));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(!dibs_ivs_dmbs_held(m->slots[0].ivs)));
	KUNIT_EXPECT_EQ(test, -ENOENT, d[1]->ops->detach_dmb(d[1], map.dmb_tok));
	/* The token is gone now. */
	KUNIT_EXPECT_EQ(test, -ENOENT, d[1]->ops->attach_dmb(d[1], &map));
}

/* --- peers leaving and dying --- */

static void ivt_expect_lost(struct kunit *test, struct dibs_dev *dibs,
			    const uuid_t *gid, u64 token)
{
	struct dibs_event ev;

	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_events(dibs, DIBS_DEV_EVENT, &ev)));
	KUNIT_EXPECT_EQ(test, DIBS_DEV_DISABLED, ev.subtype);
	KUNIT_EXPECT_TRUE(test, uuid_equal(gid, &ev.gid));
	if (token) {
		KUNIT_EXPECT_EQ(test, 1, ivt_events(dibs, DIBS_BUF_EVENT, &ev));
		KUNIT_EXPECT_EQ(test, token, ev.buffer_tok);
	}
}

static void dibs_ivs_test_peer_leaves(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	uuid_t gid;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	gid = d[1]->gid;
	ivt_leave(m, 1);
	ivt_expect_lost(test, d[0], &gid, td->dmb.dmb_tok);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			d[0]->ops->query_remote_gid(d[0], &gid, 0, 0));
	ivt_unregister(test, td);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(!dibs_ivs_dmbs_held(m->slots[0].ivs)));

	/* A new peer takes the slot and is reachable. */
	d[1] = ivt_join(test, m, 1);
	ivt_expect_paired(test, d[0], d[1]);
}

/* The server marks a peer gone: its DMBs' writes stop at once. */
static void dibs_ivs_test_peer_dies(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td, *theirs;
	uuid_t gid;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	theirs = ivt_dmb(test, d[1], d[0], 4096);
	gid = d[1]->gid;
	/* Its VM is killed: the device stays, but the server saw it go. */
	WRITE_ONCE(m->slots[1].deaf, true);
	ivt_server_set(m, 1, DIBS_IVSHMEM_SRV_GONE);
	ivt_expect_lost(test, d[0], &gid, td->dmb.dmb_tok);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			ivt_move(d[0], theirs->dmb.dmb_tok, 0, false, 0, &gid, 8));
	/* Unregistering does not wait for the dead writer. */
	ivt_unregister(test, td);
	KUNIT_EXPECT_EQ(test, 0, dibs_ivs_dmbs_held(m->slots[0].ivs));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(ivt_peer(m, 1)->gen),
			le32_to_cpu(ivt_peer(m, 0)->ack_gen[1]));
}

/* A scripted peer whose heartbeat stops is lost after the timeout. */
static void dibs_ivs_test_heartbeat_stops(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivshmem_peer *e = ivt_peer(m, 2);
	struct dibs_dev *d = ivt_join(test, m, 0);
	unsigned long start;
	uuid_t gid;

	ivt_script_peer(m, 2, &gid);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_CONTROL);
	KUNIT_ASSERT_TRUE(test, ivt_wait_for(!d->ops->query_remote_gid(d, &gid, 0, 0)));
	start = jiffies;
	ivt_expect_lost(test, d, &gid, 0);
	KUNIT_EXPECT_GE(test, jiffies - start, IVT_TIMEOUT / 2);
	/* The same generation is not taken back when the heartbeat moves. */
	e->heartbeat = cpu_to_le64(2);
	dibs_ivs_poll(m->slots[0].ivs);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH, d->ops->query_remote_gid(d, &gid, 0, 0));
}

/* A driver reloaded in the same connection joins as a new peer. */
static void dibs_ivs_test_rejoin_after_reload(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	uuid_t gid;
	u32 gen;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	gid = d[1]->gid;
	gen = le32_to_cpu(ivt_peer(m, 1)->gen);
	ivt_unload(m, 1);
	ivt_expect_lost(test, d[0], &gid, td->dmb.dmb_tok);
	ivt_unregister(test, td);

	d[1] = ivt_join_in(test, m, 1, false);
	KUNIT_EXPECT_EQ(test, gen + 1, le32_to_cpu(ivt_peer(m, 1)->gen));
	ivt_expect_paired(test, d[0], d[1]);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			d[0]->ops->query_remote_gid(d[0], &gid, 0, 0));
}

/*
 * A guest that reboots joins in the same connection while its peers still
 * count on its kernel before the reboot, whose heartbeat has not timed out.
 */
static void dibs_ivs_test_rejoin_after_reboot(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dev *d[2];
	uuid_t gid;

	d[0] = ivt_join(test, m, 0);
	ivt_script_peer(m, 1, &gid);
	ivt_ring(m, 0, DIBS_IVSHMEM_VEC_CONTROL);
	KUNIT_ASSERT_TRUE(test, ivt_wait_for(!d[0]->ops->query_remote_gid(d[0], &gid, 0, 0)));

	d[1] = ivt_join_in(test, m, 1, false);
	KUNIT_EXPECT_EQ(test, -ENETUNREACH,
			d[0]->ops->query_remote_gid(d[0], &gid, 0, 0));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(d[0], d[1])));
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(d[1], d[0])));
}

/* A peer holding an earlier occupant's DMB attached delays the next join. */
static void dibs_ivs_test_join_waits_for_detach(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dmb map = { };
	struct dibs_ivs_dev *ivs;
	struct dibs_dev *d[2];
	struct ivt_dmb *td;

	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[1], d[0], 4096);
	map.dmb_tok = td->dmb.dmb_tok;
	KUNIT_ASSERT_EQ(test, 0, d[0]->ops->attach_dmb(d[0], &map));
	WRITE_ONCE(m->slots[1].deaf, true);
	ivt_server_set(m, 1, DIBS_IVSHMEM_SRV_GONE);
	KUNIT_ASSERT_TRUE(test, ivt_wait_for(!ivt_reaches(d[0], d[1])));
	ivt_unregister(test, td);
	ivt_leave(m, 1);

	ivs = ivt_try_join(m, 1);
	KUNIT_EXPECT_EQ(test, -ETIMEDOUT, PTR_ERR_OR_ZERO(ivs));
	if (!IS_ERR(ivs))
		ivt_leave(m, 1);
	KUNIT_EXPECT_EQ(test, 0, d[0]->ops->detach_dmb(d[0], map.dmb_tok));
	d[1] = ivt_join(test, m, 1);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(d[0], d[1])));
}

/*
 * A device goes while a faulty client still holds a DMB and an attachment:
 * the device lets go of both, so the peer gets its memory back.
 */
static void dibs_ivs_test_removal_with_dmbs_left(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_dmb map = { };
	struct ivt_dmb *mine, *theirs;
	struct dibs_dev *d[2];
	uuid_t gid;

	ivt_mesh(test, m, 2, d);
	mine = ivt_dmb(test, d[0], d[1], 4096);
	theirs = ivt_dmb(test, d[1], d[0], 4096);
	map.dmb_tok = theirs->dmb.dmb_tok;
	KUNIT_ASSERT_EQ(test, 0, d[0]->ops->attach_dmb(d[0], &map));
	ivt_unregister(test, theirs);
	KUNIT_EXPECT_EQ(test, 1, dibs_ivs_dmbs_held(m->slots[1].ivs));

	gid = d[0]->gid;
	mine->dmb.dmb_tok = 0;	/* the client forgets it */
	ivt_leave(m, 0);
	KUNIT_EXPECT_EQ(test, DIBS_IVSHMEM_PEER_DOWN,
			le32_to_cpu(ivt_peer(m, 0)->state));
	KUNIT_EXPECT_EQ(test, 0, le64_to_cpu(ivt_desc(m, 0, mine->dmb.idx)->token));
	ivt_expect_lost(test, d[1], &gid, 0);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(!dibs_ivs_dmbs_held(m->slots[1].ivs)));
}

/* --- races --- */

struct ivt_mover {
	struct dibs_dev *dibs;
	u64 *token;
	atomic_t ok;
	atomic_t gone;
	atomic_t unreachable;
	atomic_t other;
	bool stop;
	struct task_struct *task;
};

static int ivt_mover_fn(void *data)
{
	struct ivt_mover *mv = data;
	u8 buf[256];
	int ret;

	memset(buf, 0x5a, sizeof(buf));
	while (!READ_ONCE(mv->stop)) {
		u64 token = READ_ONCE(*mv->token);

		if (!token) {
			cond_resched();
			continue;
		}
		ret = ivt_move(mv->dibs, token, 0, true, 0, buf, sizeof(buf));
		if (!ret)
			atomic_inc(&mv->ok);
		else if (ret == -ENOENT)
			atomic_inc(&mv->gone);
		else if (ret == -ENETUNREACH)
			atomic_inc(&mv->unreachable);
		else
			atomic_inc(&mv->other);
		cond_resched();
	}
	return 0;
}

/* Start moving into the DMB of @token (0: wait) from @dibs. */
static void ivt_mover_start(struct kunit *test, struct ivt_mover *mv,
			    struct dibs_dev *dibs, u64 *token)
{
	mv->dibs = dibs;
	mv->token = token;
	mv->task = kthread_run(ivt_mover_fn, mv, "ivt-mover");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mv->task);
	get_task_struct(mv->task);
}

static void ivt_mover_stop(struct ivt_mover *mv)
{
	WRITE_ONCE(mv->stop, true);
	kthread_stop(mv->task);
	put_task_struct(mv->task);
}

/*
 * Moves race the owner unregistering a DMB and registering the next in the
 * same memory: every move succeeds or finds the token gone, none writes
 * into the next DMB.
 */
static void dibs_ivs_test_race_move_unregister(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct ivt_mover *mv = kunit_kzalloc(test, sizeof(*mv), GFP_KERNEL);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u64 token = 0;
	int round, i, dirty = 0;

	KUNIT_ASSERT_NOT_NULL(test, mv);
	ivt_mesh(test, m, 2, d);
	ivt_mover_start(test, mv, d[1], &token);
	for (round = 0; round < 200; round++) {
		KUNIT_ASSERT_EQ(test, 0, ivt_register(test, d[0], d[1], 4096, 0,
						      &td));
		/* A fresh DMB is zeroed even if a move raced its index. */
		for (i = 0; i < 4096; i++)
			dirty += ((u8 *)td->dmb.cpu_addr)[i] != 0;
		WRITE_ONCE(token, td->dmb.dmb_tok);
		usleep_range(50, 200);
		ivt_unregister(test, td);
	}
	ivt_mover_stop(mv);
	KUNIT_EXPECT_EQ(test, 0, dirty);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&mv->other));
	KUNIT_EXPECT_GT(test, atomic_read(&mv->ok), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&mv->gone), 0);
	kunit_info(test, "moves: %d landed, %d found the DMB gone\n",
		   atomic_read(&mv->ok), atomic_read(&mv->gone));
}

/*
 * The owner of a DMB dies while its writer moves data into it: the moves
 * land until the writer sees the owner gone, then fail with -ENETUNREACH;
 * the writer keeps running and a new owner in the slot is reachable.
 */
static void dibs_ivs_test_race_move_owner_dies(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct ivt_mover *mv = kunit_kzalloc(test, sizeof(*mv), GFP_KERNEL);
	struct dibs_dev *d[2];
	struct ivt_dmb *td;
	u64 token;

	KUNIT_ASSERT_NOT_NULL(test, mv);
	ivt_mesh(test, m, 2, d);
	td = ivt_dmb(test, d[0], d[1], 4096);
	token = td->dmb.dmb_tok;
	ivt_mover_start(test, mv, d[1], &token);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(atomic_read(&mv->ok) > 100));
	WRITE_ONCE(m->slots[0].deaf, true);
	ivt_server_set(m, 0, DIBS_IVSHMEM_SRV_GONE);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(atomic_read(&mv->unreachable) > 100));
	ivt_mover_stop(mv);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&mv->gone));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&mv->other));
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ivt_peer(m, 1)->moves_begun),
			le64_to_cpu(ivt_peer(m, 1)->moves_done));
	/* The owner's device goes; a new one takes the slot. */
	ivt_unregister(test, td);
	ivt_leave(m, 0);
	d[0] = ivt_join(test, m, 0);
	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(d[1], d[0])));
}

/* --- a hostile region --- */

/*
 * Fill the peer table, mailboxes, signal areas and descriptors with random
 * and extreme values, and drive every operation: errors, no fault.
 */
static void dibs_ivs_test_fuzzed_region(struct kunit *test)
{
	struct ivt_model *m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	struct dibs_ivs_layout *l = &m->l;
	static const u64 extremes[] = { 0, 1, 0xffffffffULL, ~0ULL,
					0x8000000000000000ULL, IVT_SIZE };
	unsigned int refused = 0, moved = 0;
	struct dibs_dmb dmb = { };
	struct dibs_dev *d[2];
	u8 buf[64] = { };
	int round, i, ret;

	ivt_mesh(test, m, 2, d);
	for (round = 0; round < 30; round++) {
		u64 *p = m->region + l->peer_off;
		u64 *end = m->region + l->desc_off +
			   l->max_peers * l->max_dmbs * DIBS_IVSHMEM_DESC_SIZE;

		/*
		 * The peer table, mailboxes, signal areas and descriptors;
		 * in the first half all but the peer table, so that the peers
		 * stay reachable and the operations get to the rest.
		 */
		if (round < 15)
			p = m->region + l->mbox_off;
		for (; p < end; p++) {
			u32 r = get_random_u32();

			if (r % 4 == 0)
				*p = extremes[r % ARRAY_SIZE(extremes)];
			else if (r % 4 == 1)
				*p = get_random_u64();
		}
		/*
		 * Make every eighth of slot 0's descriptors name slot 1 as its
		 * writer, with a random length and offset, so that slot 1's
		 * moves get past the writer check to the bounds checks.
		 */
		for (i = 0; round < 15 && i < IVT_DMBS; i += 8) {
			struct dibs_ivshmem_desc *desc = ivt_desc(m, 0, i);

			desc->token = cpu_to_le64(get_random_u64() << 16 | i);
			desc->writer = cpu_to_le16(1);
			desc->writer_gen = ivt_peer(m, 1)->gen;
			desc->len = cpu_to_le32(get_random_u32_below(0x100000) + 1);
			desc->offset = cpu_to_le64(l->heap_off +
				get_random_u32_below(l->heap_size * 2));
		}
		ivt_ring(m, 0, DIBS_IVSHMEM_VEC_SIGNAL);
		ivt_ring(m, 0, DIBS_IVSHMEM_VEC_CONTROL);
		ivt_ring(m, 1, DIBS_IVSHMEM_VEC_SIGNAL);
		dibs_ivs_poll(m->slots[0].ivs);
		for (i = 0; i < 50; i++) {
			u64 token = get_random_u64();

			if (i % 2)
				token = le64_to_cpu(ivt_desc(m, 0, i * 8 % IVT_DMBS)->token);
			ret = ivt_move(d[i % 2], token, i % 16, i % 3, i * 7, buf,
				       sizeof(buf));
			refused += ret == -EIO;
			moved += !ret;
			dmb.dmb_tok = token;
			if (!d[0]->ops->attach_dmb(d[0], &dmb))
				d[0]->ops->detach_dmb(d[0], token);
		}
		dmb.dmb_len = 4096;
		dmb.idx = 0;
		dmb.rgid = d[1]->gid;
		if (!d[0]->ops->register_dmb(d[0], &dmb, &ivt_client))
			d[0]->ops->unregister_dmb(d[0], &dmb);
		d[1]->ops->signal_event(d[1], &d[0]->gid, 0, 1, 2);
	}
	/* Let the dust settle before the peers leave. */
	msleep(20);
	kunit_info(test, "%u moves landed, %u refused a corrupt descriptor\n",
		   moved, refused);
	KUNIT_EXPECT_GT(test, refused, 0);
	KUNIT_EXPECT_GT(test, moved, 0);
}

static struct kunit_case dibs_ivs_test_cases[] = {
	KUNIT_CASE_PARAM(dibs_ivs_test_bad_header, ivt_bad_header_gen_params),
	KUNIT_CASE(dibs_ivs_test_join_checks_id),
	KUNIT_CASE(dibs_ivs_test_peers_see_each_other),
	KUNIT_CASE(dibs_ivs_test_peers_listed),
	KUNIT_CASE(dibs_ivs_test_vlan_ids),
	KUNIT_CASE(dibs_ivs_test_register_dmb),
	KUNIT_CASE(dibs_ivs_test_register_honours_index),
	KUNIT_CASE_PARAM(dibs_ivs_test_register_rejects,
			 ivt_bad_register_gen_params),
	KUNIT_CASE(dibs_ivs_test_register_runs_out),
	KUNIT_CASE(dibs_ivs_test_move_lands),
	KUNIT_CASE_PARAM(dibs_ivs_test_move_rejects, ivt_bad_move_gen_params),
	KUNIT_CASE(dibs_ivs_test_signal_delivered),
	KUNIT_CASE(dibs_ivs_test_signals_coalesce),
	KUNIT_CASE(dibs_ivs_test_stats_add_up),
	KUNIT_CASE(dibs_ivs_test_no_stale_signal),
	KUNIT_CASE(dibs_ivs_test_forged_signal_dropped),
	KUNIT_CASE(dibs_ivs_test_unregister_rejects),
	KUNIT_CASE(dibs_ivs_test_signal_event),
	KUNIT_CASE(dibs_ivs_test_attach),
	KUNIT_CASE(dibs_ivs_test_peer_leaves),
	KUNIT_CASE(dibs_ivs_test_peer_dies),
	KUNIT_CASE(dibs_ivs_test_heartbeat_stops),
	KUNIT_CASE(dibs_ivs_test_rejoin_after_reload),
	KUNIT_CASE(dibs_ivs_test_rejoin_after_reboot),
	KUNIT_CASE(dibs_ivs_test_join_waits_for_detach),
	KUNIT_CASE(dibs_ivs_test_removal_with_dmbs_left),
	KUNIT_CASE_SLOW(dibs_ivs_test_race_move_unregister),
	KUNIT_CASE_SLOW(dibs_ivs_test_race_move_owner_dies),
	KUNIT_CASE_SLOW(dibs_ivs_test_fuzzed_region),
	{ }
};

static struct kunit_suite dibs_ivs_test_suite = {
	.name = "dibs_ivshmem",
	.init = ivt_init,
	.test_cases = dibs_ivs_test_cases,
};

/* --- allocation failures --- */

struct ivt_fault_ctx {
	struct ivt_model *m;
	struct dibs_dev *dibs;
	struct dibs_dev *writer;
	struct dibs_ivs_dev *ivs;
	struct dibs_dmb dmb;
};

static int ivt_fault_join(void *data)
{
	struct ivt_fault_ctx *ctx = data;

	ctx->ivs = ivt_try_join(ctx->m, 1);
	return PTR_ERR_OR_ZERO(ctx->ivs);
}

/* A failed join leaves the slot down, and the other peer unbothered. */
static void ivt_fault_join_failed(struct kunit *test, void *data)
{
	struct ivt_fault_ctx *ctx = data;

	KUNIT_EXPECT_NE(test, DIBS_IVSHMEM_PEER_UP,
			le32_to_cpu(ivt_peer(ctx->m, 1)->state));
	KUNIT_EXPECT_NULL(test, ctx->m->slots[1].ivs);
}

static void ivt_fault_join_undo(struct kunit *test, void *data)
{
	struct ivt_fault_ctx *ctx = data;
	struct dibs_dev *dibs = dibs_ivs_dev_dibs(ctx->ivs);

	KUNIT_EXPECT_TRUE(test, ivt_wait_for(ivt_reaches(ctx->dibs, dibs)));
	ivt_leave(ctx->m, 1);
}

static void dibs_ivs_fault_join(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "dibs_ivs_dev_create()",
		.run = ivt_fault_join,
		.failed = ivt_fault_join_failed,
		.undo = ivt_fault_join_undo,
	};
	struct ivt_fault_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct dibs_fault_count count;

	dibs_fault_require(test);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	ctx->dibs = ivt_join(test, ctx->m, 0);
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/* The device, its tables, the heap, the core's device and name. */
	KUNIT_EXPECT_GE(test, count.failing, 7);
}

static int ivt_fault_register(void *data)
{
	struct ivt_fault_ctx *ctx = data;

	memset(&ctx->dmb, 0, sizeof(ctx->dmb));
	ctx->dmb.dmb_len = 65536;
	ctx->dmb.rgid = ctx->writer->gid;
	return ctx->dibs->ops->register_dmb(ctx->dibs, &ctx->dmb, &ivt_client);
}

static void ivt_fault_register_failed(struct kunit *test, void *data)
{
	struct ivt_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, 0, dibs_ivs_dmbs_held(ctx->m->slots[0].ivs));
	KUNIT_EXPECT_EQ(test, 0, dibs_fault_owned(ctx->dibs, IVT_DMBS));
}

static void ivt_fault_register_undo(struct kunit *test, void *data)
{
	struct ivt_fault_ctx *ctx = data;

	KUNIT_EXPECT_EQ(test, 1, dibs_fault_owned(ctx->dibs, IVT_DMBS));
	KUNIT_EXPECT_EQ(test, 0, ctx->dibs->ops->unregister_dmb(ctx->dibs,
								&ctx->dmb));
}

static void dibs_ivs_fault_register_dmb(struct kunit *test)
{
	static const struct dibs_fault_op op = {
		.name = "register_dmb()",
		.run = ivt_fault_register,
		.failed = ivt_fault_register_failed,
		.undo = ivt_fault_register_undo,
	};
	struct ivt_fault_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct dibs_fault_count count;
	struct dibs_dev *d[2];

	dibs_fault_require(test);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->m = ivt_model(test, IVT_PEERS, IVT_DMBS);
	ivt_mesh(test, ctx->m, 2, d);
	ctx->dibs = d[0];
	ctx->writer = d[1];
	KUNIT_ASSERT_TRUE(test, dibs_fault_sweep(test, &op, ctx, &count));
	/* The descriptor; the memory is the region's. */
	KUNIT_EXPECT_GE(test, count.failing, 1);
}

static struct kunit_case dibs_ivs_fault_cases[] = {
	KUNIT_CASE(dibs_ivs_fault_join),
	KUNIT_CASE(dibs_ivs_fault_register_dmb),
	{ }
};

static struct kunit_suite dibs_ivs_fault_suite = {
	.name = "dibs_ivshmem_fault",
	.suite_init = dibs_fault_suite_init,
	.init = ivt_init,
	.test_cases = dibs_ivs_fault_cases,
};

kunit_test_suites(&dibs_ivs_test_suite, &dibs_ivs_fault_suite);

MODULE_DESCRIPTION("KUnit tests for the DIBS ivshmem device");
MODULE_LICENSE("GPL");
