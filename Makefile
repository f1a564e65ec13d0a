# SPDX-License-Identifier: GPL-2.0
#
# DIBS: build the modules out of tree, and drive the test harness.
#
#   make            build the modules against KDIR, and nothing else
#   make deps       install the Debian packages everything else needs
#   make kunit      run the KUnit suites in QEMU with the debug options
#   make run        boot the stock Debian kernel, load the modules, ping-pong
#                   over loopback, then between two VMs over ivshmem
#   make check      every test and gate; ends with "N passed, N failed"
#   make bench      benchmarks of the loopback data path (bench/)
#   make stress     the race and stress suites, longer, under KCSAN
#   make clean      remove build products from the checkout
#
# Only deps, kunit, check, bench, stress and run install packages (through
# deps); "make" and "make clean" never call apt. KDIR defaults to the
# running kernel's build directory if it exists, else to the newest
# installed Debian 6.12 headers. Kernel trees for the tests live in
# DIBS_CACHE (default ~/.cache/dibs).

RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
INSTALLED_KDIR = $(shell ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null | \
	sort -V | tail -n 1)
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(INSTALLED_KDIR))

# What an out-of-tree build enables; in a kernel tree Kconfig decides.
OOT_CONFIG := CONFIG_DIBS=m CONFIG_DIBS_LO=m CONFIG_DIBS_IVSHMEM=m \
	CONFIG_DIBS_PINGPONG=m CONFIG_DIBS_BENCH=m CONFIG_SAMPLE_DIBS=m

.PHONY: all modules deps kunit check bench stress clean run

all: modules

modules:
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build directory" \
		"(KDIR=$(KDIR)); install the headers (make deps) or set KDIR" >&2; \
		exit 1; }
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

# Without a kernel build directory, kbuild cannot clean: remove what it
# would have.
clean:
ifneq ($(wildcard $(KDIR)/Makefile),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(OOT_CONFIG) clean
else
	find . -path ./.git -prune -o \( -name '*.o' -o -name '*.ko' -o \
		-name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' -o \
		-name '.*.d' -o -name 'modules.order' -o -name 'Module.symvers' \) \
		-type f -print0 | xargs -0 rm -f
endif
	$(MAKE) -C tools/dibs clean
