#!/usr/bin/env python3
"""The measuring half of scripts/bench (Python standard library only).

Runs our init and the peers (tini, tini-static, dumb-init, catatonit) each as a real
PID 1 in a fresh PID namespace (`unshare --pid --fork --mount-proc`), interleaved round
robin with a rotating start, and prints a Markdown table: every metric, the best peer and
our ratio to it. Run it through scripts/bench, which builds the binary and installs the
peers; `scripts/bench --help` lists the options.

The same file holds the small fixtures that run inside the namespace as the init's child
(`bench_helper.py _fixture NAME ...`); they are identical for every init, so whatever they
cost is the same in every column.

Every process started here is bounded: each session runs under `unshare --kill-child`
with PR_SET_PDEATHSIG on unshare itself, every wait has a deadline, and a session is
ended by SIGKILL to its PID 1, which takes the whole namespace down.
"""

import json
import os
import select
import signal
import sys
import time

MONO = time.CLOCK_MONOTONIC


def now_ns():
    return time.clock_gettime_ns(MONO)


# ---------------------------------------------------------------------------------------
# Fixtures: run inside the PID namespace, as the init's child. Keep them tiny.
# ---------------------------------------------------------------------------------------

# One orphan per iteration: a subshell starts `:` in the background and exits at once, so
# the `:` process is re-parented to PID 1 (the init under test), which must reap it.
STREAM_SH = 'n=$1; i=0; while [ "$i" -lt "$n" ]; do ( : & ); i=$((i+1)); done'
# N readers blocked on fd 3, each started in the background by a subshell that exits at
# once, so each is PID 1's child from the start (and the shell keeps no job table, which
# would make N background jobs cost O(N^2)); they all exit when the fixture closes the
# pipe's write end.
BURST_SH = 'n=$1; i=0; while [ "$i" -lt "$n" ]; do ( read x <&3 & ); i=$((i+1)); done'


def _out(line):
    os.write(1, (line + "\n").encode())


def _others(me):
    """PIDs in this namespace other than PID 1 and `me` (the fixture)."""
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) not in (1, me)]


def fixture_latency():
    """Prints 'ready', then the CLOCK_MONOTONIC time (ns) at which each SIGUSR1 arrived.

    SIGUSR1 is blocked and taken with sigwaitinfo: the moment it returns is the moment a
    handler would run, without Python's deferred-handler delay."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    _out("ready")
    while True:
        signal.sigwaitinfo({signal.SIGUSR1})
        t = time.clock_gettime_ns(MONO)
        _out(str(t))


def _wait_reaped(pids, deadline):
    """Polls with kill(pid, 0) until every pid is gone (a zombie still answers)."""
    alive = list(pids)
    while alive:
        nxt = []
        for p in alive:
            try:
                os.kill(p, 0)
                nxt.append(p)
            except ProcessLookupError:
                pass
        alive = nxt
        if alive:
            if time.monotonic() > deadline:
                return len(alive)
            time.sleep(0.0005)
    return 0


def fixture_stream(n):
    """A stream of n short-lived orphans; reports (ns) the stream's duration and the time
    until the last orphan was reaped."""
    me = os.getpid()
    _out("ready")
    sys.stdin.readline()
    t0 = now_ns()
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", STREAM_SH, "sh", str(n)], os.environ)
    os.waitpid(pid, 0)
    t1 = now_ns()
    deadline = time.monotonic() + 60
    left = -1
    while left != 0 and time.monotonic() < deadline:
        left = _wait_reaped(_others(me), deadline)
    t2 = now_ns()
    _out(json.dumps({"n": n, "stream_ns": t1 - t0, "total_ns": t2 - t0, "tail_ns": t2 - t1,
                     "left": left}))
    sys.stdin.readline()  # stay until the bench has read init's CPU time


def fixture_burst(n):
    """n live orphans of PID 1 that exit at once; reports (ns) the time from the release
    to the last one reaped."""
    me = os.getpid()
    r, w = os.pipe()  # both close-on-exec: the shell gets only the read end, as fd 3
    if r == 3:
        r2 = os.dup(r)
        os.close(r)
        r = r2
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", BURST_SH, "sh", str(n)], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, r, 3)])
    os.waitpid(pid, 0)
    os.close(r)
    # Every subshell has forked its reader before exiting: all n exist by now.
    pids = _others(me)
    deadline = time.monotonic() + 30
    while len(pids) < n and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = _others(me)
    _out("ready %d" % len(pids))
    sys.stdin.readline()
    t0 = now_ns()
    os.close(w)
    left = _wait_reaped(pids, time.monotonic() + 60)
    t1 = now_ns()
    _out(json.dumps({"n": len(pids), "burst_ns": t1 - t0, "left": left}))
    sys.stdin.readline()  # stay until the bench has read init's CPU time


def run_fixture(argv):
    name = argv[0]
    if name == "latency":
        fixture_latency()
    elif name == "stream":
        fixture_stream(int(argv[1]))
    elif name == "burst":
        fixture_burst(int(argv[1]))
    else:
        sys.exit("unknown fixture " + name)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "_fixture":
    run_fixture(sys.argv[2:])
    sys.exit(0)

# ---------------------------------------------------------------------------------------
# The harness.
# ---------------------------------------------------------------------------------------

import argparse  # noqa: E402
import ctypes  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402

HELPER = os.path.abspath(__file__)
PY = sys.executable
FIXTURE = [PY, "-I", "-S", HELPER, "_fixture"]
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
if os.geteuid() != 0:
    UNSHARE[1:1] = ["--user", "--map-root-user"]
SESSION_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": os.environ.get("HOME", "/root"),
}
PEER_PATHS = [
    ("tini", "/usr/bin/tini"),
    ("tini-static", "/usr/bin/tini-static"),
    ("dumb-init", "/usr/bin/dumb-init"),
    ("catatonit", "/usr/bin/catatonit"),
]
STATIC_PEERS = ("tini-static", "catatonit")
OURS = "init (ours)"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


class Init:
    def __init__(self, name, path, grace=()):
        self.name = name
        self.path = path
        self.real = os.path.realpath(path) if path else None
        self.grace = list(grace)  # only our init has a grace period (1 s here)

    def argv(self, child, grace=False):
        if not self.path:
            return list(child)
        return [self.path] + (self.grace if grace else []) + ["--"] + list(child)


NO_INIT = Init("no init", None)


def rotate(items, r):
    k = r % len(items)
    return items[k:] + items[:k]


# --- /proc readers ---------------------------------------------------------------------

def read(path):
    with open(path, "rb") as f:
        return f.read().decode(errors="replace")


def stat_fields(pid):
    """(comm, state, ppid) from /proc/PID/stat, or None if gone."""
    try:
        s = read("/proc/%d/stat" % pid)
    except OSError:
        return None
    rp = s.rfind(")")
    rest = s[rp + 2:].split()
    return s[s.find("(") + 1:rp], rest[0], int(rest[1])


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            f = stat_fields(int(d))
            if f and f[2] == pid:
                out.append(int(d))
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def status_fields(pid):
    out = {}
    for line in read("/proc/%d/status" % pid).splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def kib(v):
    return int(v.split()[0])


def memory(pid):
    st = status_fields(pid)
    pss = None
    for line in read("/proc/%d/smaps_rollup" % pid).splitlines():
        if line.startswith("Pss:"):
            pss = kib(line.split(":", 1)[1])
    return {"vmrss": kib(st["VmRSS"]), "rssanon": kib(st["RssAnon"]), "pss": pss}


def activity(pid):
    """(context switches, CPU ns) of pid so far."""
    st = status_fields(pid)
    ctx = int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
    try:
        cpu = int(read("/proc/%d/schedstat" % pid).split()[0])
    except OSError:
        f = read("/proc/%d/stat" % pid)
        rest = f[f.rfind(")") + 2:].split()
        cpu = (int(rest[11]) + int(rest[12])) * 10**9 // os.sysconf("SC_CLK_TCK")
    return ctx, cpu


def sig_ignored(pid, sig):
    return int(status_fields(pid)["SigIgn"], 16) & (1 << (sig - 1)) != 0


# --- sessions: one init as PID 1 of a fresh PID namespace -------------------------------

LIVE = set()


LIBC = ctypes.CDLL(None, use_errno=True)


def _pdeathsig():
    # unshare dies with us; its --kill-child then kills the namespace's PID 1.
    LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class CpuCgroup:
    """A cgroup of the bench's own under the `cpu` controller, as a container runtime gives
    each container: the bench moves itself in (its children follow) and, on close, moves
    itself back and removes it. cgroup v1: a child of our cgroup in the `cpu` hierarchy;
    cgroup v2: a child of our cgroup, used only when the cpu controller reaches it. On any
    failure `path` is None and `why` says why."""

    def __init__(self):
        self.path, self.why, self.home, self.kind = None, None, None, None
        try:
            self._make()
        except OSError as e:
            self.why = "cannot make a cgroup: %s" % e
            self._remove()
            self.path = None

    def _make(self):
        mounts = [line.split() for line in read("/proc/self/mounts").splitlines()]
        groups = [line.split(":", 2) for line in read("/proc/self/cgroup").splitlines()]
        v1 = [m[1] for m in mounts if m[2] == "cgroup" and "cpu" in m[3].split(",")]
        v2 = [m[1] for m in mounts if m[2] == "cgroup2"]
        if v1:
            mnt = v1[0]
            cur = [g[2] for g in groups if "cpu" in g[1].split(",")]
            self.kind = "cgroup v1 `cpu` controller"
        elif v2:
            mnt = v2[0]
            cur = [g[2] for g in groups if g[0] == "0"]
            self.kind = "cgroup v2 with the cpu controller"
        else:
            self.why = "no cgroup filesystem with the cpu controller is mounted"
            return
        if not cur:
            self.why = "this process's cpu cgroup is not in /proc/self/cgroup"
            return
        self.home = os.path.join(mnt, cur[0].lstrip("/"))
        self.home_rel = cur[0]
        path = os.path.join(self.home, "init-bench.%d" % os.getpid())
        os.mkdir(path)
        self.path = path
        if not v1 and not os.path.exists(os.path.join(path, "cpu.weight")):
            self.why = "cgroup v2 without the cpu controller below %s" % self.home
            self._remove()
            return
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        self.rel = path[len(mnt):]

    def enter(self, path):
        """Moves the bench (and so the sessions it starts next) into the cgroup `path`."""
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def _remove(self):
        if not self.path:
            return
        if self.home:
            try:
                self.enter(self.home)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError as e:
                if time.monotonic() > deadline:
                    log("bench: could not remove the cgroup %s: %s" % (self.path, e))
                    return
                time.sleep(0.1)

    def close(self):
        self._remove()
        self.path = None


class Lines:
    """Line reader over a pipe with a timeout on every read."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()


class Session:
    def __init__(self, init, child, stdin=False, stdout=False, grace=False, out_file=None):
        self.init = init
        self.child_argv = list(child)
        self.err = tempfile.TemporaryFile()
        argv = UNSHARE + init.argv(child, grace)
        out = subprocess.PIPE if stdout else (out_file or subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            argv, env=SESSION_ENV, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=out, stderr=self.err,
            start_new_session=True, preexec_fn=_pdeathsig)
        LIVE.add(self)
        self.lines = Lines(self.proc.stdout.fileno()) if stdout else None
        self.pid1 = None  # host pid of the namespace's PID 1

    def fail(self, what):
        self.err.seek(0)
        tail = self.err.read()[-400:].decode(errors="replace").strip()
        raise BenchError("%s: %s%s" % (self.init.name, what,
                                       (" (stderr: %s)" % tail) if tail else ""))

    def wait_pid1(self, timeout=10):
        """Waits until unshare's child has exec'd the init (or the command, for no init)."""
        want = self.init.real or os.path.realpath(shutil.which(self.child_argv[0]) or "")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for c in children_of(self.proc.pid):
                if exe_of(c) == want:
                    self.pid1 = c
                    return c
            if self.proc.poll() is not None:
                self.fail("exited early with %s" % self.proc.returncode)
            time.sleep(0.0005)
        self.fail("PID 1 did not start")

    def wait_child(self, ready, timeout=10):
        """Waits until a child of PID 1 satisfies ready(pid)."""
        if self.pid1 is None:
            self.wait_pid1()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for c in children_of(self.pid1):
                try:
                    if ready(c):
                        return c
                except OSError:
                    pass
            if self.proc.poll() is not None:
                self.fail("exited early with %s" % self.proc.returncode)
            time.sleep(0.0005)
        self.fail("child did not become ready")

    def readline(self, timeout):
        line = self.lines.readline(timeout)
        if line is None:
            self.fail("no output from the fixture within %.0f s" % timeout)
        return line

    def write(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            if self.pid1 is not None:
                try:
                    os.kill(self.pid1, signal.SIGKILL)  # the namespace goes with it
                except ProcessLookupError:
                    pass
            else:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # --kill-child does the rest
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=30)
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                try:
                    f.close()
                except OSError:
                    pass
        self.err.close()
        LIVE.discard(self)


def close_all():
    for s in list(LIVE):
        try:
            s.close()
        except Exception as e:  # keep closing the others
            log("cleanup: %s" % e)


def is_sleep(pid):
    f = stat_fields(pid)
    return f is not None and f[0] == "sleep"


def is_sleep_ignoring_term(pid):
    return is_sleep(pid) and sig_ignored(pid, signal.SIGTERM)


# --- statistics --------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def diff_ci(a, b, stat=statistics.median, n=300, seed=1):
    """95% bootstrap interval of stat(a) - stat(b), for samples taken in batches (lists of
    lists, batch i of a and of b measured at the same time): a cluster bootstrap that
    resamples whole batches, then samples within them, so that what differs between
    batches (fresh processes, CPU placement, machine load) widens the interval."""
    rnd = random.Random(seed)
    k = min(len(a), len(b))
    ds = []
    for _ in range(n):
        idx = [rnd.randrange(k) for _ in range(k)]
        ra = [x[rnd.randrange(len(x))] for i in idx for x in [a[i]] for _ in x]
        rb = [x[rnd.randrange(len(x))] for i in idx for x in [b[i]] for _ in x]
        ds.append(stat(ra) - stat(rb))
    ds.sort()
    return ds[int(0.025 * n)], ds[int(0.975 * n) - 1]


# --- the measurements --------------------------------------------------------------------

def elf_linkage(path):
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            return "?"
        e_type = struct.unpack_from("<H", h, 16)[0]
        phoff = struct.unpack_from("<Q", h, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    types = {struct.unpack_from("<I", ph, i * phentsize)[0] for i in range(phnum)}
    if 3 in types:  # PT_INTERP
        return "dynamic"
    return "static-pie" if e_type == 3 else "static"


def m_size(inits, res):
    for i in inits:
        res[i.name]["size"] = os.stat(i.path).st_size
        res[i.name]["linkage"] = elf_linkage(i.path)


def m_idle(inits, res, rounds, window):
    """Memory of the idle init, and its wake-ups and CPU time over `window` seconds while
    its child sleeps. All inits idle side by side (different binaries share no pages,
    except the dynamic ones' libc), started in a rotating order."""
    per = {i.name: {"mem": [], "ctx": [], "cpu": []} for i in inits}
    for r in range(rounds):
        sessions = []
        try:
            for i in rotate(inits, r):
                sessions.append(Session(i, ["/bin/sleep", "1000"]))
            for s in sessions:
                s.wait_child(is_sleep)
            time.sleep(0.5)
            before = {s.init.name: activity(s.pid1) for s in sessions}
            time.sleep(window)
            for s in sessions:
                ctx, cpu = activity(s.pid1)
                b = before[s.init.name]
                per[s.init.name]["ctx"].append(ctx - b[0])
                per[s.init.name]["cpu"].append(cpu - b[1])
                per[s.init.name]["mem"].append(memory(s.pid1))
        finally:
            for s in sessions:
                s.close()
    for name, p in per.items():
        for k in ("vmrss", "rssanon", "pss"):
            res[name][k] = median([m[k] for m in p["mem"]])
        res[name]["wakeups"] = median(p["ctx"])
        res[name]["idle_cpu_us"] = median(p["cpu"]) / 1000.0
        res[name]["wakeups_all"] = p["ctx"]


def m_exec(inits, res, rounds, runs, meta):
    """`init -- /bin/true` against `/bin/true` alone, both as PID 1 of a fresh namespace;
    the overhead is the difference of the medians. hyperfine when present (one hyperfine
    call per round, commands in rotating order), otherwise a Python posix_spawn loop that
    interleaves every single run."""
    cmds = [(NO_INIT.name, UNSHARE + ["/bin/true"])]
    cmds += [(i.name, UNSHARE + i.argv(["/bin/true"])) for i in inits]
    times = {name: [] for name, _ in cmds}
    batches = {name: [] for name, _ in cmds}
    hf = shutil.which("hyperfine")
    meta["exec_tool"] = "hyperfine" if hf else "python posix_spawn loop"
    for r in range(rounds):
        order = rotate(cmds, r)
        if hf:
            with tempfile.NamedTemporaryFile(suffix=".json") as jf:
                argv = [hf, "-N", "--warmup", "3", "--runs", str(runs), "--style", "none",
                        "--export-json", jf.name]
                argv += [shlex.join(c) for _, c in order]
                # Own process group, so that an interrupt also ends the run in flight.
                p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=dict(os.environ, **SESSION_ENV),
                                     start_new_session=True)
                try:
                    _, err = p.communicate(timeout=300)
                finally:
                    if p.returncode is None:
                        os.killpg(p.pid, signal.SIGKILL)
                        p.wait()
                if p.returncode != 0:
                    raise BenchError("hyperfine failed: " + err.decode()[-400:])
                data = json.load(open(jf.name))
            for (name, _), result in zip(order, data["results"]):
                batches[name].append([t * 1e6 for t in result["times"]])
        else:
            exe = shutil.which("unshare")
            for name, _ in cmds:
                batches[name].append([])
            for _ in range(runs):
                for name, c in order:
                    t0 = now_ns()
                    pid = os.posix_spawn(exe, c, SESSION_ENV)
                    _, st = os.waitpid(pid, 0)
                    t1 = now_ns()
                    if st != 0:
                        raise BenchError("%s: `%s` failed (%d)" % (name, shlex.join(c), st))
                    batches[name][-1].append((t1 - t0) / 1000.0)
    for name in times:
        times[name] = [x for b in batches[name] for x in b]
    base = median(times[NO_INIT.name])
    meta["exec_base_us"] = base
    meta["exec_runs"] = len(times[NO_INIT.name])
    for i in inits:
        res[i.name]["exec_total_us"] = median(times[i.name])
        res[i.name]["exec_us"] = median(times[i.name]) - base
        # Per round, as overhead: minus that round's median of `true` alone.
        res[i.name]["exec_samples"] = [
            [x - median(bb) for x in b] for b, bb in zip(batches[i.name], batches[NO_INIT.name])]


def m_latency(inits, res, batches, per_batch, meta, sfx=""):
    """SIGUSR1 sent to the init -> seen by the child (sigwaitinfo returns). In each batch
    all inits run side by side (fresh sessions, so CPU placement is drawn anew); one
    signal at a time, round robin over the inits with the start rotating, 1 ms apart."""
    lat = {i.name: [] for i in inits}
    lost = {i.name: 0 for i in inits}
    for b in range(batches):
        sessions = []
        for i in inits:
            lat[i.name].append([])
        try:
            for i in rotate(inits, b):
                sessions.append(Session(i, FIXTURE + ["latency"], stdout=True))
            for s in sessions:
                s.wait_pid1()
                if s.readline(15) != "ready":
                    s.fail("fixture not ready")
            for r in range(per_batch):
                for s in rotate(sessions, r):
                    time.sleep(0.001)
                    t0 = now_ns()
                    os.kill(s.pid1, signal.SIGUSR1)
                    line = s.lines.readline(2.0)
                    if line is None:
                        lost[s.init.name] += 1
                        continue
                    lat[s.init.name][-1].append((int(line) - t0) / 1000.0)
        finally:
            for s in sessions:
                s.close()
    meta["latency%s_n" % sfx] = batches * per_batch
    meta["latency%s_batches" % sfx] = batches
    for i in inits:
        x = [v for b in lat[i.name] for v in b]
        res[i.name]["lat_med%s_us" % sfx] = median(x)
        res[i.name]["lat_p99%s_us" % sfx] = pct(x, 99)
        res[i.name]["lat%s_samples" % sfx] = lat[i.name]
        res[i.name]["lat%s_lost" % sfx] = lost[i.name]


def m_reap(inits, res, kind, n, rounds):
    """`stream`: n short-lived orphans one after another; `burst`: n live orphans released
    at once. Wall time measured by the fixture (CLOCK_MONOTONIC), init's CPU time from
    /proc/PID/schedstat."""
    wall, cpu, lefts = {i.name: [] for i in inits}, {i.name: [] for i in inits}, {}
    tail = {i.name: [] for i in inits}
    wakes = {i.name: [] for i in inits}
    for r in range(rounds):
        for i in rotate(inits, r):
            s = Session(i, FIXTURE + [kind, str(n)], stdin=True, stdout=True)
            try:
                s.wait_pid1()
                ready = s.readline(180)
                if not ready.startswith("ready"):
                    s.fail("fixture not ready: " + ready)
                w0, c0 = activity(s.pid1)
                s.write("go\n")
                out = json.loads(s.readline(180))
                w1, c1 = activity(s.pid1)
            finally:
                s.close()
            if out.get("left"):
                lefts[i.name] = out["left"]
            wall[i.name].append((out["total_ns"] if kind == "stream" else out["burst_ns"]) / 1e6)
            if kind == "stream":
                tail[i.name].append(out["tail_ns"] / 1e6)
            cpu[i.name].append((c1 - c0) / 1e6)
            wakes[i.name].append(w1 - w0)
    for i in inits:
        res[i.name][kind + "_ms"] = median(wall[i.name])
        res[i.name][kind + "_cpu_ms"] = median(cpu[i.name])
        res[i.name][kind + "_wakeups"] = median(wakes[i.name])
        res[i.name][kind + "_all"] = wall[i.name]
        res[i.name][kind + "_cpu_all"] = cpu[i.name]
        if kind == "stream":
            res[i.name]["stream_tail_ms"] = median(tail[i.name])
            res[i.name]["stream_tail_all"] = tail[i.name]
        if i.name in lefts:
            res[i.name][kind + "_left"] = lefts[i.name]


def wait_fds(fds, deadline):
    """fd -> CLOCK_MONOTONIC ns at which it became readable, for those that did."""
    done = {}
    pending = set(fds)
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select(list(pending), [], [], left)
        t = now_ns()
        for fd in r:
            done[fd] = t
            pending.discard(fd)
    return done


def m_shutdown_term(inits, res, rounds, bound):
    """TERM to the init -> init gone (its pidfd readable), child `sleep` dies of TERM."""
    ts = {i.name: [] for i in inits}
    noexit = {i.name: 0 for i in inits}
    for r in range(rounds):
        for i in rotate(inits, r):
            s = Session(i, ["/bin/sleep", "1000"], grace=True)
            try:
                s.wait_child(is_sleep)
                fd = os.pidfd_open(s.pid1)
                try:
                    t0 = now_ns()
                    os.kill(s.pid1, signal.SIGTERM)
                    got = wait_fds([fd], time.monotonic() + bound)
                finally:
                    os.close(fd)
            finally:
                s.close()
            if fd in got:
                ts[i.name].append((got[fd] - t0) / 1e6)
            else:
                noexit[i.name] += 1
    for i in inits:
        res[i.name]["term_ms"] = median(ts[i.name]) if not noexit[i.name] else None
        res[i.name]["term_all"] = ts[i.name]
        res[i.name]["term_noexit"] = noexit[i.name]


def m_shutdown_ignore(inits, res, rounds, bound):
    """TERM to the init while its child ignores TERM. Ours runs with -t 1s (grace 1 s,
    then SIGKILL); the peers have no grace period. All inits side by side, TERM sent in
    rotating order, each wait bounded."""
    ts = {i.name: [] for i in inits}
    noexit = {i.name: 0 for i in inits}
    child = ["/bin/sh", "-c", 'trap "" TERM; exec /bin/sleep 1000']
    for r in range(rounds):
        sessions, fds = [], {}
        try:
            for i in rotate(inits, r):
                sessions.append(Session(i, child, grace=True))
            for s in sessions:
                s.wait_child(is_sleep_ignoring_term)
                fds[s] = os.pidfd_open(s.pid1)
            t0 = {}
            for s in sessions:
                t0[s] = now_ns()
                os.kill(s.pid1, signal.SIGTERM)
            got = wait_fds(list(fds.values()), time.monotonic() + bound)
            for s, fd in fds.items():
                if fd in got:
                    ts[s.init.name].append((got[fd] - t0[s]) / 1e6)
                else:
                    noexit[s.init.name] += 1
        finally:
            for fd in fds.values():
                os.close(fd)
            for s in sessions:
                s.close()
    for i in inits:
        res[i.name]["ignore_ms"] = median(ts[i.name]) if not noexit[i.name] else None
        res[i.name]["ignore_noexit"] = noexit[i.name]


APP = '''\
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hello\\n"})
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path="/"):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
            c.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                       % path).encode())
            data = c.recv(64)
    except OSError:
        return None
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def m_uvicorn(inits, res, venv_python, rounds, meta):
    """Start of `unshare ... [init --] python -m uvicorn` -> first HTTP 200, polled every
    millisecond; `no init` is uvicorn itself as PID 1. One discarded warm-up run each."""
    configs = [NO_INIT] + list(inits)
    ts = {c.name: [] for c in configs}
    tmp = tempfile.mkdtemp(prefix="init-bench-")
    try:
        with open(os.path.join(tmp, "bench_app.py"), "w") as f:
            f.write(APP)
        for r in range(rounds + 1):
            for c in rotate(configs, r):
                port = free_port()
                child = [venv_python, "-m", "uvicorn", "--app-dir", tmp, "--host",
                         "127.0.0.1", "--port", str(port), "--log-level", "warning",
                         "--no-access-log", "bench_app:app"]
                t0 = now_ns()
                s = Session(c, child)
                try:
                    deadline = time.monotonic() + 30
                    while True:
                        if http_status(port) == 200:
                            t1 = now_ns()
                            break
                        if s.proc.poll() is not None:
                            s.fail("uvicorn exited with %s" % s.proc.returncode)
                        if time.monotonic() > deadline:
                            s.fail("no HTTP 200 within 30 s")
                        time.sleep(0.001)
                    s.wait_pid1()
                finally:
                    s.close()
                if r > 0:
                    ts[c.name].append((t1 - t0) / 1e6)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = median(ts[NO_INIT.name])
    meta["uvicorn_base_ms"] = base
    meta["uvicorn_base_all"] = ts[NO_INIT.name]
    for i in inits:
        res[i.name]["uvicorn_ms"] = median(ts[i.name])
        res[i.name]["uvicorn_added_ms"] = median(ts[i.name]) - base
        res[i.name]["uvicorn_all"] = ts[i.name]


# --- rolling stop under load -----------------------------------------------------------

APP_DIR = os.path.join(os.path.dirname(os.path.dirname(HELPER)), "examples", "app")
ROLL_PATH = "/slow?seconds=0.1"  # the app answers after ~100 ms
ROLL_CLIENTS = 4                 # concurrent clients, each one request at a time
ROLL_SLOT = 0.1                  # a failed attempt waits out this much before the next
ROLL_TIMEOUT = 5.0               # per request: connect, send, whole reply
ROLL_WARMUP = 1.0                # load before the SIGTERM
ROLL_EXIT_BOUND = 30.0           # SIGTERM -> init exit, at most


def one_request(port, path, timeout):
    """One GET over a fresh connection: 'ok', or why not ('refused', 'reset', 'timeout',
    'http NNN', 'error ...')."""
    deadline = time.monotonic() + timeout
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error %s" % (e.strerror or e)
    data = b""
    try:
        with c:
            c.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                       % path).encode())
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                c.settimeout(left)
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except OSError as e:
        return "error %s" % (e.strerror or e)
    head, sep, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if not sep or len(parts) < 2 or not parts[1].isdigit():
        return "reset"  # closed before a whole reply: what a client sees as a reset
    status = int(parts[1])
    if not 200 <= status < 300:
        return "http %d" % status
    return "ok"


class Load:
    """`clients` threads, each sending one request at a time on a new connection, the next
    one as soon as the last one ended (a failed attempt first waits out the rest of
    ROLL_SLOT, so that a refused port counts one failure per slot instead of thousands).
    Records (start ns, end ns, outcome) of every request."""

    def __init__(self, port, clients=ROLL_CLIENTS, path=ROLL_PATH):
        self.port, self.path = port, path
        self.records = []
        self.lock = threading.Lock()
        self.stop_ns = None
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(clients)]

    def _client(self):
        while True:
            t0 = now_ns()
            stop = self.stop_ns
            if stop is not None and t0 >= stop:
                return
            outcome = one_request(self.port, self.path, ROLL_TIMEOUT)
            t1 = now_ns()
            with self.lock:
                self.records.append((t0, t1, outcome))
            if outcome != "ok":
                rest = ROLL_SLOT - (t1 - t0) / 1e9
                if rest > 0:
                    time.sleep(rest)

    def start(self):
        for t in self.threads:
            t.start()

    def stop_at(self, t_ns):
        self.stop_ns = t_ns

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


def roll_servers(venv):
    """name -> argv of the server (PORT replaced by the port)."""
    vbin = os.path.join(venv, "bin")
    gunicorn = [os.path.join(vbin, "gunicorn"), "app:wsgi", "--chdir", APP_DIR,
                "--bind", "127.0.0.1:PORT", "--workers", "2", "--worker-class", "sync",
                "--graceful-timeout", "10", "--log-level", "warning"]
    try:
        helptext = subprocess.run([gunicorn[0], "--help"], capture_output=True, text=True,
                                  timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        helptext = ""
    if "--no-control-socket" in helptext:
        gunicorn.append("--no-control-socket")
    uvicorn = [os.path.join(vbin, "python"), "-m", "uvicorn", "app:app", "--app-dir", APP_DIR,
               "--host", "127.0.0.1", "--port", "PORT", "--workers", "2",
               "--timeout-graceful-shutdown", "10", "--log-level", "warning",
               "--no-access-log"]
    return [("gunicorn", gunicorn), ("uvicorn", uvicorn)]


def roll_once(init, server_argv, window):
    """One rolling stop: the server under `init` as PID 1 with the load running; SIGTERM
    to the init; the clients keep starting requests for `window` seconds, then stop.
    Returns the counts of this run."""
    port = free_port()
    child = [a.replace("PORT", str(port)) for a in server_argv]
    app_log = tempfile.TemporaryFile()  # the app's stdout: a line per slow request begun/ended
    s = Session(init, child, grace=True, out_file=app_log)
    fd = None
    load = None
    try:
        s.wait_pid1(30)
        fd = os.pidfd_open(s.pid1)
        deadline = time.monotonic() + 60
        while http_status(port, "/health") != 200:
            if s.proc.poll() is not None:
                s.fail("server exited with %s before serving" % s.proc.returncode)
            if time.monotonic() > deadline:
                s.fail("no HTTP 200 on /health within 60 s")
            time.sleep(0.02)
        load = Load(port)
        load.start()
        time.sleep(ROLL_WARMUP)
        t_term = now_ns()
        os.kill(s.pid1, signal.SIGTERM)
        t_stop = t_term + int(window * 1e9)
        load.stop_at(t_stop)
        got = wait_fds([fd], time.monotonic() + ROLL_EXIT_BOUND)
        clients_done = load.join(ROLL_TIMEOUT + window + 5)
        exited = fd in got
        code = None
        if exited:
            try:
                code = s.proc.wait(timeout=10)  # unshare exits with PID 1's status
            except subprocess.TimeoutExpired:
                code = None
            if code is not None and code < 0:
                code = 128 - code  # unshare re-raised PID 1's fatal signal
    finally:
        if fd is not None:
            os.close(fd)
        s.close()
    app_log.seek(0)
    text = app_log.read().decode(errors="replace")
    app_log.close()
    with load.lock:
        recs = list(load.records)
    failed = [o for _, _, o in recs if o != "ok"]
    kinds = {}
    for o in failed:
        k = o.split()[0] if o.startswith("http") or o.startswith("error") else o
        k = "non-2xx" if k == "http" else k
        kinds[k] = kinds.get(k, 0) + 1
    in_flight = [o for t0, t1, o in recs if t0 < t_term <= t1]
    return {
        "requests": len(recs),
        "failed": len(failed),
        "failed_kinds": kinds,
        "failed_before_term": sum(1 for t0, _, o in recs if o != "ok" and t0 < t_term),
        "window_started": sum(1 for t0, _, _ in recs if t_term <= t0 < t_stop),
        "window_failed": sum(1 for t0, _, o in recs if o != "ok" and t_term <= t0 < t_stop),
        "ok_after_term": sum(1 for t0, _, o in recs if o == "ok" and t0 >= t_term),
        "in_flight": len(in_flight),
        "in_flight_ok": sum(1 for o in in_flight if o == "ok"),
        "exit_code": code if exited else None,
        "exit_ms": (got[fd] - t_term) / 1e6 if exited else None,
        "clients_done": clients_done,
        # Requests the app began (it logs before its 100 ms wait) and never finished: cut
        # off in the middle by the shutdown, seen from the server's side.
        "app_cut": text.count("slow request started") - text.count("slow request finished"),
    }


def roll_inits(inits, ours_path, delay):
    """The inits of the rolling stop: ours without and with the pre-stop delay, and the
    peers except tini-static (the same program as tini)."""
    grace = ["-t", "15s"]
    out = [Init(OURS, ours_path, grace=grace),
           Init("%s --pre-stop-delay %gs" % (OURS, delay), ours_path,
                grace=grace + ["--pre-stop-delay", "%gs" % delay])]
    out += [i for i in inits if i.path and i.name not in (OURS, "tini-static")]
    return out


def m_rolling(inits, ours_path, venv, rounds, window, delay, meta):
    """Every (server, init) pair `rounds` times, interleaved: one round runs each pair once,
    in an order that rotates every round."""
    servers = roll_servers(venv)
    rinits = roll_inits(inits, ours_path, delay)
    pairs = [(sn, sa, i) for sn, sa in servers for i in rinits]
    runs = {(sn, i.name): [] for sn, _, i in pairs}
    for r in range(rounds):
        for sn, sa, i in rotate(pairs, r):
            log("bench: rolling stop: %s under %s (round %d/%d)" % (sn, i.name, r + 1, rounds))
            runs[(sn, i.name)].append(roll_once(i, sa, window))
    meta["rolling"] = {
        "servers": [sn for sn, _ in servers],
        "inits": [i.name for i in rinits],
        "argv": {sn: " ".join(os.path.relpath(a) if a.startswith("/") and
                              not os.path.relpath(a).startswith("..") else a for a in sa)
                 for sn, sa in servers},
        "rounds": rounds, "window": window, "delay": delay,
        "runs": {"%s|%s" % k: v for k, v in runs.items()},
    }
    return runs


def rolling_sum(rs):
    """The runs of one (server, init) pair, summed."""
    out = {k: sum(r[k] for r in rs) for k in (
        "requests", "window_started", "window_failed", "failed", "ok_after_term",
        "in_flight", "in_flight_ok", "app_cut")}
    kinds = {}
    for r in rs:
        for k, v in r["failed_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    out["kinds"] = kinds
    out["codes"] = sorted({"no exit" if r["exit_code"] is None else str(r["exit_code"])
                           for r in rs})
    times = [r["exit_ms"] for r in rs if r["exit_ms"] is not None]
    out["exit_ms"] = median(times) if times else None
    out["exit_range"] = (min(times), max(times)) if times else None
    out["runs"] = len(rs)
    return out


def roll_label(name):
    if " --" not in name:
        return name
    init, _, flags = name.partition(" --")
    return "%s `--%s`" % (init, flags)


def rolling_table(meta):
    m = meta["rolling"]
    lines = [
        "| Server | Init | Runs | Requests | Started in the window | **Failed** | "
        "failed: refused / reset / timeout / non-2xx | OK of those started after SIGTERM | "
        "Open at SIGTERM → OK | Cut off inside the app | Exit code | "
        "SIGTERM → exit, median (min-max) ms |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for sn in m["servers"]:
        for iname in m["inits"]:
            rs = m["runs"].get("%s|%s" % (sn, iname))
            if not rs:
                continue
            t = rolling_sum(rs)
            kinds = t["kinds"]
            split = " / ".join(str(kinds.get(k, 0))
                               for k in ("refused", "reset", "timeout", "non-2xx"))
            other = sum(v for k, v in kinds.items()
                        if k not in ("refused", "reset", "timeout", "non-2xx"))
            if other:
                split += " (+%d other)" % other
            started_after = t["window_started"]
            lines.append(
                "| %s | %s | %d | %d | %d | **%d** | %s | %d of %d | %d of %d | %d | %s | %s |" % (
                    sn, roll_label(iname),
                    t["runs"], t["requests"], t["window_started"], t["failed"], split,
                    t["ok_after_term"], started_after, t["in_flight_ok"], t["in_flight"],
                    t["app_cut"], ", ".join(t["codes"]),
                    "%s (%s-%s)" % (fmt_num(t["exit_ms"]), fmt_num(t["exit_range"][0]),
                                    fmt_num(t["exit_range"][1]))
                    if t["exit_ms"] is not None else "—"))
    return lines


def rolling_contract(meta):
    """The pre-stop delay's contract, checked on this run: (ok, message) per check. Ours
    with the delay fails no request and serves every request of the window; as a control
    (showing that the load and the check can see a loss), ours without the delay fails
    requests of the window."""
    m = meta["rolling"]
    out = []
    delayed = [n for n in m["inits"] if "--pre-stop-delay" in n]
    for sn in m["servers"]:
        for iname in m["inits"]:
            rs = m["runs"].get("%s|%s" % (sn, iname))
            if not rs or iname not in (OURS,) + tuple(delayed):
                continue
            t = rolling_sum(rs)
            what = "%s under %s" % (sn, iname)
            if iname == OURS:
                out.append((t["window_failed"] > 0,
                            "control: %s fails requests of the window (%d of %d failed)" % (
                                what, t["window_failed"], t["window_started"])))
                continue
            out.append((t["failed"] == 0, "%s: 0 failed requests (%d failed: %s)" % (
                what, t["failed"], t["kinds"] or "none")))
            out.append((t["window_started"] > 0 and t["ok_after_term"] == t["window_started"],
                        "%s: every request of the window answered 2xx (%d of %d)" % (
                            what, t["ok_after_term"], t["window_started"])))
            out.append((t["app_cut"] == 0 and t["in_flight_ok"] == t["in_flight"],
                        "%s: requests open at SIGTERM finish (%d of %d; %d cut off inside "
                        "the app)" % (what, t["in_flight_ok"], t["in_flight"], t["app_cut"])))
            out.append(("no exit" not in t["codes"],
                        "%s: the init exits (codes %s)" % (what, ", ".join(t["codes"]))))
    return out


def rolling_notes(meta):
    m = meta["rolling"]
    return [
        "Rolling stop: each server runs under the init as PID 1 of a fresh PID namespace "
        "(`%s INIT -- SERVER`), the app answering after ~100 ms (`GET %s`, "
        "examples/app/app.py). %d clients each send one request at a time on a new "
        "connection, the next as soon as the last ended (a failed attempt first waits out "
        "the rest of %g ms, so a refused port counts one failure per client per %g ms, not "
        "a busy loop). After %g s of load the bench sends SIGTERM to the init; the clients "
        "keep starting requests for a propagation window of %g s (the time Kubernetes takes "
        "to remove a terminating pod from its Service's endpoints), then stop. A request "
        "fails when its connection is refused or reset (or closed before a whole reply), "
        "when it takes longer than %g s, or on a status other than 2xx. Ours runs with "
        "`-t 15s`, and once more with `--pre-stop-delay %gs`: the window plus time for the "
        "window's last requests. %d round(s), the pairs interleaved with a rotating start; "
        "tini-static is left out (the same program as tini)." % (
            " ".join(UNSHARE), ROLL_PATH, ROLL_CLIENTS, ROLL_SLOT * 1000, ROLL_SLOT * 1000,
            ROLL_WARMUP, m["window"], ROLL_TIMEOUT, m["delay"], m["rounds"]),
        "Rolling stop columns: 'Open at SIGTERM' are the requests a client had sent before "
        "the SIGTERM and that had not ended yet; with gunicorn's 2 sync workers and %d "
        "clients, two of them are usually still waiting in the listen backlog, not yet "
        "accepted by a worker. 'Cut off inside the app' counts requests the app logged as "
        "begun and never as finished (a worker killed or cancelling mid-request). Exit "
        "code: the init's own, as `unshare` reports it; SIGTERM → exit is the time until "
        "the init's pidfd became readable." % ROLL_CLIENTS,
        "Servers: " + "; ".join("%s: `%s`" % (sn, a) for sn, a in m["argv"].items()) + ".",
    ]


# --- report ------------------------------------------------------------------------------

def fmt_num(v, digits=0):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if digits == 0:
        return "{:,}".format(int(round(v)))
    return "{:,.{d}f}".format(v, d=digits)


def ratio(ours, best):
    if ours is None or best is None:
        return "—"
    if best == 0:
        return "= (both 0)" if ours == 0 else "∞ (peer 0)"
    return "{:.2f}×".format(ours / best)


def machine():
    model, cores = "?", 0
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name") and model == "?":
            model = line.split(":", 1)[1].strip()
        if line.startswith("processor"):
            cores += 1
    mem = kib(status_like("/proc/meminfo")["MemTotal"]) // 1024
    distro = "?"
    try:
        for line in read("/etc/os-release").splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "%s, %d CPUs, %d MiB RAM; kernel %s; %s" % (model, cores, mem, platform.release(),
                                                      distro)


def cpu_busy(seconds=1.0):
    """Share of all CPUs in use (any process) over `seconds`, from /proc/stat."""
    def sample():
        v = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))


def busy_seconds():
    """CPU-seconds all CPUs spent busy since boot (/proc/stat), and what this process and
    its reaped descendants used (os.times): the difference over a run is other work."""
    v = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:8]]
    busy = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system


def status_like(path):
    out = {}
    for line in read(path).splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def pkg_versions():
    out = {}
    for pkg in ("tini", "dumb-init", "catatonit", "hyperfine"):
        try:
            v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            v = ""
        if v:
            out[pkg] = v
    return out


ROWS = [
    # key, label (formatted with the run's parameters), decimals (None: text)
    ("size", "Binary size (bytes)", 0),
    ("linkage", "Linkage", None),
    ("vmrss", "Idle VmRSS (KiB)", 0),
    ("rssanon", "Idle RssAnon (KiB)", 0),
    ("pss", "Idle Pss (KiB)", 0),
    ("wakeups", "Idle wake-ups in {window} s (context switches)", 0),
    ("idle_cpu_us", "Idle CPU time in {window} s (µs)", 0),
    ("exec_us", "Exec overhead: `init -- true` minus `true` alone (median, µs)", 0),
    ("lat_med_us", "Signal forwarding latency, median (µs)", 1),
    ("lat_p99_us", "Signal forwarding latency, p99 (µs)", 1),
    ("lat_med_root_us", "Extra, not as in a container: forwarding latency, median, bench in "
     "the cgroup it was started in (µs)", 1),
    ("lat_p99_root_us", "Extra, not as in a container: forwarding latency, p99, bench in the "
     "cgroup it was started in (µs)", 1),
    ("stream_ms", "Reaping: stream of {stream_n} orphans, until all reaped (ms)", 0),
    ("stream_tail_ms", "Reaping: stream, last orphan reaped after the stream ended (ms)", 2),
    ("stream_cpu_ms", "Reaping: stream, init CPU time (ms)", 1),
    ("burst_ms", "Reaping: burst of {burst_n} orphans exiting at once, until all reaped (ms)", 1),
    ("burst_cpu_ms", "Reaping: burst, init CPU time (ms)", 1),
    ("burst_wakeups", "Reaping: burst, init context switches", 0),
    ("term_ms", "Shutdown: TERM → init exit, child exits on TERM (median, ms)", 2),
    ("ignore_ms", "Shutdown: TERM → init exit, child ignores TERM (ours: grace 1 s) (ms)", 0),
    ("uvicorn_ms", "Cold start: uvicorn hello app to first 200 (median, ms)", 1),
    ("uvicorn_added_ms", "Cold start: added by the init over uvicorn as PID 1 (ms)", 1),
]
# Rows whose values sit around zero: the last columns show ours minus the best, not ratios.
DIFF_ROWS = {"uvicorn_added_ms"}


def cell(key, r, digits, bound):
    if key == "ignore_ms" and r.get("ignore_noexit"):
        return "no exit (> %g s)" % bound
    if key == "term_ms" and r.get("term_noexit"):
        return "no exit (> %g s)" % bound
    v = r.get(key)
    if digits is None:
        return v if v is not None else "—"
    return fmt_num(v, digits)


def numeric(key, r):
    v = r.get(key)
    if key == "ignore_ms" and r.get("ignore_noexit"):
        return None
    if key == "term_ms" and r.get("term_noexit"):
        return None
    return v if isinstance(v, (int, float)) else None


def best_of(key, res, names):
    vals = [(numeric(key, res[n]), n) for n in names if numeric(key, res[n]) is not None]
    if not vals:
        return None, None
    return min(vals)


# Rows compared with one rule for every init. Rows with samples in batches: the 95% cluster
# bootstrap interval of (this init - the lowest); rows with one value per round: whether
# the rounds' ranges overlap; the rest (sizes, memory, counts): exact comparison.
NOISE_ROWS = {  # key -> (samples, statistic)
    "exec_us": ("exec_samples", statistics.median),
    "lat_med_us": ("lat_samples", statistics.median),
    "lat_p99_us": ("lat_samples", lambda x: pct(x, 99)),
    "lat_med_root_us": ("lat_root_samples", statistics.median),
    "term_ms": ("term_all", statistics.median),
    "uvicorn_ms": ("uvicorn_all", statistics.median),
}
ROUND_ROWS = {"stream_tail_ms": "stream_tail_all", "stream_cpu_ms": "stream_cpu_all",
              "burst_ms": "burst_all", "burst_cpu_ms": "burst_cpu_all"}
EXACT_ROWS = ("size", "vmrss", "rssanon", "pss", "wakeups", "idle_cpu_us")


def batches_of(key, r):
    x = r.get(NOISE_ROWS[key][0])
    if not x:
        return None
    return x if isinstance(x[0], list) else [[v] for v in x]  # one value per round


def compare_row(key, res, names, digits):
    """(lowest, [(name, value)] within noise of it, [(name, value, detail)] above it)."""
    vals = {n: numeric(key, res[n]) for n in names}
    vals = {n: v for n, v in vals.items() if v is not None}
    if len(vals) < 2:
        return None
    low = min(vals, key=vals.get)
    same, above = [], []
    for n in sorted(vals, key=vals.get):
        if n == low:
            continue
        v, d = vals[n], vals[n] - vals[low]
        if key in NOISE_ROWS:
            a, b = batches_of(key, res[n]), batches_of(key, res[low])
            if not a or not b:
                continue
            lo, hi = diff_ci(a, b, stat=NOISE_ROWS[key][1])
            if lo <= 0:
                same.append((n, v))
            else:
                above.append((n, v, "+%s, 95%% CI [%+.*f, %+.*f]" % (
                    fmt_num(d, digits), digits, lo, digits, hi)))
        elif key in ROUND_ROWS:
            ra, rb = res[n].get(ROUND_ROWS[key]), res[low].get(ROUND_ROWS[key])
            if not ra or not rb:
                continue
            if min(ra) <= max(rb):
                same.append((n, v))
            else:
                above.append((n, v, "+%s, rounds %s vs %s" % (
                    fmt_num(d, digits), [round(x, digits) for x in ra],
                    [round(x, digits) for x in rb])))
        elif v == vals[low]:
            same.append((n, v))
        else:
            above.append((n, v, "+%s" % fmt_num(d, digits)))
    return low, vals[low], same, above


def comparisons(res, names, meta):
    fill = dict(window=fmt_num(meta["window"], 0), stream_n=fmt_num(meta["stream_n"]),
                burst_n=fmt_num(meta["burst_n"]))
    out = []
    for key, label, digits in ROWS:
        if key not in NOISE_ROWS and key not in ROUND_ROWS and key not in EXACT_ROWS:
            continue
        c = compare_row(key, res, names, digits)
        if c is None:
            continue
        low, lv, same, above = c
        text = "%s: lowest **%s** (%s)" % (label.format(**fill), low, fmt_num(lv, digits))
        if same:
            text += "; %s: %s" % (
                "equal" if key in EXACT_ROWS else "within noise of it",
                ", ".join("%s (%s)" % (n, fmt_num(v, digits)) for n, v in same))
        if above:
            text += "; above it: %s" % ", ".join(
                "%s (%s; %s)" % (n, fmt_num(v, digits), det) for n, v, det in above)
        out.append(text)
    return out


# The release's budgets (docs/release.md): the amd64 binary's size, checked by
# scripts/test too, and the idle VmRSS of init as PID 1.
SIZE_BUDGET = 280000
VMRSS_BUDGET_KIB = 280


def project_targets(res, peers):
    """The project's published targets, as exact comparisons of this run's numbers."""
    o = res.get(OURS, {})
    static = [p for p in peers if p in STATIC_PEERS]
    out = []
    yes = {True: "yes", False: "no"}
    if o.get("size") is not None and static:
        smin = min(res[p]["size"] for p in static)
        out.append("size below every static peer's (%s B): %s, %s B" % (
            fmt_num(smin), yes[o["size"] < smin], fmt_num(o["size"])))
    if o.get("size") is not None:
        out.append("size at most %s B (the amd64 budget, docs/release.md): %s (%s B)" % (
            fmt_num(SIZE_BUDGET), yes[o["size"] <= SIZE_BUDGET],
            "{:+,}".format(o["size"] - SIZE_BUDGET)))
    if o.get("vmrss") is not None:
        out.append("idle VmRSS at most %d KiB (the budget): %s (%d KiB)" % (
            VMRSS_BUDGET_KIB, yes[o["vmrss"] <= VMRSS_BUDGET_KIB], o["vmrss"]))
    if o.get("rssanon") is not None and "catatonit" in peers:
        c = res["catatonit"]["rssanon"]
        out.append("idle RssAnon at most catatonit's: %s (%d KiB vs %d KiB)" % (
            yes[o["rssanon"] <= c], o["rssanon"], c))
    if o.get("wakeups_all") is not None:
        out.append("no idle wake-ups: %s (%s in the worst round)" % (
            yes[max(o["wakeups_all"]) == 0], max(o["wakeups_all"])))
    return out


def report(inits, res, meta, errors, notes):
    names = [i.name for i in inits]
    peers = [n for n in names if n != OURS]
    static = [p for p in peers if p in STATIC_PEERS]
    L = []
    if not names:
        L.append("### Rolling stop: init with and without `--pre-stop-delay`")
    else:
        L.append("### pidone vs tini, dumb-init and catatonit%s" %
                 (" (quick mode)" if meta["quick"] else ""))
    L.append("")
    L.append("Generated by `scripts/bench`; do not edit by hand.")
    L.append("")
    L.append("- Command: `%s`" % meta["command"])
    L.append("- Date: %s; commit: %s" % (meta["date"], meta["commit"]))
    L.append("- Machine: %s" % meta["machine"])
    L.append("- Ours: `%s` (%s); peers: %s" % (
        meta["ours_path"], meta["ours_version"],
        ", ".join("%s %s" % kv for kv in meta["pkgs"].items()) or "Debian packages"))
    L.append("- Scheduling: %s; `/proc/sys/kernel/sched_autogroup_enabled` = %s." % (
        meta["cgroup"], meta["autogroup"]))
    L.append("- Each init runs as PID 1 of a fresh PID namespace (`%s INIT -- CHILD`), "
             "interleaved round robin with a rotating start; ratios are ours ÷ best peer "
             "(lower is better everywhere)." % " ".join(UNSHARE))
    if "duration_s" in meta:
        L.append("- Took %.0f s." % meta["duration_s"])
    L.append("- CPU use by anything on the machine in the second before / after the run: "
             "%.0f%% / %.0f%% of all CPUs" % (meta["busy_before"], meta.get("busy_after", -1)))
    other = None
    if meta.get("other_wall_s"):
        other = 100 * meta["other_cpu_s"] / meta["other_wall_s"]
        L.append("- CPU used outside the bench's own processes while it measured (all "
                 "sections but the reaping ones): %.0f%% of one CPU (an idle machine shows a "
                 "few %%: kernel threads)" % other)
    if max(meta["busy_before"], meta.get("busy_after", 0)) > 10 or (other or 0) > 20:
        L.append("- Other work ran on the machine during this run (above 10% of the CPUs "
                 "before or after, or 20% of one CPU during it): timings are noisier than on "
                 "an idle machine.")
    L.append("")
    fill = dict(window=fmt_num(meta["window"], 0), stream_n=fmt_num(meta["stream_n"]),
                burst_n=fmt_num(meta["burst_n"]))
    if any(any(k in res[n] for n in names) for k, _, _ in ROWS):
        head = ["Metric"] + names + ["best peer", "ours ÷ best peer", "ours ÷ best static peer"]
        L.append("| " + " | ".join(head) + " |")
        L.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for key, label, digits in ROWS:
            if not any(key in res[n] for n in names) and key not in errors:
                continue
            row = [label.format(**fill)]
            for n in names:
                row.append("error" if key in errors and key not in res[n] else
                           cell(key, res[n], digits, meta["bound"]))
            if digits is None:
                row += ["", "", ""]
            else:
                b, bn = best_of(key, res, peers)
                sb, _ = best_of(key, res, static)
                o = numeric(key, res[OURS]) if OURS in res else None
                row.append("%s (%s)" % (fmt_num(b, digits), bn) if bn else "—")
                if key in DIFF_ROWS:
                    row += ["%+.1f" % (o - x) if o is not None and x is not None else "—"
                            for x in (b, sb)]
                else:
                    row.append(ratio(o, b))
                    row.append(ratio(o, sb))
            L.append("| " + " | ".join(row) + " |")
        L.append("")
    if "rolling" in meta:
        L.append("#### Rolling stop under load")
        L.append("")
        L += rolling_table(meta)
        L.append("")
    L.append("Notes:")
    for n in notes:
        L.append("- " + n)
    for key, e in errors.items():
        L.append("- **%s could not be measured**: %s" % (key, e))
    L.append("")
    comp = comparisons(res, names, meta)
    if comp:
        L.append("Which init is lowest, with one rule for every init (information, not a "
                 "pass/fail): rows with samples in batches count as within noise when the "
                 "95% cluster-bootstrap interval of the difference to the lowest includes 0; "
                 "rows with one value per round when the rounds' ranges overlap; sizes, memory "
                 "and counts are compared exactly.")
        L.append("")
        L += ["- " + c for c in comp]
        L.append("")
    tg = project_targets(res, peers)
    if tg:
        L.append("The project's targets, compared exactly (information):")
        L.append("")
        L += ["- " + t for t in tg]
        L.append("")
    return "\n".join(L)


def git_commit(repo):
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain",
                                "--untracked-files=no", "--", "src", "Cargo.toml",
                                "Cargo.lock", "scripts/bench", "scripts/bench_helper.py"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    dirty = [line[3:] for line in dirty if line.strip()]
    return "`%s`%s" % (head or "?", " with uncommitted changes to %s" % ", ".join(dirty)
                       if dirty else "")


SECTIONS = "size,idle,exec,latency,latency-root,stream,burst,shutdown,uvicorn,rolling"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="our init binary")
    ap.add_argument("--quick", action="store_true", help="fewer runs: under a minute")
    ap.add_argument("--out", help="write the Markdown report to FILE (a full run writes "
                                  "docs/bench-results.md unless this is given)")
    ap.add_argument("--json", help="write the raw numbers to FILE")
    ap.add_argument("--venv", help="virtualenv with uvicorn and gunicorn "
                                   "(default: <repo>/.venv)")
    ap.add_argument("--only", help="comma list of sections: " + SECTIONS)
    ap.add_argument("--no-cgroup", action="store_true",
                    help="stay in the cgroup the bench was started in")
    ap.add_argument("--window", type=float, default=1.5,
                    help="rolling stop: propagation window in seconds [1.5]")
    ap.add_argument("--delay", type=float, help="rolling stop: our --pre-stop-delay in "
                                                "seconds [window + 1; check: window + 2]")
    ap.add_argument("--rolling-rounds", type=int, help="rolling stop: rounds [3, quick 1]")
    ap.add_argument("--check-rolling-stop", action="store_true",
                    help="only the rolling stop, ours with and without the pre-stop delay, "
                         "one round; exit 1 unless the delay's contract holds")
    ap.add_argument("--command", help=argparse.SUPPRESS)
    a = ap.parse_args()

    start = time.monotonic()
    q = a.quick
    check = a.check_rolling_stop
    repo = os.path.dirname(os.path.dirname(HELPER))
    only = set(a.only.split(",")) if a.only else None
    if only and not only <= set(SECTIONS.split(",")):
        log("bench: unknown section(s) %s; sections: %s" % (
            ",".join(sorted(only - set(SECTIONS.split(",")))), SECTIONS))
        return 2
    if check:
        only = {"rolling"}
    out = a.out
    if out is None and not q and not a.only and not check:
        out = os.path.join(repo, "docs", "bench-results.md")

    cg = None
    if a.no_cgroup:
        cg_text = "the cgroup the bench was started in (`--no-cgroup`)"
    else:
        cg = CpuCgroup()
        if cg.path:
            cg_text = ("in a cgroup of its own, as in a container: `%s` (%s), made for this "
                       "run and removed after it" % (cg.rel, cg.kind))
        else:
            cg_text = "**not** in a cgroup of its own (%s): figures as in the root cgroup" % (
                cg.why)
            log("bench: note: running without a cgroup of its own: %s" % cg.why)
    try:
        return measure(a, q, check, repo, only, out, cg, cg_text, start)
    finally:
        close_all()
        if cg:
            cg.close()


def measure(a, q, check, repo, only, out, cg, cg_text, start):
    try:
        autogroup = read("/proc/sys/kernel/sched_autogroup_enabled").strip()
    except OSError:
        autogroup = "not available"
    meta = {
        "quick": q,
        "command": a.command or "scripts/bench_helper.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(repo),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "busy_before": cpu_busy(),
        "pkgs": pkg_versions(),
        "ours_path": os.path.relpath(a.bin) if not os.path.relpath(a.bin).startswith("..")
        else a.bin,
        "cgroup": cg_text,
        "autogroup": autogroup,
        "window": 5,
        "bound": 3,
        "stream_n": 2000 if q else 20000,
        "burst_n": 2000 if q else 20000,
    }
    try:
        meta["ours_version"] = subprocess.run([a.bin, "--version"], capture_output=True,
                                              text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        meta["ours_version"] = "?"

    inits = [Init(OURS, os.path.abspath(a.bin), grace=["-t", "1s"])]
    notes = []
    if not check:
        for name, path in PEER_PATHS:
            if os.access(path, os.X_OK):
                inits.append(Init(name, path))
            else:
                notes.append("%s not installed (%s missing): column left out." % (name, path))
    res = {i.name: {} for i in inits}
    errors = {}

    venv = (a.venv or os.environ.get("BENCH_VENV") or os.environ.get("INIT_TEST_VENV")
            or os.path.join(repo, ".venv"))
    venv_python = os.path.join(venv, "bin", "python")

    def section(key, rows, fn, *args):
        if only and key not in only:
            return
        t = time.monotonic()
        b0 = busy_seconds()
        log("bench: %s ..." % key)
        try:
            fn(*args)
        except (BenchError, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
            for r in rows:
                errors[r] = "%s: %s" % (key, e)
            log("bench: %s could not be measured: %s" % (key, e))
        finally:
            close_all()
            if key not in ("stream", "burst"):
                # Reaping thousands of processes leaves work to kernel threads, which
                # would count as "other"; the other sections show the machine's noise.
                b1 = busy_seconds()
                meta["other_cpu_s"] = meta.get("other_cpu_s", 0.0) + max(
                    0.0, (b1[0] - b0[0]) - (b1[1] - b0[1]))
                meta["other_wall_s"] = meta.get("other_wall_s", 0.0) + time.monotonic() - t
        log("bench: %s done in %.1f s" % (key, time.monotonic() - t))

    section("size", ["size"], m_size, inits, res)
    section("idle", ["vmrss", "rssanon", "pss", "wakeups", "idle_cpu_us"], m_idle, inits, res,
            1 if q else 3, meta["window"])
    section("exec", ["exec_us"], m_exec, inits, res, 5 if q else 10, 40 if q else 100, meta)
    section("latency", ["lat_med_us", "lat_p99_us"], m_latency, inits, res,
            2 if q else 5, 100 if q else 400, meta)
    # The extra: the same measurement with the bench back in the cgroup it was started in
    # (the root cpu cgroup on a plain host, where the scheduler's autogroup applies; see
    # docs/bench.md). Full runs only.
    if cg and cg.path and not q and (not only or "latency-root" in only):
        def latency_home():
            cg.enter(cg.home)
            try:
                m_latency(inits, res, 3, 400, meta, "_root")
            finally:
                cg.enter(cg.path)
        meta["latency_root_cgroup"] = cg.home_rel
        section("latency-root", ["lat_med_root_us", "lat_p99_root_us"], latency_home)
    section("stream", ["stream_ms", "stream_tail_ms", "stream_cpu_ms"], m_reap, inits, res,
            "stream", meta["stream_n"], 1 if q else 2)
    section("burst", ["burst_ms", "burst_cpu_ms", "burst_wakeups"], m_reap, inits, res, "burst",
            meta["burst_n"], 1 if q else 2)
    section("shutdown", ["term_ms"], m_shutdown_term, inits, res, 3 if q else 20,
            meta["bound"])
    section("shutdown", ["ignore_ms"], m_shutdown_ignore, inits, res, 1 if q else 3,
            meta["bound"])
    have_venv = os.access(venv_python, os.X_OK) and subprocess.run(
        [venv_python, "-c", "import uvicorn, gunicorn"], capture_output=True).returncode == 0
    if not only or "uvicorn" in only:
        if have_venv:
            section("uvicorn", ["uvicorn_ms", "uvicorn_added_ms"], m_uvicorn, inits, res,
                    venv_python, 4 if q else 20, meta)
        else:
            notes.append("Cold start rows skipped: no virtualenv with uvicorn and gunicorn "
                         "at `%s` (run scripts/setup-venv, or pass --venv DIR)." % venv)
    window = a.window
    # The delay must cover the window and the window's last requests (4 clients on 2 sync
    # workers queue up to ~200 ms). The check, which fails the test command, leaves more
    # room for a loaded machine.
    delay = a.delay if a.delay is not None else window + (2.0 if check else 1.0)
    if not only or "rolling" in only:
        if have_venv:
            rounds = a.rolling_rounds or (1 if q or check else 3)
            section("rolling", ["rolling"], m_rolling, inits, os.path.abspath(a.bin), venv,
                    rounds, window, delay, meta)
        else:
            notes.append("Rolling stop skipped: no virtualenv with uvicorn and gunicorn at "
                         "`%s` (run scripts/setup-venv, or pass --venv DIR)." % venv)
            if check:
                log("bench: rolling-stop check: no virtualenv with uvicorn and gunicorn at %s"
                    % venv)
                return 1

    meta["busy_after"] = cpu_busy()
    meta["duration_s"] = time.monotonic() - start

    if not check:
        notes += base_notes(inits, res, meta, q, "uvicorn_base_ms" in meta)
    if "rolling" in meta:
        notes += rolling_notes(meta)

    # The check prints the rolling-stop table only (its inits are ours, with and without
    # the delay); the full report has every section.
    text = report([] if check else inits, {} if check else res, meta, errors, notes)
    if not check or not out:
        print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
        log("bench: report written to %s" % out)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "results": res, "errors": errors}, f, indent=1,
                      default=str)
    log("bench: finished in %.1f s" % meta["duration_s"])
    if check:
        if "rolling" not in meta:
            log("bench: rolling-stop check: could not run: %s" % errors)
            return 1
        bad = 0
        for ok, msg in rolling_contract(meta):
            print("%s %s" % ("ok  " if ok else "FAIL", msg))
            bad += not ok
        print("rolling-stop check: %s%s" % ("passed" if not bad else "%d FAILED" % bad,
                                            "; table in %s" % out if out else ""))
        return 1 if bad else 0
    return 1 if errors else 0


def base_notes(inits, res, meta, q, uv_ok):
    notes = [
        "Size: the file as installed/built (all stripped). Dynamic binaries also map libc "
        "(and its loader), which is not counted in the size but is in VmRSS; their Pss "
        "is small because libc's pages are shared with every other process using them.",
        "Memory: /proc/PID/status (VmRSS, RssAnon) and /proc/PID/smaps_rollup (Pss) of the "
        "idle init with `sleep 1000` as child; medians over %d round(s)." %
        (1 if q else 3),
        "Wake-ups: voluntary + involuntary context switches of the init (/proc/PID/status) "
        "and its CPU time (/proc/PID/schedstat) over %d s after a 0.5 s settle, while the "
        "child sleeps." % meta["window"],
    ]
    if "exec_base_us" in meta:
        notes.append(
            "Exec overhead: `unshare … INIT -- /bin/true` minus `unshare … /bin/true` "
            "(median %s µs), %d runs each (%s, interleaved by round). The unshare and "
            "/proc mount cost is in both and cancels out." %
            (fmt_num(meta["exec_base_us"]), meta["exec_runs"], meta["exec_tool"]))
    for sfx, where in (("", ""), ("_root", " (extra rows: the bench and its sessions back in "
                                          "the cpu cgroup it was started in, `%s`%s)" % (
                                              meta.get("latency_root_cgroup"),
                                              ", the root cgroup: autogroup applies"
                                              if meta.get("latency_root_cgroup") == "/"
                                              else ""))):
        if "latency%s_n" % sfx not in meta:
            continue
        lost = {i.name: res[i.name].get("lat%s_lost" % sfx, 0) for i in inits}
        notes.append(
            "Latency%s: %d SIGUSR1 per init in %d batches of fresh sessions, from "
            "CLOCK_MONOTONIC just before kill(init) in the bench to CLOCK_MONOTONIC in the "
            "child right after sigwaitinfo() returned. The child is the same small Python "
            "fixture for every init, so its overhead (a few µs) is identical in every "
            "column.%s" % (
                where, meta["latency%s_n" % sfx], meta["latency%s_batches" % sfx],
                "" if not any(lost.values()) else " Signals lost (not seen within 2 s): %s."
                % ", ".join("%s %d" % kv for kv in lost.items() if kv[1])))
    notes.append(
        "Reaping: orphans are made by `sh` (dash) in the namespace (stream: `( : & )` per "
        "orphan; burst: N background `read` on one pipe, released by closing it); time "
        "until every orphan is reaped, polled with kill(pid, 0) by the fixture (about 1 ms "
        "resolution). The stream time is mostly the shell's fork rate; the init's CPU time "
        "shows its own cost.%s" %
        (" Quick mode uses 2,000 orphans instead of 20,000." if q else ""))
    notes.append(
        "Shutdown: time from kill(init, SIGTERM) to the init's pidfd becoming readable "
        "(PID 1's exit completes after the namespace is emptied). Ours runs with `-t 1s`; "
        "tini, dumb-init and catatonit have no grace period, so with a child that ignores "
        "TERM they keep waiting: 'no exit' means still running after %d s, then killed." %
        meta["bound"])
    if uv_ok:
        notes.append(
            "Cold start: from spawning `unshare …` to the first HTTP 200 (polled every "
            "1 ms); 'no init' runs uvicorn itself as PID 1 (median %s ms). One warm-up "
            "round discarded; the 'added' row shows ours minus the best peer, not a "
            "ratio." % fmt_num(meta["uvicorn_base_ms"], 1))
    if any(res[OURS].get(k + "_left") for k in ("stream", "burst")):
        notes.append("Some orphans were still unreaped at the fixture's deadline.")
    return notes


def _on_signal(signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
