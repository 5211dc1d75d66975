#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on this machine (no systemd needed).
#
#   tests/slurm/cluster.sh start DIR   # writes DIR/slurm.conf, starts munged
#                                      # (unless one answers), slurmctld, slurmd
#   export SLURM_CONF=DIR/slurm.conf   # then sbatch/squeue/scontrol/make slurm
#   tests/slurm/cluster.sh stop DIR    # stops only the daemons it started
#
# Needs root and Debian's slurm-wlm + munge (apt-get install slurm-wlm munge).
# Ports: PMB_SLURM_CTLD_PORT (16817) and PMB_SLURM_SLURMD_PORT (16818), away
# from a real installation's 6817/6818.  Exit status of start: 0 up, 1 could
# not start (the reason on stderr, the logs in DIR).
set -u
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=$dir/pids
export SLURM_CONF=$dir/slurm.conf

die() { echo "cluster.sh: $*" >&2; exit 1; }

stop() {
	[ -f "$pids" ] || return 0
	local name pid
	# slurmd first, munged last; only what this script started.
	tac "$pids" | while read -r name pid; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	rm -f "$pids"
}

start() {
	[ "$(id -u)" = 0 ] || die "needs root (slurmd runs jobs as their users)"
	for b in munged slurmctld slurmd sbatch; do
		command -v "$b" >/dev/null || die "$b not found; install: apt-get install -y slurm-wlm munge"
	done
	local host cpus mem
	host=$(hostname -s)
	# slurmd -C prints this machine as slurm.conf would describe it.
	read -r cpus mem < <(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9]*\).*RealMemory=\([0-9]*\).*/\1 \2/p')
	[ -n "${cpus:-}" ] || die "slurmd -C failed: $(slurmd -C 2>&1 | head -2)"
	mkdir -p "$dir/state" "$dir/spool"
	sed -e "s|@HOST@|$host|g" -e "s|@DIR@|$dir|g" -e "s|@CPUS@|$cpus|g" \
	    -e "s|@MEM@|$mem|g" -e "s|@PARTITION@|${PMB_SLURM_PARTITION:-debug}|g" \
	    -e "s|@CTLD_PORT@|${PMB_SLURM_CTLD_PORT:-16817}|g" \
	    -e "s|@SLURMD_PORT@|${PMB_SLURM_SLURMD_PORT:-16818}|g" \
	    "$here/slurm.conf.in" >"$SLURM_CONF"
	: >"$pids"

	# munge: reuse a running munged, else start one (as the munge user).
	if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		[ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || die "no /etc/munge/munge.key and mungekey failed"; }
		chown munge:munge /etc/munge/munge.key 2>/dev/null; chmod 400 /etc/munge/munge.key
		mkdir -p /run/munge /var/log/munge /var/lib/munge
		chown munge:munge /run/munge /var/log/munge /var/lib/munge
		chmod 755 /run/munge
		rm -f /run/munge/munged.pid
		runuser -u munge -- munged --foreground >"$dir/munged.log" 2>&1 &
		echo "munged $!" >>"$pids"
		for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
		munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || { stop; die "munged did not start: $(tail -3 "$dir/munged.log")"; }
	fi

	slurmctld -D -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
	echo "slurmctld $!" >>"$pids"
	slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
	echo "slurmd $!" >>"$pids"
	local state=""
	for _ in $(seq 150); do
		state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1)
		case $state in idle*|mixed*|allocated*) break ;; esac
		sleep 0.2
	done
	case $state in
	idle*|mixed*|allocated*) ;;
	*) local why
	   why=$(cat "$dir/slurmctld.out" "$dir/slurmd.out" 2>/dev/null | grep -iE 'error|fatal' | tail -3)
	   stop
	   die "node $host not idle after 30 s (state '${state:-none}'): ${why:-see $dir/*.log}" ;;
	esac
	echo "cluster.sh: single-node cluster up: node $host, $cpus CPUs; export SLURM_CONF=$SLURM_CONF" >&2
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
