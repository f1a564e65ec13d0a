/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device statistics in the KUnit suites of DIBS: expect what each counter
 * of a device grew by.
 */
#ifndef _DIBS_STATS_KUNIT_H
#define _DIBS_STATS_KUNIT_H

#include <kunit/test.h>
#include <linux/device.h>
#include <linux/dibs.h>

/*
 * Expect every counter of @dibs to have grown by @want since @before, the
 * counters read earlier, or since the device was allocated if NULL.
 */
static inline void dibs_test_expect_stats(struct kunit *test,
					  struct dibs_dev *dibs,
					  const u64 *before, const u64 *want)
{
	u64 now[DIBS_STAT_NR];
	int i;

	dibs_dev_get_stats(dibs, now);
	for (i = 0; i < DIBS_STAT_NR; i++)
		KUNIT_EXPECT_EQ_MSG(test, want[i],
				    now[i] - (before ? before[i] : 0),
				    "%s counter %d", dev_name(&dibs->dev), i);
}

#endif /* _DIBS_STATS_KUNIT_H */
