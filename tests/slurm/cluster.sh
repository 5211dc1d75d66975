#!/usr/bin/env bash
# A throw-away multi-node Slurm cluster on one machine, every daemon in its
# own network and UTS namespace (docs/cluster.md, "Testing on one machine").
#
#   tests/slurm/cluster.sh start DIR [N]     munged, slurmctld, N slurmd (3)
#   tests/slurm/cluster.sh exec DIR CMD...   CMD in the controller's namespace
#                                            with SLURM_CONF set (sbatch, make slurm)
#   tests/slurm/cluster.sh kill-node DIR H   SIGKILL every process of node H
#                                            (its slurmd and its jobs): a lost node
#   tests/slurm/cluster.sh stop DIR          everything down, namespaces deleted
#   tests/slurm/cluster.sh leftovers DIR     lists what stop left (exit 1 if any)
#
# Layout: namespace <id>-br holds the bridge br0; <id>-ctl (host name ctl,
# 10.77.0.1) runs munged and slurmctld; <id>-n<i> (host name node<i>,
# 10.77.0.1<i>) runs one slurmd pinned (taskset) to CPU min(i-1, nproc-1):
# its own CPU when there are enough; with 2 CPUs node2 and node3 share CPU 1.
# Each namespace's veth leads only to the bridge: nothing is created in, or
# routed to, the host's network namespace.  Daemons enter their namespace
# with nsenter (ip netns exec would remount /sys, and slurmd needs
# /sys/fs/cgroup) and get their host name from `unshare --uts`.  munged
# listens on DIR/munge/munge.socket (a file: reachable from every namespace),
# with its own key.  Needs root, iproute2, util-linux, munge, slurm-wlm.
# Exit status of start: 0 up; 3 this machine cannot (not root, a tool
# missing, no network namespaces: the reason on stderr); 1 a daemon failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|exec|kill-node|stop|leftovers DIR ..." >&2; exit 2; }
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf
# namespace prefix: derived from DIR, so stop finds them without state
id=pmb$(printf '%s' "$dir" | md5sum | cut -c1-6)
subnet=10.77.0

die() { echo "cluster.sh: $1" >&2; exit "${2:-1}"; }
# node_cpu I NCPU: the CPU of node I
node_cpu() { echo $(($1 - 1 < $2 - 1 ? $1 - 1 : $2 - 1)); }
our_netns() { ip netns list 2>/dev/null | awk -v p="$id-" 'index($1, p) == 1 {print $1}'; }

# Every process inside one of our namespaces, then the namespaces.
stop() {
	local ns pids pass
	for pass in TERM KILL; do
		pids=$(for ns in $(our_netns); do ip netns pids "$ns" 2>/dev/null; done)
		[ -n "$pids" ] || break
		kill -"$pass" $pids 2>/dev/null
		for _ in $(seq 50); do
			pids=$(for ns in $(our_netns); do ip netns pids "$ns" 2>/dev/null; done)
			[ -z "$pids" ] && break
			sleep 0.1
		done
	done
	for ns in $(our_netns); do ip netns del "$ns" 2>/dev/null; done
	rm -f "$dir/munge/munge.socket" "$dir/munge/munge.socket.lock"
}

leftovers() {
	local left=0 ns p
	for ns in $(our_netns); do echo "namespace $ns"; left=1; done
	# any process still running from this directory's daemons (read only)
	for p in $(pgrep -f -- "$dir/" 2>/dev/null); do
		[ "$p" = $$ ] && continue
		echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; left=1
	done
	[ -e "$dir/munge/munge.socket" ] && { echo "munge socket $dir/munge/munge.socket"; left=1; }
	if ip -o link show 2>/dev/null | grep -q "$id"; then echo "host link named $id*"; left=1; fi
	return $left
}

# in_ns NS HOST CPU LOG CMD...: CMD in namespace NS, UTS host name HOST,
# pinned to CPU (or unpinned when CPU is -), in the background.
in_ns() {
	local ns=$1 host=$2 cpu=$3 log=$4
	shift 4
	local pin=()
	[ "$cpu" != - ] && pin=(taskset -c "$cpu")
	nsenter --net="/run/netns/$ns" unshare --uts \
		sh -c 'hostname "$1" && shift && exec "$@"' _ "$host" "${pin[@]}" "$@" \
		</dev/null >"$log" 2>&1 &
	echo "$host $!" >>"$dir/pids"
}

ctl_exec() { ip netns exec "$id-ctl" env SLURM_CONF="$conf" "$@"; }

start() {
	local n=${1:-3}
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces; slurmd runs jobs as their users)" 3
	for b in ip nsenter unshare taskset munged slurmctld slurmd sbatch; do
		command -v "$b" >/dev/null || die "$b not found; install: apt-get install -y iproute2 util-linux munge slurm-wlm" 3
	done
	[ -z "$(our_netns)" ] || die "namespaces $id-* exist already: $0 stop $dir first"
	ip netns add "$id-br" 2>"$dir/netns.err" ||
		die "cannot create a network namespace: $(head -1 "$dir/netns.err")" 3
	unshare --uts true 2>"$dir/netns.err" ||
		{ stop; die "cannot create a UTS namespace: $(head -1 "$dir/netns.err")" 3; }
	echo "$n" >"$dir/nodes"
	: >"$dir/pids"
	mkdir -p "$dir/state" "$dir/log" "$dir/munge"
	chmod 711 "$dir" "$dir/munge"

	# the network: a bridge in its own namespace, one veth per daemon namespace
	local i ns addr
	ip -n "$id-br" link add br0 type bridge && ip -n "$id-br" link set br0 up &&
		ip -n "$id-br" link set lo up || { stop; die "cannot create the bridge in $id-br"; }
	for i in ctl $(seq "$n"); do
		if [ "$i" = ctl ]; then ns=$id-ctl addr=$subnet.1; else ns=$id-n$i addr=$subnet.$((10 + i)); fi
		ip netns add "$ns" &&
			ip -n "$id-br" link add "v$i" type veth peer name eth0 netns "$ns" &&
			ip -n "$id-br" link set "v$i" master br0 up &&
			ip -n "$ns" addr add "$addr/24" dev eth0 &&
			ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up ||
			{ stop; die "cannot set up namespace $ns"; }
	done

	# the configuration: one NodeName line per node, one CPU each
	{
		sed -e "s|@DIR@|$dir|g" -e "s|@CTL_HOST@|ctl|g" -e "s|@CTL_ADDR@|$subnet.1|g" \
			"$here/slurm.conf.in"
		for i in $(seq "$n"); do
			echo "NodeName=node$i NodeAddr=$subnet.$((10 + i)) CPUs=1 RealMemory=256 State=UNKNOWN"
		done
		echo "PartitionName=${PMB_SLURM_PARTITION:-debug} Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
	} >"$conf"

	# munge: a key of our own, the socket in DIR/munge
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none &&
		chmod 400 "$dir/munge/munge.key" || { stop; die "cannot write the munge key"; }
	in_ns "$id-ctl" ctl - "$dir/log/munged.out" munged --foreground --force \
		--socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
		--pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
		--seed-file="$dir/munge/munged.seed"
	for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
	munge -S "$dir/munge/munge.socket" -n 2>/dev/null | unmunge -S "$dir/munge/munge.socket" >/dev/null 2>&1 ||
		{ stop; die "munged did not start: $(tail -2 "$dir/log/munged.out")"; }

	in_ns "$id-ctl" ctl - "$dir/log/slurmctld.out" slurmctld -D -f "$conf"
	local ncpu
	ncpu=$(nproc --all)
	for i in $(seq "$n"); do
		mkdir -p "$dir/spool/node$i"
		in_ns "$id-n$i" "node$i" "$(node_cpu "$i" "$ncpu")" "$dir/log/slurmd-node$i.out" \
			slurmd -D -N "node$i" -f "$conf"
	done
	local idle=0
	for _ in $(seq 200); do
		idle=$(ctl_exec sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$')
		[ "$idle" = "$n" ] && break
		sleep 0.2
	done
	if [ "$idle" != "$n" ]; then
		local why
		why=$(cat "$dir"/log/*.out 2>/dev/null | grep -iE 'fatal|error: (unable|cannot|couldn.t (bind|connect))' | tail -3)
		echo "cluster.sh: sinfo: $(ctl_exec sinfo -h -N -o '%N %T' 2>&1 | tr '\n' ' ')" >&2
		stop
		die "$idle of $n nodes idle after 40 s: ${why:-see $dir/log/}"
	fi
	echo "cluster.sh: $n-node cluster up: controller ctl ($subnet.1, namespace $id-ctl), nodes $(for i in $(seq "$n"); do printf 'node%d(cpu %d) ' "$i" "$(node_cpu "$i" "$ncpu")"; done)" >&2
	echo "cluster.sh: commands: $0 exec $dir sinfo (or: ip netns exec $id-ctl env SLURM_CONF=$conf ...)" >&2
}

kill_node() {
	local host=$1 i=${1#node}
	[ -n "$(ip netns pids "$id-n$i" 2>/dev/null)" ] || die "no process in $id-n$i (node $host)"
	kill -KILL $(ip netns pids "$id-n$i")
}

case $cmd in
start) start "$@" ;;
exec) [ $# -gt 0 ] || die "exec: give a command" 2; ctl_exec "$@" ;;
kill-node) [ $# = 1 ] || die "kill-node: give a node name (node<i>)" 2; kill_node "$1" ;;
stop) stop ;;
leftovers) leftovers ;;
*) echo "usage: $0 start|exec|kill-node|stop|leftovers DIR ..." >&2; exit 2 ;;
esac
