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
 * Typed allocation of zeroed objects: one, or an array of @COUNT. The
 * kernel's versions also take optional GFP flags; these allocate with
 * GFP_KERNEL, the only flags our code passes, and do not compile if given
 * any.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P) ({					\
	typeof(P) *__dibs_obj = kzalloc(sizeof(P), GFP_KERNEL);	\
	__dibs_obj;							\
})
#endif

#ifndef kzalloc_objs
#define kzalloc_objs(P, COUNT) ({					\
	typeof(P) *__dibs_objs = kcalloc(COUNT, sizeof(P), GFP_KERNEL);	\
	__dibs_objs;							\
})
#endif

#ifndef kvzalloc_objs
#define kvzalloc_objs(P, COUNT) ({					\
	typeof(P) *__dibs_objs = kvcalloc(COUNT, sizeof(P), GFP_KERNEL);	\
	__dibs_objs;							\
})
#endif

#endif /* _DIBS_COMPAT_LINUX_SLAB_H */
