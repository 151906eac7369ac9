# The real-kernel smoke's payload: busybox sh inside a scripts/vm machine, started by
# scripts/vm-smoke with the binary under test at /bin/pidone and Debian's coreutils env
# (with its glibc) at /opt/gnu/env. Every case runs twice: init as a plain process of the
# machine (subreaper mode: PR_SET_CHILD_SUBREAPER, which qemu-user refuses) and init as
# PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc). Every process is
# started through GNU env with SIGINT and SIGQUIT back at their defaults (busybox sh
# ignores both in background jobs, which no runtime does to init). Every wait is bounded.
#
# Prints "ok" or "FAIL" per case and "N passed, N failed"; exits 1 if any case failed.
I=/bin/pidone
GENV=/opt/gnu/env
T=/tmp/smoke
mkdir -p "$T"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "  ok    $*"; }
bad() {
  fail=$((fail + 1))
  echo "  FAIL  $*"
  if [ -s "$T/err" ]; then tail -n 5 "$T/err" | sed 's/^/        | /'; fi
  return 0
}

# Milliseconds since boot (/proc/uptime has centiseconds).
now_ms() {
  local up rest s c
  read -r up rest </proc/uptime
  s=${up%.*}
  c=${up#*.}
  c=${c#0}
  echo $((s * 1000 + c * 10))
}

# field PID NAME: a field of /proc/PID/status ("" once the process is gone).
field() {
  local k v rest
  [ -r "/proc/$1/status" ] || return 0
  while read -r k v rest; do
    if [ "$k" = "$2:" ]; then echo "$v"; return 0; fi
  done <"/proc/$1/status"
}

# child_of PID: a child of PID, if it has one.
child_of() {
  local d
  for d in /proc/[0-9]*; do
    if [ "$(field "${d#/proc/}" PPid)" = "$1" ]; then echo "${d#/proc/}"; return 0; fi
  done
  return 1
}

# launch PROGRAM [ARG]...: starts PROGRAM in the background in the current mode, through
# GNU env with $envopts (extra signal state) and SIGINT/SIGQUIT at their defaults; stdout
# and stderr to $T/out and $T/err. Sets bg: the process started (PROGRAM itself, or
# unshare, whose child is PROGRAM).
envopts=
launch() {
  rm -f "$T/ready" "$T/out" "$T/err"
  if [ "$mode" = pid1 ]; then
    # shellcheck disable=SC2086 # envopts are words
    # (The extra state is set inside the namespace, on init itself: unshare would not
    # get its own child's status with SIGCHLD ignored.)
    "$GENV" --default-signal=INT --default-signal=QUIT \
      unshare --pid --fork --mount-proc "$GENV" $envopts "$@" >"$T/out" 2>"$T/err" &
  else
    # shellcheck disable=SC2086
    "$GENV" --default-signal=INT --default-signal=QUIT $envopts "$@" >"$T/out" 2>"$T/err" &
  fi
  bg=$!
}

# target: prints PROGRAM's pid as seen here (bg, or unshare's child), waiting for it at
# most 10 s; fails if it is not there.
target() {
  local i=0 state
  if [ "$mode" != pid1 ]; then echo "$bg"; return 0; fi
  while [ $i -lt 200 ]; do
    child_of "$bg" && return 0
    state=$(field "$bg" State)
    if [ -z "$state" ] || [ "$state" = Z ]; then return 1; fi
    i=$((i + 1))
    sleep 0.05
  done
  return 1
}

# finish SECS: waits at most SECS for what launch started; sets rc (or "timeout", after
# killing it and, as PID 1, the namespace).
finish() {
  local i=0 n=$(($1 * 20)) state
  while [ $i -lt $n ]; do
    state=$(field "$bg" State)
    if [ -z "$state" ] || [ "$state" = Z ]; then
      rc=0
      wait "$bg" || rc=$?
      return 0
    fi
    i=$((i + 1))
    sleep 0.05
  done
  kill -KILL $(child_of "$bg") "$bg" 2>/dev/null
  wait "$bg" 2>/dev/null
  rc=timeout
}

# wait_file FILE: until FILE exists (the child's "ready"), at most 30 s.
wait_file() {
  local i=0
  while [ $i -lt 600 ]; do
    [ -e "$1" ] && return 0
    i=$((i + 1))
    sleep 0.05
  done
  return 1
}

# check NAME WANT INIT-ARGS...: runs init to completion (bounded), compares the code.
check() {
  local name=$1 want=$2
  shift 2
  launch "$I" "$@"
  finish 60
  if [ "$rc" = "$want" ]; then ok "$name: exit $rc"; else bad "$name: exit $rc, want $want"; fi
}

# signal_case NAME WANT SIG MIN_MS MAX_MS INIT-ARGS...: starts init, waits until its child
# wrote $T/ready, sends SIG to init and checks the code and that init ended between
# MIN_MS and MAX_MS after the signal.
signal_case() {
  local name=$1 want=$2 sig=$3 min=$4 max=$5 t0 ms init
  shift 5
  launch "$I" "$@"
  if ! init=$(target) || ! wait_file "$T/ready"; then
    finish 1
    bad "$name: init or its child did not start"
    return 0
  fi
  t0=$(now_ms)
  kill "-$sig" "$init"
  finish 60
  ms=$(($(now_ms) - t0))
  if [ "$rc" != "$want" ]; then bad "$name: exit $rc, want $want"
  elif [ "$ms" -lt "$min" ] || [ "$ms" -gt "$max" ]; then bad "$name: exit $rc after $ms ms, want $min-$max ms"
  else ok "$name: exit $rc after $ms ms"; fi
}

# An orphan: the grandchild outlives its parent, so the kernel re-parents it to init (PID
# 1 of the namespace, or the subreaper); the main child checks that its new parent is
# init (exit 4 otherwise) and that it is reaped after it exits (exit 3 while /proc still
# shows it).
orphan_case() {
  local name="orphan re-parented to init ($mode) and reaped"
  launch "$I" -- sh -c '
    sh -c "sleep 1 & echo \$! > '"$T"'/orphan"
    o=$(cat '"$T"'/orphan)
    pp=$(awk "/^PPid:/ { print \$2 }" /proc/$o/status)
    [ "$pp" = "$PPID" ] || { echo "orphan $o has parent $pp, init is $PPID" >&2; exit 4; }
    i=0
    while [ $i -lt 200 ]; do
      [ -e /proc/$o ] || exit 0
      i=$((i + 1)); sleep 0.05
    done
    echo "orphan $o: $(grep ^State: /proc/$o/status)" >&2; exit 3'
  finish 60
  if [ "$rc" != 0 ]; then bad "$name: exit $rc, want 0"
  elif grep -q SUBREAPER "$T/err"; then bad "$name: init warned about the subreaper"
  else ok "$name: exit 0, no warning"; fi
}

# The signal state init was started with is the child's (CONTRACT: the mask and the
# ignored set init was started with): ignored USR2 (12), CHLD (17) and 45 (a real-time
# signal, in the second 32-bit word of a mask), blocked WINCH (28) and 50. The control runs
# `cat` with the same state without init, which shows that env did set it (the check can
# fail). init itself resets an ignored SIGCHLD (or the kernel would reap its children
# before it could): its own SigIgn lacks it, and the child's exit code still comes back.
SIGSTATE="--ignore-signal=12 --ignore-signal=17 --ignore-signal=45 --block-signal=28 --block-signal=50"
sigstate_case() {
  local ign_c blk_c ign blk init own
  local name="signal state for the child: ignored 12 17 45 and blocked 28 50, as init got them ($mode)"
  envopts=$SIGSTATE
  launch cat /proc/self/status
  finish 30
  ign_c=$(awk '/^SigIgn:/ { print $2 }' "$T/out")
  blk_c=$(awk '/^SigBlk:/ { print $2 }' "$T/out")
  launch "$I" -- cat /proc/self/status
  finish 30
  ign=$(awk '/^SigIgn:/ { print $2 }' "$T/out")
  blk=$(awk '/^SigBlk:/ { print $2 }' "$T/out")
  if [ -z "$ign_c" ] || [ $((0x$ign_c & 0x100000010800)) != $((0x100000010800)) ] \
    || [ $((0x$blk_c & 0x2000008000000)) != $((0x2000008000000)) ]; then
    bad "$name: the control did not get the state (SigIgn '$ign_c' SigBlk '$blk_c')"
  elif [ "$rc" != 0 ] || [ -z "$ign" ]; then bad "$name: init exit $rc, child's SigIgn '$ign'"
  elif [ "$ign" != "$ign_c" ] || [ "$blk" != "$blk_c" ]; then
    bad "$name: child SigIgn $ign SigBlk $blk, want $ign_c and $blk_c"
  else ok "$name: SigIgn $ign SigBlk $blk"; fi

  name="an ignored SIGCHLD is reset for init itself ($mode)"
  launch "$I" -- sh -c ": > $T/ready; exec sleep 30"
  if ! init=$(target) || ! wait_file "$T/ready"; then
    finish 1
    bad "$name: init or its child did not start"
  else
    own=$(field "$init" SigIgn)
    kill -TERM "$init"
    finish 30
    if [ -z "$own" ] || [ $((0x$own & (1 << 16))) != 0 ] || [ $((0x$own & 0x100000000800)) != $((0x100000000800)) ]; then
      bad "$name: init's SigIgn '$own' (want 12 and 45, not 17)"
    elif [ "$rc" != 143 ]; then bad "$name: exit $rc after TERM, want 143"
    else ok "$name: init's SigIgn $own, TERM -> 143"; fi
  fi
  envopts=--ignore-signal=17
  check "SIGCHLD ignored when init starts: the child's exit 7 still comes back ($mode)" 7 -- sh -c 'exit 7'
  envopts=
}

suite() {
  local v
  v=$("$I" --version 2>&1)
  case "$v" in "pidone "*" - git."*) ok "--version: $v" ;; *) bad "--version: got '$v'" ;; esac
  check "exit code passthrough (0)" 0 -- true
  check "exit 7 through a child" 7 -- sh -c 'exit 7'
  check "killed child: 128+9" 137 -- sh -c 'kill -KILL $$'
  check "missing command: 127" 127 -- /nonexistent/command
  check "not executable: 126" 126 -- /etc/passwd
  check "usage error: 2" 2 --no-such-flag -- true
  signal_case "USR1 forwarded to the child (its trap exits 42)" 42 USR1 0 10000 \
    -- sh -c "trap 'exit 42' USR1; : > $T/ready; while :; do sleep 0.05; done"
  signal_case "TERM forwarded, the child dies of it: 143" 143 TERM 0 10000 \
    -- sh -c ": > $T/ready; exec sleep 30"
  signal_case "TERM with -e 143: 0" 0 TERM 0 10000 \
    -e 143 -- sh -c ": > $T/ready; exec sleep 30"
  signal_case "child ignores TERM: SIGKILL after the 1 s grace period, 137" 137 TERM 900 10000 \
    -t 1s -- sh -c "trap '' TERM; : > $T/ready; exec sleep 30"
  orphan_case
  sigstate_case
}

echo "--- $(uname -m), Linux $(uname -r): $($I --version 2>&1)"
if ! "$GENV" --version >/dev/null 2>&1; then
  bad "GNU env does not run here ($GENV)"
fi
echo "--- init as a plain process of the machine (subreaper mode)"
mode=subreaper
suite
echo "--- init as PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc)"
mode=pid1
suite

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
