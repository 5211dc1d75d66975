#!/usr/bin/env bash
# fetch-debs.sh ARCH DEST PACKAGE... — unpack Debian packages of a foreign
# architecture into DEST (a sysroot or guest tree) without installing them.
#
# Why a private apt state (build/apt-ARCH/) instead of `dpkg
# --add-architecture`: nothing on the host changes, no root is needed, the
# shared dpkg lock is never taken, and the package lists of ARCH live with
# the build.  apt-get reads the host's sources (same Debian release and
# mirror) and fetches only ARCH's lists; `apt-get download` fetches exactly
# the named packages (no dependency closure: the caller names what it needs)
# and `dpkg-deb -x` unpacks them.  Downloaded .debs are kept in
# build/apt-ARCH/debs/ so a rebuild needs no network.
#
# A name of the form `linux-image-ARCH-unsigned` is resolved to the versioned
# package the `linux-image-ARCH` metapackage points at.  PMB_DEB_FILTER, if
# set, is a tar pattern limiting what is unpacked (e.g. './boot/vmlinuz-*').
#
# Prints the package=version list on stdout (the caller keeps it as a manifest).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ARCH DEST PACKAGE..." >&2; exit 2; }
arch=$1
mkdir -p "$2" && dest=$(cd "$2" && pwd)
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
state=${PMB_APT_DIR:-$top/build/apt-$arch}
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" "$dest"
[ -f "$state/status" ] || : >"$state/status"
apt_opts=(-q -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
	-o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
	-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
	-o Debug::NoLocking=1 -o "APT::Sandbox::User=$(id -un)")

update() {
	echo "fetch-debs: apt-get update for $arch (lists in $state/lists)" >&2
	# apt-get update exits 0 when a mirror cannot be reached: the lists tell.
	apt-get "${apt_opts[@]}" update >"$state/update.log" 2>&1 && have_lists ||
		{ grep -E '^(E|W):' "$state/update.log" | head -n 5 >&2
		  echo "fetch-debs: error: apt-get update for $arch fetched no package lists (network?)" >&2; exit 1; }
}
have_lists() { compgen -G "$state/lists/*_binary-${arch}_Packages*" >/dev/null; }
have_lists || update

resolve() { # package name -> concrete package name
	local p=$1
	if [[ $p == linux-image-$arch-unsigned ]]; then
		local dep
		dep=$(apt-cache "${apt_opts[@]}" depends "linux-image-$arch" 2>/dev/null |
			sed -n "s/^  Depends: \(linux-image-[0-9].*-$arch\)$/\1/p" | head -n 1)
		[ -n "$dep" ] || { echo "fetch-debs: error: cannot resolve linux-image-$arch" >&2; return 1; }
		p=$dep-unsigned
	fi
	echo "$p"
}

candidates() { # name... -> "name version" lines (one apt-cache run: it loads the lists once)
	apt-cache "${apt_opts[@]}" policy "$@" 2>/dev/null |
		awk '/^[^ ].*:$/ {p = substr($0, 1, length($0) - 1)} /^  Candidate: / && $2 != "(none)" {print p, $2}'
}

pkgs=()
for name in "$@"; do pkgs+=("$(resolve "$name")"); done
found=$(candidates "${pkgs[@]}")
if [ "$(wc -l <<<"$found")" -ne ${#pkgs[@]} ]; then
	update # lists may be stale
	found=$(candidates "${pkgs[@]}")
fi
cd "$state/debs"
missing=() debs=()
for pkg in "${pkgs[@]}"; do
	ver=$(awk -v p="$pkg" '$1 == p {print $2}' <<<"$found")
	[ -n "$ver" ] || { echo "fetch-debs: error: no $arch package '$pkg' in Debian's lists" >&2; exit 1; }
	deb="${pkg}_${ver//:/%3a}_"
	compgen -G "$deb*.deb" >/dev/null || missing+=("$pkg=$ver")
	debs+=("$deb")
	echo "$pkg=$ver"
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get "${apt_opts[@]}" download "${missing[@]}" >"$state/download.log" 2>&1 ||
		{ cat "$state/download.log" >&2; echo "fetch-debs: error: apt-get download failed (network?): ${missing[*]}" >&2; exit 1; }
fi
for deb in "${debs[@]}"; do
	deb=$(compgen -G "$deb*.deb" | head -n 1)
	if [ -n "${PMB_DEB_FILTER:-}" ]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --wildcards "$PMB_DEB_FILTER"
	else
		dpkg-deb -x "$deb" "$dest"
	fi
done
