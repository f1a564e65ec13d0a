# SPDX-License-Identifier: GPL-2.0
#
# DIBS: build the modules out of tree, and drive the test harness.
#
#   make            build the modules against KDIR
#   make deps       install the Debian packages everything else needs
#   make kunit      run the KUnit suites in QEMU with the debug options
#   make run        boot the stock Debian kernel, load the modules, ping-pong
#                   over loopback, then between two VMs over ivshmem
#   make check      every test and gate; ends with "N passed, N failed"
#   make bench      benchmarks of the loopback data path (bench/)
#   make stress     the race and stress suites, longer, under KCSAN
#   make clean      remove build products from the checkout
#
# KDIR defaults to the running kernel's build directory if it exists, else
# to the newest installed (or installable) Debian 6.12 headers. Kernel trees
# for the tests live in DIBS_CACHE (default ~/.cache/dibs).

DEBIAN_KREL := $(shell bash -c '. harness/lib.sh && debian_krel')
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),/usr/src/linux-headers-$(DEBIAN_KREL))

# What an out-of-tree build enables; in a kernel tree Kconfig decides.
OOT_CONFIG := CONFIG_DIBS=m CONFIG_DIBS_LO=m CONFIG_DIBS_IVSHMEM=m CONFIG_SAMPLE_DIBS=m \
	CONFIG_SAMPLE_DIBS_BENCH=m

.PHONY: all modules deps kunit check bench stress clean run

all: modules

modules: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(OOT_CONFIG) modules

deps:
	harness/deps.sh

kunit: deps
	harness/kunit.sh x86_64

check: deps
	harness/check.sh

bench: deps
	harness/bench.sh

stress: deps
	harness/kunit.sh kcsan

run: deps
	harness/vm.sh -t 600 -f harness/guest-lib.sh harness/run-guest.sh lo
	harness/run-pair.sh -t 600 -f harness/guest-lib.sh harness/run-guest.sh \
		first second

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(OOT_CONFIG) clean
	$(MAKE) -C tools/dibs clean
