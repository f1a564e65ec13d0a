#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, idempotently, the Debian packages the harness needs, then prove
# that every tool a target or gate calls is there and works. Needs root
# when something is missing; does nothing but the checks when all are
# installed. A missing tool fails here, naming its package, rather than a
# gate failing half an hour later.

. "$(dirname "$0")/lib.sh"

# Debian 12's sparse is too old for the 7.x kernel: harness/sparse.sh
# builds a newer one. "ocaml" brings ocamlopt: spatch compiles the OCaml
# script rules of some of the kernel's semantic patches
# (api/check_bq27xxx_data.cocci, null/badzero.cocci) with it, and
# coccinelle does not depend on it.
packages=(
	make gcc perl python3 bc flex bison libelf-dev libssl-dev dwarves cpio
	kmod rsync xz-utils ccache patch
	qemu-system-x86 qemu-system-misc gcc-s390x-linux-gnu busybox-static
	libc6-dev libc6-dev-s390x-cross
	coccinelle ocaml python3-sphinx gnuplot-nox
)

# The commands the harness runs, each with the package that provides it.
tools=(
	make:make gcc:gcc perl:perl python3:python3 bc:bc flex:flex
	bison:bison pahole:dwarves cpio:cpio depmod:kmod kmod:kmod ldd:libc-bin
	dash:dash
	rsync:rsync xz:xz-utils patch:patch
	ccache:ccache qemu-system-x86_64:qemu-system-x86
	qemu-system-s390x:qemu-system-misc
	s390x-linux-gnu-gcc:gcc-s390x-linux-gnu busybox:busybox-static
	spatch:coccinelle ocamlfind:ocaml-findlib
	ocamlopt:ocaml sphinx-build:python3-sphinx gnuplot:gnuplot-nox
)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

install() {
	[ "$(id -u)" = 0 ] || die "missing packages ($*); run as root"
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "$@" >&2 || die "apt-get install failed"
}

# Every command present, and the ones with plug-ins able to run them.
check_tools() {
	local t bad=0 dir out
	for t in "${tools[@]}"; do
		command -v "${t%%:*}" > /dev/null && continue
		echo "error: ${t%%:*} not found (Debian package ${t##*:})" >&2
		bad=1
	done
	# The initramfs builders copy /bin/busybox alone: it must be static.
	ldd /bin/busybox > /dev/null 2>&1 && {
		echo "error: /bin/busybox is not static (busybox-static)" >&2
		bad=1; }
	[ $bad -eq 0 ] || return 1

	# spatch must run both kinds of script rule the kernel's semantic
	# patches use; without a compiler it prints an error and stops.
	dir=$(mktemp -d) || return 1
	printf 'int dibs_probe(void)\n{\n\treturn 0;\n}\n' > "$dir/t.c"
	cat > "$dir/t.cocci" <<-'EOF'
	@r@
	identifier f;
	@@
	f(...) { ... }

	@script:ocaml@
	f << r.f;
	@@
	Printf.printf "ocaml:%s\n" f

	@script:python@
	f << r.f;
	@@
	print("python:%s" % f)
	EOF
	out=$(cd "$dir" && spatch --very-quiet --sp-file t.cocci t.c 2>&1)
	rm -rf "$dir"
	if ! grep -qx 'ocaml:dibs_probe' <<< "$out" ||
	   ! grep -qx 'python:dibs_probe' <<< "$out"; then
		printf '%s\n' "$out" >&2
		echo "error: spatch cannot run OCaml and Python script rules" \
		     "(Debian packages ocaml, coccinelle)" >&2
		return 1
	fi
}

updated=
todo=$(missing "${packages[@]}")
if [ -n "$todo" ]; then
	apt-get update -q >&2 || die "apt-get update failed"
	updated=1
	# shellcheck disable=SC2086
	install $todo
fi

krel=$(debian_krel)
if [ -z "$krel" ] && [ -z "$updated" ]; then
	apt-get update -q >&2 || die "apt-get update failed"
	krel=$(debian_krel)
fi
[ -n "$krel" ] || die "no linux-headers-6.12.*+deb12-amd64 package found"
todo=$(missing "linux-headers-$krel")
[ -z "$todo" ] || install $todo

check_tools || die "a tool the harness needs is missing or broken"
exit 0
