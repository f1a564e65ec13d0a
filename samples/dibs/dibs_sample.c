// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS sample client: a verified ping-pong over every DIBS device that can
 * reach itself, steered through debugfs.
 */

#define pr_fmt(fmt) "dibs_sample: " fmt

#include <linux/debugfs.h>
#include <linux/dibs.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

/**
 * DOC: sample client
 *
 * ``dibs_sample`` registers one DIBS client. For every device it is given
 * that can reach itself it offers a ping-pong between two endpoints, A and
 * B, the way a real client exchanges data:
 *
 * - each endpoint registers a data DMB for the payload and a small control
 *   DMB for messages, with the device's own GID as the remote writer;
 * - A writes the payload into B's data DMB with move_data() without a
 *   signal (or, in zero-copy mode, straight through the address that
 *   attach_dmb() returned), then a control message into B's control DMB
 *   with the signal flag set;
 * - B's handle_irq() runs in whatever context the device signals from, so
 *   it only notes the signal and queues work; the work, in process
 *   context, checks the message, verifies every payload byte and answers
 *   the same way with a payload of its own, which A verifies in turn.
 *
 * One round is one such exchange; its time is measured from A's first
 * write to the end of A's verification. The interface, one directory per
 * device in ``/sys/kernel/debug/dibs_sample/<device>/``:
 *
 * ``start`` (write)
 *	``rounds=N size=S [zerocopy=0|1]`` starts a run of N rounds (1 to
 *	1000000) with S-byte payloads (1 to 1048576) and returns at once.
 *	Fails with ``-EINVAL`` for bad input (the kernel log says why),
 *	``-EBUSY`` while a run goes on, ``-ENETUNREACH`` if the device cannot
 *	reach itself and ``-EOPNOTSUPP`` for zero-copy on a device without it.
 *
 * ``results`` (read)
 *	``key: value`` lines: ``state`` (idle, running, done, failed or
 *	aborted), the parameters, ``rounds_done``, ``bytes_verified``,
 *	``errors``, ``last_error`` and the round times ``total_ns``,
 *	``round_ns_min``, ``round_ns_p50``, ``round_ns_p99`` and
 *	``round_ns_max``.
 *
 * A run that loses its device (del_dev()) or its module ends as aborted,
 * and the kernel log says so ("run aborted after N of M rounds"), since the
 * device's directory goes away with it. The client holds DMBs only while a
 * run goes on.
 */

#define SAMPLE_MAX_ROUNDS	1000000
#define SAMPLE_MAX_SIZE		SZ_1M
#define SAMPLE_CTRL_LEN		64
/* The signalling index used for control messages, as SMC-D does. */
#define SAMPLE_SIGNAL		0
#define SAMPLE_INPUT_MAX	128

enum sample_state {
	SAMPLE_IDLE,
	SAMPLE_RUNNING,
	SAMPLE_DONE,
	SAMPLE_FAILED,
	SAMPLE_ABORTED,
};

static const char *const sample_state_names[] = {
	[SAMPLE_IDLE] = "idle",
	[SAMPLE_RUNNING] = "running",
	[SAMPLE_DONE] = "done",
	[SAMPLE_FAILED] = "failed",
	[SAMPLE_ABORTED] = "aborted",
};

/* A control message; big-endian, as everything that crosses a fabric. */
struct sample_msg {
	__be32 round;
	__be32 size;
};

/* Bits of &sample_dev.pending: which endpoint was signalled. */
enum { SAMPLE_SIG_A, SAMPLE_SIG_B };

/**
 * struct sample_end - one endpoint of the ping-pong
 * @data: the DMB the endpoint receives payloads in.
 * @ctrl: the DMB the endpoint receives control messages in.
 * @peer: zero-copy mapping of the peer's data DMB (zero-copy runs only).
 * @attached: @peer is attached.
 */
struct sample_end {
	struct dibs_dmb data;
	struct dibs_dmb ctrl;
	struct dibs_dmb peer;
	bool attached;
};

/**
 * struct sample_dev - the sample client's state for one device
 * @dibs: the device.
 * @node: entry in sample_devs.
 * @dir: its debugfs directory.
 * @wq: ordered workqueue for the protocol work.
 * @work: processes signals; see sample_work().
 * @pending: %SAMPLE_SIG_A/%SAMPLE_SIG_B bits set by handle_irq().
 * @ctrl_idx: DMB index of each endpoint's control DMB, for handle_irq().
 * @lock: protects everything below.
 * @state: an &enum sample_state value.
 * @rounds: rounds requested.
 * @size: payload size.
 * @zerocopy: write payloads through attach_dmb() mappings.
 * @rounds_done: rounds completed and verified.
 * @bytes_verified: payload bytes verified, both directions.
 * @errors: errors seen.
 * @last_error: the last error, or 0.
 * @round_start: start of the current round.
 * @ns: duration of each completed round.
 * @total_ns: time from the start of the run to its end.
 * @run_start: start of the run.
 * @tx: the payload to send.
 * @expect: the payload expected by the receiving endpoint.
 * @end: endpoints A (index 0) and B (index 1).
 */
struct sample_dev {
	struct dibs_dev *dibs;
	struct list_head node;
	struct dentry *dir;
	struct workqueue_struct *wq;
	struct work_struct work;
	unsigned long pending;
	u32 ctrl_idx[2];

	struct mutex lock;	/* see above */
	enum sample_state state;
	u32 rounds;
	u32 size;
	bool zerocopy;
	u32 rounds_done;
	u64 bytes_verified;
	u32 errors;
	int last_error;
	u64 round_start;
	u32 *ns;
	u64 total_ns;
	u64 run_start;
	u8 *tx;
	u8 *expect;
	struct sample_end end[2];
};

static struct dibs_client sample_client;
/* Serialises module exit against add_dev()/del_dev(); protects sample_devs. */
static DEFINE_MUTEX(sample_devs_lock);
static LIST_HEAD(sample_devs);
static struct dentry *sample_debugfs;

/* Payload of round @round from endpoint @from: differs every round. */
static void sample_fill(u8 *buf, u32 size, u32 round, int from)
{
	u32 x = (round * 2 + from + 1) * 0x9e3779b9;
	u32 i;

	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
}

static void sample_error(struct sample_dev *sd, int err, const char *what)
{
	sd->errors++;
	sd->last_error = err;
	sd->state = SAMPLE_FAILED;
	dev_warn(&sd->dibs->dev, "dibs_sample: %s failed at round %u: %d\n",
		 what, sd->rounds_done, err);
}

/* Register both endpoints' DMBs and, for zero-copy, attach to the peers. */
static int sample_setup_dmbs(struct sample_dev *sd)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *end;
	int i, ret;

	for (i = 0; i < 2; i++) {
		end = &sd->end[i];
		memset(end, 0, sizeof(*end));
		end->data.dmb_len = sd->size;
		end->data.rgid = sd->dibs->gid;
		ret = ops->register_dmb(sd->dibs, &end->data, &sample_client);
		if (ret) {
			end->data.cpu_addr = NULL;
			return ret;
		}
		end->ctrl.dmb_len = SAMPLE_CTRL_LEN;
		end->ctrl.rgid = sd->dibs->gid;
		ret = ops->register_dmb(sd->dibs, &end->ctrl, &sample_client);
		if (ret) {
			end->ctrl.cpu_addr = NULL;
			return ret;
		}
		WRITE_ONCE(sd->ctrl_idx[i], end->ctrl.idx);
	}
	if (!sd->zerocopy)
		return 0;
	for (i = 0; i < 2; i++) {
		end = &sd->end[i];
		end->peer.dmb_tok = sd->end[!i].data.dmb_tok;
		ret = ops->attach_dmb(sd->dibs, &end->peer);
		if (ret)
			return ret;
		end->attached = true;
	}
	return 0;
}

/*
 * A device that refuses to take back a DMB or mapping it gave leaves
 * nothing for the client to do but say so; the core reports what is then
 * left when the device or the client goes.
 */
static void sample_check_release(struct sample_dev *sd, int err,
				 const char *what)
{
	if (err)
		dev_warn(&sd->dibs->dev, "dibs_sample: %s failed: %d\n", what,
			 err);
}

/* Undo sample_setup_dmbs(), whatever part of it succeeded. */
static void sample_release_dmbs(struct sample_dev *sd)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *end;
	int i, ret;

	for (i = 0; i < 2; i++) {
		end = &sd->end[i];
		if (end->attached) {
			ret = ops->detach_dmb(sd->dibs, end->peer.dmb_tok);
			sample_check_release(sd, ret, "detach_dmb()");
		}
		end->attached = false;
	}
	for (i = 0; i < 2; i++) {
		end = &sd->end[i];
		WRITE_ONCE(sd->ctrl_idx[i], U32_MAX);
		if (end->ctrl.cpu_addr) {
			ret = ops->unregister_dmb(sd->dibs, &end->ctrl);
			sample_check_release(sd, ret, "unregister_dmb()");
		}
		if (end->data.cpu_addr) {
			ret = ops->unregister_dmb(sd->dibs, &end->data);
			sample_check_release(sd, ret, "unregister_dmb()");
		}
		memset(end, 0, sizeof(*end));
	}
}

static void sample_free_run(struct sample_dev *sd)
{
	sample_release_dmbs(sd);
	kvfree(sd->tx);
	kvfree(sd->expect);
	sd->tx = NULL;
	sd->expect = NULL;
}

/* End the run in @state; under sd->lock. */
static void sample_finish(struct sample_dev *sd, enum sample_state state)
{
	lockdep_assert_held(&sd->lock);
	if (sd->state == SAMPLE_RUNNING)
		sd->state = state;
	sd->total_ns = ktime_get_ns() - sd->run_start;
	sample_free_run(sd);
}

/* Send round @round's payload and message from endpoint @from. */
static int sample_send(struct sample_dev *sd, int from, u32 round)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *src = &sd->end[from], *dst = &sd->end[!from];
	struct sample_msg msg = {
		.round = cpu_to_be32(round),
		.size = cpu_to_be32(sd->size),
	};
	int ret;

	if (sd->zerocopy) {
		sample_fill(src->peer.cpu_addr, sd->size, round, from);
	} else {
		sample_fill(sd->tx, sd->size, round, from);
		ret = ops->move_data(sd->dibs, dst->data.dmb_tok, SAMPLE_SIGNAL,
				     false, 0, sd->tx, sd->size);
		if (ret)
			return ret;
	}
	return ops->move_data(sd->dibs, dst->ctrl.dmb_tok, SAMPLE_SIGNAL, true,
			      0, &msg, sizeof(msg));
}

/* Check what endpoint @to received in round @round. */
static int sample_receive(struct sample_dev *sd, int to, u32 round)
{
	struct sample_end *end = &sd->end[to];
	struct sample_msg msg;

	memcpy(&msg, end->ctrl.cpu_addr, sizeof(msg));
	if (be32_to_cpu(msg.round) != round || be32_to_cpu(msg.size) != sd->size)
		return -EPROTO;
	sample_fill(sd->expect, sd->size, round, !to);
	if (memcmp(end->data.cpu_addr, sd->expect, sd->size))
		return -EIO;
	sd->bytes_verified += sd->size;
	return 0;
}

static void sample_start_round(struct sample_dev *sd)
{
	int ret;

	sd->round_start = ktime_get_ns();
	ret = sample_send(sd, 0, sd->rounds_done);
	if (ret) {
		sample_error(sd, ret, "sending from A");
		sample_finish(sd, SAMPLE_FAILED);
	}
}

/*
 * The protocol, in process context. B answers what it received; A
 * completes the round and starts the next one. The workqueue is ordered,
 * so there is never more than one instance at a time.
 */
static void sample_work(struct work_struct *work)
{
	struct sample_dev *sd = container_of(work, struct sample_dev, work);
	u32 round;
	int ret;

	mutex_lock(&sd->lock);
	if (sd->state != SAMPLE_RUNNING)
		goto out;
	round = sd->rounds_done;

	if (test_and_clear_bit(SAMPLE_SIG_B, &sd->pending)) {
		ret = sample_receive(sd, 1, round);
		if (!ret)
			ret = sample_send(sd, 1, round);
		if (ret) {
			sample_error(sd, ret, "B receiving or answering");
			sample_finish(sd, SAMPLE_FAILED);
			goto out;
		}
	}
	if (test_and_clear_bit(SAMPLE_SIG_A, &sd->pending)) {
		ret = sample_receive(sd, 0, round);
		if (ret) {
			sample_error(sd, ret, "A receiving");
			sample_finish(sd, SAMPLE_FAILED);
			goto out;
		}
		sd->ns[round] = min_t(u64, ktime_get_ns() - sd->round_start,
				      U32_MAX);
		sd->rounds_done++;
		if (sd->rounds_done == sd->rounds)
			sample_finish(sd, SAMPLE_DONE);
		else
			sample_start_round(sd);
	}
out:
	mutex_unlock(&sd->lock);
}

/* Runs in the device's signalling context: note the signal, defer. */
static void sample_handle_irq(struct dibs_dev *dibs, unsigned int idx,
			      u16 dmbemask)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);

	if (!sd)
		return;
	if (idx == READ_ONCE(sd->ctrl_idx[0]))
		set_bit(SAMPLE_SIG_A, &sd->pending);
	else if (idx == READ_ONCE(sd->ctrl_idx[1]))
		set_bit(SAMPLE_SIG_B, &sd->pending);
	else
		return;
	queue_work(sd->wq, &sd->work);
}

static void sample_handle_event(struct dibs_dev *dibs,
				const struct dibs_event *event)
{
	dev_dbg(&dibs->dev, "dibs_sample: event type %u subtype %u\n",
		event->type, event->subtype);
}

/* Parse "rounds=N size=S [zerocopy=0|1]"; under sd->lock. */
static int sample_parse(struct sample_dev *sd, char *input, u32 *rounds,
			u32 *size, bool *zerocopy)
{
	const char *name = dev_name(&sd->dibs->dev);
	char *token, *value;
	u32 val;

	lockdep_assert_held(&sd->lock);
	*rounds = 0;
	*size = 0;
	*zerocopy = false;
	while ((token = strsep(&input, " \t\n"))) {
		if (!*token)
			continue;
		value = strchr(token, '=');
		if (!value || kstrtou32(value + 1, 0, &val)) {
			pr_warn("%s: expected key=number, got \"%s\"\n", name,
				token);
			return -EINVAL;
		}
		*value = '\0';
		if (!strcmp(token, "rounds")) {
			*rounds = val;
		} else if (!strcmp(token, "size")) {
			*size = val;
		} else if (!strcmp(token, "zerocopy") && val <= 1) {
			*zerocopy = val;
		} else {
			pr_warn("%s: bad key or value \"%s=%u\"\n", name, token,
				val);
			return -EINVAL;
		}
	}
	if (*rounds < 1 || *rounds > SAMPLE_MAX_ROUNDS) {
		pr_warn("%s: rounds must be 1 to %u\n", name, SAMPLE_MAX_ROUNDS);
		return -EINVAL;
	}
	if (*size < 1 || *size > SAMPLE_MAX_SIZE) {
		pr_warn("%s: size must be 1 to %u\n", name, SAMPLE_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

static int sample_start(struct sample_dev *sd, u32 rounds, u32 size,
			bool zerocopy)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	void *tx, *expect;
	u32 *ns;
	int ret;

	if (ops->query_remote_gid(sd->dibs, &sd->dibs->gid, 0, 0))
		return -ENETUNREACH;
	if (zerocopy && (!ops->support_mmapped_rdmb ||
			 !ops->support_mmapped_rdmb(sd->dibs)))
		return -EOPNOTSUPP;

	/*
	 * The results of the previous run stay readable, with their own
	 * round count, until everything of the new one is allocated.
	 */
	ns = kvcalloc(rounds, sizeof(*ns), GFP_KERNEL);
	tx = kvmalloc(size, GFP_KERNEL);
	expect = kvmalloc(size, GFP_KERNEL);
	if (!ns || !tx || !expect) {
		kvfree(ns);
		kvfree(tx);
		kvfree(expect);
		return -ENOMEM;
	}

	kvfree(sd->ns);
	sd->ns = ns;
	sd->tx = tx;
	sd->expect = expect;
	sd->rounds = rounds;
	sd->size = size;
	sd->zerocopy = zerocopy;
	sd->rounds_done = 0;
	sd->bytes_verified = 0;
	sd->errors = 0;
	sd->last_error = 0;
	sd->total_ns = 0;
	sd->pending = 0;
	sd->state = SAMPLE_RUNNING;
	sd->run_start = ktime_get_ns();
	ret = sample_setup_dmbs(sd);
	if (ret) {
		sample_error(sd, ret, "setting up the DMBs");
		sample_finish(sd, SAMPLE_FAILED);
		return ret;
	}
	sample_start_round(sd);
	return 0;
}

static ssize_t sample_start_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct sample_dev *sd = file->private_data;
	char input[SAMPLE_INPUT_MAX];
	bool zerocopy;
	u32 rounds, size;
	int ret;

	if (!count || count >= sizeof(input)) {
		pr_warn("%s: input must be 1 to %zu bytes\n",
			dev_name(&sd->dibs->dev), sizeof(input) - 1);
		return -EINVAL;
	}
	if (copy_from_user(input, ubuf, count))
		return -EFAULT;
	input[count] = '\0';

	mutex_lock(&sd->lock);
	ret = sample_parse(sd, input, &rounds, &size, &zerocopy);
	if (!ret && sd->state == SAMPLE_RUNNING)
		ret = -EBUSY;
	if (!ret)
		ret = sample_start(sd, rounds, size, zerocopy);
	mutex_unlock(&sd->lock);
	return ret ? ret : count;
}

static int sample_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int sample_results_show(struct seq_file *m, void *unused)
{
	struct sample_dev *sd = m->private;
	u32 n, min = 0, p50 = 0, p99 = 0, max = 0;

	mutex_lock(&sd->lock);
	n = sd->rounds_done;
	if (sd->state != SAMPLE_RUNNING && n) {
		/* Sorting in place is fine: the run is over. */
		sort(sd->ns, n, sizeof(*sd->ns), sample_cmp_u32, NULL);
		min = sd->ns[0];
		p50 = sd->ns[(n - 1) / 2];
		p99 = sd->ns[(u64)(n - 1) * 99 / 100];
		max = sd->ns[n - 1];
	}
	seq_printf(m, "device: %s\n", dev_name(&sd->dibs->dev));
	seq_printf(m, "state: %s\n", sample_state_names[sd->state]);
	seq_printf(m, "rounds: %u\n", sd->rounds);
	seq_printf(m, "size: %u\n", sd->size);
	seq_printf(m, "zerocopy: %d\n", sd->zerocopy);
	seq_printf(m, "rounds_done: %u\n", n);
	seq_printf(m, "bytes_verified: %llu\n", sd->bytes_verified);
	seq_printf(m, "errors: %u\n", sd->errors);
	seq_printf(m, "last_error: %d\n", sd->last_error);
	seq_printf(m, "total_ns: %llu\n", sd->total_ns);
	seq_printf(m, "round_ns_min: %u\n", min);
	seq_printf(m, "round_ns_p50: %u\n", p50);
	seq_printf(m, "round_ns_p99: %u\n", p99);
	seq_printf(m, "round_ns_max: %u\n", max);
	mutex_unlock(&sd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sample_results);

static const struct file_operations sample_start_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sample_start_write,
	.llseek = noop_llseek,
};

/* Abort a run, if any; the caller ensures no new signal can arrive. */
static void sample_stop(struct sample_dev *sd)
{
	mutex_lock(&sd->lock);
	if (sd->state == SAMPLE_RUNNING) {
		sample_finish(sd, SAMPLE_ABORTED);
		dev_info(&sd->dibs->dev,
			 "dibs_sample: run aborted after %u of %u rounds\n",
			 sd->rounds_done, sd->rounds);
	}
	mutex_unlock(&sd->lock);
	/* A signal that raced the abort finds the run over. */
	cancel_work_sync(&sd->work);
}

static void sample_add_dev(struct dibs_dev *dibs)
{
	struct sample_dev *sd;

	sd = kzalloc(sizeof(*sd), GFP_KERNEL);
	if (!sd)
		goto err;
	sd->dibs = dibs;
	sd->ctrl_idx[0] = U32_MAX;
	sd->ctrl_idx[1] = U32_MAX;
	mutex_init(&sd->lock);
	INIT_WORK(&sd->work, sample_work);
	sd->wq = alloc_ordered_workqueue("dibs_sample/%s", 0,
					 dev_name(&dibs->dev));
	if (!sd->wq)
		goto err_free;

	sd->dir = debugfs_create_dir(dev_name(&dibs->dev), sample_debugfs);
	debugfs_create_file("start", 0200, sd->dir, sd, &sample_start_fops);
	debugfs_create_file("results", 0444, sd->dir, sd,
			    &sample_results_fops);

	mutex_lock(&sample_devs_lock);
	list_add_tail(&sd->node, &sample_devs);
	mutex_unlock(&sample_devs_lock);
	dibs_set_priv(dibs, &sample_client, sd);
	return;

err_free:
	kfree(sd);
err:
	dev_err(&dibs->dev, "dibs_sample: out of memory, device not used\n");
}

static void sample_del_dev(struct dibs_dev *dibs)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);

	if (!sd)
		return;
	/* No start or results call is running once this returns. */
	debugfs_remove(sd->dir);
	sample_stop(sd);

	mutex_lock(&sample_devs_lock);
	list_del(&sd->node);
	mutex_unlock(&sample_devs_lock);
	dibs_set_priv(dibs, &sample_client, NULL);

	destroy_workqueue(sd->wq);
	mutex_destroy(&sd->lock);
	kvfree(sd->ns);
	kfree(sd);
}

static const struct dibs_client_ops sample_client_ops = {
	.add_dev = sample_add_dev,
	.del_dev = sample_del_dev,
	.handle_irq = sample_handle_irq,
	.handle_event = sample_handle_event,
};

static struct dibs_client sample_client = {
	.name = "dibs_sample",
	.ops = &sample_client_ops,
};

static int __init sample_init(void)
{
	int ret;

	sample_debugfs = debugfs_create_dir("dibs_sample", NULL);
	ret = dibs_register_client(&sample_client);
	if (ret)
		debugfs_remove(sample_debugfs);
	return ret;
}

static void __exit sample_exit(void)
{
	struct sample_dev *sd;
	int ret;

	/*
	 * The client may not go while it owns DMBs, so end the runs first.
	 * The debugfs files pin the module while open, so no new run can
	 * start now.
	 */
	mutex_lock(&sample_devs_lock);
	list_for_each_entry(sd, &sample_devs, node)
		sample_stop(sd);
	mutex_unlock(&sample_devs_lock);

	ret = dibs_unregister_client(&sample_client);
	WARN(ret, "dibs_sample: cannot unregister: %d\n", ret);
	debugfs_remove(sample_debugfs);
}

module_init(sample_init);
module_exit(sample_exit);

MODULE_DESCRIPTION("DIBS sample client: a verified ping-pong");
MODULE_LICENSE("GPL");
