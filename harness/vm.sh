#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel and run one script in it: every boot of the harness goes
# through here, except kunit.py's own (make run, the selftests, the leak
# check of the KUnit kernels, the SMC-D boots, the benchmarks). By default
# the stock Debian 6.12 kernel in QEMU, with this project's modules.
#
#   harness/vm.sh [-k BUILD_DIR [-a ARCH]] [-t SECONDS] [-o LOG] [-f PATH]...
#                 [-w] [-n NAME] [-q QEMU_ARG]... [-A KERNEL_ARGS]
#                 SCRIPT [ARG...] | -i INIT
#
#   -k BUILD_DIR  boot the kernel built in BUILD_DIR (for example the
#               DIBS-era KUnit kernel of harness/kunit.sh) instead, with
#               its own modules if it has any, and with its built-in KUnit
#               suites switched off
#   -a ARCH     the architecture of that kernel: x86_64 (default) and s390
#               boot in QEMU (s390 only with -i), um runs the UML kernel
#               BUILD_DIR/linux as a host process
#   -A ARGS     more kernel arguments
#   -i INIT     instead of a script: a static program of the kernel's
#               architecture is the guest's /init, alone in the initramfs,
#               with the kernel's default log level and KUnit not switched
#               off; the caller judges the console log (the exit status
#               only says whether the guest ended in time)
#   -t SECONDS  bound on the whole VM run (default 600)
#   -o LOG      console log (default $BUILD/vm/<script name>/console.log);
#               the guest's complete kernel log goes to LOG.dmesg
#   -f PATH     copy a file or directory into the guest's /root (repeatable)
#   -w          warp time: TCG with instruction counting, where the guest's
#               clocks stop with the guest's work and jump to the next
#               timer when both vCPUs are idle, so that the guest can wait
#               for a timer of minutes in seconds (the vCPUs then take
#               turns on one host thread)
#   -n NAME     name of the run (default: the script's name without .sh)
#   -q QEMU_ARG an argument for QEMU, such as a device (repeatable)
#
# The initramfs and the other files of a run are in $BUILD/vm/<NAME>/;
# runs of different names can go on at the same time. This is the only
# place that builds an initramfs.
#
# The kernel image comes from the linux-image-<krel>-unsigned package,
# downloaded and unpacked into $CACHE/stock-<krel>/ without installing it.
# The modules are built against the matching headers in a copy of the
# checkout, and go with busybox and the package's virtio_net module into an
# initramfs, where "modprobe dibs_loopback" works as on an installed
# system; a kernel of -k brings its own modules. In the guest, /root is the
# working directory, SCRIPT runs with sh, and the machine powers off after.
#
# The exit status is the script's. The run fails instead if the VM does not
# finish in time, or if the console or kernel log has a splat (see
# find_splats in lib.sh). QEMU uses TCG unless a trial boot shows that KVM
# works; DIBS_VM_ACCEL=tcg|kvm skips the trial.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

START_MARKER=DIBS_VM_START
EXIT_MARKER=DIBS_VM_EXIT=

usage() {
	die "usage: $0 [-k BUILD_DIR [-a ARCH]] [-t SECONDS] [-o LOG]" \
		"[-f PATH]... [-w] [-n NAME] [-q QEMU_ARG]... [-A KERNEL_ARGS]" \
		"SCRIPT [ARG...] | -i INIT"
}

timeout=600
console=
copies=()
kbuild=
warp=
name=
user_qemu=()
arch=x86_64
init_prog=
more_args=
while getopts k:t:o:f:wn:q:a:A:i: opt; do
	case $opt in
	k) kbuild=$OPTARG ;;
	a) arch=$OPTARG ;;
	A) more_args+=" $OPTARG" ;;
	i) init_prog=$OPTARG ;;
	t) timeout=$OPTARG ;;
	o) console=$OPTARG ;;
	f) copies+=("$OPTARG") ;;
	w) warp=1 ;;
	n) name=$OPTARG ;;
	q) user_qemu+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if [ -n "$init_prog" ]; then
	[ $# -eq 0 ] || usage
	[ -f "$init_prog" ] || die "no init program $init_prog"
	run_name=$(basename "$init_prog")
else
	[ $# -ge 1 ] || usage
	script=$1
	shift
	[ -f "$script" ] || die "no script $script"
	run_name=$(basename "$script" .sh)
fi
case $arch in
x86_64) ;;
s390) [ -n "$kbuild" ] && [ -n "$init_prog" ] || die "-a s390 needs -k and -i" ;;
um) [ -n "$kbuild" ] || die "-a um needs -k" ;;
*) usage ;;
esac
[ -z "$warp" ] || [ "$arch" = x86_64 ] || die "-w needs x86_64"

if [ -n "$kbuild" ]; then
	krel=$(cat "$kbuild/include/config/kernel.release" 2>/dev/null) ||
		die "no kernel built in $kbuild"
	case $arch in
	x86_64) kernel=$kbuild/arch/x86/boot/bzImage ;;
	s390) kernel=$kbuild/arch/s390/boot/bzImage ;;
	um) kernel=$kbuild/linux ;;
	esac
	[ -f "$kernel" ] || die "no kernel image $kernel"
	cmdline="kunit.enable=0"
else
	krel=$(debian_krel)
	[ -n "$krel" ] ||
		die "no Debian 6.12 kernel release found; run harness/deps.sh"
	stock=$CACHE/stock-$krel
	kernel=$stock/vmlinuz
	cmdline=
fi
work=$BUILD/vm/${name:-$run_name}
console=${console:-$work/console.log}
mkdir -p "$work" "$(dirname "$console")"

# The kernel image and the module metadata depmod needs, from the package.
fetch_stock_kernel() {
	local pkg=linux-image-$krel-unsigned dl=$CACHE/stock-$krel.download
	local mod=./lib/modules/$krel

	[ -f "$stock/vmlinuz" ] && [ -d "$stock/kernel" ] && return 0
	log "downloading $pkg"
	rm -rf "$dl" "$stock.new"
	mkdir -p "$dl"
	(cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
		die "cannot download $pkg"
	# The kernel, its lists of modules, and the modules of virtio-net for
	# the network link between two VMs (harness/run-pair.sh).
	dpkg-deb --fsys-tarfile "$dl"/*.deb |
		tar -x -C "$dl" --wildcards "./boot/vmlinuz-$krel" \
			"$mod/modules.builtin" "$mod/modules.builtin.modinfo" \
			"$mod/modules.order" \
			"$mod/kernel/drivers/net/virtio_net.ko*" \
			"$mod/kernel/drivers/net/net_failover.ko*" \
			"$mod/kernel/net/core/failover.ko*" ||
		die "cannot unpack $pkg"
	mkdir -p "$stock.new"
	mv "$dl/$mod"/modules.* "$dl/$mod/kernel" "$stock.new/"
	mv "$dl/boot/vmlinuz-$krel" "$stock.new/vmlinuz"
	rm -rf "$dl" "$stock"
	mv "$stock.new" "$stock"
}

# Build the modules out of the checkout, as the oot-w1 gate does, and take
# a copy of them.
build_modules() {
	local src=$BUILD/vm-src

	mkdir -p "$src"
	rsync -rc --delete --exclude=.git --exclude='*.o' --exclude='*.ko' \
		"$REPO/" "$src/"
	if ! make -C "$src" KDIR="/usr/src/linux-headers-$krel" -j"$JOBS" \
			modules > "$work/build.log" 2>&1; then
		tail -n 30 "$work/build.log" >&2
		die "module build failed (log: $work/build.log)"
	fi
	rm -rf "$work/modules"
	mkdir -p "$work/modules"
	# What this build made, not every .ko in the copy: the rsync above
	# keeps build products, so a module whose source moved would leave
	# its old .ko behind, to be loaded instead of the new one.
	local ko
	while read -r ko; do
		case $ko in /*) ;; *) ko=$src/$ko ;; esac
		cp "${ko%.o}.ko" "$work/modules/" || die "no module for $ko"
	done < "$src/modules.order"
}

# The modules of a kernel we built, installed with their depmod data.
install_kbuild_modules() { # root
	grep -q '^CONFIG_MODULES=y' "$kbuild/.config" || return 0
	make -C "$kbuild" -s ARCH="$arch" INSTALL_MOD_PATH="$1" INSTALL_MOD_STRIP=1 \
		modules_install > "$work/modules_install.log" 2>&1 || {
		tail -n 20 "$work/modules_install.log" >&2
		die "modules_install of $kbuild failed"; }
}

# Pack the initramfs of $work/root.
pack_initramfs() {
	(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio" ||
		die "cannot pack the initramfs"
}

# busybox, dash, kmod, the modules with their depmod data, the script and
# its files; or the init program alone.
make_initramfs() {
	local root=$work/root mod path arg

	rm -rf "$root"
	mkdir -p "$root"
	if [ -n "$init_prog" ]; then
		cp "$init_prog" "$root/init" && chmod +x "$root/init" ||
			die "cannot copy $init_prog"
		pack_initramfs
		return
	fi
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
	cp /bin/busybox "$root/bin/busybox"
	# The shell and the module tools of an installed system, with the
	# libraries they link: dash as /bin/sh, kmod (busybox's modprobe
	# ignores soft dependencies, and busybox's shell would run its own
	# applets whatever PATH says), and coreutils' timeout, whose
	# --foreground kselftest's runner uses. busybox --install keeps these
	# files.
	local tools="/bin/dash /usr/bin/kmod /usr/bin/timeout"
	# shellcheck disable=SC2086
	for path in $tools $(ldd $tools |
			sed -n 's|^.*[[:space:]]\(/[^ ]*\) (0x.*|\1|p' | sort -u); do
		mkdir -p "$root$(dirname "$path")"
		cp -L "$path" "$root$path" || die "cannot copy $path"
	done
	ln -s dash "$root/bin/sh"
	for path in modprobe rmmod insmod lsmod modinfo depmod; do
		ln -s /usr/bin/kmod "$root/sbin/$path"
	done
	if [ -n "$kbuild" ]; then
		install_kbuild_modules "$root"
	else
		mod=$root/lib/modules/$krel
		mkdir -p "$mod/extra"
		cp "$stock"/modules.* "$mod/"
		cp -r "$stock/kernel" "$mod/"
		cp "$work"/modules/*.ko "$mod/extra/" || die "no modules built"
		depmod -b "$root" "$krel" || die "depmod failed"
	fi

	cp "$script" "$root/root/run.sh"
	for path in "${copies[@]}"; do
		cp -r "$path" "$root/root/" || die "cannot copy $path"
	done
	: > "$root/root/args"
	for arg in "$@"; do
		printf '%s\n' "$arg" >> "$root/root/args"
	done

	cat > "$root/init" <<-EOF
	#!/bin/sh
	export PATH=/usr/sbin:/usr/bin:/sbin:/bin
	/bin/busybox --install -s
	mount -t proc none /proc
	mount -t sysfs none /sys
	mount -t devtmpfs none /dev
	# What udev would add: kselftest's runner writes to /dev/stdout.
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	mount -t debugfs none /sys/kernel/debug
	mount -t tmpfs none /tmp
	for cpu in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "\$cpu" ] || continue
		echo 1 > "\$cpu" || exit
	done
	cd /root || exit
	echo $START_MARKER
	set --
	while IFS= read -r arg; do set -- "\$@" "\$arg"; done < args
	sh ./run.sh "\$@"
	rc=\$?
	dmesg > /dev/ttyS1 2> /dev/null
	echo "$EXIT_MARKER\$rc"
	# QEMU runs with -no-reboot, so rebooting ends it also on kernels
	# without ACPI, where poweroff only halts; UML would start again.
	$([ "$arch" = um ] && echo "poweroff -f" || echo "reboot -f")
	EOF
	chmod +x "$root/init"
	pack_initramfs
}

# The console goes to stdout, the second serial port of x86_64 to a file
# if one is named (the guest script's dmesg; no -i program writes there).
# It execs timeout(1), so only call it in a pipeline or in the background,
# where it runs in a subshell; there "$!" is timeout and killing it stops
# QEMU. The timeout stays in the foreground, so that Ctrl-C stops QEMU too.
qemu() { # accel seconds kernel-args [dmesg-log]
	local machine=(qemu-system-x86_64 -accel "$1") serial=()

	[ -n "${4:-}" ] && serial=(-serial "file:$4")

	case $arch in
	s390)
		machine=(qemu-system-s390x -machine s390-ccw-virtio -cpu qemu
			 -accel tcg)
		serial=()
		;;
	um)
		# shellcheck disable=SC2086 # the kernel's arguments
		exec timeout --foreground -k 10 "$2" "$kernel" mem=512M \
			initrd="$work/initramfs.cpio" console=tty $3 \
			< /dev/null 2>&1
		;;
	esac
	exec timeout --foreground -k 10 "$2" "${machine[@]}" \
		"${qemu_extra[@]}" -smp 2 -m 1G -nodefaults -no-reboot -display none \
		-kernel "$kernel" -initrd "$work/initramfs.cpio" \
		-append "console=ttyS0 $3" \
		-serial stdio "${serial[@]}" < /dev/null 2>&1
}

# KVM is used only if a guest boots with it: on some hosts the guest stops
# at once with "KVM internal error". The answer holds until the host reboots.
pick_accel() {
	local probe=$BUILD/vm/kvm-probe.log answer=$BUILD/vm/accel
	local boot_id pid i accel

	case $arch in
	s390) echo tcg; return ;;
	um) echo "host process"; return ;;
	esac
	if [ -n "${DIBS_VM_ACCEL:-}" ]; then
		echo "$DIBS_VM_ACCEL"
		return
	fi
	boot_id=$(cat /proc/sys/kernel/random/boot_id)
	if [ -f "$answer" ] && [ "$(sed -n 1p "$answer")" = "$boot_id" ]; then
		sed -n 2p "$answer"
		return
	fi
	accel=tcg
	if [ -w /dev/kvm ]; then
		# busybox as init prints its usage and exits: the kernel
		# panics with "Attempted to kill init" if it got that far.
		qemu kvm 30 rdinit=/bin/busybox > "$probe" &
		pid=$!
		for ((i = 0; i < 60; i++)); do
			if grep -q 'Attempted to kill init' "$probe"; then
				accel=kvm
				break
			fi
			grep -q 'KVM internal error' "$probe" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill "$pid" 2>/dev/null
		wait "$pid"
	fi
	printf '%s\n%s\n' "$boot_id" "$accel" > "$answer"
	echo "$accel"
}

# The stock kernel, the module build and the KVM trial are shared by all
# runs.
exec 9> "$BUILD/vm.lock"
flock -w "$timeout" 9 || die "another VM run holds $BUILD/vm.lock"
if [ -z "$kbuild" ]; then
	fetch_stock_kernel
	build_modules
fi
make_initramfs "$@"
accel=$(pick_accel)
qemu_extra=("${user_qemu[@]}")
if [ -n "$warp" ]; then
	accel=tcg
	qemu_extra+=(-icount shift=0,sleep=off)
fi
exec 9>&-

log "booting $krel ($arch, $accel) with $run_name"
start=$(date +%s)
rm -f "$console.dmesg"
if [ -n "$init_prog" ]; then
	qemu "$accel" "$timeout" "panic=-1$more_args" |
		sed -u 's/\r$//' > "$console"
	qemu_rc=${PIPESTATUS[0]}
	log "VM finished in $(($(date +%s) - start)) s (console log: $console)"
	[ "$qemu_rc" != 124 ] || die "VM timed out after $timeout s"
	exit 0
fi
# The kernel boots on one CPU and init brings the second online (see
# make_initramfs): under multi-threaded TCG, a vCPU can run code another
# vCPU is patching through int3 (static keys flipped at boot) after the
# patch completed, and the kernel oopses with "int3" in its own code
# before the script has started.
qemu "$accel" "$timeout" \
	"maxcpus=1 panic=-1 oops=panic panic_on_warn=0 loglevel=5 $cmdline$more_args" \
	"$console.dmesg" | sed -u 's/\r$//' | tee "$console" |
	awk -v start="$START_MARKER" -v end="^$EXIT_MARKER" \
		'$0 ~ end { shown = 0 } shown { print; fflush() }
		 $0 == start { shown = 1 }'
qemu_rc=${PIPESTATUS[0]}
log "VM finished in $(($(date +%s) - start)) s (console log: $console)"

status=$(sed -n "s/^$EXIT_MARKER\([0-9]*\)$/\1/p" "$console" | tail -n 1)
if [ -z "$status" ]; then
	[ "$qemu_rc" = 124 ] && echo "VM timed out after $timeout s" >&2
	echo "the guest did not finish (QEMU status $qemu_rc)" >&2
	status=1
fi
if find_splats "$console" >&2 ||
   { [ -f "$console.dmesg" ] && find_splats "$console.dmesg" >&2; }; then
	echo "kernel splat in the log of the VM" >&2
	status=1
fi
exit "$status"
