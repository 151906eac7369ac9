#!/usr/bin/env python3
"""The main child of one soak round: records every signal, builds the round's process
tree, makes orphan bursts and ends as the round's plan says. Standard library only.

Usage: child.py SPEC.json            (the recorder, see below)
       child.py --at-once die SIG    (dies of SIG at once)
       child.py --populate SPEC.json (pause rounds: leaves the spec's tree to init)

Everything it observes goes to the round's log file (`spec["log"]`), one line per
event written with a single O_APPEND write (atomic, so every process of the round
can share the file): `MONOTONIC PID EVENT ARGS...`. CLOCK_MONOTONIC is the same clock
in every PID namespace, so the harness compares these times with its own.

The recorder blocks every signal it can record (all but KILL, STOP, CHLD and the C
library's 32 and 33) and takes them one by one with sigwaitinfo, so nothing is lost to
a handler and no signal kills it by accident. The harness may start init with these
signals already blocked, so that signals forwarded before the recorder runs stay
pending until it takes them (start-up storms).

SIGRTMAX is the harness's marker: the harness sends it to init after everything it
wants checked; init forwards it; the kernel hands a process its lowest pending signal
first, so when the recorder takes marker k every signal init forwarded before it has
been taken. On marker k the recorder runs `DIR/cmd.k` if it exists (exit, die, burst),
then logs `marker k`.

Shutdown signals (TERM, INT, QUIT) are handled by `spec["term_mode"]` at the first one:
  die                  die of that signal at once
  exit_after D CODE    keep recording, exit CODE after D seconds
  command | ignore     keep recording (the harness sends `exit` later, or SIGKILL comes)
"""
import json
import os
import resource
import signal
import sys
import time

MARKER = signal.SIGRTMAX
SHUTDOWN = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}
NODE_HANDLED = SHUTDOWN

LOG_FD = None


def log(text):
    line = "%.6f %d %s\n" % (time.monotonic(), os.getpid(), text)
    try:
        os.write(LOG_FD, line.encode())
    except OSError:
        pass


def recordable():
    out = set()
    for n in signal.valid_signals():
        n = int(n)
        if n in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD) or n in (32, 33):
            continue
        out.add(n)
    return out


def die_of(sig):
    """Die of `sig` with its default action (no core file)."""
    try:
        signal.signal(sig, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
    os.kill(os.getpid(), sig)
    time.sleep(0.05)
    os._exit(99)  # not reached unless sig failed to kill us


# ---- process tree nodes (forked, never exec'd) -------------------------------------

def node_setup_signals(handled_default):
    """Nodes ignore every storm signal except the shutdown ones: a storm forwarded to
    the process group (-g) must not kill them or fill the signal queue."""
    for n in recordable():
        if n in NODE_HANDLED:
            continue
        try:
            signal.signal(n, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    if handled_default:
        for n in NODE_HANDLED:
            signal.signal(n, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])


def sleep_forever():
    while True:
        time.sleep(3600)


def run_node(node):
    """Runs in a forked child: forks this node's children, then behaves as its kind."""
    kind = node["kind"]
    if kind == "daemon":
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        kind = node["then"]
    if kind in ("sleep", "stop", "exit_now", "exit_later"):
        node_setup_signals(True)
    elif kind == "ignore":
        node_setup_signals(False)
        for n in NODE_HANDLED:
            signal.signal(n, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
    elif kind == "catch":
        node_setup_signals(False)
        signal.pthread_sigmask(signal.SIG_SETMASK, list(NODE_HANDLED))
    for sub in node.get("children", []):
        if os.fork() == 0:
            run_node(sub)
            os._exit(0)
    log("up %s %s" % (node["id"], kind))
    if kind == "exit_now":
        os._exit(node["code"])
    if kind == "exit_later":
        time.sleep(node["delay"])
        log("exit %s" % node["id"])
        if node.get("sig"):
            die_of(node["sig"])
        os._exit(node["code"])
    if kind == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
        sleep_forever()
    if kind == "catch":
        info = signal.sigwaitinfo(NODE_HANDLED)
        log("term %s %d" % (node["id"], info.si_signo))
        time.sleep(node["delay"])
        log("exit %s" % node["id"])
        os._exit(node["code"])
    sleep_forever()


def burst(n, codes):
    """n orphans that exit together: n double forks whose grandchildren wait for EOF on
    one pipe; the middle processes are reaped here, then the pipe is closed."""
    r, w = os.pipe()
    middles = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            if os.fork() == 0:
                # Keeps the recorder's mask: nothing forwarded meanwhile can kill it.
                os.close(w)
                try:
                    os.read(r, 1)
                except OSError:
                    pass
                code = codes[i % len(codes)]
                if code < 0:
                    die_of(-code)
                os._exit(code)
            os._exit(0)
        middles.append(pid)
    os.close(r)
    for pid in middles:
        os.waitpid(pid, 0)
    log("burst armed %d" % n)
    os.close(w)
    log("burst fired %d" % n)


def populate(path):
    """Pause rounds (init -P has no child): started inside init's PID namespace with
    nsenter, forks the spec's tree and burst and exits, so that they become orphans of init."""
    global LOG_FD
    with open(path) as f:
        spec = json.load(f)
    LOG_FD = os.open(spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    signal.pthread_sigmask(signal.SIG_BLOCK, recordable())
    for node in spec.get("tree", []):
        if os.fork() == 0:
            run_node(node)
            os._exit(0)
    if spec.get("burst"):
        n, codes = spec["burst"]
        burst(n, codes)
    log("populated")
    os._exit(0)


# ---- the recorder -----------------------------------------------------------------

def main():
    global LOG_FD
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.argv[1] == "--at-once":
        die_of(int(sys.argv[3]))
    if sys.argv[1] == "--populate":
        return populate(sys.argv[2])
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    watched = recordable()
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    LOG_FD = os.open(spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    log("ready")

    for node in spec.get("tree", []):
        if os.fork() == 0:
            run_node(node)
            os._exit(0)
    log("tree forked")

    term_mode = spec.get("term_mode", ["command"])
    markers = 0
    exit_at = None
    while True:
        timeout = None if exit_at is None else max(0.0, exit_at[0] - time.monotonic())
        if timeout is None:
            info = signal.sigwaitinfo(watched)
        else:
            info = signal.sigtimedwait(watched, timeout)
            if info is None:
                log("end exit %d" % exit_at[1])
                os._exit(exit_at[1])
        n = info.si_signo
        if n == MARKER:
            markers += 1
            path = os.path.join(spec["dir"], "cmd.%d" % markers)
            cmd = None
            if os.path.exists(path):
                with open(path) as f:
                    cmd = json.load(f)
            if cmd and cmd["op"] == "burst":
                burst(cmd["n"], cmd["codes"])
            log("marker %d" % markers)
            if cmd and cmd["op"] == "exit":
                log("end exit %d" % cmd["code"])
                os._exit(cmd["code"])
            if cmd and cmd["op"] == "die":
                log("end die %d" % cmd["sig"])
                die_of(cmd["sig"])
            continue
        log("sig %d" % n)
        if n in SHUTDOWN and term_mode is not None:
            mode, term_mode = term_mode, None
            if mode[0] == "die":
                log("end die %d" % n)
                die_of(n)
            elif mode[0] == "exit_after":
                exit_at = (time.monotonic() + mode[1], mode[2])


if __name__ == "__main__":
    main()
