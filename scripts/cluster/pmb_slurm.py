"""Shared by scripts/cluster/slurm-submit and scripts/cluster/slurm-gather (docs/cluster.md).

A *campaign* is one `make slurm`: one Slurm job array, one task per node,
and its re-submissions.  On disk (shared storage):

    <OUT>/slurm-<array job id>/
        campaign.json               what was submitted: config, nodes, options,
                                    attempts [{job_id, tasks, sbatch}]
        task-<i>/attempt-<jobid>.json  written by scripts/cluster/slurm-job.sh
        task-<i>/slurm-<jobid>_<i>.out Slurm's output of the task
        task-<i>/<config>-<host>-<UTC time>/   the run (size-*.csv, ...)
        gather/                     written by slurm-gather

Completeness is decided from the files, never from the Slurm job state
(a step can fail while its job reads COMPLETED with exit 0).
"""

import glob
import json
import os
import re
import subprocess
import time

from pmubench.load import PmbError, load_run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cmd(argv, check=True):
    try:
        p = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError:
        raise PmbError("%s not found: run this on a Slurm submit host (with "
                       "slurm-client installed and SLURM_CONF set if needed)"
                       % argv[0])
    if check and p.returncode != 0:
        raise PmbError("%s failed (exit %d): %s"
                       % (" ".join(argv), p.returncode,
                          (p.stderr or p.stdout).strip()[:500]))
    return p


def compress_ids(ids):
    """[0, 1, 2, 5] -> '0-2,5' (sbatch --array syntax)."""
    ids = sorted(set(int(i) for i in ids))
    out, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(out)


def expand_nodes(spec):
    """'n1,n2' / 'n[1-4]' -> ['n1', ...]; '3' -> 3 (a count)."""
    spec = spec.strip()
    if re.fullmatch(r"\d+", spec):
        n = int(spec)
        if n < 1:
            raise PmbError("NODES=%s: give a node count >= 1 or a node list" % spec)
        return n
    if "[" in spec:
        p = run_cmd(["scontrol", "show", "hostnames", spec])
        nodes = p.stdout.split()
    else:
        nodes = [n for n in re.split(r"[,\s]+", spec) if n]
    if not nodes:
        raise PmbError("NODES=%r names no node" % spec)
    dup = sorted({n for n in nodes if nodes.count(n) > 1})
    if dup:  # allowed: repeated runs on one node (and the one-node test)
        import sys
        print("slurm-submit: note: %s listed more than once: those tasks run "
              "one after another on it" % ", ".join(dup), file=sys.stderr)
    return nodes


# --------------------------------------------------------------------------
# campaigns

def campaign_path(out, job_id):
    return os.path.join(out, "slurm-%s" % job_id)


def save_campaign(camp):
    path = os.path.join(camp["dir"], "campaign.json")
    tmp = path + ".tmp"
    data = {k: v for k, v in camp.items() if k != "dir"}
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def load_campaign(d):
    path = os.path.join(d, "campaign.json")
    try:
        with open(path) as f:
            camp = json.load(f)
    except OSError as e:
        raise PmbError("%s: cannot read: %s; is this a `make slurm` directory "
                       "(<OUT>/slurm-<jobid>/)?" % (path, e.strerror or e))
    except ValueError as e:
        raise PmbError("%s: not valid JSON (%s)" % (path, e))
    camp["dir"] = d
    return camp


def find_campaign(what, out):
    """what: a campaign directory, an array job id (first submission or a
    re-submission), or None/'latest' for the newest campaign under out."""
    if what and os.path.isdir(what):
        return load_campaign(what)
    dirs = sorted(glob.glob(os.path.join(out, "slurm-*", "campaign.json")),
                  key=os.path.getmtime)
    if not what or what == "latest":
        if not dirs:
            raise PmbError("no `make slurm` campaign under %s/ (no slurm-*/"
                           "campaign.json); submit one with make slurm" % out)
        return load_campaign(os.path.dirname(dirs[-1]))
    job = str(what).split("_")[0]
    if not job.isdigit():
        raise PmbError("%r is neither a Slurm job id nor a directory" % what)
    d = campaign_path(out, job)
    if os.path.isfile(os.path.join(d, "campaign.json")):
        return load_campaign(d)
    for path in dirs:  # a re-submission's job id
        camp = load_campaign(os.path.dirname(path))
        if any(str(a["job_id"]) == job for a in camp.get("attempts", [])):
            return camp
    raise PmbError("no campaign for job %s under %s/ (looked for "
                   "slurm-%s/campaign.json and re-submissions); pass OUT= "
                   "as at submission" % (job, out, job))


# --------------------------------------------------------------------------
# Slurm state (squeue / scontrol: no slurmdbd, so no sacct)

def queued(job_ids):
    """{job_id: [(task, state)]} of the jobs still pending or running."""
    out = {}
    for job in job_ids:
        p = run_cmd(["squeue", "-h", "-r", "-j", str(job), "-o", "%F %K %T"],
                    check=False)
        if p.returncode != 0:
            if "invalid job id" in (p.stderr + p.stdout).lower():
                continue  # long gone
            raise PmbError("squeue -j %s failed: %s (is slurmctld reachable? "
                           "check SLURM_CONF); --no-wait checks the files "
                           "without asking Slurm" % (job, (p.stderr or p.stdout).strip()))
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3:
                out.setdefault(str(job), []).append((parts[1], parts[2]))
    return out


def slurm_states(job_id):
    """{task id: {JobId, JobState, ExitCode, NodeList, Reason}} from
    `scontrol show job` ({} once slurmctld has forgotten the job: MinJobAge)."""
    p = run_cmd(["scontrol", "-o", "show", "job", str(job_id)], check=False)
    if p.returncode != 0:
        return {}
    out = {}
    for line in p.stdout.splitlines():
        f = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", line))
        task = f.get("ArrayTaskId")
        if task is None or not task.isdigit():
            continue  # a still-pending rest of the array ("1-3")
        out[int(task)] = f
    return out


def node_state(node):
    """(State, Reason) of a node from `scontrol show node`, e.g.
    ('DOWN+NOT_RESPONDING', 'Not responding'); None when unknown."""
    if not node:
        return None
    p = run_cmd(["scontrol", "-o", "show", "node", node], check=False)
    m = re.search(r"\bState=(\S+)", p.stdout) if p.returncode == 0 else None
    if not m:
        return None
    r = re.search(r"\bReason=(.*?)(?: \[[^]]*\])?\s*$", p.stdout.strip())
    return m.group(1), (r.group(1).strip() if r else "")


def lost_node(host, job_state):
    """'node2 is DOWN+NOT_RESPONDING (Not responding)' when the task's node
    is down, drained or failed (or the job ended NODE_FAIL); '' otherwise."""
    st = node_state(host)
    bad = ("DOWN", "DRAIN", "FAIL", "NOT_RESPONDING", "POWER")
    if st and any(b in st[0] for b in bad):
        return "node %s is %s%s" % (host, st[0], " (%s)" % st[1] if st[1] else "")
    if job_state == "NODE_FAIL":
        return "node %s failed under the job (NODE_FAIL)%s" % (
            host or "?", "; now %s" % st[0] if st else "")
    return ""


def counters_summary(meta):
    """(short, pmu) from meta.json: '4/11' counters counted of those asked
    for, and '' when the hardware PMU counted (cycles), else why not."""
    c = meta.get("counters") or {}
    asked = [k for k, v in c.items() if isinstance(v, dict) and v.get("requested")]
    got = [k for k in asked if c[k].get("available")]
    cyc = c.get("cycles") if isinstance(c.get("cycles"), dict) else {}
    pmu = ""
    if cyc.get("requested") and not cyc.get("available"):
        pmu = "no hardware PMU: cycles not counted (%s)" % (
            (cyc.get("reason") or "no reason given").split(";")[0])
    elif meta.get("backend") in ("timer",):
        pmu = "backend timer: no counters asked for"
    return "%d/%d" % (len(got), len(asked)), pmu


def wait_for(job_ids, timeout=None, poll=5, say=print):
    t0 = time.time()
    last = None
    while True:
        q = queued(job_ids)
        if not q:
            return True
        n = sum(len(v) for v in q.values())
        states = sorted({s for v in q.values() for _, s in v})
        msg = "waiting for %d task(s) of job %s (%s)" % (
            n, ",".join(sorted(q)), ", ".join(states))
        if msg != last:
            say(msg)
            last = msg
        if timeout is not None and time.time() - t0 > timeout:
            return False
        time.sleep(poll)


# --------------------------------------------------------------------------
# checking what a task left on disk

def check_run(run_dir):
    """(ok, reason, Run or None).  Complete means: meta.json complete=true,
    points_done (+ points_resumed) == points_total > 0, every CSV parses,
    every sample passed its self-check."""
    name = os.path.basename(os.path.normpath(run_dir))
    meta_path = os.path.join(run_dir, "meta.json")
    if not os.path.isfile(meta_path):
        return False, "%s: no meta.json (killed before it was written)" % name, None
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        return False, "%s: meta.json unreadable (%s)" % (name, e), None
    total = meta.get("points_total")
    done = meta.get("points_done")
    resumed = meta.get("points_resumed") or 0
    if meta.get("complete") is not True:
        why = meta.get("error") or (
            "interrupted by signal %s" % meta["interrupted_by_signal"]
            if meta.get("interrupted_by_signal") else
            # the harness records errors and catchable signals; silence
            # means it never got to: SIGKILL, the OOM killer, a lost node
            "no error or signal recorded: killed outright or its node lost")
        return False, "%s: incomplete (complete=%s, %s of %s points%s)" % (
            name, str(meta.get("complete")).lower(), done, total,
            "; " + why if why else ""), None
    if not isinstance(total, int) or total <= 0 or not isinstance(done, int) \
            or done + resumed != total:
        return False, "%s: complete=true but %s of %s points done" % (
            name, done, total), None
    warnings = []
    try:
        run = load_run(run_dir, warn=warnings.append)
    except PmbError as e:
        return False, "%s: CSV does not parse: %s" % (name, e), None
    trunc = [w for w in warnings if "truncated" in w]
    if trunc:
        return False, "%s: %s" % (name, trunc[0]), None
    bad = int((run.raw["valid"] != 1).sum())
    if bad:
        return False, "%s: %d sample(s) failed the kernel self-check" % (name, bad), None
    return True, "", run


def task_report(camp, task, states):
    """Everything known about one array task: attempts (from the files the
    job script wrote), the runs in its directory, the Slurm state of its
    last attempt.  Picks the newest complete run."""
    tdir = os.path.join(camp["dir"], "task-%d" % task)
    attempts = []
    for path in glob.glob(os.path.join(tdir, "attempt-*.json")):
        try:
            with open(path) as f:
                attempts.append(json.load(f))
        except (OSError, ValueError):
            pass
    attempts.sort(key=lambda a: int(a.get("job_id", 0)) if str(a.get("job_id", "")).isdigit() else 0)
    # every directory below task-<i>/ is a run (or the start of one)
    # (<config>-<host>-<UTC time>[-N]: the name sorts by start time)
    runs = sorted(os.path.normpath(d) for d in glob.glob(os.path.join(tdir, "*", "")))
    # the Slurm ids of the last submission that covered this task
    last_job = None
    for a in camp.get("attempts", []):
        if task in a.get("tasks", []):
            last_job = str(a["job_id"])
    rep = {"task": task, "array_job_id": last_job, "slurm_job_id": "",
           "host": "", "cpu_model": "", "run_dir": "", "ok": False,
           "reason": "", "slurm_state": "", "attempts": len(attempts),
           "node": "", "run": None, "counters": "", "pmu": ""}
    nodes = camp.get("nodes")
    if isinstance(nodes, list) and task < len(nodes):
        rep["node"] = nodes[task]
    st = states.get(last_job, {}).get(task)
    if st:
        rep["slurm_job_id"] = st.get("JobId", "")
        rep["slurm_state"] = "%s exit %s%s" % (
            st.get("JobState", "?"), st.get("ExitCode", "?"),
            "" if st.get("Reason") in (None, "None") else " (%s)" % st["Reason"])
        rep["host"] = st.get("NodeList", "") if st.get("NodeList") not in ("(null)", "") else ""
    else:
        rep["slurm_state"] = ("not in slurmctld's records: cancelled before it "
                              "started, or ended more than MinJobAge ago")
    last = [a for a in attempts if str(a.get("array_job_id")) == last_job]
    if last:
        a = last[-1]
        rep["slurm_job_id"] = str(a.get("job_id", rep["slurm_job_id"]))
        rep["host"] = a.get("host") or rep["host"]
        rep["cpu_model"] = a.get("cpu_model", "")
    checked = []
    for d in reversed(runs):  # newest first
        ok, reason, run = check_run(d)
        checked.append((d, ok, reason, run))
        if ok:
            rep.update(ok=True, run_dir=d, run=run, reason="",
                       host=run.meta.get("host") or rep["host"],
                       cpu_model=run.meta.get("cpu_model") or rep["cpu_model"])
            rep["counters"], rep["pmu"] = counters_summary(run.meta)
            return rep
    if checked:
        rep["run_dir"] = checked[0][0]
        rep["reason"] = checked[0][2]
    elif last:
        a = last[-1]
        rep["reason"] = "no run directory; the task's %s (%s)" % (
            "make build failed" if "build" in a.get("note", "") else
            "job script ended with status %s" % a.get("status"),
            a.get("note") or "see %s" % os.path.join(
                tdir, "slurm-%s_%d.out" % (last_job, task)))
        if a.get("status") == "running" and not st:
            rep["reason"] = ("task started on %s but never finished and wrote "
                             "no run: node lost or job killed" % a.get("host"))
    else:
        rep["reason"] = ("the task never started (no attempt-*.json): "
                         "cancelled, or its node was down or lost before "
                         "the script ran")
    if st and st.get("JobState") in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
        rep["reason"] = "still %s" % st["JobState"].lower()
    else:
        lost = lost_node(rep["host"], st.get("JobState") if st else "")
        if lost:
            rep["reason"] = "%s; %s" % (lost, rep["reason"] or "no run")
    return rep
