#!/bin/bash
# Build pmubench once per node type for `make slurm` (docs/cluster.md):
# nodes with the same arch and CPU model share one binary (configs may use
# -march=native), built in build/slurm/<arch>-<cpu model>/ — a tree of
# symlinks to the sources, so the Makefile's build/<config>/<flagset>/ lands
# there — under an flock, so same-type tasks starting together build once.
# PMB_SLURM_BUILD_PER=host: one build per node instead.
#
#   scripts/cluster/slurm-build.sh CONFIG   (from the repository) builds
#       for this machine's type and prints the build directory: run it on a
#       node, or a login node of the same type, to have the tasks find the
#       binary ready.  scripts/cluster/slurm-job.sh sources this file.

# pmb_node_type: sets host, cpu_model and key (the build tree's name)
pmb_node_type() {
	host=$(hostname -s)
	cpu_model=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
	[ -n "$cpu_model" ] || cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
	[ -n "$cpu_model" ] || cpu_model=unknown
	if [ "${PMB_SLURM_BUILD_PER:-type}" = host ]; then
		key=$host
	else
		key=$(uname -m)-$(printf '%s' "$cpu_model" | tr -c 'A-Za-z0-9._-' '_' | tr -s '_' | cut -c1-60)
	fi
}

# pmb_build REPO TREE CONFIG: make build in TREE (symlinks into REPO)
pmb_build() {
	mkdir -p "$2" &&
	flock "$2/.lock" bash -c '
		cd "$2" || exit 1
		for f in "$1"/* "$1"/.ci; do  # every source entry, not build/ results/
			case ${f##*/} in build|results) continue ;; esac
			[ -e "$f" ] && ln -sfn "$f" .
		done
		exec make -s -j"$(nproc)" build CONFIG="$3"' _ "$1" "$2" "$3"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cfg=${1:?usage: scripts/cluster/slurm-build.sh CONFIG (from the repository)}
	[ -f "configs/$cfg.ini" ] || { echo "slurm-build: no configs/$cfg.ini here; run it from the repository" >&2; exit 2; }
	pmb_node_type
	pmb_build "$(pwd)" "build/slurm/$key" "$cfg" >&2 || exit 1
	echo "build/slurm/$key/build/$cfg"
fi
