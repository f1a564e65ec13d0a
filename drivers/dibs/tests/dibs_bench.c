// SPDX-License-Identifier: GPL-2.0
/*
 * DIBS benchmark client: measures the loopback data path against memcpy(),
 * and the costs around it, on the device it is given.
 */

#define pr_fmt(fmt) "dibs_bench: " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/dibs.h>
#include <linux/gfp.h>
#include <linux/kstrtox.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>
#include <linux/vmstat.h>
#include <linux/wait.h>

/**
 * DOC: benchmark client
 *
 * ``dibs_bench`` registers a DIBS client that uses the first loopback
 * device (fabric %DIBS_LOOPBACK_FABRIC) it is given, preferring one named
 * ``lo``. Writing to ``/sys/kernel/debug/dibs_bench/run`` runs every
 * benchmark once, synchronously, and prints one line per result to the
 * kernel log: ``dibs_bench: `` followed by a JSON object. A number written
 * to ``run`` replaces the ``iterations`` parameter for that run; an empty
 * line keeps it. One run goes on at a time (``-EBUSY`` for another), and
 * removing the device ends it after the batch in progress (the row says
 * ``-ENODEV``), so that device removal never waits for a whole run.
 *
 * Parameters: ``iterations`` (1 to 262144) is the number of calls in one
 * timed batch of 64-byte moves; batches of larger sizes move the same
 * number of bytes (at least one call). ``reps`` (1 to 1001) is the number
 * of timed batches per variant. Other values are refused with ``-EINVAL``:
 * batches run with preemption disabled, and the bounds keep the longest of
 * them (the scaling rows') to seconds even under emulation.
 * Every row names its batch size (``calls``) and its repetitions (``reps``)
 * and gives the minimum, median and maximum of the batch times in ns.
 *
 * Method: all variants of one row are timed in the same run, batch by
 * batch, interleaved, after one untimed warm-up batch each, so that
 * frequency changes and cache state hit all of them alike. The reference of
 * a copy is memcpy() between two buffers from alloc_pages_exact(), page
 * memory as the loopback device's DMBs are. Batches of data moves run
 * with preemption disabled, so that they stay on one CPU, but with
 * interrupts enabled, as a real client runs: an interrupt that hits a
 * batch shows in the maximum, and ratios use the medians. Registering and
 * unregistering DMBs sleeps and runs preemptible. Each copy row checks
 * afterwards that the DMB holds the data.
 *
 * Rows (``row`` key): ``env``; ``copy`` per size (variants ``memcpy``,
 * ``move`` and ``zerocopy``, the last a memcpy() into the address that
 * attach_dmb() returned); ``signal`` (move with and without the signal
 * flag into a DMB whose handle_irq() only counts; ``cost_permille`` is the
 * signalled move's time over the unsignalled one's, per pair of batches);
 * ``stats`` (what counting a move in the device's statistics costs:
 * dibs_moved() alone, on a device of the run's own that is never added,
 * against a 64-byte move and memcpy()); ``scaling`` per size (one
 * kthread, then two on two CPUs each moving into its own DMB, in batches
 * 16 times as long as a copy batch; batch times run from the start, which
 * the kthreads take together, to the latest end; the ``memcpy_`` variants
 * do the same with memcpy() between two buffers per kthread, to
 * show how far the machine itself scales a copy); ``lifecycle`` per
 * size (register_dmb() plus unregister_dmb() against alloc_pages_exact()
 * plus free_pages_exact() of the same length; a DMB batch ends with
 * rcu_barrier(), so that memory a device frees only after an RCU grace
 * period counts until it is free, and ``rcu_barrier`` gives that part of
 * the batch; ``speed_permille`` is the reference's time over the DMBs', per
 * pair of batches); ``memory`` per size (the drop in free pages, per-CPU
 * counters included, across registering ``dmbs`` DMBs, in bytes per DMB);
 * and ``done``, with ``errors`` counting failed rows.
 */

#define BENCH_MAX_ITERATIONS	(4 * 65536)
#define BENCH_MAX_REPS		1001

static unsigned int iterations = 65536;
static unsigned int reps = 31;

static int bench_set_iterations(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, BENCH_MAX_ITERATIONS);
}

static int bench_set_reps(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, BENCH_MAX_REPS);
}

static const struct kernel_param_ops bench_iterations_ops = {
	.set = bench_set_iterations,
	.get = param_get_uint,
};

static const struct kernel_param_ops bench_reps_ops = {
	.set = bench_set_reps,
	.get = param_get_uint,
};

module_param_cb(iterations, &bench_iterations_ops, &iterations, 0644);
MODULE_PARM_DESC(iterations, "calls per timed batch of 64-byte moves (1 to 262144)");
module_param_cb(reps, &bench_reps_ops, &reps, 0644);
MODULE_PARM_DESC(reps, "timed batches per variant (1 to 1001)");
/*
 * Bytes moved by a batch of scaling runs, relative to a copy batch: long
 * batches, so that the time of two kthreads, the longer of theirs, does
 * not measure the worst of the host's noise on either CPU.
 */
#define BENCH_SCALING_FACTOR	16
/* Upper bound of the memory held by one lifecycle batch or memory row. */
#define BENCH_LIFECYCLE_BYTES	SZ_16M
#define BENCH_MEMORY_BYTES	SZ_64M

static struct dibs_client bench_client;
/*
 * bench_lock protects bench_dev and the writers of bench_busy and
 * bench_stop. It is held only to read or change them, never for a run:
 * del_dev() takes it under the core's registry mutex.
 */
static DEFINE_MUTEX(bench_lock);
/* The device for new runs. */
static struct dibs_dev *bench_dev;
/* The device of the run going on, or NULL; read by del_dev() unlocked. */
static struct dibs_dev *bench_busy;
/* Set by del_dev() to end the run on its device early; read by the run. */
static bool bench_stop;
/* Woken when a run ends. */
static DECLARE_WAIT_QUEUE_HEAD(bench_wq);
static DEFINE_PER_CPU(unsigned long, bench_irqs);
static struct dentry *bench_debugfs;

/**
 * struct bench_ctx - one variant of a measurement
 * @batch: runs @calls operations and returns the time they took, in ns.
 * @dibs: the device.
 * @tok: token of the target DMB.
 * @dst: target of memcpy() variants.
 * @src: the data.
 * @size: bytes per operation.
 * @calls: operations per batch.
 * @sf: set the signal flag on moves.
 * @err: first error of a call, or 0.
 * @aside: time of the last batch's epilogue, part of its time.
 * @ns: the batch times.
 */
struct bench_ctx {
	u64 (*batch)(struct bench_ctx *c);
	struct dibs_dev *dibs;
	u64 tok;
	void *dst;
	void *src;
	unsigned int size;
	unsigned long calls;
	bool sf;
	int err;
	u64 aside;
	u64 *ns;
};

/* Minimum, median and maximum of @n values, sorted in place. */
struct bench_stat {
	u64 min, med, max;
};

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static struct bench_stat bench_stats(u64 *v, unsigned int n)
{
	struct bench_stat st = {};

	if (!n)
		return st;
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	st.min = v[0];
	st.med = v[(n - 1) / 2];
	st.max = v[n - 1];
	return st;
}

static u64 bench_memcpy_batch(struct bench_ctx *c)
{
	void *dst = c->dst;
	unsigned long i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < c->calls; i++) {
		memcpy(dst, c->src, c->size);
		/* Keep the compiler from merging or dropping copies. */
		OPTIMIZER_HIDE_VAR(dst);
	}
	return ktime_get_ns() - t0;
}

static u64 bench_move_batch(struct bench_ctx *c)
{
	const struct dibs_dev_ops *ops = c->dibs->ops;
	unsigned long i;
	u64 t0;
	int ret;

	t0 = ktime_get_ns();
	for (i = 0; i < c->calls; i++) {
		ret = ops->move_data(c->dibs, c->tok, 0, c->sf, 0, c->src,
				     c->size);
		if (unlikely(ret)) {
			c->err = ret;
			break;
		}
	}
	return ktime_get_ns() - t0;
}

/* Count a 64-byte move, as a driver does for each: statistics only. */
static u64 bench_count_batch(struct bench_ctx *c)
{
	unsigned long i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < c->calls; i++)
		dibs_moved(c->dibs, c->size, c->sf);
	return ktime_get_ns() - t0;
}

/* Whether the run must end early: its device is going away. */
static bool bench_stopped(void)
{
	return READ_ONCE(bench_stop);
}

/* One timed batch of a data-path variant, on one CPU. */
static u64 bench_timed(struct bench_ctx *c)
{
	u64 ns;

	preempt_disable();
	ns = c->batch(c);
	preempt_enable();
	return ns;
}

/* Time @n variants, interleaved, @nreps batches each after a warm-up. */
static int bench_measure(struct bench_ctx *ctx, unsigned int n,
			 unsigned int nreps, u64 (*timed)(struct bench_ctx *))
{
	unsigned int r, i;

	for (i = 0; i < n; i++)
		timed(&ctx[i]);
	for (r = 0; r < nreps; r++) {
		if (bench_stopped())
			return -ENODEV;
		for (i = 0; i < n; i++)
			ctx[i].ns[r] = timed(&ctx[i]);
		cond_resched();
	}
	for (i = 0; i < n; i++)
		if (ctx[i].err)
			return ctx[i].err;
	return 0;
}

static void bench_print_stat(char *buf, size_t len, const char *name,
			     u64 *v, unsigned int n)
{
	struct bench_stat st = bench_stats(v, n);

	snprintf(buf, len, ",\"%s\":[%llu,%llu,%llu]", name, st.min, st.med,
		 st.max);
}

/* Print a row: the head (without braces) and up to three variants. */
static void bench_emit(const char *head, struct bench_ctx *ctx, unsigned int n,
		       const char *const *names, unsigned int nreps,
		       const char *tail)
{
	char stats[3][64] = {};
	unsigned int i;

	for (i = 0; i < n && i < ARRAY_SIZE(stats); i++)
		bench_print_stat(stats[i], sizeof(stats[i]), names[i],
				 ctx[i].ns, nreps);
	pr_info("{%s,\"calls\":%lu,\"reps\":%u%s%s%s%s}\n", head,
		n ? ctx[0].calls : 0, nreps, stats[0], stats[1], stats[2],
		tail ? tail : "");
}

/*
 * The result of giving back a DMB or a mapping: a failure is the row's
 * error unless it already has one, and is logged either way.
 */
static void bench_keep_error(int *ret, int err, const char *what)
{
	if (!err)
		return;
	pr_warn("%s failed: %d\n", what, err);
	if (!*ret)
		*ret = err;
}

static void bench_error(const char *row, unsigned int size, int err)
{
	pr_info("{\"row\":\"%s\",\"size\":%u,\"error\":%d}\n", row, size, err);
}

/* Calls per batch: @iters 64-byte calls' worth, and at least 16 (or @iters). */
static unsigned long bench_calls(unsigned int size, unsigned int iters)
{
	return max_t(unsigned long, (u64)iters * 64 / size, min(iters, 16U));
}

/* Per-mille ratios @num[r] / @den[r] of paired batches, into @out. */
static struct bench_stat bench_ratios(const u64 *num, const u64 *den,
				      u64 *out, unsigned int n)
{
	unsigned int r;

	for (r = 0; r < n; r++)
		out[r] = div64_u64(num[r] * 1000, max_t(u64, den[r], 1));
	return bench_stats(out, n);
}

static void *bench_alloc(unsigned int size)
{
	return alloc_pages_exact(PAGE_ALIGN(size), GFP_KERNEL | __GFP_ZERO |
				 __GFP_NOWARN | __GFP_NORETRY);
}

static void bench_free(void *buf, unsigned int size)
{
	if (buf)
		free_pages_exact(buf, PAGE_ALIGN(size));
}

static void bench_fill(u8 *buf, unsigned int size, u8 seed)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		buf[i] = seed + i * 7;
}

static int bench_register(struct dibs_dev *dibs, struct dibs_dmb *dmb,
			  unsigned int size)
{
	/* What register_dmb() reads; it fills in the rest. */
	dmb->idx = 0;
	dmb->dmb_len = size;
	dmb->rgid = dibs->gid;
	return dibs->ops->register_dmb(dibs, dmb, &bench_client);
}

static unsigned long bench_irq_count(void)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(bench_irqs, cpu);
	return sum;
}

/* Set what the @n variants of one row share; their times go to @ns. */
static void bench_ctx_init(struct bench_ctx *ctx, int n, struct dibs_dev *dibs,
			   u64 tok, void *src, unsigned int size,
			   unsigned long calls, u64 *ns, unsigned int nreps)
{
	int i;

	for (i = 0; i < n; i++) {
		ctx[i].dibs = dibs;
		ctx[i].tok = tok;
		ctx[i].src = src;
		ctx[i].size = size;
		ctx[i].calls = calls;
		ctx[i].ns = ns + i * nreps;
	}
}

/* Copy efficiency and zero-copy at one size. */
static int bench_copy(struct dibs_dev *dibs, unsigned int size,
		      unsigned int iters, unsigned int nreps, u64 *ns)
{
	static const char *const names[] = { "memcpy", "move", "zerocopy" };
	struct bench_ctx ctx[3] = {};
	struct dibs_dmb dmb, att = {};
	char head[64], tail[80];
	struct bench_stat st;
	void *src, *ref;
	int ret;

	src = bench_alloc(size);
	ref = bench_alloc(size);
	if (!src || !ref) {
		ret = -ENOMEM;
		goto out_free;
	}
	bench_fill(src, size, size);
	ret = bench_register(dibs, &dmb, size);
	if (ret)
		goto out_free;
	att.dmb_tok = dmb.dmb_tok;
	ret = dibs->ops->attach_dmb(dibs, &att);
	if (ret)
		goto out_unregister;

	bench_ctx_init(ctx, 3, dibs, dmb.dmb_tok, src, size,
		       bench_calls(size, iters), ns, nreps);
	ctx[0].batch = bench_memcpy_batch;
	ctx[0].dst = ref;
	ctx[1].batch = bench_move_batch;
	ctx[2].batch = bench_memcpy_batch;
	ctx[2].dst = att.cpu_addr;

	ret = bench_measure(ctx, 3, nreps, bench_timed);
	if (!ret) {
		/* The last writer was the zero-copy variant: check the copy. */
		memset(dmb.cpu_addr, 0, size);
		ctx[1].batch(&ctx[1]);
		ret = ctx[1].err;
		if (!ret && memcmp(dmb.cpu_addr, src, size))
			ret = -EIO;
	}
	if (!ret) {
		st = bench_ratios(ctx[0].ns, ctx[1].ns, ns + 3 * nreps, nreps);
		snprintf(tail, sizeof(tail),
			 ",\"efficiency_permille\":[%llu,%llu,%llu]", st.min,
			 st.med, st.max);
		snprintf(head, sizeof(head), "\"row\":\"copy\",\"size\":%u",
			 size);
		bench_emit(head, ctx, 3, names, nreps, tail);
	}
	bench_keep_error(&ret, dibs->ops->detach_dmb(dibs, att.dmb_tok),
			 "detach_dmb()");
out_unregister:
	bench_keep_error(&ret, dibs->ops->unregister_dmb(dibs, &dmb),
			 "unregister_dmb()");
out_free:
	bench_free(ref, size);
	bench_free(src, size);
	return ret;
}

/**
 * struct bench_trio - three variants timed against each other at 64 bytes
 * @ctx: memcpy() into @ref, a move into @dmb, and the row's own variant.
 * @dmb: the DMB the moves write.
 * @src: what they copy.
 * @ref: where memcpy() copies it.
 */
struct bench_trio {
	struct bench_ctx ctx[3];
	struct dibs_dmb dmb;
	void *src;
	void *ref;
};

#define BENCH_TRIO_SIZE	64

/* Set up @t on @dibs; the caller sets the third variant's batch. */
static int bench_trio_start(struct bench_trio *t, struct dibs_dev *dibs,
			    unsigned int iters, unsigned int nreps, u64 *ns)
{
	const unsigned int size = BENCH_TRIO_SIZE;
	int ret;

	memset(t, 0, sizeof(*t));
	t->src = bench_alloc(size);
	t->ref = bench_alloc(size);
	if (!t->src || !t->ref) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = bench_register(dibs, &t->dmb, size);
	if (ret)
		goto out_free;
	bench_ctx_init(t->ctx, 3, dibs, t->dmb.dmb_tok, t->src, size,
		       bench_calls(size, iters), ns, nreps);
	t->ctx[0].batch = bench_memcpy_batch;
	t->ctx[0].dst = t->ref;
	t->ctx[1].batch = bench_move_batch;
	return 0;

out_free:
	bench_free(t->ref, size);
	bench_free(t->src, size);
	return ret;
}

/* Undo bench_trio_start(); returns @ret, or the first error of the undo. */
static int bench_trio_end(struct bench_trio *t, struct dibs_dev *dibs, int ret)
{
	bench_keep_error(&ret, dibs->ops->unregister_dmb(dibs, &t->dmb),
			 "unregister_dmb()");
	bench_free(t->ref, BENCH_TRIO_SIZE);
	bench_free(t->src, BENCH_TRIO_SIZE);
	return ret;
}

/* A signalled move against an unsignalled one, 64 bytes each. */
static int bench_signal(struct dibs_dev *dibs, unsigned int iters,
			unsigned int nreps, u64 *ns)
{
	static const char *const names[] = { "memcpy", "move", "move_signal" };
	unsigned long irqs, expected;
	struct bench_trio t;
	struct bench_stat st;
	char tail[128];
	int ret;

	ret = bench_trio_start(&t, dibs, iters, nreps, ns);
	if (ret)
		return ret;
	t.ctx[2].batch = bench_move_batch;
	t.ctx[2].sf = true;

	irqs = bench_irq_count();
	ret = bench_measure(t.ctx, 3, nreps, bench_timed);
	irqs = bench_irq_count() - irqs;
	expected = t.ctx[2].calls * (nreps + 1);
	if (!ret && irqs != expected) {
		pr_warn("%lu signals delivered, %lu expected\n", irqs,
			expected);
		ret = -EIO;
	}
	if (!ret) {
		st = bench_ratios(t.ctx[2].ns, t.ctx[1].ns, ns + 3 * nreps,
				  nreps);
		snprintf(tail, sizeof(tail),
			 ",\"irqs\":%lu,\"cost_permille\":[%llu,%llu,%llu]",
			 irqs, st.min, st.med, st.max);
		bench_emit("\"row\":\"signal\",\"size\":64", t.ctx, 3, names,
			   nreps, tail);
	}
	return bench_trio_end(&t, dibs, ret);
}

/* Variants of the scaling row: the data path and its memcpy() reference. */
enum { BENCH_SCALE_MOVE, BENCH_SCALE_MEMCPY, BENCH_SCALE_VARIANTS };

/**
 * struct bench_worker - a kthread of the scaling benchmark
 * @ctx: what it moves, per variant.
 * @variant: the variant of the current batch.
 * @waiting: workers of the batch that have not started yet; shared.
 * @dmb: its own DMB.
 * @start: when its batch started.
 * @end: when its batch ended.
 * @done: completed when the batch is over.
 */
struct bench_worker {
	struct bench_ctx ctx[BENCH_SCALE_VARIANTS];
	unsigned int variant;
	atomic_t *waiting;
	struct dibs_dmb dmb;
	u64 start;
	u64 end;
	struct completion done;
};

static int bench_worker_fn(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_ctx *c = &w->ctx[w->variant];

	/* Start together: the batch time runs from the first start. */
	atomic_dec(w->waiting);
	while (atomic_read(w->waiting))
		cpu_relax();
	preempt_disable();
	w->start = ktime_get_ns();
	c->batch(c);
	w->end = ktime_get_ns();
	preempt_enable();
	complete(&w->done);

	/* kthread_stop() wakes us once the batch has been collected. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* One batch of @variant on @n workers bound to @cpus; first start to last end. */
static u64 bench_scaling_batch(struct bench_worker *w, unsigned int n,
			       unsigned int variant, const int *cpus, int *err)
{
	struct task_struct *task[2];
	u64 start = U64_MAX, end = 0;
	atomic_t waiting;
	unsigned int i;

	atomic_set(&waiting, n);
	for (i = 0; i < n; i++) {
		init_completion(&w[i].done);
		w[i].variant = variant;
		w[i].waiting = &waiting;
		task[i] = kthread_create_on_cpu(bench_worker_fn, &w[i], cpus[i],
						"dibs_bench/%u");
		if (IS_ERR(task[i])) {
			*err = PTR_ERR(task[i]);
			while (i--)
				kthread_stop(task[i]);
			return 0;
		}
	}
	for (i = 0; i < n; i++)
		wake_up_process(task[i]);
	for (i = 0; i < n; i++) {
		wait_for_completion(&w[i].done);
		kthread_stop(task[i]);
		start = min(start, w[i].start);
		end = max(end, w[i].end);
		if (w[i].ctx[variant].err)
			*err = w[i].ctx[variant].err;
	}
	return end - start;
}

/* Print "<name>one", "<name>two" and "<name>speedup_permille" of @ns. */
static void bench_print_scaling(char *buf, size_t len, const char *name,
				u64 *ns, unsigned int nreps)
{
	u64 *one = ns, *two = ns + nreps, *speed = ns + 2 * nreps;
	struct bench_stat s1, s2, sp;
	unsigned int r;

	/* Aggregate speed-up of each pair: 2 * one[r] / two[r]. */
	for (r = 0; r < nreps; r++)
		speed[r] = 2 * one[r];
	sp = bench_ratios(speed, two, speed, nreps);
	s1 = bench_stats(one, nreps);
	s2 = bench_stats(two, nreps);
	snprintf(buf, len,
		 ",\"%sone\":[%llu,%llu,%llu],\"%stwo\":[%llu,%llu,%llu],\"%sspeedup_permille\":[%llu,%llu,%llu]",
		 name, s1.min, s1.med, s1.max, name, s2.min, s2.med, s2.max,
		 name, sp.min, sp.med, sp.max);
}

/*
 * One kthread, then two on two CPUs, each moving into its own DMB; and the
 * same with memcpy() between two buffers of each worker, as the reference
 * of how well the machine scales a copy. The four batches alternate. The
 * times of each variant go to 3 * @nreps entries of @ns.
 */
static int bench_scaling(struct dibs_dev *dibs, unsigned int size,
			 unsigned int iters, unsigned int nreps, u64 *ns)
{
	static const char *const names[] = {
		[BENCH_SCALE_MOVE] = "", [BENCH_SCALE_MEMCPY] = "memcpy_",
	};
	char stats[BENCH_SCALE_VARIANTS][256];
	struct bench_worker *w;
	struct bench_ctx *c;
	int cpus[2], ret = 0;
	unsigned int i, r, v;
	u64 *t;

	if (num_online_cpus() < 2) {
		pr_info("{\"row\":\"scaling\",\"size\":%u,\"skipped\":\"one CPU\"}\n",
			size);
		return 0;
	}
	cpus[0] = cpumask_first(cpu_online_mask);
	cpus[1] = cpumask_next(cpus[0], cpu_online_mask);

	w = kzalloc_objs(*w, 2);
	if (!w)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		c = &w[i].ctx[BENCH_SCALE_MOVE];
		c->src = bench_alloc(size);
		w[i].ctx[BENCH_SCALE_MEMCPY].dst = bench_alloc(size);
		if (!c->src || !w[i].ctx[BENCH_SCALE_MEMCPY].dst) {
			ret = -ENOMEM;
			goto out;
		}
		bench_fill(c->src, size, i);
		ret = bench_register(dibs, &w[i].dmb, size);
		if (ret) {
			w[i].dmb.cpu_addr = NULL;
			goto out;
		}
		bench_ctx_init(w[i].ctx, BENCH_SCALE_VARIANTS, dibs,
			       w[i].dmb.dmb_tok, c->src, size,
			       bench_calls(size, iters) * BENCH_SCALING_FACTOR,
			       NULL, 0);
		w[i].ctx[BENCH_SCALE_MOVE].batch = bench_move_batch;
		w[i].ctx[BENCH_SCALE_MEMCPY].batch = bench_memcpy_batch;
	}

	/* Warm-up, then alternate one and two workers of each variant. */
	for (v = 0; v < BENCH_SCALE_VARIANTS; v++)
		bench_scaling_batch(w, 2, v, cpus, &ret);
	for (r = 0; r < nreps && !ret; r++) {
		if (bench_stopped()) {
			ret = -ENODEV;
			break;
		}
		for (v = 0; v < BENCH_SCALE_VARIANTS; v++) {
			t = ns + 3 * nreps * v;
			t[r] = bench_scaling_batch(w, 1, v, cpus, &ret);
			t[nreps + r] = bench_scaling_batch(w, 2, v, cpus, &ret);
		}
	}
	for (i = 0; i < 2 && !ret; i++)
		if (memcmp(w[i].dmb.cpu_addr, w[i].ctx[BENCH_SCALE_MOVE].src,
			   size))
			ret = -EIO;
	if (!ret) {
		for (v = 0; v < BENCH_SCALE_VARIANTS; v++)
			bench_print_scaling(stats[v], sizeof(stats[v]),
					    names[v], ns + 3 * nreps * v, nreps);
		pr_info("{\"row\":\"scaling\",\"size\":%u,\"calls\":%lu,\"reps\":%u,\"cpus\":[%d,%d]%s%s}\n",
			size, w[0].ctx[BENCH_SCALE_MOVE].calls, nreps, cpus[0],
			cpus[1], stats[BENCH_SCALE_MOVE],
			stats[BENCH_SCALE_MEMCPY]);
	}
out:
	for (i = 0; i < 2; i++) {
		if (w[i].dmb.cpu_addr)
			bench_keep_error(&ret,
					 dibs->ops->unregister_dmb(dibs,
								   &w[i].dmb),
					 "unregister_dmb()");
		bench_free(w[i].ctx[BENCH_SCALE_MOVE].src, size);
		bench_free(w[i].ctx[BENCH_SCALE_MEMCPY].dst, size);
	}
	kfree(w);
	return ret;
}

static u64 bench_alloc_free_batch(struct bench_ctx *c)
{
	unsigned long i;
	u64 t0;
	void *p;

	t0 = ktime_get_ns();
	for (i = 0; i < c->calls; i++) {
		p = bench_alloc(c->size);
		if (!p) {
			c->err = -ENOMEM;
			break;
		}
		bench_free(p, c->size);
	}
	return ktime_get_ns() - t0;
}

static u64 bench_register_batch(struct bench_ctx *c)
{
	const struct dibs_dev_ops *ops = c->dibs->ops;
	struct dibs_dmb dmb;
	unsigned long i;
	u64 t0;
	int ret;

	t0 = ktime_get_ns();
	for (i = 0; i < c->calls; i++) {
		ret = bench_register(c->dibs, &dmb, c->size);
		if (!ret)
			ret = ops->unregister_dmb(c->dibs, &dmb);
		if (ret) {
			c->err = ret;
			break;
		}
	}
	/*
	 * The batch ends when the memory is back: wait for frees the device
	 * deferred by an RCU grace period, and note how long that took.
	 */
	c->aside = ktime_get_ns();
	rcu_barrier();
	c->aside = ktime_get_ns() - c->aside;
	return ktime_get_ns() - t0;
}

/* A batch that may sleep. */
static u64 bench_untimed(struct bench_ctx *c)
{
	return c->batch(c);
}

/*
 * register_dmb() + unregister_dmb(), until the memory is free again,
 * against allocating and freeing the same pages.
 */
static int bench_lifecycle(struct dibs_dev *dibs, unsigned int size,
			   unsigned int iters, unsigned int nreps, u64 *ns)
{
	static const char *const names[] = { "alloc_free", "register" };
	struct bench_ctx ctx[2] = {};
	u64 *barrier = ns + 2 * nreps;
	unsigned long calls;
	char head[64], tail[160];
	struct bench_stat st, sp;
	unsigned int i, r;

	calls = clamp_t(unsigned long, iters / 64, 1,
			BENCH_LIFECYCLE_BYTES / PAGE_ALIGN(size));
	bench_ctx_init(ctx, 2, dibs, 0, NULL, size, calls, ns, nreps);
	ctx[0].batch = bench_alloc_free_batch;
	ctx[1].batch = bench_register_batch;

	/* As bench_measure(), keeping each repetition's barrier time. */
	for (i = 0; i < 2; i++)
		bench_untimed(&ctx[i]);
	for (r = 0; r < nreps && !ctx[0].err && !ctx[1].err; r++) {
		if (bench_stopped())
			return -ENODEV;
		for (i = 0; i < 2; i++)
			ctx[i].ns[r] = bench_untimed(&ctx[i]);
		barrier[r] = ctx[1].aside;
		cond_resched();
	}
	if (ctx[0].err || ctx[1].err)
		return ctx[0].err ?: ctx[1].err;
	st = bench_stats(barrier, nreps);
	/* The ratios of paired batches; the barrier series is done with. */
	sp = bench_ratios(ctx[0].ns, ctx[1].ns, barrier, nreps);
	snprintf(head, sizeof(head), "\"row\":\"lifecycle\",\"size\":%u", size);
	snprintf(tail, sizeof(tail),
		 ",\"rcu_barrier\":[%llu,%llu,%llu],\"speed_permille\":[%llu,%llu,%llu]",
		 st.min, st.med, st.max, sp.min, sp.med, sp.max);
	bench_emit(head, ctx, 2, names, nreps, tail);
	return 0;
}

/* Free pages, the per-CPU counter deltas included. */
static unsigned long bench_free_pages(void)
{
	unsigned long sum = 0;
	struct zone *zone;
	int nid, z;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			if (populated_zone(zone))
				sum += zone_page_state_snapshot(zone,
								NR_FREE_PAGES);
		}
	}
	return sum;
}

/* Memory held per DMB, metadata included. */
static int bench_memory(struct dibs_dev *dibs, unsigned int size,
			unsigned int iters, unsigned int nreps, u64 *ns)
{
	unsigned long before, after, slab, count, i;
	struct dibs_dmb *dmbs;
	struct bench_stat st, sl;
	u64 *slab_bytes = ns + nreps;
	unsigned int r;
	int ret = 0;

	count = min_t(unsigned long,
		      BENCH_MEMORY_BYTES / (PAGE_SIZE << get_order(size)),
		      max(dibs->ops->max_dmbs() - 64, 1));
	count = clamp_t(unsigned long, iters / 16, 1, count);
	dmbs = kvzalloc_objs(*dmbs, count);
	if (!dmbs)
		return -ENOMEM;

	for (r = 0; r < nreps && !ret; r++) {
		if (bench_stopped()) {
			ret = -ENODEV;
			break;
		}
		rcu_barrier();
		slab = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
		before = bench_free_pages();
		for (i = 0; i < count; i++) {
			ret = bench_register(dibs, &dmbs[i], size);
			if (ret)
				break;
		}
		after = bench_free_pages();
		slab = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) -
		       slab;
		while (i--)
			bench_keep_error(&ret,
					 dibs->ops->unregister_dmb(dibs,
								   &dmbs[i]),
					 "unregister_dmb()");
		ns[r] = before > after ?
			(u64)(before - after) * PAGE_SIZE / count : 0;
		slab_bytes[r] = (long)slab > 0 ?
				(u64)slab * PAGE_SIZE / count : 0;
		cond_resched();
	}
	rcu_barrier();
	kvfree(dmbs);
	if (ret)
		return ret;
	st = bench_stats(ns, nreps);
	sl = bench_stats(slab_bytes, nreps);
	pr_info("{\"row\":\"memory\",\"size\":%u,\"dmbs\":%lu,\"reps\":%u,\"page_size\":%lu,\"bytes_per_dmb\":[%llu,%llu,%llu],\"slab_bytes_per_dmb\":[%llu,%llu,%llu]}\n",
		size, count, nreps, PAGE_SIZE, st.min, st.med, st.max,
		sl.min, sl.med, sl.max);
	return 0;
}

/*
 * What counting a move costs, against the move and memcpy(). The counts
 * go to a device of their own, allocated and never added, so that @dibs's
 * statistics keep counting only real moves.
 */
static int bench_stats_cost(struct dibs_dev *dibs, unsigned int iters,
			    unsigned int nreps, u64 *ns)
{
	static const char *const names[] = { "memcpy", "move", "count" };
	struct dibs_dev *scratch;
	struct bench_trio t;
	int ret;

	scratch = dibs_dev_alloc();
	if (!scratch)
		return -ENOMEM;
	ret = bench_trio_start(&t, dibs, iters, nreps, ns);
	if (ret)
		goto out_put;
	t.ctx[2].batch = bench_count_batch;
	t.ctx[2].dibs = scratch;

	ret = bench_measure(t.ctx, 3, nreps, bench_timed);
	if (!ret)
		bench_emit("\"row\":\"stats\",\"size\":64", t.ctx, 3, names,
			   nreps, NULL);
	ret = bench_trio_end(&t, dibs, ret);
out_put:
	put_device(&scratch->dev);
	return ret;
}

static void bench_run(struct dibs_dev *dibs, unsigned int iters,
		      unsigned int nreps)
{
	static const unsigned int copy_sizes[] = {
		64, 256, SZ_4K, SZ_64K, SZ_1M
	};
	static const unsigned int scaling_sizes[] = { 64, SZ_4K, SZ_64K };
	static const unsigned int lifecycle_sizes[] = {
		SZ_16K, 65 * SZ_1K, SZ_1M
	};
	static const unsigned int memory_sizes[] = {
		SZ_16K, 65 * SZ_1K, SZ_1M
	};
	unsigned int i, errors = 0;
	u64 *ns;
	int ret;

	/* The most any row needs: three series for each scaling variant. */
	ns = kcalloc(3 * BENCH_SCALE_VARIANTS * nreps, sizeof(*ns), GFP_KERNEL);
	if (!ns) {
		bench_error("env", 0, -ENOMEM);
		return;
	}
	pr_info("{\"row\":\"env\",\"device\":\"%s\",\"release\":\"%s\",\"machine\":\"%s\",\"cpus\":%u,\"hz\":%u,\"page_size\":%lu,\"iterations\":%u,\"reps\":%u}\n",
		dev_name(&dibs->dev), init_utsname()->release,
		init_utsname()->machine, num_online_cpus(), HZ, PAGE_SIZE,
		iters, nreps);

	for (i = 0; i < ARRAY_SIZE(copy_sizes) && !bench_stopped(); i++) {
		ret = bench_copy(dibs, copy_sizes[i], iters, nreps, ns);
		if (ret) {
			bench_error("copy", copy_sizes[i], ret);
			errors++;
		}
	}
	ret = bench_stopped() ? 0 : bench_signal(dibs, iters, nreps, ns);
	if (ret) {
		bench_error("signal", 64, ret);
		errors++;
	}
	ret = bench_stopped() ? 0 : bench_stats_cost(dibs, iters, nreps, ns);
	if (ret) {
		bench_error("stats", 64, ret);
		errors++;
	}
	for (i = 0; i < ARRAY_SIZE(scaling_sizes) && !bench_stopped(); i++) {
		ret = bench_scaling(dibs, scaling_sizes[i], iters, nreps, ns);
		if (ret) {
			bench_error("scaling", scaling_sizes[i], ret);
			errors++;
		}
	}
	for (i = 0; i < ARRAY_SIZE(lifecycle_sizes) && !bench_stopped(); i++) {
		ret = bench_lifecycle(dibs, lifecycle_sizes[i], iters, nreps,
				      ns);
		if (ret) {
			bench_error("lifecycle", lifecycle_sizes[i], ret);
			errors++;
		}
	}
	for (i = 0; i < ARRAY_SIZE(memory_sizes) && !bench_stopped(); i++) {
		ret = bench_memory(dibs, memory_sizes[i], iters, nreps, ns);
		if (ret) {
			bench_error("memory", memory_sizes[i], ret);
			errors++;
		}
	}
	if (bench_stopped()) {
		bench_error("run", 0, -ENODEV);
		errors++;
	}
	pr_info("{\"row\":\"done\",\"errors\":%u}\n", errors);
	kfree(ns);
}

static ssize_t bench_run_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	unsigned int iters = READ_ONCE(iterations);
	unsigned int nreps = READ_ONCE(reps);
	struct dibs_dev *dibs;
	char buf[16], *arg;
	int ret = 0;

	if (!count || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	arg = strim(buf);
	if (*arg && (kstrtouint(arg, 0, &iters) || !iters ||
		     iters > BENCH_MAX_ITERATIONS))
		return -EINVAL;

	mutex_lock(&bench_lock);
	dibs = bench_dev;
	if (!dibs) {
		ret = -ENODEV;
	} else if (bench_busy) {
		ret = -EBUSY;
	} else {
		/* del_dev() waits for the run to end: the device stays. */
		WRITE_ONCE(bench_busy, dibs);
		WRITE_ONCE(bench_stop, false);
	}
	mutex_unlock(&bench_lock);
	if (ret)
		return ret;

	bench_run(dibs, iters, nreps);

	mutex_lock(&bench_lock);
	WRITE_ONCE(bench_busy, NULL);
	mutex_unlock(&bench_lock);
	wake_up(&bench_wq);
	return count;
}

static const struct file_operations bench_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = bench_run_write,
	.llseek = noop_llseek,
};

static void bench_add_dev(struct dibs_dev *dibs)
{
	if (dibs->ops->get_fabric_id(dibs) != DIBS_LOOPBACK_FABRIC)
		return;
	mutex_lock(&bench_lock);
	if (!bench_dev || !strcmp(dev_name(&dibs->dev), "lo"))
		bench_dev = dibs;
	mutex_unlock(&bench_lock);
}

static void bench_del_dev(struct dibs_dev *dibs)
{
	mutex_lock(&bench_lock);
	if (bench_dev == dibs)
		bench_dev = NULL;
	if (bench_busy == dibs)
		WRITE_ONCE(bench_stop, true);
	mutex_unlock(&bench_lock);
	/*
	 * A run on @dibs sees bench_stop after the batch in progress, frees
	 * all its DMBs and ends; wait for that, not for the whole run.
	 */
	wait_event(bench_wq, READ_ONCE(bench_busy) != dibs);
}

/*
 * Only counts: the signalled move is timed without client work. The only
 * signalled moves are bench_signal()'s, whose batches run with preemption
 * disabled, and the loopback device calls handle_irq() from within
 * move_data(), on the mover's CPU: a plain per-CPU increment is safe and
 * costs the least on every architecture.
 */
static void bench_handle_irq(struct dibs_dev *dibs, unsigned int idx,
			     u16 dmbemask)
{
	__this_cpu_inc(bench_irqs);
}

static const struct dibs_client_ops bench_client_ops = {
	.add_dev = bench_add_dev,
	.del_dev = bench_del_dev,
	.handle_irq = bench_handle_irq,
};

static struct dibs_client bench_client = {
	.name = "dibs_bench",
	.ops = &bench_client_ops,
};

static int __init bench_init(void)
{
	int ret;

	bench_debugfs = debugfs_create_dir("dibs_bench", NULL);
	debugfs_create_file("run", 0200, bench_debugfs, NULL, &bench_run_fops);
	ret = dibs_register_client(&bench_client);
	if (ret)
		debugfs_remove(bench_debugfs);
	return ret;
}

static void __exit bench_exit(void)
{
	int ret;

	/* The open run file pins the module: no run is going on. */
	debugfs_remove(bench_debugfs);
	ret = dibs_unregister_client(&bench_client);
	WARN(ret, "dibs_bench: cannot unregister: %d\n", ret);
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_DESCRIPTION("DIBS benchmark client for the loopback data path");
MODULE_LICENSE("GPL");
