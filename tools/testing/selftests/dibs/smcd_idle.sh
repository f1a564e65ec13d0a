#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# SMC-D frees an idle link group next to one with an open connection
# (idle_link_group_freed in smcd.sh). The test waits out SMC's 10-minute
# link group timer: in a VM whose clocks jump over idle time (QEMU's
# -icount shift=0,sleep=off) that takes a few minutes; elsewhere give it
# the time, for example run_kselftest.sh --override-timeout 900.
# timeout: 900

exec sh "$(dirname "$(readlink -f "$0")")/smcd.sh" idle
