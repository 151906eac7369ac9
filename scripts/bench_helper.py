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
    def __init__(self, init, child, stdin=False, stdout=False, grace=False):
        self.init = init
        self.child_argv = list(child)
        self.err = tempfile.TemporaryFile()
        argv = UNSHARE + init.argv(child, grace)
        self.proc = subprocess.Popen(
            argv, env=SESSION_ENV, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL, stderr=self.err,
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


def m_latency(inits, res, batches, per_batch, meta):
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
    meta["latency_n"] = batches * per_batch
    meta["latency_batches"] = batches
    for i in inits:
        x = [v for b in lat[i.name] for v in b]
        res[i.name]["lat_med_us"] = median(x)
        res[i.name]["lat_p99_us"] = pct(x, 99)
        res[i.name]["lat_samples"] = lat[i.name]
        res[i.name]["lat_lost"] = lost[i.name]


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
        if kind == "stream":
            res[i.name]["stream_tail_ms"] = median(tail[i.name])
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


def http_status(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
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


def targets(res, peers, meta):
    """The issue's targets, checked against this run's numbers."""
    o = res[OURS]
    out = []
    static = [p for p in peers if p in STATIC_PEERS]

    def add(name, ok, detail):
        out.append((name, ok, detail))

    if o.get("size") is not None and static:
        smin = min(res[p]["size"] for p in static)
        add("size smaller than every static peer", o["size"] < smin,
            "{} B vs {} B ({:+,} B)".format(fmt_num(o["size"]), fmt_num(smin), o["size"] - smin))
        add("size ≤ 600,000 B (aim)", o["size"] <= 600000,
            "{} B ({:+,} B)".format(fmt_num(o["size"]), o["size"] - 600000))
    if o.get("rssanon") is not None and "catatonit" in peers:
        c = res["catatonit"]["rssanon"]
        add("RssAnon ≤ catatonit's", o["rssanon"] <= c,
            "%d KiB vs %d KiB (%+d KiB)" % (o["rssanon"], c, o["rssanon"] - c))
    if o.get("vmrss") is not None and static:
        v = min(res[p]["vmrss"] for p in static)
        add("VmRSS ≤ every static peer's", o["vmrss"] <= v,
            "%d KiB vs %d KiB (%+d KiB)" % (o["vmrss"], v, o["vmrss"] - v))
    if o.get("wakeups") is not None:
        add("zero idle wake-ups", max(o["wakeups_all"]) == 0,
            "%s context switches over the window (max of rounds)" % max(o["wakeups_all"]))
    for key, label, samples in (("exec_us", "exec overhead", "exec_samples"),
                                ("lat_med_us", "forwarding latency (median)", "lat_samples")):
        if o.get(key) is None:
            continue
        b, bn = best_of(key, res, peers)
        if b is None:
            continue
        ok = o[key] <= b
        detail = "%.1f µs vs %.1f µs (%s)" % (o[key], b, bn)
        if not ok and o.get(samples) and res[bn].get(samples):
            lo, hi = diff_ci(o[samples], res[bn][samples])
            detail += ", 95%% CI of the difference [%+.1f, %+.1f] µs" % (lo, hi)
            if lo <= 0:
                ok = "tie"
        add("%s no slower than the best peer" % label, ok, detail)
    if o.get("lat_p99_us") is not None:
        b, bn = best_of("lat_p99_us", res, peers)
        if b is not None:
            ok = o["lat_p99_us"] <= b
            detail = "%.1f µs vs %.1f µs (%s)" % (o["lat_p99_us"], b, bn)
            if not ok:
                lo, hi = diff_ci(o["lat_samples"], res[bn]["lat_samples"],
                                 stat=lambda x: pct(x, 99))
                detail += ", 95%% CI of the difference [%+.1f, %+.1f] µs" % (lo, hi)
                if lo <= 0:
                    ok = "tie"
            add("forwarding latency (p99) no slower than the best peer", ok, detail)
    if o.get("stream_tail_ms") is not None:
        # The stream's wall time is the shell's fork rate; what the init controls is
        # whether it keeps up: how long the last orphan waits to be reaped.
        b, bn = best_of("stream_tail_ms", res, peers)
        if b is not None:
            ok = True if o["stream_tail_ms"] <= b else (
                "tie" if o["stream_tail_ms"] < 1.0 else False)
            wb, wbn = best_of("stream_ms", res, peers)
            add("reaping stream no slower than the best peer (keeps up with the stream)", ok,
                "last orphan reaped %.2f ms after the stream ended vs %.2f ms (%s), below "
                "1 ms is the fixture's polling resolution; whole stream %.0f ms vs %.0f ms "
                "(%s), rounds: ours %s" % (
                    o["stream_tail_ms"], b, bn, o["stream_ms"], wb, wbn,
                    [round(x) for x in o["stream_all"]]))
    for key, label in (("burst_ms", "reaping burst"),):
        if o.get(key) is None:
            continue
        b, bn = best_of(key, res, peers)
        if b is None:
            continue
        ok = o[key] <= b
        allk = key.replace("_ms", "_all")
        if not ok and min(o[allk]) <= max(res[bn][allk]):
            ok = "tie"
        add("%s no slower than the best peer" % label, ok,
            "%.1f ms vs %.1f ms (%s); rounds: ours %s, %s %s" % (
                o[key], b, bn, [round(x, 1) for x in o[allk]], bn,
                [round(x, 1) for x in res[bn][allk]]))
    if o.get("uvicorn_all") and meta.get("uvicorn_base_all"):
        # One run per init per round: each round is a batch of one, paired by round.
        lo, hi = diff_ci([[x] for x in o["uvicorn_all"]],
                         [[x] for x in meta["uvicorn_base_all"]])
        ok = True if hi <= 0 else ("tie" if lo <= 0 else False)
        add("cold start: the init adds nothing to uvicorn's", ok,
            "%+.1f ms over uvicorn as PID 1, 95%% CI [%+.1f, %+.1f] ms" % (
                o["uvicorn_added_ms"], lo, hi))
    return out


def report(inits, res, meta, errors, notes):
    names = [i.name for i in inits]
    peers = [n for n in names if n != OURS]
    static = [p for p in peers if p in STATIC_PEERS]
    lines = []
    lines.append("### init vs tini, dumb-init and catatonit%s" %
                 (" (quick mode)" if meta["quick"] else ""))
    lines.append("")
    lines.append("- Date: %s" % meta["date"])
    lines.append("- Machine: %s" % meta["machine"])
    lines.append("- CPU use by anything on the machine in the second before / after the "
                 "run: %.0f%% / %.0f%%" % (meta["busy_before"], meta.get("busy_after", -1)))
    lines.append("- Ours: `%s` (%s); peers: %s" % (
        meta["ours_path"], meta["ours_version"],
        ", ".join("%s %s" % kv for kv in meta["pkgs"].items() if kv[0] != "hyperfine")
        or "Debian packages"))
    lines.append("- Each init runs as PID 1 of a fresh PID namespace "
                 "(`%s INIT -- CHILD`), interleaved round robin with a rotating start; "
                 "ratios are ours ÷ best peer (lower is better everywhere)." %
                 " ".join(UNSHARE))
    lines.append("- Took %.0f s." % meta["duration_s"] if "duration_s" in meta else "")
    other = None
    if meta.get("other_wall_s"):
        other = 100 * meta["other_cpu_s"] / meta["other_wall_s"]
        lines.append("- CPU used outside the bench's own processes while it measured (all "
                     "sections but the reaping ones): %.0f%% of one CPU (an idle machine "
                     "shows a few %%: kernel threads)" % other)
    if max(meta["busy_before"], meta.get("busy_after", 0)) > 10 or (other or 0) > 20:
        lines.append("- **Other work was running on the machine (above 10% of a CPU before "
                     "or after, or 20% during the run): expect noisy timings.**")
    lines = [l for l in lines if l != ""] + [""]
    fill = dict(window=fmt_num(meta["window"], 0), stream_n=fmt_num(meta["stream_n"]),
                burst_n=fmt_num(meta["burst_n"]))
    head = ["Metric"] + names + ["best peer", "ours ÷ best peer", "ours ÷ best static peer"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
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
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Notes:")
    for n in notes:
        lines.append("- " + n)
    if errors:
        for key, e in errors.items():
            lines.append("- **%s failed**: %s" % (key, e))
    lines.append("")
    if OURS in res:
        lines.append("Targets (this run):")
        lines.append("")
        for name, ok, detail in targets(res, peers, meta):
            mark = {True: "met", False: "MISSED", "tie": "tie (within noise)"}[ok]
            lines.append("- %s: **%s** — %s" % (name, mark, detail))
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="our init binary")
    ap.add_argument("--quick", action="store_true", help="fewer runs: under a minute")
    ap.add_argument("--out", help="also write the Markdown report to FILE")
    ap.add_argument("--json", help="write the raw numbers to FILE")
    ap.add_argument("--venv", help="virtualenv with uvicorn (default: <repo>/.venv)")
    ap.add_argument("--only", help="comma list of sections: size,idle,exec,latency,"
                                   "stream,burst,shutdown,uvicorn")
    a = ap.parse_args()

    start = time.monotonic()
    q = a.quick
    meta = {
        "quick": q,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "busy_before": cpu_busy(),
        "pkgs": pkg_versions(),
        "ours_path": os.path.relpath(a.bin) if not os.path.relpath(a.bin).startswith("..")
        else a.bin,
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
    for name, path in PEER_PATHS:
        if os.access(path, os.X_OK):
            inits.append(Init(name, path))
        else:
            notes.append("%s not installed (%s missing): column left out." % (name, path))
    res = {i.name: {} for i in inits}
    errors = {}
    only = set(a.only.split(",")) if a.only else None

    repo = os.path.dirname(os.path.dirname(HELPER))
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
            log("bench: %s FAILED: %s" % (key, e))
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
    section("stream", ["stream_ms", "stream_tail_ms", "stream_cpu_ms"], m_reap, inits, res, "stream",
            meta["stream_n"], 1 if q else 2)
    section("burst", ["burst_ms", "burst_cpu_ms", "burst_wakeups"], m_reap, inits, res, "burst",
            meta["burst_n"], 1 if q else 2)
    section("shutdown", ["term_ms"], m_shutdown_term, inits, res, 3 if q else 20,
            meta["bound"])
    section("shutdown", ["ignore_ms"], m_shutdown_ignore, inits, res, 1 if q else 3,
            meta["bound"])
    uv_ok = False
    if not only or "uvicorn" in only:
        if os.access(venv_python, os.X_OK) and subprocess.run(
                [venv_python, "-c", "import uvicorn"], capture_output=True).returncode == 0:
            uv_ok = True
            section("uvicorn", ["uvicorn_ms", "uvicorn_added_ms"], m_uvicorn, inits, res,
                    venv_python, 4 if q else 20, meta)
        else:
            notes.append("Cold start row skipped: no virtualenv with uvicorn at `%s` "
                         "(run scripts/setup-venv, or pass --venv DIR)." % venv)

    meta["busy_after"] = cpu_busy()
    meta["duration_s"] = time.monotonic() - start

    notes += [
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
    if "latency_n" in meta:
        lost = {i.name: res[i.name].get("lat_lost", 0) for i in inits}
        notes.append(
            "Latency: %d SIGUSR1 per init in %d batches of fresh sessions, from "
            "CLOCK_MONOTONIC just before kill(init) in "
            "the bench to CLOCK_MONOTONIC in the child right after sigwaitinfo() returned. "
            "The child is the same small Python fixture for every init, so its overhead "
            "(a few µs) is identical in every column.%s" % (
                meta["latency_n"], meta["latency_batches"],
                "" if not any(lost.values()) else " Signals lost (not seen within 2 s): %s."
                % ", ".join("%s %d" % kv for kv in lost.items() if kv[1])))
    notes.append(
        "Reaping: orphans are made by `sh` (dash) in the namespace (stream: `( : & )` per "
        "orphan; burst: N background `read` on one pipe, released by closing it); time "
        "until every orphan is reaped, polled with kill(pid, 0) by the fixture. The stream "
        "time is mostly the shell's fork rate; the init's CPU time shows its own cost.%s" %
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

    text = report(inits, res, meta, errors, notes)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "results": res, "errors": errors}, f, indent=1,
                      default=str)
    log("bench: finished in %.1f s" % meta["duration_s"])
    return 1 if errors else 0


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
    finally:
        close_all()
