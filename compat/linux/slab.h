/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's <linux/slab.h>, with what older versions of it lack, for
 * out-of-tree builds only: the top-level Kbuild, which a kernel tree does
 * not read, puts compat/ in front of the kernel's include directories.
 * Each definition applies only where the kernel's header has none.
 */
#ifndef _DIBS_COMPAT_LINUX_SLAB_H
#define _DIBS_COMPAT_LINUX_SLAB_H

#include_next <linux/slab.h>

/*
 * Typed allocation of one zeroed object. The kernel's version also takes
 * optional GFP flags; this one allocates with GFP_KERNEL, the only flags
 * our code passes, and does not compile if given any.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P) ({					\
	typeof(P) *__dibs_obj = kzalloc(sizeof(P), GFP_KERNEL);	\
	__dibs_obj;							\
})
#endif

#endif /* _DIBS_COMPAT_LINUX_SLAB_H */
