# SPDX-License-Identifier: GPL-2.0
#
# Common settings of the harness scripts; sourced, not run.
#
# DIBS_CACHE   where kernel trees and build directories live
#              (default ~/.cache/dibs); never inside the checkout.
# JOBS         parallel make jobs (default: number of CPUs).
# RESULTS      file that collects "PASS name" / "FAIL name" lines; set by
#              check.sh, optional otherwise. What went wrong in a failed
#              check goes to $RESULTS.details (see detail()).

set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DIBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dibs}
# The kernel tree: Debian's newest DIBS-era linux-source-7.x
# (harness/linux7.sh) with our files and patches (harness/tree.sh), and
# the kernels built from it.
KSRC=$CACHE/linux-source-7
BUILD7=$CACHE/build-7
# Upstream's own copies of the files that the tree has ours of, or that
# patches/ changes.
UPSTREAM7=$CACHE/upstream-dibs-7
# Everything else the harness builds or runs: VMs, benchmarks, gate logs.
BUILD=$CACHE/build
JOBS=${JOBS:-$(nproc)}

# Upstream's files that patches/*.patch may change. harness/linux7.sh
# keeps them as upstream has them, and harness/tree.sh writes them into the
# tree with every patch applied.
PATCHED_FILES=(MAINTAINERS Documentation/networking/index.rst drivers/Makefile
	       drivers/s390/net/Kconfig drivers/s390/net/Makefile
	       samples/Kconfig samples/Makefile)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Record the outcome of one check.
result() { # PASS|FAIL|SKIP name
	printf '%s %s\n' "$1" "$2" >&2
	[ -n "${RESULTS:-}" ] && printf '%s %s\n' "$1" "$2" >> "$RESULTS"
	return 0
}

# Keep what a failed check printed (on stdin, the last 60 lines) for the
# end of check.sh's report, where a long log does not bury it.
detail() { # name
	local lines

	lines=$(tail -n 60)
	[ -n "${RESULTS:-}" ] && [ -n "$lines" ] || return 0
	printf -- '--- %s\n%s\n' "$1" "$lines" >> "$RESULTS.details"
}

# detail() the lines of a (K)TAP log that lead up to each "not ok": the
# diagnostics of the failed test points.
tap_failure_details() { # name log
	awk '/^[[:space:]]*(not )?ok [0-9]+ / {
		if ($0 ~ /not ok/)
			printf "%s%s\n", msgs, $0
		msgs = ""
		next
	}
	{ msgs = msgs $0 "\n" }' "$2" | detail "$1"
}

# The URI of the Debian archive (not the security archive) in the
# system's sources.
archive_uri() {
	apt-get indextargets --format '$(REPO_URI) $(LABEL)' 2>/dev/null |
		awk '$2 == "Debian" { print $1; exit }'
}

# A private apt configuration in @1 with one source, the main component
# of suite @3 of the system's Debian archive as type @2 (deb or
# deb-src): its own sources list, package lists, cache and status file,
# so that the system's apt setup is never touched. Use it with
# APT_CONFIG=@1/apt.conf. Every harness step that needs it comes here:
# the package lists are fetched at most once an hour.
private_apt() { # dir type suite
	local dir=$1 uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	uri=$(archive_uri)
	[ -n "$uri" ] || { echo "no Debian archive in the apt sources" >&2
			   return 1; }
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" \
		"$dir/debs"
	touch "$dir/status"
	echo "$2 [signed-by=$keyring] $uri $3 main" > "$dir/sources.list"
	cat > "$dir/apt.conf" <<-EOF
	Dir::Etc::SourceList "$dir/sources.list";
	Dir::Etc::SourceParts "/nonexistent";
	Dir::State::Lists "$dir/lists";
	Dir::State::Status "$dir/status";
	Dir::Cache "$dir/cache";
	APT::Sandbox::User "root";
	EOF
	[ -n "$(find "$dir/update.log" -mmin -60 2>/dev/null)" ] && return 0
	APT_CONFIG=$dir/apt.conf apt-get update -q > "$dir/update.log.new" 2>&1 ||
		{ cat "$dir/update.log.new" >&2; return 1; }
	mv "$dir/update.log.new" "$dir/update.log"
}

# Release of the stock Debian 6.12 kernel we build against and boot: the
# newest one whose headers are installed, else the newest in the archive.
debian_krel() {
	local krel
	krel=$(cd /usr/src && ls -d linux-headers-6.12.*+deb12-amd64 2>/dev/null |
	       sed 's/^linux-headers-//' | sort -V | tail -n 1)
	if [ -z "$krel" ]; then
		krel=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
		       grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		       sed 's/^linux-headers-//' | sort -V | tail -n 1)
	fi
	echo "$krel"
}

# Lines that mean the kernel hit a bug or a debug check fired, one extended
# regular expression per line. Any of them in a console log fails the run,
# whatever the tests reported. The selftests check each test's share of the
# kernel log against the same file.
SPLAT_PATTERNS=$REPO/tools/testing/selftests/dibs/splat_patterns

# Print the splat lines of a console log; true if there were any.
find_splats() { # logfile
	grep -E -n -f "$SPLAT_PATTERNS" "$1"
}
