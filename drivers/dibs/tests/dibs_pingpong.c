// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS ping-pong test client: a verified ping-pong over a DIBS device,
 * between two endpoints on one device or with a peer on another device of
 * the fabric, steered through debugfs. The DIBS selftests, the leak check
 * and the benchmarks drive it; samples/dibs/dibs_sample.c is the short
 * example of a client.
 */

#define pr_fmt(fmt) "dibs_pingpong: " fmt

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
 * DOC: ping-pong test client
 *
 * ``dibs_pingpong`` registers one DIBS client. On every device it is given
 * it offers a ping-pong between two endpoints, the initiator A and the
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
 * with a peer, A is on this device and B is this client on the
 * device with the peer's GID; the two learn each other's DMB tokens
 * through DIBS itself, with signal_event(), whose 8 bytes of data carry
 * one token or parameter per event: A sends the size and mode, then its
 * control and data tokens; B registers its DMBs for A and answers with its
 * tokens and a go-ahead, or with a refusal and an error. When the run ends
 * A tells B, which then lets go of its DMBs. Every device's client answers
 * one peer at a time, and loses its session when the peer becomes
 * unreachable (the device's %DIBS_DEV_EVENT). The interface, one directory
 * per device in ``/sys/kernel/debug/dibs_pingpong/<device>/``:
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

#define PINGPONG_MAX_ROUNDS	1000000
#define PINGPONG_MAX_SIZE		SZ_1M
#define PINGPONG_CTRL_LEN		64
/* The signalling index used for control messages, as SMC-D does. */
#define PINGPONG_SIGNAL		0
#define PINGPONG_INPUT_MAX	128
/* How long A waits for its peer to answer. */
#define PINGPONG_CONNECT_TIMEOUT	(5 * HZ)
/* How long a sender waits for room in a full event queue, in 20 ms steps. */
#define PINGPONG_EVENT_TRIES	50
#define PINGPONG_EVENTS		16

/*
 * The code of the client's software events: a byte that tells them from
 * other clients' events, the message type and the run's session number.
 */
#define PINGPONG_EV_MAGIC		0xd5000000U
#define PINGPONG_EV_MAGIC_MASK	0xff000000U
#define PINGPONG_EV(type, session) \
	(PINGPONG_EV_MAGIC | (type) << 16 | (session))
#define PINGPONG_EV_TYPE(code)	(((code) >> 16) & 0xff)
#define PINGPONG_EV_SESSION(code)	((code) & 0xffff)

/*
 * The messages between A and B; the event's data after the colon. Each
 * type of a data DMB's token follows that of the control DMB's.
 */
enum pingpong_ev {
	PINGPONG_EV_OPEN = 1,	/* to B: size, and zero-copy in bit 32 */
	PINGPONG_EV_OPEN_CTRL,	/* to B: A's control DMB */
	PINGPONG_EV_OPEN_DATA,	/* to B: A's data DMB */
	PINGPONG_EV_END,		/* to B: the run is over */
	PINGPONG_EV_ACCEPT_CTRL,	/* to A: B's control DMB */
	PINGPONG_EV_ACCEPT_DATA,	/* to A: B's data DMB */
	PINGPONG_EV_READY,	/* to A: B is ready for the rounds */
	PINGPONG_EV_REFUSE,	/* to A: B cannot take or go on with the run: errno */
};

enum pingpong_state {
	PINGPONG_IDLE,
	PINGPONG_RUNNING,
	PINGPONG_DONE,
	PINGPONG_FAILED,
	PINGPONG_ABORTED,
};

static const char *const pingpong_state_names[] = {
	[PINGPONG_IDLE] = "idle",
	[PINGPONG_RUNNING] = "running",
	[PINGPONG_DONE] = "done",
	[PINGPONG_FAILED] = "failed",
	[PINGPONG_ABORTED] = "aborted",
};

/* What B is doing. */
enum pingpong_role_b {
	PINGPONG_B_IDLE,
	PINGPONG_B_LOCAL,		/* part of a local run */
	PINGPONG_B_OPENING,	/* registered for a peer, waiting for its tokens */
	PINGPONG_B_SERVING,	/* answering a peer's rounds */
};

/* A control message; big-endian, as everything that crosses a fabric. */
struct pingpong_msg {
	__be32 round;
	__be32 size;
};

/* The endpoints, indexes of &pingpong_dev.end. */
enum { PINGPONG_A, PINGPONG_B };

/* Bits of &pingpong_dev.pending: what the work has to look at. */
enum {
	PINGPONG_SIG_A,		/* A was signalled */
	PINGPONG_SIG_B,		/* B was signalled */
	PINGPONG_EVENTS_IN,	/* software events are queued */
	PINGPONG_PEERS,		/* a remote device changed state */
};

/**
 * struct pingpong_event - a software event, as handle_event() queues it
 * @gid: the sender.
 * @code: its code.
 * @info: its data.
 */
struct pingpong_event {
	uuid_t gid;
	u32 code;
	u64 info;
};

/**
 * struct pingpong_end - one endpoint of the ping-pong
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
struct pingpong_end {
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
 * struct pingpong_dev - the client's state for one device
 * @dibs: the device.
 * @node: entry in pingpong_devs.
 * @dir: its debugfs directory.
 * @wq: ordered workqueue for the protocol work.
 * @work: processes signals and events; see pingpong_work().
 * @timeout: ends a run whose peer does not answer.
 * @pending: PINGPONG_* bits set by the handlers.
 * @ctrl_idx: DMB index of each endpoint's control DMB, for handle_irq().
 * @events: software events for the work.
 * @events_lock: serialises writers of @events.
 * @lock: protects everything below.
 * @stopped: the device or the module goes: no new run or session.
 * @state: A's run, an &enum pingpong_state value.
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
 * @role_b: what B does, an &enum pingpong_role_b value.
 * @b_session: the session B serves.
 * @served_runs: runs of peers B became ready for.
 * @served_rounds: rounds B answered for peers.
 * @served_bytes: payload bytes B verified for peers.
 * @end: endpoints A and B.
 */
struct pingpong_dev {
	struct dibs_dev *dibs;
	struct list_head node;
	struct dentry *dir;
	struct workqueue_struct *wq;
	struct work_struct work;
	struct delayed_work timeout;
	unsigned long pending;
	u32 ctrl_idx[2];
	DECLARE_KFIFO(events, struct pingpong_event, PINGPONG_EVENTS);
	spinlock_t events_lock;	/* see above */

	struct mutex lock;	/* see above */
	bool stopped;
	enum pingpong_state state;
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
	enum pingpong_role_b role_b;
	u16 b_session;
	u64 served_runs;
	u64 served_rounds;
	u64 served_bytes;
	struct pingpong_end end[2];
};

static struct dibs_client pingpong_client;
/*
 * Serialises module exit against add_dev()/del_dev(); protects
 * pingpong_devs.
 */
static DEFINE_MUTEX(pingpong_devs_lock);
static LIST_HEAD(pingpong_devs);
static struct dentry *pingpong_debugfs;

/*
 * Payload of round @round from endpoint @from: differs every round and
 * every 8 bytes. A 64-bit xorshift step per 8 bytes, stored little-endian
 * so that both ends agree whatever their byte order, keeps the payload's
 * cost well below the transport's (a step per byte cost more than moving
 * the bytes between two VMs).
 */
static void pingpong_fill(u8 *buf, u32 size, u32 round, int from)
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

static void pingpong_error(struct pingpong_dev *pd, int err, const char *what)
{
	pd->errors++;
	pd->last_error = err;
	pd->state = PINGPONG_FAILED;
	dev_warn(&pd->dibs->dev, "dibs_pingpong: %s failed at round %u: %d\n",
		 what, pd->rounds_done, err);
}

/*
 * Send event @type of session @session to the device @gid. A full event
 * queue at the receiver drains as its device takes the events, so wait a
 * little for room.
 */
static int pingpong_signal(struct pingpong_dev *pd, const uuid_t *gid,
			   enum pingpong_ev type, u16 session, u64 info)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	int i, ret;

	for (i = 0; i < PINGPONG_EVENT_TRIES; i++) {
		ret = ops->signal_event(pd->dibs, gid, 1,
					PINGPONG_EV(type, session), info);
		if (ret != -EAGAIN)
			break;
		msleep(20);
	}
	return ret;
}

/* Allocate endpoint @i's buffers and register its DMBs for @e->gid. */
static int pingpong_setup_end(struct pingpong_dev *pd, int i)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *e = &pd->end[i];
	int ret;

	e->tx = kvmalloc(e->size, GFP_KERNEL);
	e->expect = kvmalloc(e->size, GFP_KERNEL);
	if (!e->tx || !e->expect)
		return -ENOMEM;
	e->data.dmb_len = e->size;
	e->data.rgid = e->gid;
	ret = ops->register_dmb(pd->dibs, &e->data, &pingpong_client);
	if (ret) {
		e->data.cpu_addr = NULL;
		return ret;
	}
	e->ctrl.dmb_len = PINGPONG_CTRL_LEN;
	e->ctrl.rgid = e->gid;
	ret = ops->register_dmb(pd->dibs, &e->ctrl, &pingpong_client);
	if (ret) {
		e->ctrl.cpu_addr = NULL;
		return ret;
	}
	WRITE_ONCE(pd->ctrl_idx[i], e->ctrl.idx);
	return 0;
}

/* For zero-copy, map the other endpoint's data DMB. */
static int pingpong_attach(struct pingpong_dev *pd, int i)
{
	struct pingpong_end *e = &pd->end[i];
	int ret;

	if (!e->zerocopy)
		return 0;
	e->peer.dmb_tok = e->peer_data;
	ret = pd->dibs->ops->attach_dmb(pd->dibs, &e->peer);
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
static void pingpong_check_release(struct pingpong_dev *pd, int err,
				   const char *what)
{
	if (err)
		dev_warn(&pd->dibs->dev, "dibs_pingpong: %s failed: %d\n", what,
			 err);
}

/* Undo pingpong_setup_end() and pingpong_attach(), whatever part succeeded. */
static void pingpong_release_end(struct pingpong_dev *pd, int i)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *e = &pd->end[i];
	int ret;

	if (e->attached) {
		ret = ops->detach_dmb(pd->dibs, e->peer.dmb_tok);
		pingpong_check_release(pd, ret, "detach_dmb()");
	}
	WRITE_ONCE(pd->ctrl_idx[i], U32_MAX);
	if (e->ctrl.cpu_addr) {
		ret = ops->unregister_dmb(pd->dibs, &e->ctrl);
		pingpong_check_release(pd, ret, "unregister_dmb()");
	}
	if (e->data.cpu_addr) {
		ret = ops->unregister_dmb(pd->dibs, &e->data);
		pingpong_check_release(pd, ret, "unregister_dmb()");
	}
	kvfree(e->tx);
	kvfree(e->expect);
	memset(e, 0, sizeof(*e));
}

/* What the device counted since the run started; under pd->lock. */
static void pingpong_run_stats(struct pingpong_dev *pd, u64 *stats)
{
	int i;

	dibs_dev_get_stats(pd->dibs, stats);
	for (i = 0; i < DIBS_STAT_NR; i++)
		stats[i] -= pd->stats_start[i];
}

/* End A's run in @state; under pd->lock. */
static void pingpong_finish(struct pingpong_dev *pd, enum pingpong_state state)
{
	struct pingpong_end *a = &pd->end[PINGPONG_A];

	lockdep_assert_held(&pd->lock);
	if (pd->state == PINGPONG_RUNNING)
		pd->state = state;
	pd->total_ns = ktime_get_ns() - pd->run_start;
	if (pd->remote) {
		/* B lets go of its DMBs; if it cannot be told, it is gone. */
		pingpong_signal(pd, &a->gid, PINGPONG_EV_END, pd->session, 0);
	} else {
		pingpong_release_end(pd, PINGPONG_B);
		pd->role_b = PINGPONG_B_IDLE;
	}
	pingpong_release_end(pd, PINGPONG_A);
	pingpong_run_stats(pd, pd->stats_run);
}

/* Whether B is set up for a peer, opening or serving; under pd->lock. */
static bool pingpong_b_has_peer(struct pingpong_dev *pd)
{
	return pd->role_b == PINGPONG_B_OPENING ||
	       pd->role_b == PINGPONG_B_SERVING;
}

/* End what B does for a peer; under pd->lock. */
static void pingpong_end_b(struct pingpong_dev *pd)
{
	lockdep_assert_held(&pd->lock);
	if (!pingpong_b_has_peer(pd))
		return;
	pingpong_release_end(pd, PINGPONG_B);
	pd->role_b = PINGPONG_B_IDLE;
}

/* Send round @round's payload and message from endpoint @from. */
static int pingpong_send(struct pingpong_dev *pd, int from, u32 round)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *e = &pd->end[from];
	struct pingpong_msg msg = {
		.round = cpu_to_be32(round),
		.size = cpu_to_be32(e->size),
	};
	int ret;

	if (e->zerocopy) {
		pingpong_fill(e->peer.cpu_addr, e->size, round, from);
	} else {
		pingpong_fill(e->tx, e->size, round, from);
		ret = ops->move_data(pd->dibs, e->peer_data, PINGPONG_SIGNAL,
				     false, 0, e->tx, e->size);
		if (ret)
			return ret;
	}
	return ops->move_data(pd->dibs, e->peer_ctrl, PINGPONG_SIGNAL, true, 0,
			      &msg, sizeof(msg));
}

/* Check what endpoint @to received in round @round. */
static int pingpong_receive(struct pingpong_dev *pd, int to, u32 round)
{
	struct pingpong_end *e = &pd->end[to];
	struct pingpong_msg msg;

	memcpy(&msg, e->ctrl.cpu_addr, sizeof(msg));
	if (be32_to_cpu(msg.round) != round || be32_to_cpu(msg.size) != e->size)
		return -EPROTO;
	pingpong_fill(e->expect, e->size, round, !to);
	if (memcmp(e->data.cpu_addr, e->expect, e->size))
		return -EIO;
	return 0;
}

static void pingpong_start_round(struct pingpong_dev *pd)
{
	int ret;

	pd->round_start = ktime_get_ns();
	ret = pingpong_send(pd, PINGPONG_A, pd->rounds_done);
	if (ret) {
		pingpong_error(pd, ret, "sending from A");
		pingpong_finish(pd, PINGPONG_FAILED);
	}
}

/* B answers a round; under pd->lock. */
static void pingpong_answer(struct pingpong_dev *pd)
{
	struct pingpong_end *b = &pd->end[PINGPONG_B];
	int ret;

	ret = pingpong_receive(pd, PINGPONG_B, b->round);
	if (!ret)
		ret = pingpong_send(pd, PINGPONG_B, b->round);
	if (pd->role_b == PINGPONG_B_LOCAL) {
		if (ret) {
			pingpong_error(pd, ret, "B receiving or answering");
			pingpong_finish(pd, PINGPONG_FAILED);
			return;
		}
		pd->bytes_verified += b->size;
	} else {
		if (ret) {
			dev_warn(&pd->dibs->dev,
				 "dibs_pingpong: answering %pUb failed at round %u: %d\n",
				 &b->gid, b->round, ret);
			pingpong_signal(pd, &b->gid, PINGPONG_EV_REFUSE,
					pd->b_session, -ret);
			pingpong_end_b(pd);
			return;
		}
		pd->served_rounds++;
		pd->served_bytes += b->size;
	}
	b->round++;
}

/* A completes a round and starts the next one; under pd->lock. */
static void pingpong_complete_round(struct pingpong_dev *pd)
{
	u32 round = pd->rounds_done;
	int ret;

	ret = pingpong_receive(pd, PINGPONG_A, round);
	if (ret) {
		pingpong_error(pd, ret, "A receiving");
		pingpong_finish(pd, PINGPONG_FAILED);
		return;
	}
	pd->bytes_verified += pd->end[PINGPONG_A].size;
	/* A peer answers only what it verified. */
	if (pd->remote)
		pd->bytes_verified += pd->end[PINGPONG_A].size;
	pd->ns[round] = min_t(u64, ktime_get_ns() - pd->round_start, U32_MAX);
	pd->rounds_done++;
	if (pd->rounds_done == pd->rounds)
		pingpong_finish(pd, PINGPONG_DONE);
	else
		pingpong_start_round(pd);
}

/* B takes a peer's request for a run; under pd->lock. */
static void pingpong_b_open(struct pingpong_dev *pd, const uuid_t *gid,
			    u16 session, u64 info)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *b = &pd->end[PINGPONG_B];
	u64 size = lower_32_bits(info);
	u64 zerocopy = upper_32_bits(info);
	int ret;

	if (pd->stopped) {
		ret = -ESHUTDOWN;
		goto refuse;
	}
	if (pd->role_b == PINGPONG_B_LOCAL ||
	    (pd->role_b != PINGPONG_B_IDLE && !uuid_equal(gid, &b->gid))) {
		ret = -EBUSY;
		goto refuse;
	}
	/* The peer started over. */
	pingpong_end_b(pd);
	if (!size || size > PINGPONG_MAX_SIZE || zerocopy > 1) {
		ret = -EINVAL;
		goto refuse;
	}
	if (zerocopy && (!ops->support_mmapped_rdmb ||
			 !ops->support_mmapped_rdmb(pd->dibs))) {
		ret = -EOPNOTSUPP;
		goto refuse;
	}
	b->gid = *gid;
	b->size = size;
	b->zerocopy = zerocopy;
	pd->b_session = session;
	pd->role_b = PINGPONG_B_OPENING;
	ret = pingpong_setup_end(pd, PINGPONG_B);
	if (ret) {
		pingpong_end_b(pd);
		goto refuse;
	}
	return;

refuse:
	dev_info(&pd->dibs->dev, "dibs_pingpong: refused a run of %pUb: %d\n",
		 gid, ret);
	pingpong_signal(pd, gid, PINGPONG_EV_REFUSE, session, -ret);
}

/*
 * Tell the other endpoint the tokens of endpoint @i's DMBs: the control
 * DMB's in an event of type @ctrl, the data DMB's in the type after it.
 */
static int pingpong_send_tokens(struct pingpong_dev *pd, int i,
				enum pingpong_ev ctrl, u16 session)
{
	struct pingpong_end *e = &pd->end[i];
	int ret;

	ret = pingpong_signal(pd, &e->gid, ctrl, session, e->ctrl.dmb_tok);
	if (!ret)
		ret = pingpong_signal(pd, &e->gid, ctrl + 1, session,
				      e->data.dmb_tok);
	return ret;
}

/* B has both of A's tokens: attach for zero-copy and answer; under pd->lock. */
static void pingpong_b_ready(struct pingpong_dev *pd)
{
	struct pingpong_end *b = &pd->end[PINGPONG_B];
	int ret;

	ret = pingpong_attach(pd, PINGPONG_B);
	if (!ret)
		ret = pingpong_send_tokens(pd, PINGPONG_B,
					   PINGPONG_EV_ACCEPT_CTRL,
					   pd->b_session);
	if (!ret)
		ret = pingpong_signal(pd, &b->gid, PINGPONG_EV_READY,
				      pd->b_session, 0);
	if (ret) {
		dev_info(&pd->dibs->dev,
			 "dibs_pingpong: cannot answer %pUb: %d\n", &b->gid,
			 ret);
		pingpong_signal(pd, &b->gid, PINGPONG_EV_REFUSE, pd->b_session,
				-ret);
		pingpong_end_b(pd);
		return;
	}
	pd->role_b = PINGPONG_B_SERVING;
	pd->served_runs++;
}

/* A's peer answered: attach for zero-copy and go; under pd->lock. */
static void pingpong_a_ready(struct pingpong_dev *pd)
{
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	int ret;

	ret = a->peer_ctrl && a->peer_data ? pingpong_attach(pd, PINGPONG_A) :
					       -EPROTO;
	if (ret) {
		pingpong_error(pd, ret, "connecting");
		pingpong_finish(pd, PINGPONG_FAILED);
		return;
	}
	pd->connected = true;
	pingpong_start_round(pd);
}

/* One software event; under pd->lock. */
static void pingpong_event(struct pingpong_dev *pd,
			   const struct pingpong_event *ev)
{
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	struct pingpong_end *b = &pd->end[PINGPONG_B];
	u16 session = PINGPONG_EV_SESSION(ev->code);
	bool for_b, for_a;

	if ((ev->code & PINGPONG_EV_MAGIC_MASK) != PINGPONG_EV_MAGIC)
		return;
	/* The run or the session the event belongs to. */
	for_a = pd->state == PINGPONG_RUNNING && pd->remote && !pd->connected &&
		session == pd->session && uuid_equal(&ev->gid, &a->gid);
	for_b = pingpong_b_has_peer(pd) && session == pd->b_session &&
		uuid_equal(&ev->gid, &b->gid);

	switch (PINGPONG_EV_TYPE(ev->code)) {
	case PINGPONG_EV_OPEN:
		pingpong_b_open(pd, &ev->gid, session, ev->info);
		break;
	case PINGPONG_EV_OPEN_CTRL:
	case PINGPONG_EV_OPEN_DATA:
		if (!for_b || pd->role_b != PINGPONG_B_OPENING)
			break;
		if (PINGPONG_EV_TYPE(ev->code) == PINGPONG_EV_OPEN_CTRL)
			b->peer_ctrl = ev->info;
		else
			b->peer_data = ev->info;
		if (b->peer_ctrl && b->peer_data)
			pingpong_b_ready(pd);
		break;
	case PINGPONG_EV_END:
		if (for_b)
			pingpong_end_b(pd);
		break;
	case PINGPONG_EV_ACCEPT_CTRL:
		if (for_a)
			a->peer_ctrl = ev->info;
		break;
	case PINGPONG_EV_ACCEPT_DATA:
		if (for_a)
			a->peer_data = ev->info;
		break;
	case PINGPONG_EV_READY:
		if (for_a)
			pingpong_a_ready(pd);
		break;
	case PINGPONG_EV_REFUSE:
		/* Also while connected: B gave up on the run. */
		if (pd->state == PINGPONG_RUNNING && pd->remote &&
		    session == pd->session && uuid_equal(&ev->gid, &a->gid)) {
			pingpong_error(pd, ev->info && ev->info <= MAX_ERRNO ?
					 -(int)ev->info : -EPROTO,
				     "the peer's answer");
			pingpong_finish(pd, PINGPONG_FAILED);
		}
		break;
	}
}

/* A remote device changed state: drop what depends on a lost peer. */
static void pingpong_check_peers(struct pingpong_dev *pd)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	struct pingpong_end *b = &pd->end[PINGPONG_B];

	lockdep_assert_held(&pd->lock);
	if (pd->state == PINGPONG_RUNNING && pd->remote &&
	    ops->query_remote_gid(pd->dibs, &a->gid, 0, 0)) {
		pingpong_error(pd, -ECONNRESET, "reaching the peer");
		pingpong_finish(pd, PINGPONG_FAILED);
	}
	if (pingpong_b_has_peer(pd) &&
	    ops->query_remote_gid(pd->dibs, &b->gid, 0, 0)) {
		dev_info(&pd->dibs->dev, "dibs_pingpong: lost the peer %pUb\n",
			 &b->gid);
		pingpong_end_b(pd);
	}
}

/*
 * The protocol, in process context: events first, as they set up what
 * signals then use; then B answers what it received, and A completes the
 * round and starts the next one. The workqueue is ordered, so there is
 * never more than one instance at a time.
 */
static void pingpong_work(struct work_struct *work)
{
	struct pingpong_dev *pd = container_of(work, struct pingpong_dev, work);
	struct pingpong_event ev;

	mutex_lock(&pd->lock);
	if (test_and_clear_bit(PINGPONG_EVENTS_IN, &pd->pending))
		while (kfifo_get(&pd->events, &ev))
			pingpong_event(pd, &ev);
	if (test_and_clear_bit(PINGPONG_PEERS, &pd->pending))
		pingpong_check_peers(pd);
	if (test_and_clear_bit(PINGPONG_SIG_B, &pd->pending) &&
	    (pd->role_b == PINGPONG_B_SERVING ||
	     (pd->role_b == PINGPONG_B_LOCAL && pd->state == PINGPONG_RUNNING)))
		pingpong_answer(pd);
	if (test_and_clear_bit(PINGPONG_SIG_A, &pd->pending) &&
	    pd->state == PINGPONG_RUNNING && (!pd->remote || pd->connected))
		pingpong_complete_round(pd);
	mutex_unlock(&pd->lock);
}

/* Ends a run whose peer did not answer in time. */
static void pingpong_timeout(struct work_struct *work)
{
	struct pingpong_dev *pd = container_of(to_delayed_work(work),
					     struct pingpong_dev, timeout);

	mutex_lock(&pd->lock);
	/* A later run may have started since the timer went off. */
	if (pd->state == PINGPONG_RUNNING && pd->remote && !pd->connected &&
	    time_after_eq(jiffies, pd->deadline)) {
		pingpong_error(pd, -ETIMEDOUT, "waiting for the peer");
		pingpong_finish(pd, PINGPONG_FAILED);
	}
	mutex_unlock(&pd->lock);
}

/* Runs in the device's signalling context: note the signal, defer. */
static void pingpong_handle_irq(struct dibs_dev *dibs, unsigned int idx,
				u16 dmbemask)
{
	struct pingpong_dev *pd = dibs_get_priv(dibs, &pingpong_client);

	if (!pd)
		return;
	if (idx == READ_ONCE(pd->ctrl_idx[PINGPONG_A]))
		set_bit(PINGPONG_SIG_A, &pd->pending);
	else if (idx == READ_ONCE(pd->ctrl_idx[PINGPONG_B]))
		set_bit(PINGPONG_SIG_B, &pd->pending);
	else
		return;
	queue_work(pd->wq, &pd->work);
}

/* Any context: queue software events, note changes of remote devices. */
static void pingpong_handle_event(struct dibs_dev *dibs,
				  const struct dibs_event *event)
{
	struct pingpong_dev *pd = dibs_get_priv(dibs, &pingpong_client);
	struct pingpong_event ev;

	if (!pd)
		return;
	switch (event->type) {
	case DIBS_SW_EVENT:
		if ((event->subtype & PINGPONG_EV_MAGIC_MASK) !=
		    PINGPONG_EV_MAGIC)
			return;
		ev.gid = event->gid;
		ev.code = event->subtype;
		ev.info = event->data;
		if (!kfifo_in_spinlocked(&pd->events, &ev, 1,
					 &pd->events_lock)) {
			dev_warn_ratelimited(&dibs->dev,
					     "dibs_pingpong: event queue full, event of %pUb dropped\n",
					     &event->gid);
			return;
		}
		set_bit(PINGPONG_EVENTS_IN, &pd->pending);
		break;
	case DIBS_DEV_EVENT:
		set_bit(PINGPONG_PEERS, &pd->pending);
		break;
	default:
		/* A DMB's writer is gone: the device event says which. */
		return;
	}
	queue_work(pd->wq, &pd->work);
}

/* Parse "rounds=N size=S [zerocopy=0|1] [peer=GID]"; under pd->lock. */
static int pingpong_parse(struct pingpong_dev *pd, char *input, u32 *rounds,
			  u32 *size, bool *zerocopy, uuid_t *peer, bool *remote)
{
	const char *name = dev_name(&pd->dibs->dev);
	char *token, *value;
	u32 val;

	lockdep_assert_held(&pd->lock);
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
	if (*rounds < 1 || *rounds > PINGPONG_MAX_ROUNDS) {
		pr_warn("%s: rounds must be 1 to %u\n", name, PINGPONG_MAX_ROUNDS);
		return -EINVAL;
	}
	if (*size < 1 || *size > PINGPONG_MAX_SIZE) {
		pr_warn("%s: size must be 1 to %u\n", name, PINGPONG_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

/* Register A's DMBs and ask the peer for a run; under pd->lock. */
static int pingpong_start_remote(struct pingpong_dev *pd)
{
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	u64 info = a->size | (u64)a->zerocopy << 32;
	int ret;

	pd->session++;
	pd->connected = false;
	ret = pingpong_setup_end(pd, PINGPONG_A);
	if (!ret)
		ret = pingpong_signal(pd, &a->gid, PINGPONG_EV_OPEN,
				      pd->session, info);
	if (!ret)
		ret = pingpong_send_tokens(pd, PINGPONG_A,
					   PINGPONG_EV_OPEN_CTRL, pd->session);
	if (ret)
		return ret;
	pd->deadline = jiffies + PINGPONG_CONNECT_TIMEOUT;
	mod_delayed_work(system_wq, &pd->timeout, PINGPONG_CONNECT_TIMEOUT);
	return 0;
}

/* Register both endpoints' DMBs and, for zero-copy, attach; under pd->lock. */
static int pingpong_start_local(struct pingpong_dev *pd)
{
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	struct pingpong_end *b = &pd->end[PINGPONG_B];
	int ret;

	pd->role_b = PINGPONG_B_LOCAL;
	b->gid = pd->dibs->gid;
	b->size = a->size;
	b->zerocopy = a->zerocopy;
	ret = pingpong_setup_end(pd, PINGPONG_A);
	if (!ret)
		ret = pingpong_setup_end(pd, PINGPONG_B);
	if (ret)
		return ret;
	a->peer_ctrl = b->ctrl.dmb_tok;
	a->peer_data = b->data.dmb_tok;
	b->peer_ctrl = a->ctrl.dmb_tok;
	b->peer_data = a->data.dmb_tok;
	ret = pingpong_attach(pd, PINGPONG_A);
	if (!ret)
		ret = pingpong_attach(pd, PINGPONG_B);
	if (ret)
		return ret;
	pingpong_start_round(pd);
	return 0;
}

static int pingpong_start(struct pingpong_dev *pd, u32 rounds, u32 size,
			  bool zerocopy, const uuid_t *peer, bool remote)
{
	const struct dibs_dev_ops *ops = pd->dibs->ops;
	struct pingpong_end *a = &pd->end[PINGPONG_A];
	u32 *ns;
	int ret;

	if (pd->stopped)
		return -ENODEV;
	if (pd->state == PINGPONG_RUNNING ||
	    (!remote && pd->role_b != PINGPONG_B_IDLE))
		return -EBUSY;
	if (!remote)
		peer = &pd->dibs->gid;
	if (ops->query_remote_gid(pd->dibs, peer, 0, 0))
		return -ENETUNREACH;
	if (zerocopy && (!ops->support_mmapped_rdmb ||
			 !ops->support_mmapped_rdmb(pd->dibs)))
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
	kvfree(pd->ns);
	pd->ns = ns;
	pd->rounds = rounds;
	pd->remote = remote;
	pd->peer = *peer;
	pd->size = size;
	pd->zerocopy = zerocopy;
	pd->rounds_done = 0;
	pd->bytes_verified = 0;
	pd->errors = 0;
	pd->last_error = 0;
	pd->total_ns = 0;
	/* B may be serving a peer: its signals are not stale. */
	clear_bit(PINGPONG_SIG_A, &pd->pending);
	if (!remote)
		clear_bit(PINGPONG_SIG_B, &pd->pending);
	a->gid = *peer;
	a->size = size;
	a->zerocopy = zerocopy;
	pd->state = PINGPONG_RUNNING;
	pd->run_start = ktime_get_ns();
	dibs_dev_get_stats(pd->dibs, pd->stats_start);
	ret = remote ? pingpong_start_remote(pd) : pingpong_start_local(pd);
	if (ret) {
		pingpong_error(pd, ret, "setting up the run");
		pingpong_finish(pd, PINGPONG_FAILED);
	}
	return ret;
}

static ssize_t pingpong_start_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct pingpong_dev *pd = file->private_data;
	char input[PINGPONG_INPUT_MAX];
	bool zerocopy, remote;
	u32 rounds, size;
	uuid_t peer;
	int ret;

	if (!count || count >= sizeof(input)) {
		pr_warn("%s: input must be 1 to %zu bytes\n",
			dev_name(&pd->dibs->dev), sizeof(input) - 1);
		return -EINVAL;
	}
	if (copy_from_user(input, ubuf, count))
		return -EFAULT;
	input[count] = '\0';

	mutex_lock(&pd->lock);
	ret = pingpong_parse(pd, input, &rounds, &size, &zerocopy, &peer,
			     &remote);
	if (!ret)
		ret = pingpong_start(pd, rounds, size, zerocopy, &peer, remote);
	mutex_unlock(&pd->lock);
	return ret ? ret : count;
}

static int pingpong_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* The device's counters, as results show them. */
static const char *const pingpong_stat_names[] = {
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

static_assert(ARRAY_SIZE(pingpong_stat_names) == DIBS_STAT_NR);

static int pingpong_results_show(struct seq_file *m, void *unused)
{
	struct pingpong_dev *pd = m->private;
	u32 n, min = 0, p50 = 0, p99 = 0, max = 0;
	u64 stats[DIBS_STAT_NR];
	int i;

	mutex_lock(&pd->lock);
	n = pd->rounds_done;
	if (pd->state != PINGPONG_RUNNING && n) {
		/* Sorting in place is fine: the run is over. */
		sort(pd->ns, n, sizeof(*pd->ns), pingpong_cmp_u32, NULL);
		min = pd->ns[0];
		p50 = pd->ns[(n - 1) / 2];
		p99 = pd->ns[(u64)(n - 1) * 99 / 100];
		max = pd->ns[n - 1];
	}
	seq_printf(m, "device: %s\n", dev_name(&pd->dibs->dev));
	seq_printf(m, "state: %s\n", pingpong_state_names[pd->state]);
	if (pd->remote)
		seq_printf(m, "peer: %pUb\n", &pd->peer);
	else
		seq_puts(m, "peer: local\n");
	seq_printf(m, "rounds: %u\n", pd->rounds);
	seq_printf(m, "size: %u\n", pd->size);
	seq_printf(m, "zerocopy: %d\n", pd->zerocopy);
	seq_printf(m, "rounds_done: %u\n", n);
	seq_printf(m, "bytes_verified: %llu\n", pd->bytes_verified);
	seq_printf(m, "errors: %u\n", pd->errors);
	seq_printf(m, "last_error: %d\n", pd->last_error);
	seq_printf(m, "total_ns: %llu\n", pd->total_ns);
	seq_printf(m, "round_ns_min: %u\n", min);
	seq_printf(m, "round_ns_p50: %u\n", p50);
	seq_printf(m, "round_ns_p99: %u\n", p99);
	seq_printf(m, "round_ns_max: %u\n", max);
	seq_printf(m, "served_runs: %llu\n", pd->served_runs);
	seq_printf(m, "served_rounds: %llu\n", pd->served_rounds);
	seq_printf(m, "served_bytes: %llu\n", pd->served_bytes);
	if (pingpong_b_has_peer(pd))
		seq_printf(m, "serving: %pUb\n", &pd->end[PINGPONG_B].gid);
	else
		seq_puts(m, "serving: none\n");
	if (pd->state == PINGPONG_RUNNING)
		pingpong_run_stats(pd, stats);
	else
		memcpy(stats, pd->stats_run, sizeof(stats));
	for (i = 0; i < DIBS_STAT_NR; i++)
		seq_printf(m, "dev_%s: %llu\n", pingpong_stat_names[i],
			   stats[i]);
	mutex_unlock(&pd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pingpong_results);

static const struct file_operations pingpong_start_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = pingpong_start_write,
	.llseek = noop_llseek,
};

/*
 * End the run and the session, if any, and take no new ones; the caller
 * ensures that nothing starts a run any more.
 */
static void pingpong_stop(struct pingpong_dev *pd)
{
	struct pingpong_end *b = &pd->end[PINGPONG_B];

	mutex_lock(&pd->lock);
	pd->stopped = true;
	if (pd->state == PINGPONG_RUNNING) {
		pingpong_finish(pd, PINGPONG_ABORTED);
		dev_info(&pd->dibs->dev,
			 "dibs_pingpong: run aborted after %u of %u rounds\n",
			 pd->rounds_done, pd->rounds);
	}
	if (pingpong_b_has_peer(pd)) {
		pingpong_signal(pd, &b->gid, PINGPONG_EV_REFUSE, pd->b_session,
				ESHUTDOWN);
		pingpong_end_b(pd);
	}
	mutex_unlock(&pd->lock);
	/* Signals and events that raced the end find nothing to do. */
	cancel_work_sync(&pd->work);
	cancel_delayed_work_sync(&pd->timeout);
}

static void pingpong_add_dev(struct dibs_dev *dibs)
{
	struct pingpong_dev *pd;

	pd = kzalloc_obj(*pd);
	if (!pd)
		goto err;
	pd->dibs = dibs;
	pd->ctrl_idx[PINGPONG_A] = U32_MAX;
	pd->ctrl_idx[PINGPONG_B] = U32_MAX;
	mutex_init(&pd->lock);
	spin_lock_init(&pd->events_lock);
	INIT_KFIFO(pd->events);
	INIT_WORK(&pd->work, pingpong_work);
	INIT_DELAYED_WORK(&pd->timeout, pingpong_timeout);
	pd->wq = alloc_ordered_workqueue("dibs_pingpong/%s", 0,
					 dev_name(&dibs->dev));
	if (!pd->wq)
		goto err_free;

	pd->dir = debugfs_create_dir(dev_name(&dibs->dev), pingpong_debugfs);
	debugfs_create_file("start", 0200, pd->dir, pd, &pingpong_start_fops);
	debugfs_create_file("results", 0444, pd->dir, pd,
			    &pingpong_results_fops);

	mutex_lock(&pingpong_devs_lock);
	list_add_tail(&pd->node, &pingpong_devs);
	mutex_unlock(&pingpong_devs_lock);
	dibs_set_priv(dibs, &pingpong_client, pd);
	return;

err_free:
	kfree(pd);
err:
	dev_err(&dibs->dev, "dibs_pingpong: out of memory, device not used\n");
}

static void pingpong_del_dev(struct dibs_dev *dibs)
{
	struct pingpong_dev *pd = dibs_get_priv(dibs, &pingpong_client);

	if (!pd)
		return;
	/* No start or results call is running once this returns. */
	debugfs_remove(pd->dir);
	pingpong_stop(pd);

	mutex_lock(&pingpong_devs_lock);
	list_del(&pd->node);
	mutex_unlock(&pingpong_devs_lock);
	dibs_set_priv(dibs, &pingpong_client, NULL);

	destroy_workqueue(pd->wq);
	mutex_destroy(&pd->lock);
	kvfree(pd->ns);
	kfree(pd);
}

static const struct dibs_client_ops pingpong_client_ops = {
	.add_dev = pingpong_add_dev,
	.del_dev = pingpong_del_dev,
	.handle_irq = pingpong_handle_irq,
	.handle_event = pingpong_handle_event,
};

static struct dibs_client pingpong_client = {
	.name = "dibs_pingpong",
	.ops = &pingpong_client_ops,
};

static int __init pingpong_init(void)
{
	int ret;

	pingpong_debugfs = debugfs_create_dir("dibs_pingpong", NULL);
	ret = dibs_register_client(&pingpong_client);
	if (ret)
		debugfs_remove(pingpong_debugfs);
	return ret;
}

static void __exit pingpong_exit(void)
{
	struct pingpong_dev *pd;
	int ret;

	/*
	 * The client may not go while it owns DMBs, so end the runs and
	 * sessions first, and take no new ones. The debugfs files pin the
	 * module while open, so no new run can start now.
	 */
	mutex_lock(&pingpong_devs_lock);
	list_for_each_entry(pd, &pingpong_devs, node)
		pingpong_stop(pd);
	mutex_unlock(&pingpong_devs_lock);

	ret = dibs_unregister_client(&pingpong_client);
	WARN(ret, "dibs_pingpong: cannot unregister: %d\n", ret);
	debugfs_remove(pingpong_debugfs);
}

module_init(pingpong_init);
module_exit(pingpong_exit);

MODULE_DESCRIPTION("DIBS ping-pong test client for the selftests and benchmarks");
MODULE_LICENSE("GPL");
