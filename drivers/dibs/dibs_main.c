// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS core: the registries of clients and devices, the "dibs" device class,
 * and the dispatch of DMB signals and device events to clients.
 */

#define pr_fmt(fmt) "dibs: " fmt

#include <linux/bitmap.h>
#include <linux/dibs.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "dibs_core.h"
#include "dibs_trace.h"

/**
 * DOC: locking
 *
 * Two locks, always taken in this order:
 *
 * ``dibs_mutex`` serialises the registries: adding and deleting devices,
 * registering and unregistering clients, and with them every add_dev() and
 * del_dev() callback, which run with it held. The table of client slots,
 * dibs_clients[], is written only under it.
 *
 * &dibs_dev.lock (a spinlock, taken with interrupts disabled) serialises
 * the writers of a device's client array and its state.
 *
 * The owner tables take no lock: dibs_dmb_set_owner() claims a free entry
 * with cmpxchg(), and dibs_dmb_clear_owner() and the core's clean-up take
 * an owner away with cmpxchg() too, so each owner is taken away exactly
 * once. dibs_dmb_set_owner() runs in an RCU read-side critical section
 * and checks there that the client is not closing and the device is
 * added. dibs_unregister_client() and dibs_dev_del() set those marks,
 * wait for an RCU grace period, and only then take away what is left: an
 * owner set in such a section either is seen then, or the section saw the
 * mark and refused. So registering and unregistering DMBs never contend
 * with each other, on any device, beyond the cache line of the entry.
 *
 * The dispatch helpers, dibs_handle_irq() and dibs_handle_event(), take no
 * lock either: they read the owner table and the client array under RCU, so
 * signals on different DMBs and CPUs never contend. Whoever takes a client
 * off a device clears its entry and then waits for an RCU grace period
 * before calling del_dev(), so no handler of that client is running or can
 * start once del_dev() is called. The owner table lives as long as the
 * device structure itself, so a driver that still holds its reference can
 * dispatch at any time, even after dibs_dev_del().
 *
 * &dibs_dev.subs is read under RCU but is not marked ``__rcu``: its type
 * is part of the published structure, which drivers written for it use as
 * it is. So instead of rcu_assign_pointer() and rcu_dereference() the core
 * publishes a client with smp_store_release() and the dispatch helpers
 * read it with smp_load_acquire(), the same ordering, and clearing uses
 * WRITE_ONCE() followed by the grace period above.
 */

/* Serialises both registries and all add_dev()/del_dev() calls. */
static DEFINE_MUTEX(dibs_mutex);
/* Devices added and not yet deleted, oldest first; under dibs_mutex. */
static LIST_HEAD(dibs_devices);

/**
 * struct dibs_client_slot - the core's record of a registered client
 * @client: the client in this slot, or NULL.
 * @closing: the client is being unregistered and may own no new DMB.
 *
 * Written under dibs_mutex; dibs_dmb_set_owner() reads it without a lock,
 * @closing first, with acquire ordering: when an unregistered client's
 * slot is cleared, @client becomes NULL before @closing goes back to
 * false.
 */
struct dibs_client_slot {
	struct dibs_client *client;
	bool closing;
};

static struct dibs_client_slot dibs_clients[MAX_DIBS_CLIENTS];

static struct dibs_dev *to_dibs_dev(struct device *dev)
{
	return container_of(dev, struct dibs_dev, dev);
}

static ssize_t gid_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%pUb\n", &to_dibs_dev(dev)->gid);
}
static DEVICE_ATTR_RO(gid);

static ssize_t fabric_id_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct dibs_dev *dibs = to_dibs_dev(dev);

	return sysfs_emit(buf, "0x%04x\n", dibs->ops->get_fabric_id(dibs));
}
static DEVICE_ATTR_RO(fabric_id);

static struct attribute *dibs_dev_attrs[] = {
	&dev_attr_gid.attr,
	&dev_attr_fabric_id.attr,
	NULL
};

static const struct attribute_group dibs_dev_group = {
	.attrs = dibs_dev_attrs,
};

static const struct attribute_group *dibs_dev_groups[] = {
	&dibs_dev_group,
	&dibs_stat_group,
	NULL
};

static const struct class dibs_class = {
	.name = "dibs",
	.dev_groups = dibs_dev_groups,
};

/* Make @client's handlers reachable on @dibs, after its add_dev(). */
static void dibs_attach_client(struct dibs_dev *dibs,
			       struct dibs_client *client)
{
	unsigned long flags;

	dibs->priv[client->id] = NULL;
	client->ops->add_dev(dibs);

	spin_lock_irqsave(&dibs->lock, flags);
	/* Pairs with smp_load_acquire() in the dispatch helpers. */
	smp_store_release(&dibs->subs[client->id], client);
	spin_unlock_irqrestore(&dibs->lock, flags);
}

/*
 * Stop dispatching to client @id on @dibs. The caller must wait for an RCU
 * grace period before it calls the client's del_dev().
 */
static void dibs_stop_dispatch(struct dibs_dev *dibs, u8 id)
{
	unsigned long flags;

	spin_lock_irqsave(&dibs->lock, flags);
	WRITE_ONCE(dibs->subs[id], NULL);
	spin_unlock_irqrestore(&dibs->lock, flags);
}

static void dibs_detach_client(struct dibs_dev *dibs,
			       struct dibs_client *client)
{
	client->ops->del_dev(dibs);
	dibs->priv[client->id] = NULL;
}

static int dibs_find_client(const struct dibs_client *client)
{
	int id;

	for (id = 0; id < MAX_DIBS_CLIENTS; id++)
		if (dibs_clients[id].client == client)
			return id;
	return -ENOENT;
}

/**
 * dibs_register_client() - register a DIBS client
 * @client: the client; @client->name and @client->ops must be set, and
 *	@client->ops must provide add_dev() and del_dev().
 *
 * Gives @client a free slot, stores it in @client->id, and calls
 * add_dev() for every device that exists, in the order the devices were
 * added. From then on the client gets add_dev() for every new device.
 * @client must stay valid until dibs_unregister_client() has returned 0.
 *
 * Context: process context, may sleep. Must not be called from add_dev()
 * or del_dev().
 * Return: 0 on success; -EINVAL if @client or its mandatory callbacks are
 * missing; -EEXIST if @client is already registered; -ENOSPC if
 * %MAX_DIBS_CLIENTS clients are registered. Nothing changes on error.
 */
int dibs_register_client(struct dibs_client *client)
{
	struct dibs_dev *dibs;
	int id, ret = 0;

	if (!client || !client->ops || !client->ops->add_dev ||
	    !client->ops->del_dev)
		return -EINVAL;

	mutex_lock(&dibs_mutex);
	if (dibs_find_client(client) >= 0) {
		ret = -EEXIST;
		goto out;
	}
	id = dibs_find_client(NULL);
	if (id < 0) {
		ret = -ENOSPC;
		goto out;
	}

	client->id = id;
	WRITE_ONCE(dibs_clients[id].client, client);

	dibs_trace_client_register(client);
	list_for_each_entry(dibs, &dibs_devices, list)
		dibs_attach_client(dibs, client);
out:
	mutex_unlock(&dibs_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(dibs_register_client);

/*
 * Empty the owner table entry @owner unless it is already empty, also
 * against a concurrent dibs_dmb_clear_owner(); returns what it held.
 */
static u8 dibs_owner_take(u8 *owner)
{
	u8 id = READ_ONCE(*owner);

	while (id != NO_DIBS_CLIENT &&
	       !try_cmpxchg(owner, &id, NO_DIBS_CLIENT))
		;
	return id;
}

/* Take DMBs of client @id on @dibs away from it; returns their number. */
static unsigned int dibs_disown(struct dibs_dev *dibs, u8 id)
{
	struct dibs_core_dev *core = to_core_dev(dibs);
	unsigned int idx, dropped = 0;
	u8 *owner;

	for (idx = 0; idx < core->max_dmbs; idx++) {
		owner = &dibs->dmb_clientid_arr[idx];
		if (READ_ONCE(*owner) == id &&
		    cmpxchg(owner, id, NO_DIBS_CLIENT) == id)
			dropped++;
	}
	return dropped;
}

/**
 * dibs_unregister_client() - unregister a DIBS client
 * @client: a client registered with dibs_register_client()
 *
 * Stops all handlers of @client, calls its del_dev() for every device,
 * newest first, and frees its slot for reuse. This always completes for a
 * registered client, whatever it left behind, because callers (SMC-D
 * among them) unregister from their module exit and ignore the result:
 * once this returns, no callback of @client is running or will be called,
 * and the core keeps no pointer to @client.
 *
 * A client should have unregistered every DMB by the time its del_dev()
 * returns. DMBs it still owns after that are taken away from it and a
 * warning gives their number; their signals reach nobody, and their
 * devices keep them, never freeing memory the client might still touch
 * (see the device drivers' documentation).
 *
 * Context: process context, may sleep. Must not be called from add_dev()
 * or del_dev().
 * Return: 0 on success; -ENOENT if @client is NULL or not registered, in
 * which case nothing changes.
 */
int dibs_unregister_client(struct dibs_client *client)
{
	unsigned int orphans = 0;
	struct dibs_dev *dibs;
	int id;

	if (!client)
		return -ENOENT;

	mutex_lock(&dibs_mutex);
	id = dibs_find_client(client);
	if (id < 0) {
		mutex_unlock(&dibs_mutex);
		return -ENOENT;
	}

	/* No new DMB for @client from here on: see dibs_dmb_set_owner(). */
	WRITE_ONCE(dibs_clients[id].closing, true);

	list_for_each_entry(dibs, &dibs_devices, list)
		dibs_stop_dispatch(dibs, id);
	synchronize_rcu();
	list_for_each_entry_reverse(dibs, &dibs_devices, list)
		dibs_detach_client(dibs, client);

	list_for_each_entry(dibs, &dibs_devices, list)
		orphans += dibs_disown(dibs, id);
	WRITE_ONCE(dibs_clients[id].client, NULL);
	/* Pairs with smp_load_acquire() in dibs_dmb_set_owner(). */
	smp_store_release(&dibs_clients[id].closing, false);
	dibs_trace_client_unregister(client, orphans);
	mutex_unlock(&dibs_mutex);

	if (orphans)
		pr_warn("client %s left %u DMBs registered after del_dev(); they are no longer its own\n",
			client->name, orphans);
	return 0;
}
EXPORT_SYMBOL_GPL(dibs_unregister_client);

static void dibs_dev_release(struct device *dev)
{
	struct dibs_core_dev *core = to_core_dev(to_dibs_dev(dev));

	kvfree(core->dibs.dmb_clientid_arr);
	free_percpu(core->stats);
	kfree(core);
}

/**
 * dibs_dev_alloc() - allocate a DIBS device
 *
 * The device is initialised and belongs to the "dibs" class. The caller
 * owns one reference: it sets &dibs_dev.ops, &dibs_dev.gid,
 * &dibs_dev.drv_priv, the name (dev_set_name()) and optionally the parent
 * of &dibs_dev.dev, calls dibs_dev_add(), and finally drops its reference
 * with put_device(&dibs->dev), never kfree(), also when dibs_dev_add()
 * failed.
 *
 * Context: process context, may sleep.
 * Return: the device, or NULL if out of memory.
 */
struct dibs_dev *dibs_dev_alloc(void)
{
	struct dibs_core_dev *core;
	struct dibs_dev *dibs;
	int cpu;

	core = kzalloc_obj(*core);
	if (!core)
		return NULL;
	core->stats = alloc_percpu(struct dibs_dev_stats);
	if (!core->stats) {
		kfree(core);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(core->stats, cpu)->syncp);

	dibs = &core->dibs;
	INIT_LIST_HEAD(&dibs->list);
	spin_lock_init(&dibs->lock);
	device_initialize(&dibs->dev);
	dibs->dev.class = &dibs_class;
	dibs->dev.release = dibs_dev_release;
	return dibs;
}
EXPORT_SYMBOL_GPL(dibs_dev_alloc);

static bool dibs_ops_valid(const struct dibs_dev_ops *ops)
{
	if (!ops || !ops->get_fabric_id || !ops->query_remote_gid ||
	    !ops->max_dmbs || !ops->register_dmb || !ops->unregister_dmb ||
	    !ops->move_data)
		return false;
	if (!ops->add_vlan_id != !ops->del_vlan_id)
		return false;
	if (!ops->support_mmapped_rdmb != !ops->attach_dmb ||
	    !ops->attach_dmb != !ops->detach_dmb)
		return false;
	return true;
}

/**
 * dibs_dev_add() - make a DIBS device available
 * @dibs: a device from dibs_dev_alloc(), with ops, GID and name set
 *
 * Checks the device, adds it to the "dibs" class (and so to sysfs) and
 * calls add_dev() of every registered client. Once this returns 0 clients
 * may use the device, and the driver may dispatch with dibs_handle_irq()
 * and dibs_handle_event().
 *
 * Context: process context, may sleep. Must not be called from add_dev()
 * or del_dev().
 * Return: 0 on success; -EINVAL if a mandatory operation is missing, an
 * optional group is only partly set, max_dmbs() is out of range, the GID
 * is null, or the device was added before; -ENOMEM; or the error of
 * device_add(), for example for a missing or duplicate name. Nothing
 * changes on error, and the caller still owns its reference.
 */
int dibs_dev_add(struct dibs_dev *dibs)
{
	struct dibs_core_dev *core;
	unsigned long flags;
	int max_dmbs, id, ret;
	u8 *owners;

	if (!dibs || !dibs_ops_valid(dibs->ops) || uuid_is_null(&dibs->gid))
		return -EINVAL;
	max_dmbs = dibs->ops->max_dmbs();
	if (max_dmbs < 1 || max_dmbs > DIBS_MAX_DMBS)
		return -EINVAL;

	owners = kvmalloc(max_dmbs, GFP_KERNEL);
	if (!owners)
		return -ENOMEM;
	memset(owners, NO_DIBS_CLIENT, max_dmbs);

	core = to_core_dev(dibs);
	mutex_lock(&dibs_mutex);
	if (core->state != DIBS_DEV_ALLOCATED) {
		ret = -EINVAL;
		goto err_unlock;
	}
	ret = device_add(&dibs->dev);
	if (ret)
		goto err_unlock;

	spin_lock_irqsave(&dibs->lock, flags);
	dibs->dmb_clientid_arr = owners;
	/*
	 * Pairs with smp_load_acquire() in dibs_handle_irq() and
	 * dibs_dmb_clear_owner().
	 */
	smp_store_release(&core->max_dmbs, max_dmbs);
	/* Pairs with smp_load_acquire() in dibs_dmb_set_owner(). */
	smp_store_release(&core->state, DIBS_DEV_ADDED);
	spin_unlock_irqrestore(&dibs->lock, flags);

	list_add_tail(&dibs->list, &dibs_devices);
	dibs_trace_dev_add(dibs, max_dmbs);
	for (id = 0; id < MAX_DIBS_CLIENTS; id++)
		if (dibs_clients[id].client)
			dibs_attach_client(dibs, dibs_clients[id].client);
	mutex_unlock(&dibs_mutex);
	return 0;

err_unlock:
	mutex_unlock(&dibs_mutex);
	kvfree(owners);
	return ret;
}
EXPORT_SYMBOL_GPL(dibs_dev_add);

/* Forget DMBs whose owner kept them past del_dev(); returns their number. */
static unsigned int dibs_drop_owners(struct dibs_dev *dibs)
{
	struct dibs_core_dev *core = to_core_dev(dibs);
	unsigned int idx, dropped = 0;

	for (idx = 0; idx < core->max_dmbs; idx++)
		if (dibs_owner_take(&dibs->dmb_clientid_arr[idx]) !=
		    NO_DIBS_CLIENT)
			dropped++;
	return dropped;
}

/**
 * dibs_dev_del() - withdraw a DIBS device
 * @dibs: a device added with dibs_dev_add()
 *
 * Stops dispatching to the clients, calls del_dev() of every client
 * attached to the device, and removes the device from sysfs. DMBs a client
 * failed to unregister in its del_dev() are no longer accounted to it (and
 * a warning names the count); their memory stays the driver's business.
 * The driver's reference stays valid until it calls put_device(), and
 * dispatching until then is safe (nothing is delivered). Calling this for
 * a device that is not added only logs a warning.
 *
 * Context: process context, may sleep. Must not be called from add_dev()
 * or del_dev().
 */
void dibs_dev_del(struct dibs_dev *dibs)
{
	struct dibs_client *attached[MAX_DIBS_CLIENTS];
	struct dibs_core_dev *core = to_core_dev(dibs);
	unsigned int dropped;
	unsigned long flags;
	int id;

	mutex_lock(&dibs_mutex);
	if (core->state != DIBS_DEV_ADDED) {
		mutex_unlock(&dibs_mutex);
		dev_warn(&dibs->dev, "deleting a device that is not added\n");
		return;
	}
	list_del_init(&dibs->list);

	spin_lock_irqsave(&dibs->lock, flags);
	WRITE_ONCE(core->state, DIBS_DEV_DELETED);
	for (id = 0; id < MAX_DIBS_CLIENTS; id++) {
		attached[id] = dibs->subs[id];
		WRITE_ONCE(dibs->subs[id], NULL);
	}
	spin_unlock_irqrestore(&dibs->lock, flags);
	synchronize_rcu();

	for (id = 0; id < MAX_DIBS_CLIENTS; id++)
		if (attached[id])
			dibs_detach_client(dibs, attached[id]);

	dropped = dibs_drop_owners(dibs);
	if (dropped)
		dev_warn(&dibs->dev, "%u DMBs still registered after del_dev()\n",
			 dropped);
	dibs_trace_dev_del(dibs, dropped);

	device_del(&dibs->dev);
	mutex_unlock(&dibs_mutex);
}
EXPORT_SYMBOL_GPL(dibs_dev_del);

/**
 * dibs_dmb_set_owner() - route signals of a DMB index to a client
 * @dibs: the device, added and not deleted
 * @idx: the DMB index
 * @client: the client that registers the DMB
 *
 * Device drivers call this from their register_dmb() before it succeeds,
 * so that dibs_handle_irq() reaches @client, and so that the DMB is taken
 * away from @client if it is still registered when the client is
 * unregistered or the device deleted (see dibs_unregister_client() and
 * dibs_dev_del()).
 *
 * Context: any context; takes no lock and does not sleep.
 * Return: 0 on success; -EINVAL if @idx is not below max_dmbs() or @client
 * is not registered; -ESHUTDOWN if @client is being unregistered; -ENODEV
 * if @dibs is not added; -EBUSY if @idx already has an owner. Nothing
 * changes on error.
 */
int dibs_dmb_set_owner(struct dibs_dev *dibs, unsigned int idx,
		       struct dibs_client *client)
{
	struct dibs_core_dev *core = to_core_dev(dibs);
	struct dibs_client_slot *slot;
	u8 none = NO_DIBS_CLIENT;
	bool closing;
	int ret = 0;

	if (!client || client->id >= MAX_DIBS_CLIENTS)
		return -EINVAL;
	slot = &dibs_clients[client->id];

	/* The marks are set before a grace period: see "DOC: locking". */
	rcu_read_lock();
	/* Pairs with smp_store_release() in dibs_unregister_client(). */
	closing = smp_load_acquire(&slot->closing);
	if (READ_ONCE(slot->client) != client)
		ret = -EINVAL;
	else if (closing)
		ret = -ESHUTDOWN;
	/* Pairs with smp_store_release() in dibs_dev_add(). */
	else if (smp_load_acquire(&core->state) != DIBS_DEV_ADDED)
		ret = -ENODEV;
	else if (idx >= core->max_dmbs)
		ret = -EINVAL;
	else if (!try_cmpxchg(&dibs->dmb_clientid_arr[idx], &none, client->id))
		ret = -EBUSY;
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(dibs_dmb_set_owner);

/**
 * dibs_dmb_clear_owner() - stop routing signals of a DMB index
 * @dibs: the device
 * @idx: a DMB index with an owner
 *
 * Device drivers call this from their unregister_dmb(). No new
 * handle_irq() for @idx starts once this returns; one already running on
 * another CPU may still finish, so clients must not free what their
 * handle_irq() uses for @idx without their own synchronisation.
 *
 * Context: any context; takes no lock and does not sleep.
 * Return: 0 on success; -EINVAL if @idx is out of range; -ENOENT if @idx
 * has no owner (also after dibs_dev_del() or dibs_unregister_client() took
 * it away).
 */
int dibs_dmb_clear_owner(struct dibs_dev *dibs, unsigned int idx)
{
	/* Pairs with smp_store_release() in dibs_dev_add(). */
	if (idx >= smp_load_acquire(&to_core_dev(dibs)->max_dmbs))
		return -EINVAL;
	if (dibs_owner_take(&dibs->dmb_clientid_arr[idx]) == NO_DIBS_CLIENT)
		return -ENOENT;
	return 0;
}
EXPORT_SYMBOL_GPL(dibs_dmb_clear_owner);

/**
 * dibs_handle_irq() - deliver a DMB signal to the DMB's owner
 * @dibs: the device that owns the DMB
 * @idx: the DMB index
 * @dmbemask: signalling mask, passed on to handle_irq()
 *
 * Calls handle_irq() of the client that owns @idx, if it is attached to
 * @dibs and has that callback. Takes no lock, so drivers may call it for
 * different DMBs on several CPUs at once. The caller must hold a reference
 * on @dibs.
 *
 * Context: any context, including hard interrupt; does not sleep.
 * Return: 0 if a client was called; -EINVAL if @idx is out of range;
 * -ENOENT if no attached client owns @idx or it has no handle_irq().
 */
int dibs_handle_irq(struct dibs_dev *dibs, unsigned int idx, u16 dmbemask)
{
	struct dibs_core_dev *core = to_core_dev(dibs);
	int ret;

	/* Pairs with smp_store_release() in dibs_dev_add(). */
	if (idx >= smp_load_acquire(&core->max_dmbs))
		return -EINVAL;

	rcu_read_lock();
	ret = dibs_deliver_irq(dibs, idx, dmbemask);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(dibs_handle_irq);

/**
 * dibs_handle_event() - deliver a device event to all clients
 * @dibs: the device reporting the event
 * @event: the event; only needs to live during the call
 *
 * Calls handle_event() of every client attached to @dibs. Takes no lock.
 * The caller must hold a reference on @dibs.
 *
 * Context: any context, including hard interrupt; does not sleep.
 */
void dibs_handle_event(struct dibs_dev *dibs, const struct dibs_event *event)
{
	struct dibs_client *client;
	int id;

	dibs_trace_event(dibs, event);
	rcu_read_lock();
	for (id = 0; id < MAX_DIBS_CLIENTS; id++) {
		/* Pairs with smp_store_release() in dibs_attach_client(). */
		client = smp_load_acquire(&dibs->subs[id]);
		if (client && client->ops->handle_event)
			client->ops->handle_event(dibs, event);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(dibs_handle_event);

/**
 * dibs_idx_pool_init() - set up a pool of DMB indices
 * @pool: the pool
 * @nr: number of indices
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM.
 */
int dibs_idx_pool_init(struct dibs_idx_pool *pool, unsigned int nr)
{
	pool->nr = nr;
	pool->first_free = 0;
	pool->used = bitmap_zalloc(nr, GFP_KERNEL);
	pool->draining = bitmap_zalloc(nr, GFP_KERNEL);
	pool->drain_gp = kvcalloc(nr, sizeof(*pool->drain_gp), GFP_KERNEL);
	if (pool->used && pool->draining && pool->drain_gp)
		return 0;
	dibs_idx_pool_destroy(pool);
	return -ENOMEM;
}
EXPORT_SYMBOL_GPL(dibs_idx_pool_init);

/**
 * dibs_idx_pool_destroy() - free a pool of DMB indices
 * @pool: the pool, set up by dibs_idx_pool_init() or zeroed
 */
void dibs_idx_pool_destroy(struct dibs_idx_pool *pool)
{
	bitmap_free(pool->used);
	bitmap_free(pool->draining);
	kvfree(pool->drain_gp);
	pool->used = NULL;
	pool->draining = NULL;
	pool->drain_gp = NULL;
}
EXPORT_SYMBOL_GPL(dibs_idx_pool_destroy);

/*
 * Free the draining index @idx if its grace period has passed, waiting
 * for it if @wait; returns whether it was freed.
 */
static bool dibs_idx_drained(struct dibs_idx_pool *pool, unsigned int idx,
			     bool wait)
{
	if (wait)
		cond_synchronize_rcu(pool->drain_gp[idx]);
	else if (!poll_state_synchronize_rcu(pool->drain_gp[idx]))
		return false;
	__clear_bit(idx, pool->draining);
	__clear_bit(idx, pool->used);
	pool->first_free = min(pool->first_free, idx);
	return true;
}

/*
 * Every index is taken or draining: free the draining ones whose grace
 * period has passed, or, if none has, wait for a grace period and free
 * them all. Returns whether there were any.
 */
static bool dibs_idx_reclaim(struct dibs_idx_pool *pool)
{
	unsigned int idx;
	bool freed = false;

	if (bitmap_empty(pool->draining, pool->nr))
		return false;
	for_each_set_bit(idx, pool->draining, pool->nr)
		freed |= dibs_idx_drained(pool, idx, false);
	if (!freed) {
		/*
		 * Free them all without polling again: during boot grace
		 * periods are expedited, and those do not advance the state
		 * that poll_state_synchronize_rcu() looks at.
		 */
		synchronize_rcu();
		for_each_set_bit(idx, pool->draining, pool->nr)
			__clear_bit(idx, pool->used);
		bitmap_zero(pool->draining, pool->nr);
		pool->first_free = 0;
	}
	return true;
}

/**
 * dibs_idx_reserve() - take a DMB index
 * @pool: the pool
 * @requested: the index a client asked for, or 0 for any
 *
 * Context: process context, may sleep (for a grace period).
 * Return: the index; -EINVAL if @requested is out of range, -EBUSY if it
 * is taken, -ENOSPC if no index is free.
 */
int dibs_idx_reserve(struct dibs_idx_pool *pool, u32 requested)
{
	unsigned long idx;

	if (requested) {
		if (requested >= pool->nr)
			return -EINVAL;
		if (test_bit(requested, pool->draining))
			dibs_idx_drained(pool, requested, true);
		if (test_bit(requested, pool->used))
			return -EBUSY;
		idx = requested;
	} else {
		idx = find_next_zero_bit(pool->used, pool->nr,
					 pool->first_free);
		if (idx >= pool->nr && dibs_idx_reclaim(pool))
			idx = find_next_zero_bit(pool->used, pool->nr,
						 pool->first_free);
		if (idx >= pool->nr)
			return -ENOSPC;
		pool->first_free = idx + 1;
	}
	__set_bit(idx, pool->used);
	return idx;
}
EXPORT_SYMBOL_GPL(dibs_idx_reserve);

/**
 * dibs_idx_release() - give back an index no signal can carry
 * @pool: the pool
 * @idx: an index taken with dibs_idx_reserve() and never published to a
 *	client (the error path of register_dmb())
 *
 * Context: any context.
 */
void dibs_idx_release(struct dibs_idx_pool *pool, unsigned int idx)
{
	__clear_bit(idx, pool->used);
	pool->first_free = min(pool->first_free, idx);
}
EXPORT_SYMBOL_GPL(dibs_idx_release);

/**
 * dibs_idx_drain() - give back the index of an unregistered DMB
 * @pool: the pool
 * @idx: the index; signals for it may still be in delivery under RCU
 *
 * The index is handed out again only after an RCU grace period.
 *
 * Context: any context.
 */
void dibs_idx_drain(struct dibs_idx_pool *pool, unsigned int idx)
{
	pool->drain_gp[idx] = get_state_synchronize_rcu();
	__set_bit(idx, pool->draining);
}
EXPORT_SYMBOL_GPL(dibs_idx_drain);

/**
 * dibs_idx_in_use() - indices taken and not draining
 * @pool: the pool
 *
 * Context: any context.
 * Return: the number of indices registered or kept by the driver.
 */
unsigned int dibs_idx_in_use(const struct dibs_idx_pool *pool)
{
	return bitmap_weight(pool->used, pool->nr) -
	       bitmap_weight(pool->draining, pool->nr);
}
EXPORT_SYMBOL_GPL(dibs_idx_in_use);

static int __init dibs_init(void)
{
	return class_register(&dibs_class);
}

static void __exit dibs_exit(void)
{
	class_unregister(&dibs_class);
}

subsys_initcall(dibs_init);
module_exit(dibs_exit);

MODULE_DESCRIPTION("Direct Internal Buffer Sharing (DIBS) core");
MODULE_LICENSE("GPL");
/*
 * Kernels configured for a DIBS whose loopback device is part of the core
 * module expect the device to arrive with the core (SMC-D finds it so).
 * Ours is a module of its own, which can be unloaded alone: have modprobe
 * load it with the core.
 */
#if IS_MODULE(CONFIG_DIBS_LO)
MODULE_SOFTDEP("post: dibs_loopback");
#endif
