// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS sample client: a verified ping-pong over a DIBS device, between two
 * endpoints on one device or with a peer on another device of the fabric,
 * steered through debugfs.
 */

#define pr_fmt(fmt) "dibs_sample: " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dibs.h>
#include <linux/jiffies.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/uuid.h>
#include <linux/workqueue.h>

/**
 * DOC: sample client
 *
 * ``dibs_sample`` registers one DIBS client. On every device it is given it
 * offers a ping-pong between two endpoints, the initiator A and the
 * responder B, the way a real client exchanges data:
 *
 * - each endpoint registers a data DMB for the payload and a small control
 *   DMB for messages, with the other endpoint's GID as the remote writer;
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
 * write to the end of A's verification.
 *
 * Both endpoints are on the same device for a local run, which needs a
 * device that reaches itself (such as the loopback device). For a run
 * with a peer, A is on this device and B is the sample client on the
 * device with the peer's GID; the two learn each other's DMB tokens
 * through DIBS itself, with signal_event(), whose 8 bytes of data carry
 * one token or parameter per event: A sends the size and mode, then its
 * control and data tokens; B registers its DMBs for A and answers with its
 * tokens and a go-ahead, or with a refusal and an error. When the run ends
 * A tells B, which then lets go of its DMBs. Every device's client answers
 * one peer at a time, and loses its session when the peer becomes
 * unreachable (the device's %DIBS_DEV_EVENT). The interface, one directory
 * per device in ``/sys/kernel/debug/dibs_sample/<device>/``:
 *
 * ``start`` (write)
 *	``rounds=N size=S [zerocopy=0|1] [peer=GID]`` starts a run of N rounds
 *	(1 to 1000000) with S-byte payloads (1 to 1048576), with the peer
 *	whose GID is given, or locally, and returns at once. Fails with
 *	``-EINVAL`` for bad input (the kernel log says why), ``-EBUSY`` while
 *	a run goes on or, for a local run, while B answers a peer,
 *	``-ENETUNREACH`` if the device cannot reach the peer (itself, for a
 *	local run), and ``-EOPNOTSUPP`` for zero-copy on a device without it
 *	or a peer on a device without signal_event(). A run with a peer that
 *	does not answer within five seconds fails with ``-ETIMEDOUT``; one
 *	that the peer refuses, with the peer's error.
 *
 * ``results`` (read)
 *	``key: value`` lines: ``state`` (idle, running, done, failed or
 *	aborted), the parameters, ``rounds_done``, ``bytes_verified``,
 *	``errors``, ``last_error`` and the round times ``total_ns``,
 *	``round_ns_min``, ``round_ns_p50``, ``round_ns_p99`` and
 *	``round_ns_max`` of the last run started here; then what B did for
 *	peers since the module was loaded: ``served_runs``,
 *	``served_rounds`` and ``served_bytes`` (bytes B verified), and
 *	``serving``, the GID of the peer B answers now, or ``none``; last,
 *	what the device counted during the last run (so far, while it goes
 *	on), one ``dev_<counter>`` line per &enum dibs_stat counter, named
 *	as in the device's ``statistics`` directory in sysfs, with
 *	``dmb_bytes_registered`` and ``dmb_bytes_unregistered`` for the
 *	lengths. Other users of the device count there too.
 *
 * A run that loses its device (del_dev()) or its module ends as aborted,
 * and the kernel log says so ("run aborted after N of M rounds"), since the
 * device's directory goes away with it. A run whose peer becomes
 * unreachable fails with ``-ECONNRESET``. The client holds DMBs only while
 * a run goes on.
 */

#define SAMPLE_MAX_ROUNDS	1000000
#define SAMPLE_MAX_SIZE		SZ_1M
#define SAMPLE_CTRL_LEN		64
/* The signalling index used for control messages, as SMC-D does. */
#define SAMPLE_SIGNAL		0
#define SAMPLE_INPUT_MAX	128
/* How long A waits for its peer to answer. */
#define SAMPLE_CONNECT_TIMEOUT	(5 * HZ)
/* How long a sender waits for room in a full event queue, in 20 ms steps. */
#define SAMPLE_EVENT_TRIES	50
#define SAMPLE_EVENTS		16

/*
 * The code of the sample's software events: a byte that tells them from
 * other clients' events, the message type and the run's session number.
 */
#define SAMPLE_EV_MAGIC		0xd5000000U
#define SAMPLE_EV_MAGIC_MASK	0xff000000U
#define SAMPLE_EV(type, session) (SAMPLE_EV_MAGIC | (type) << 16 | (session))
#define SAMPLE_EV_TYPE(code)	(((code) >> 16) & 0xff)
#define SAMPLE_EV_SESSION(code)	((code) & 0xffff)

/*
 * The messages between A and B; the event's data after the colon. Each
 * type of a data DMB's token follows that of the control DMB's.
 */
enum sample_ev {
	SAMPLE_EV_OPEN = 1,	/* to B: size, and zero-copy in bit 32 */
	SAMPLE_EV_OPEN_CTRL,	/* to B: A's control DMB */
	SAMPLE_EV_OPEN_DATA,	/* to B: A's data DMB */
	SAMPLE_EV_END,		/* to B: the run is over */
	SAMPLE_EV_ACCEPT_CTRL,	/* to A: B's control DMB */
	SAMPLE_EV_ACCEPT_DATA,	/* to A: B's data DMB */
	SAMPLE_EV_READY,	/* to A: B is ready for the rounds */
	SAMPLE_EV_REFUSE,	/* to A: B cannot take or go on with the run: errno */
};

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

/* What B is doing. */
enum sample_role_b {
	SAMPLE_B_IDLE,
	SAMPLE_B_LOCAL,		/* part of a local run */
	SAMPLE_B_OPENING,	/* registered for a peer, waiting for its tokens */
	SAMPLE_B_SERVING,	/* answering a peer's rounds */
};

/* A control message; big-endian, as everything that crosses a fabric. */
struct sample_msg {
	__be32 round;
	__be32 size;
};

/* The endpoints, indexes of &sample_dev.end. */
enum { SAMPLE_A, SAMPLE_B };

/* Bits of &sample_dev.pending: what the work has to look at. */
enum {
	SAMPLE_SIG_A,		/* A was signalled */
	SAMPLE_SIG_B,		/* B was signalled */
	SAMPLE_EVENTS_IN,	/* software events are queued */
	SAMPLE_PEERS,		/* a remote device changed state */
};

/**
 * struct sample_event - a software event, as handle_event() queues it
 * @gid: the sender.
 * @code: its code.
 * @info: its data.
 */
struct sample_event {
	uuid_t gid;
	u32 code;
	u64 info;
};

/**
 * struct sample_end - one endpoint of the ping-pong
 * @data: the DMB the endpoint receives payloads in.
 * @ctrl: the DMB the endpoint receives control messages in.
 * @peer: zero-copy mapping of the other endpoint's data DMB.
 * @attached: @peer is attached.
 * @gid: the GID of the other endpoint's device.
 * @peer_ctrl: token of the other endpoint's control DMB, or 0.
 * @peer_data: token of the other endpoint's data DMB, or 0.
 * @size: payload size.
 * @zerocopy: write payloads through @peer.
 * @round: the round the endpoint expects next (B only).
 * @tx: the payload to send.
 * @expect: the payload expected.
 */
struct sample_end {
	struct dibs_dmb data;
	struct dibs_dmb ctrl;
	struct dibs_dmb peer;
	bool attached;
	uuid_t gid;
	u64 peer_ctrl;
	u64 peer_data;
	u32 size;
	bool zerocopy;
	u32 round;
	u8 *tx;
	u8 *expect;
};

/**
 * struct sample_dev - the sample client's state for one device
 * @dibs: the device.
 * @node: entry in sample_devs.
 * @dir: its debugfs directory.
 * @wq: ordered workqueue for the protocol work.
 * @work: processes signals and events; see sample_work().
 * @timeout: ends a run whose peer does not answer.
 * @pending: SAMPLE_* bits set by the handlers.
 * @ctrl_idx: DMB index of each endpoint's control DMB, for handle_irq().
 * @events: software events for the work.
 * @events_lock: serialises writers of @events.
 * @lock: protects everything below.
 * @stopped: the device or the module goes: no new run or session.
 * @state: A's run, an &enum sample_state value.
 * @remote: the run is with a peer.
 * @peer: the peer's GID, for a run with a peer.
 * @size: payload size of the run.
 * @zerocopy: the run writes through attach_dmb() mappings.
 * @connected: B answered: the rounds go on.
 * @session: number of the run with a peer, in its events.
 * @deadline: when @timeout ends an unanswered run, in jiffies.
 * @rounds: rounds requested.
 * @rounds_done: rounds completed and verified.
 * @bytes_verified: payload bytes verified, both directions.
 * @errors: errors seen.
 * @last_error: the last error, or 0.
 * @round_start: start of the current round.
 * @ns: duration of each completed round.
 * @total_ns: time from the start of the run to its end.
 * @run_start: start of the run.
 * @stats_start: the device's counters at the start of the run.
 * @stats_run: what they grew by during the run, once it ended.
 * @role_b: what B does, an &enum sample_role_b value.
 * @b_session: the session B serves.
 * @served_runs: runs of peers B became ready for.
 * @served_rounds: rounds B answered for peers.
 * @served_bytes: payload bytes B verified for peers.
 * @end: endpoints A and B.
 */
struct sample_dev {
	struct dibs_dev *dibs;
	struct list_head node;
	struct dentry *dir;
	struct workqueue_struct *wq;
	struct work_struct work;
	struct delayed_work timeout;
	unsigned long pending;
	u32 ctrl_idx[2];
	DECLARE_KFIFO(events, struct sample_event, SAMPLE_EVENTS);
	spinlock_t events_lock;	/* see above */

	struct mutex lock;	/* see above */
	bool stopped;
	enum sample_state state;
	bool remote;
	uuid_t peer;
	u32 size;
	bool zerocopy;
	bool connected;
	u16 session;
	unsigned long deadline;
	u32 rounds;
	u32 rounds_done;
	u64 bytes_verified;
	u32 errors;
	int last_error;
	u64 round_start;
	u32 *ns;
	u64 total_ns;
	u64 run_start;
	u64 stats_start[DIBS_STAT_NR];
	u64 stats_run[DIBS_STAT_NR];
	enum sample_role_b role_b;
	u16 b_session;
	u64 served_runs;
	u64 served_rounds;
	u64 served_bytes;
	struct sample_end end[2];
};

static struct dibs_client sample_client;
/* Serialises module exit against add_dev()/del_dev(); protects sample_devs. */
static DEFINE_MUTEX(sample_devs_lock);
static LIST_HEAD(sample_devs);
static struct dentry *sample_debugfs;

/*
 * Payload of round @round from endpoint @from: differs every round and
 * every 8 bytes. A 64-bit xorshift step per 8 bytes, stored little-endian
 * so that both ends agree whatever their byte order, keeps the payload's
 * cost well below the transport's (a step per byte cost more than moving
 * the bytes between two VMs).
 */
static void sample_fill(u8 *buf, u32 size, u32 round, int from)
{
	u64 x = (round * 2ULL + from + 1) * 0x9e3779b97f4a7c15ULL;
	__le64 tail;
	u32 i;

	for (i = 0; i < size; i += sizeof(x)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (size - i >= sizeof(x)) {
			put_unaligned_le64(x, buf + i);
		} else {
			tail = cpu_to_le64(x);
			memcpy(buf + i, &tail, size - i);
		}
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

/*
 * Send event @type of session @session to the device @gid. A full event
 * queue at the receiver drains as its device takes the events, so wait a
 * little for room.
 */
static int sample_signal(struct sample_dev *sd, const uuid_t *gid,
			 enum sample_ev type, u16 session, u64 info)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	int i, ret;

	for (i = 0; i < SAMPLE_EVENT_TRIES; i++) {
		ret = ops->signal_event(sd->dibs, gid, 1,
					SAMPLE_EV(type, session), info);
		if (ret != -EAGAIN)
			break;
		msleep(20);
	}
	return ret;
}

/* Allocate endpoint @i's buffers and register its DMBs for @e->gid. */
static int sample_setup_end(struct sample_dev *sd, int i)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *e = &sd->end[i];
	int ret;

	e->tx = kvmalloc(e->size, GFP_KERNEL);
	e->expect = kvmalloc(e->size, GFP_KERNEL);
	if (!e->tx || !e->expect)
		return -ENOMEM;
	e->data.dmb_len = e->size;
	e->data.rgid = e->gid;
	ret = ops->register_dmb(sd->dibs, &e->data, &sample_client);
	if (ret) {
		e->data.cpu_addr = NULL;
		return ret;
	}
	e->ctrl.dmb_len = SAMPLE_CTRL_LEN;
	e->ctrl.rgid = e->gid;
	ret = ops->register_dmb(sd->dibs, &e->ctrl, &sample_client);
	if (ret) {
		e->ctrl.cpu_addr = NULL;
		return ret;
	}
	WRITE_ONCE(sd->ctrl_idx[i], e->ctrl.idx);
	return 0;
}

/* For zero-copy, map the other endpoint's data DMB. */
static int sample_attach(struct sample_dev *sd, int i)
{
	struct sample_end *e = &sd->end[i];
	int ret;

	if (!e->zerocopy)
		return 0;
	e->peer.dmb_tok = e->peer_data;
	ret = sd->dibs->ops->attach_dmb(sd->dibs, &e->peer);
	if (ret)
		return ret;
	e->attached = true;
	return e->peer.dmb_len < e->size ? -EPROTO : 0;
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

/* Undo sample_setup_end() and sample_attach(), whatever part succeeded. */
static void sample_release_end(struct sample_dev *sd, int i)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *e = &sd->end[i];
	int ret;

	if (e->attached) {
		ret = ops->detach_dmb(sd->dibs, e->peer.dmb_tok);
		sample_check_release(sd, ret, "detach_dmb()");
	}
	WRITE_ONCE(sd->ctrl_idx[i], U32_MAX);
	if (e->ctrl.cpu_addr) {
		ret = ops->unregister_dmb(sd->dibs, &e->ctrl);
		sample_check_release(sd, ret, "unregister_dmb()");
	}
	if (e->data.cpu_addr) {
		ret = ops->unregister_dmb(sd->dibs, &e->data);
		sample_check_release(sd, ret, "unregister_dmb()");
	}
	kvfree(e->tx);
	kvfree(e->expect);
	memset(e, 0, sizeof(*e));
}

/* What the device counted since the run started; under sd->lock. */
static void sample_run_stats(struct sample_dev *sd, u64 *stats)
{
	int i;

	dibs_dev_get_stats(sd->dibs, stats);
	for (i = 0; i < DIBS_STAT_NR; i++)
		stats[i] -= sd->stats_start[i];
}

/* End A's run in @state; under sd->lock. */
static void sample_finish(struct sample_dev *sd, enum sample_state state)
{
	struct sample_end *a = &sd->end[SAMPLE_A];

	lockdep_assert_held(&sd->lock);
	if (sd->state == SAMPLE_RUNNING)
		sd->state = state;
	sd->total_ns = ktime_get_ns() - sd->run_start;
	if (sd->remote) {
		/* B lets go of its DMBs; if it cannot be told, it is gone. */
		sample_signal(sd, &a->gid, SAMPLE_EV_END, sd->session, 0);
	} else {
		sample_release_end(sd, SAMPLE_B);
		sd->role_b = SAMPLE_B_IDLE;
	}
	sample_release_end(sd, SAMPLE_A);
	sample_run_stats(sd, sd->stats_run);
}

/* Whether B is set up for a peer, opening or serving; under sd->lock. */
static bool sample_b_has_peer(struct sample_dev *sd)
{
	return sd->role_b == SAMPLE_B_OPENING || sd->role_b == SAMPLE_B_SERVING;
}

/* End what B does for a peer; under sd->lock. */
static void sample_end_b(struct sample_dev *sd)
{
	lockdep_assert_held(&sd->lock);
	if (!sample_b_has_peer(sd))
		return;
	sample_release_end(sd, SAMPLE_B);
	sd->role_b = SAMPLE_B_IDLE;
}

/* Send round @round's payload and message from endpoint @from. */
static int sample_send(struct sample_dev *sd, int from, u32 round)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *e = &sd->end[from];
	struct sample_msg msg = {
		.round = cpu_to_be32(round),
		.size = cpu_to_be32(e->size),
	};
	int ret;

	if (e->zerocopy) {
		sample_fill(e->peer.cpu_addr, e->size, round, from);
	} else {
		sample_fill(e->tx, e->size, round, from);
		ret = ops->move_data(sd->dibs, e->peer_data, SAMPLE_SIGNAL,
				     false, 0, e->tx, e->size);
		if (ret)
			return ret;
	}
	return ops->move_data(sd->dibs, e->peer_ctrl, SAMPLE_SIGNAL, true, 0,
			      &msg, sizeof(msg));
}

/* Check what endpoint @to received in round @round. */
static int sample_receive(struct sample_dev *sd, int to, u32 round)
{
	struct sample_end *e = &sd->end[to];
	struct sample_msg msg;

	memcpy(&msg, e->ctrl.cpu_addr, sizeof(msg));
	if (be32_to_cpu(msg.round) != round || be32_to_cpu(msg.size) != e->size)
		return -EPROTO;
	sample_fill(e->expect, e->size, round, !to);
	if (memcmp(e->data.cpu_addr, e->expect, e->size))
		return -EIO;
	return 0;
}

static void sample_start_round(struct sample_dev *sd)
{
	int ret;

	sd->round_start = ktime_get_ns();
	ret = sample_send(sd, SAMPLE_A, sd->rounds_done);
	if (ret) {
		sample_error(sd, ret, "sending from A");
		sample_finish(sd, SAMPLE_FAILED);
	}
}

/* B answers a round; under sd->lock. */
static void sample_answer(struct sample_dev *sd)
{
	struct sample_end *b = &sd->end[SAMPLE_B];
	int ret;

	ret = sample_receive(sd, SAMPLE_B, b->round);
	if (!ret)
		ret = sample_send(sd, SAMPLE_B, b->round);
	if (sd->role_b == SAMPLE_B_LOCAL) {
		if (ret) {
			sample_error(sd, ret, "B receiving or answering");
			sample_finish(sd, SAMPLE_FAILED);
			return;
		}
		sd->bytes_verified += b->size;
	} else {
		if (ret) {
			dev_warn(&sd->dibs->dev,
				 "dibs_sample: answering %pUb failed at round %u: %d\n",
				 &b->gid, b->round, ret);
			sample_signal(sd, &b->gid, SAMPLE_EV_REFUSE,
				      sd->b_session, -ret);
			sample_end_b(sd);
			return;
		}
		sd->served_rounds++;
		sd->served_bytes += b->size;
	}
	b->round++;
}

/* A completes a round and starts the next one; under sd->lock. */
static void sample_complete_round(struct sample_dev *sd)
{
	u32 round = sd->rounds_done;
	int ret;

	ret = sample_receive(sd, SAMPLE_A, round);
	if (ret) {
		sample_error(sd, ret, "A receiving");
		sample_finish(sd, SAMPLE_FAILED);
		return;
	}
	sd->bytes_verified += sd->end[SAMPLE_A].size;
	/* A peer answers only what it verified. */
	if (sd->remote)
		sd->bytes_verified += sd->end[SAMPLE_A].size;
	sd->ns[round] = min_t(u64, ktime_get_ns() - sd->round_start, U32_MAX);
	sd->rounds_done++;
	if (sd->rounds_done == sd->rounds)
		sample_finish(sd, SAMPLE_DONE);
	else
		sample_start_round(sd);
}

/* B takes a peer's request for a run; under sd->lock. */
static void sample_b_open(struct sample_dev *sd, const uuid_t *gid,
			  u16 session, u64 info)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *b = &sd->end[SAMPLE_B];
	u64 size = lower_32_bits(info);
	u64 zerocopy = upper_32_bits(info);
	int ret;

	if (sd->stopped) {
		ret = -ESHUTDOWN;
		goto refuse;
	}
	if (sd->role_b == SAMPLE_B_LOCAL ||
	    (sd->role_b != SAMPLE_B_IDLE && !uuid_equal(gid, &b->gid))) {
		ret = -EBUSY;
		goto refuse;
	}
	/* The peer started over. */
	sample_end_b(sd);
	if (!size || size > SAMPLE_MAX_SIZE || zerocopy > 1) {
		ret = -EINVAL;
		goto refuse;
	}
	if (zerocopy && (!ops->support_mmapped_rdmb ||
			 !ops->support_mmapped_rdmb(sd->dibs))) {
		ret = -EOPNOTSUPP;
		goto refuse;
	}
	b->gid = *gid;
	b->size = size;
	b->zerocopy = zerocopy;
	sd->b_session = session;
	sd->role_b = SAMPLE_B_OPENING;
	ret = sample_setup_end(sd, SAMPLE_B);
	if (ret) {
		sample_end_b(sd);
		goto refuse;
	}
	return;

refuse:
	dev_info(&sd->dibs->dev, "dibs_sample: refused a run of %pUb: %d\n",
		 gid, ret);
	sample_signal(sd, gid, SAMPLE_EV_REFUSE, session, -ret);
}

/*
 * Tell the other endpoint the tokens of endpoint @i's DMBs: the control
 * DMB's in an event of type @ctrl, the data DMB's in the type after it.
 */
static int sample_send_tokens(struct sample_dev *sd, int i, enum sample_ev ctrl,
			      u16 session)
{
	struct sample_end *e = &sd->end[i];
	int ret;

	ret = sample_signal(sd, &e->gid, ctrl, session, e->ctrl.dmb_tok);
	if (!ret)
		ret = sample_signal(sd, &e->gid, ctrl + 1, session,
				    e->data.dmb_tok);
	return ret;
}

/* B has both of A's tokens: attach for zero-copy and answer; under sd->lock. */
static void sample_b_ready(struct sample_dev *sd)
{
	struct sample_end *b = &sd->end[SAMPLE_B];
	int ret;

	ret = sample_attach(sd, SAMPLE_B);
	if (!ret)
		ret = sample_send_tokens(sd, SAMPLE_B, SAMPLE_EV_ACCEPT_CTRL,
					 sd->b_session);
	if (!ret)
		ret = sample_signal(sd, &b->gid, SAMPLE_EV_READY,
				    sd->b_session, 0);
	if (ret) {
		dev_info(&sd->dibs->dev,
			 "dibs_sample: cannot answer %pUb: %d\n", &b->gid, ret);
		sample_signal(sd, &b->gid, SAMPLE_EV_REFUSE, sd->b_session,
			      -ret);
		sample_end_b(sd);
		return;
	}
	sd->role_b = SAMPLE_B_SERVING;
	sd->served_runs++;
}

/* A's peer answered: attach for zero-copy and go; under sd->lock. */
static void sample_a_ready(struct sample_dev *sd)
{
	struct sample_end *a = &sd->end[SAMPLE_A];
	int ret;

	ret = a->peer_ctrl && a->peer_data ? sample_attach(sd, SAMPLE_A) :
					       -EPROTO;
	if (ret) {
		sample_error(sd, ret, "connecting");
		sample_finish(sd, SAMPLE_FAILED);
		return;
	}
	sd->connected = true;
	sample_start_round(sd);
}

/* One software event; under sd->lock. */
static void sample_event(struct sample_dev *sd, const struct sample_event *ev)
{
	struct sample_end *a = &sd->end[SAMPLE_A], *b = &sd->end[SAMPLE_B];
	u16 session = SAMPLE_EV_SESSION(ev->code);
	bool for_b, for_a;

	if ((ev->code & SAMPLE_EV_MAGIC_MASK) != SAMPLE_EV_MAGIC)
		return;
	/* The run or the session the event belongs to. */
	for_a = sd->state == SAMPLE_RUNNING && sd->remote && !sd->connected &&
		session == sd->session && uuid_equal(&ev->gid, &a->gid);
	for_b = sample_b_has_peer(sd) && session == sd->b_session &&
		uuid_equal(&ev->gid, &b->gid);

	switch (SAMPLE_EV_TYPE(ev->code)) {
	case SAMPLE_EV_OPEN:
		sample_b_open(sd, &ev->gid, session, ev->info);
		break;
	case SAMPLE_EV_OPEN_CTRL:
	case SAMPLE_EV_OPEN_DATA:
		if (!for_b || sd->role_b != SAMPLE_B_OPENING)
			break;
		if (SAMPLE_EV_TYPE(ev->code) == SAMPLE_EV_OPEN_CTRL)
			b->peer_ctrl = ev->info;
		else
			b->peer_data = ev->info;
		if (b->peer_ctrl && b->peer_data)
			sample_b_ready(sd);
		break;
	case SAMPLE_EV_END:
		if (for_b)
			sample_end_b(sd);
		break;
	case SAMPLE_EV_ACCEPT_CTRL:
		if (for_a)
			a->peer_ctrl = ev->info;
		break;
	case SAMPLE_EV_ACCEPT_DATA:
		if (for_a)
			a->peer_data = ev->info;
		break;
	case SAMPLE_EV_READY:
		if (for_a)
			sample_a_ready(sd);
		break;
	case SAMPLE_EV_REFUSE:
		/* Also while connected: B gave up on the run. */
		if (sd->state == SAMPLE_RUNNING && sd->remote &&
		    session == sd->session && uuid_equal(&ev->gid, &a->gid)) {
			sample_error(sd, ev->info && ev->info <= MAX_ERRNO ?
					 -(int)ev->info : -EPROTO,
				     "the peer's answer");
			sample_finish(sd, SAMPLE_FAILED);
		}
		break;
	}
}

/* A remote device changed state: drop what depends on a lost peer. */
static void sample_check_peers(struct sample_dev *sd)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *a = &sd->end[SAMPLE_A], *b = &sd->end[SAMPLE_B];

	lockdep_assert_held(&sd->lock);
	if (sd->state == SAMPLE_RUNNING && sd->remote &&
	    ops->query_remote_gid(sd->dibs, &a->gid, 0, 0)) {
		sample_error(sd, -ECONNRESET, "reaching the peer");
		sample_finish(sd, SAMPLE_FAILED);
	}
	if (sample_b_has_peer(sd) &&
	    ops->query_remote_gid(sd->dibs, &b->gid, 0, 0)) {
		dev_info(&sd->dibs->dev, "dibs_sample: lost the peer %pUb\n",
			 &b->gid);
		sample_end_b(sd);
	}
}

/*
 * The protocol, in process context: events first, as they set up what
 * signals then use; then B answers what it received, and A completes the
 * round and starts the next one. The workqueue is ordered, so there is
 * never more than one instance at a time.
 */
static void sample_work(struct work_struct *work)
{
	struct sample_dev *sd = container_of(work, struct sample_dev, work);
	struct sample_event ev;

	mutex_lock(&sd->lock);
	if (test_and_clear_bit(SAMPLE_EVENTS_IN, &sd->pending))
		while (kfifo_get(&sd->events, &ev))
			sample_event(sd, &ev);
	if (test_and_clear_bit(SAMPLE_PEERS, &sd->pending))
		sample_check_peers(sd);
	if (test_and_clear_bit(SAMPLE_SIG_B, &sd->pending) &&
	    (sd->role_b == SAMPLE_B_SERVING ||
	     (sd->role_b == SAMPLE_B_LOCAL && sd->state == SAMPLE_RUNNING)))
		sample_answer(sd);
	if (test_and_clear_bit(SAMPLE_SIG_A, &sd->pending) &&
	    sd->state == SAMPLE_RUNNING && (!sd->remote || sd->connected))
		sample_complete_round(sd);
	mutex_unlock(&sd->lock);
}

/* Ends a run whose peer did not answer in time. */
static void sample_timeout(struct work_struct *work)
{
	struct sample_dev *sd = container_of(to_delayed_work(work),
					     struct sample_dev, timeout);

	mutex_lock(&sd->lock);
	/* A later run may have started since the timer went off. */
	if (sd->state == SAMPLE_RUNNING && sd->remote && !sd->connected &&
	    time_after_eq(jiffies, sd->deadline)) {
		sample_error(sd, -ETIMEDOUT, "waiting for the peer");
		sample_finish(sd, SAMPLE_FAILED);
	}
	mutex_unlock(&sd->lock);
}

/* Runs in the device's signalling context: note the signal, defer. */
static void sample_handle_irq(struct dibs_dev *dibs, unsigned int idx,
			      u16 dmbemask)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);

	if (!sd)
		return;
	if (idx == READ_ONCE(sd->ctrl_idx[SAMPLE_A]))
		set_bit(SAMPLE_SIG_A, &sd->pending);
	else if (idx == READ_ONCE(sd->ctrl_idx[SAMPLE_B]))
		set_bit(SAMPLE_SIG_B, &sd->pending);
	else
		return;
	queue_work(sd->wq, &sd->work);
}

/* Any context: queue software events, note changes of remote devices. */
static void sample_handle_event(struct dibs_dev *dibs,
				const struct dibs_event *event)
{
	struct sample_dev *sd = dibs_get_priv(dibs, &sample_client);
	struct sample_event ev;

	if (!sd)
		return;
	switch (event->type) {
	case DIBS_SW_EVENT:
		if ((event->subtype & SAMPLE_EV_MAGIC_MASK) != SAMPLE_EV_MAGIC)
			return;
		ev.gid = event->gid;
		ev.code = event->subtype;
		ev.info = event->data;
		if (!kfifo_in_spinlocked(&sd->events, &ev, 1,
					 &sd->events_lock)) {
			dev_warn_ratelimited(&dibs->dev,
					     "dibs_sample: event queue full, event of %pUb dropped\n",
					     &event->gid);
			return;
		}
		set_bit(SAMPLE_EVENTS_IN, &sd->pending);
		break;
	case DIBS_DEV_EVENT:
		set_bit(SAMPLE_PEERS, &sd->pending);
		break;
	default:
		/* A DMB's writer is gone: the device event says which. */
		return;
	}
	queue_work(sd->wq, &sd->work);
}

/* Parse "rounds=N size=S [zerocopy=0|1] [peer=GID]"; under sd->lock. */
static int sample_parse(struct sample_dev *sd, char *input, u32 *rounds,
			u32 *size, bool *zerocopy, uuid_t *peer, bool *remote)
{
	const char *name = dev_name(&sd->dibs->dev);
	char *token, *value;
	u32 val;

	lockdep_assert_held(&sd->lock);
	*rounds = 0;
	*size = 0;
	*zerocopy = false;
	*remote = false;
	while ((token = strsep(&input, " \t\n"))) {
		if (!*token)
			continue;
		value = strchr(token, '=');
		if (!value) {
			pr_warn("%s: expected key=value, got \"%s\"\n", name,
				token);
			return -EINVAL;
		}
		*value++ = '\0';
		if (!strcmp(token, "peer")) {
			/* uuid_parse() ignores what follows the GID. */
			if (strlen(value) != UUID_STRING_LEN ||
			    uuid_parse(value, peer)) {
				pr_warn("%s: bad GID \"%s\"\n", name, value);
				return -EINVAL;
			}
			*remote = true;
			continue;
		}
		if (kstrtou32(value, 0, &val)) {
			pr_warn("%s: expected key=number, got \"%s=%s\"\n",
				name, token, value);
			return -EINVAL;
		}
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

/* Register A's DMBs and ask the peer for a run; under sd->lock. */
static int sample_start_remote(struct sample_dev *sd)
{
	struct sample_end *a = &sd->end[SAMPLE_A];
	u64 info = a->size | (u64)a->zerocopy << 32;
	int ret;

	sd->session++;
	sd->connected = false;
	ret = sample_setup_end(sd, SAMPLE_A);
	if (!ret)
		ret = sample_signal(sd, &a->gid, SAMPLE_EV_OPEN, sd->session,
				    info);
	if (!ret)
		ret = sample_send_tokens(sd, SAMPLE_A, SAMPLE_EV_OPEN_CTRL,
					 sd->session);
	if (ret)
		return ret;
	sd->deadline = jiffies + SAMPLE_CONNECT_TIMEOUT;
	mod_delayed_work(system_wq, &sd->timeout, SAMPLE_CONNECT_TIMEOUT);
	return 0;
}

/* Register both endpoints' DMBs and, for zero-copy, attach; under sd->lock. */
static int sample_start_local(struct sample_dev *sd)
{
	struct sample_end *a = &sd->end[SAMPLE_A], *b = &sd->end[SAMPLE_B];
	int ret;

	sd->role_b = SAMPLE_B_LOCAL;
	b->gid = sd->dibs->gid;
	b->size = a->size;
	b->zerocopy = a->zerocopy;
	ret = sample_setup_end(sd, SAMPLE_A);
	if (!ret)
		ret = sample_setup_end(sd, SAMPLE_B);
	if (ret)
		return ret;
	a->peer_ctrl = b->ctrl.dmb_tok;
	a->peer_data = b->data.dmb_tok;
	b->peer_ctrl = a->ctrl.dmb_tok;
	b->peer_data = a->data.dmb_tok;
	ret = sample_attach(sd, SAMPLE_A);
	if (!ret)
		ret = sample_attach(sd, SAMPLE_B);
	if (ret)
		return ret;
	sample_start_round(sd);
	return 0;
}

static int sample_start(struct sample_dev *sd, u32 rounds, u32 size,
			bool zerocopy, const uuid_t *peer, bool remote)
{
	const struct dibs_dev_ops *ops = sd->dibs->ops;
	struct sample_end *a = &sd->end[SAMPLE_A];
	u32 *ns;
	int ret;

	if (sd->stopped)
		return -ENODEV;
	if (sd->state == SAMPLE_RUNNING ||
	    (!remote && sd->role_b != SAMPLE_B_IDLE))
		return -EBUSY;
	if (!remote)
		peer = &sd->dibs->gid;
	if (ops->query_remote_gid(sd->dibs, peer, 0, 0))
		return -ENETUNREACH;
	if (zerocopy && (!ops->support_mmapped_rdmb ||
			 !ops->support_mmapped_rdmb(sd->dibs)))
		return -EOPNOTSUPP;
	if (remote && !ops->signal_event)
		return -EOPNOTSUPP;

	/*
	 * The results of the previous run stay readable, with their own
	 * round count, until everything of the new one is allocated.
	 */
	ns = kvcalloc(rounds, sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	kvfree(sd->ns);
	sd->ns = ns;
	sd->rounds = rounds;
	sd->remote = remote;
	sd->peer = *peer;
	sd->size = size;
	sd->zerocopy = zerocopy;
	sd->rounds_done = 0;
	sd->bytes_verified = 0;
	sd->errors = 0;
	sd->last_error = 0;
	sd->total_ns = 0;
	/* B may be serving a peer: its signals are not stale. */
	clear_bit(SAMPLE_SIG_A, &sd->pending);
	if (!remote)
		clear_bit(SAMPLE_SIG_B, &sd->pending);
	a->gid = *peer;
	a->size = size;
	a->zerocopy = zerocopy;
	sd->state = SAMPLE_RUNNING;
	sd->run_start = ktime_get_ns();
	dibs_dev_get_stats(sd->dibs, sd->stats_start);
	ret = remote ? sample_start_remote(sd) : sample_start_local(sd);
	if (ret) {
		sample_error(sd, ret, "setting up the run");
		sample_finish(sd, SAMPLE_FAILED);
	}
	return ret;
}

static ssize_t sample_start_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct sample_dev *sd = file->private_data;
	char input[SAMPLE_INPUT_MAX];
	bool zerocopy, remote;
	u32 rounds, size;
	uuid_t peer;
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
	ret = sample_parse(sd, input, &rounds, &size, &zerocopy, &peer,
			   &remote);
	if (!ret)
		ret = sample_start(sd, rounds, size, zerocopy, &peer, remote);
	mutex_unlock(&sd->lock);
	return ret ? ret : count;
}

static int sample_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* The device's counters, as results show them. */
static const char *const sample_stat_names[] = {
	[DIBS_STAT_MOVES] = "moves",
	[DIBS_STAT_BYTES_MOVED] = "bytes_moved",
	[DIBS_STAT_SIGNALS_SENT] = "signals_sent",
	[DIBS_STAT_SIGNALS_DELIVERED] = "signals_delivered",
	[DIBS_STAT_MOVE_ERR_TOKEN] = "move_errors_token",
	[DIBS_STAT_MOVE_ERR_RANGE] = "move_errors_range",
	[DIBS_STAT_MOVE_ERR_UNREACH] = "move_errors_unreachable",
	[DIBS_STAT_MOVE_ERR_OTHER] = "move_errors_other",
	[DIBS_STAT_DMB_REGS] = "dmb_registrations",
	[DIBS_STAT_DMB_UNREGS] = "dmb_unregistrations",
	[DIBS_STAT_DMB_BYTES_REG] = "dmb_bytes_registered",
	[DIBS_STAT_DMB_BYTES_UNREG] = "dmb_bytes_unregistered",
	[DIBS_STAT_ATTACHES] = "attaches",
	[DIBS_STAT_DETACHES] = "detaches",
};

static_assert(ARRAY_SIZE(sample_stat_names) == DIBS_STAT_NR);

static int sample_results_show(struct seq_file *m, void *unused)
{
	struct sample_dev *sd = m->private;
	u32 n, min = 0, p50 = 0, p99 = 0, max = 0;
	u64 stats[DIBS_STAT_NR];
	int i;

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
	if (sd->remote)
		seq_printf(m, "peer: %pUb\n", &sd->peer);
	else
		seq_puts(m, "peer: local\n");
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
	seq_printf(m, "served_runs: %llu\n", sd->served_runs);
	seq_printf(m, "served_rounds: %llu\n", sd->served_rounds);
	seq_printf(m, "served_bytes: %llu\n", sd->served_bytes);
	if (sample_b_has_peer(sd))
		seq_printf(m, "serving: %pUb\n", &sd->end[SAMPLE_B].gid);
	else
		seq_puts(m, "serving: none\n");
	if (sd->state == SAMPLE_RUNNING)
		sample_run_stats(sd, stats);
	else
		memcpy(stats, sd->stats_run, sizeof(stats));
	for (i = 0; i < DIBS_STAT_NR; i++)
		seq_printf(m, "dev_%s: %llu\n", sample_stat_names[i], stats[i]);
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

/*
 * End the run and the session, if any, and take no new ones; the caller
 * ensures that nothing starts a run any more.
 */
static void sample_stop(struct sample_dev *sd)
{
	struct sample_end *b = &sd->end[SAMPLE_B];

	mutex_lock(&sd->lock);
	sd->stopped = true;
	if (sd->state == SAMPLE_RUNNING) {
		sample_finish(sd, SAMPLE_ABORTED);
		dev_info(&sd->dibs->dev,
			 "dibs_sample: run aborted after %u of %u rounds\n",
			 sd->rounds_done, sd->rounds);
	}
	if (sample_b_has_peer(sd)) {
		sample_signal(sd, &b->gid, SAMPLE_EV_REFUSE, sd->b_session,
			      ESHUTDOWN);
		sample_end_b(sd);
	}
	mutex_unlock(&sd->lock);
	/* Signals and events that raced the end find nothing to do. */
	cancel_work_sync(&sd->work);
	cancel_delayed_work_sync(&sd->timeout);
}

static void sample_add_dev(struct dibs_dev *dibs)
{
	struct sample_dev *sd;

	sd = kzalloc_obj(*sd);
	if (!sd)
		goto err;
	sd->dibs = dibs;
	sd->ctrl_idx[SAMPLE_A] = U32_MAX;
	sd->ctrl_idx[SAMPLE_B] = U32_MAX;
	mutex_init(&sd->lock);
	spin_lock_init(&sd->events_lock);
	INIT_KFIFO(sd->events);
	INIT_WORK(&sd->work, sample_work);
	INIT_DELAYED_WORK(&sd->timeout, sample_timeout);
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
	 * The client may not go while it owns DMBs, so end the runs and
	 * sessions first, and take no new ones. The debugfs files pin the
	 * module while open, so no new run can start now.
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
