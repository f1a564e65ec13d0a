/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Allocation failure at every point, for the KUnit suites of DIBS: run an
 * operation with its n-th allocation failing, for n = 1, 2, ... until it
 * succeeds without a failure injected, through the per-task counter of the
 * fault injection framework (fail-nth in
 * Documentation/fault-injection/fault-injection.rst).
 *
 * failslab and fail_page_alloc leave allocations that may sleep alone, and
 * fail_page_alloc single pages too, unless told otherwise in debugfs
 * (ignore-gfp-wait = N, min-order = 0), which no one can do before the
 * built-in suites run at boot. So the cases of the fault suites skip unless
 * the knobs are set; harness/kunit.sh sets them in a later boot of the same
 * kernel and runs the suites again through
 * /sys/kernel/debug/kunit/<suite>/run.
 */
#ifndef _DIBS_FAULT_KUNIT_H
#define _DIBS_FAULT_KUNIT_H

#include <kunit/test.h>
#include <linux/compiler.h>
#include <linux/dibs.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/sched.h>
#include <linux/slab.h>

/* More allocations than any operation under test makes. */
#define DIBS_FAULT_MAX_POINTS	1000

/*
 * Tries of a failure point whose failure the operation absorbed. The debug
 * machinery allocates in the task now and then on its own account (debug
 * objects refilling their pool, kmemleak its metadata), and absorbs its
 * failures: when such an allocation takes the n-th place, the operation's
 * own n-th allocation succeeds and goes uncounted. Another try of the same
 * point hits the operation's allocation unless the same happens again.
 */
#define DIBS_FAULT_TRIES	3

#ifdef CONFIG_FAULT_INJECTION
/* Make the @nth fault-injectable allocation of this task fail. */
static inline void dibs_fault_arm(unsigned int nth)
{
	WRITE_ONCE(current->fail_nth, nth);
}

/* Stop injecting; returns whether the armed failure was injected. */
static inline bool dibs_fault_disarm(void)
{
	bool injected = !READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return injected;
}
#else
static inline void dibs_fault_arm(unsigned int nth)
{
}

static inline bool dibs_fault_disarm(void)
{
	return false;
}
#endif

/* Whether a slab allocation and a single page that may sleep can fail. */
static inline bool dibs_fault_injectable(void)
{
	bool slab, pages;
	struct page *page;
	void *obj;

	if (!IS_ENABLED(CONFIG_FAILSLAB) || !IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC))
		return false;

	dibs_fault_arm(1);
	obj = kmalloc(8, GFP_KERNEL);
	slab = dibs_fault_disarm();
	kfree(obj);

	dibs_fault_arm(1);
	page = alloc_page(GFP_KERNEL);
	pages = dibs_fault_disarm();
	if (page)
		__free_page(page);

	return slab && pages;
}

#define DIBS_FAULT_SKIPPED \
	"allocations do not fail: see Documentation/networking/dibs.rst"

/*
 * The suite_init of a fault suite. KUnit keeps the status of a case that
 * skipped, and takes it for a filter's mark when the suite runs again:
 * the case would skip again, unrun. Forget the outcome of the run at boot,
 * where every case skipped, so that the run through debugfs runs them.
 */
static inline int dibs_fault_suite_init(struct kunit_suite *suite)
{
	struct kunit_case *test_case;

	kunit_suite_for_each_test_case(suite, test_case)
		test_case->status = KUNIT_SUCCESS;
	return 0;
}

/* The init of each case: skip unless allocations can be made to fail. */
static inline void dibs_fault_require(struct kunit *test)
{
	if (!dibs_fault_injectable())
		kunit_skip(test, DIBS_FAULT_SKIPPED);
}

/**
 * struct dibs_fault_op - an operation to run with allocations failing
 * @name: what the operation is, for the report.
 * @prepare: optional; sets up a run, without failures injected.
 * @run: the operation, with the armed failure; returns 0 or -errno. It must
 *	not allocate through KUnit, whose own failures would be injected.
 * @failed: optional; after @run failed: asserts that nothing changed and
 *	cleans up what @prepare set up.
 * @undo: after @run succeeded: undoes it and what @prepare set up.
 */
struct dibs_fault_op {
	const char *name;
	void (*prepare)(struct kunit *test, void *ctx);
	int (*run)(void *ctx);
	void (*failed)(struct kunit *test, void *ctx);
	void (*undo)(struct kunit *test, void *ctx);
};

/**
 * struct dibs_fault_count - what a sweep counted
 * @points: allocations the operation makes that can fail, the failure
 *	points, including those of the debug machinery.
 * @failing: those of them whose failure makes the operation fail; the
 *	others are absorbed (a fallback, or an allocation that is optional).
 */
struct dibs_fault_count {
	unsigned int points;
	unsigned int failing;
};

/**
 * dibs_fault_sweep() - run @op with its n-th allocation failing
 * @test: the test case.
 * @op: the operation.
 * @ctx: passed to the callbacks of @op.
 * @count: where to count the failure points.
 *
 * For n = 1, 2, ... runs @op with the n-th allocation failing until a run
 * succeeds without a failure injected. A point whose failure @op absorbed
 * is tried up to %DIBS_FAULT_TRIES times, as the failure may have hit an
 * allocation of the debug machinery instead. Every run that fails must do
 * so because of the injected failure, with -ENOMEM; @op->failed(), if any,
 * checks the rest.
 *
 * Return: true if the sweep completed, false after a test failure.
 */
static inline bool dibs_fault_sweep(struct kunit *test,
				    const struct dibs_fault_op *op, void *ctx,
				    struct dibs_fault_count *count)
{
	unsigned int nth = 1, tries = 0;
	bool injected;
	int ret;

	*count = (struct dibs_fault_count){};
	while (nth <= DIBS_FAULT_MAX_POINTS) {
		if (op->prepare)
			op->prepare(test, ctx);
		dibs_fault_arm(nth);
		ret = op->run(ctx);
		injected = dibs_fault_disarm();
		if (!ret) {
			op->undo(test, ctx);
			if (!injected) {
				count->points = nth - 1;
				kunit_info(test, "%s: %u failure points, %u of them fail it\n",
					   op->name, count->points,
					   count->failing);
				return true;
			}
			/* Absorbed: try the same point again, then go on. */
			if (++tries == DIBS_FAULT_TRIES) {
				tries = 0;
				nth++;
			}
			continue;
		}
		count->failing++;
		KUNIT_EXPECT_TRUE_MSG(test, injected,
				      "%s failed (%d) with allocation %u succeeding",
				      op->name, ret, nth);
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM,
				    "%s with allocation %u failing", op->name,
				    nth);
		if (op->failed)
			op->failed(test, ctx);
		if (!injected || ret != -ENOMEM)
			return false;
		tries = 0;
		nth++;
	}
	KUNIT_FAIL(test, "%s still fails after %u allocations", op->name,
		   DIBS_FAULT_MAX_POINTS);
	return false;
}

/* Number of DMB indices of @dibs that the owner table gives to a client. */
static inline unsigned int dibs_fault_owned(struct dibs_dev *dibs,
					    unsigned int max_dmbs)
{
	unsigned int idx, owned = 0;

	for (idx = 0; idx < max_dmbs; idx++)
		owned += READ_ONCE(dibs->dmb_clientid_arr[idx]) !=
			 NO_DIBS_CLIENT;
	return owned;
}

#endif /* _DIBS_FAULT_KUNIT_H */
