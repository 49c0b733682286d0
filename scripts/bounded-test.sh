#!/usr/bin/env bash
# Runs a test command (CI: `swift test`) with a time limit that ends its whole process tree, and
# on a timeout names the tests that started and never finished.
# `timeout` alone is not enough: swift test starts the test runner in a process group of its
# own, so killing swift test's group leaves the runner going. The command here leads a session
# of its own, and the timeout kills every process in that session.
# Usage: scripts/bounded-test.sh SECONDS LOGFILE COMMAND [ARG…]
set -uo pipefail

limit=$1 log=$2
shift 2

# --fork: the command is always the leader of a new session, whose id is its pid; the setsid
# process that waits for it stays in ours and exits with its status. stdbuf: the test runner's
# output goes to the log line by line, not in blocks only flushed at exit, so the lines of a
# test that hangs are there when it is killed.
: >"$log" # before tail opens it
setsid --wait --fork stdbuf -oL -eL "$@" >"$log" 2>&1 &
waiter=$!
tail -n +1 -f --pid="$waiter" "$log" &
echoer=$!

deadline=$((SECONDS + limit))
timed_out=0
while kill -0 "$waiter" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    timed_out=1
    break
  fi
  sleep 1
done

if ((timed_out == 0)); then
  wait "$waiter"
  status=$?
  wait "$echoer"
  exit "$status"
fi

# The waiter's child that leads its own session (never ours: that would end this script).
session=$(ps -o pid=,sid= --ppid "$waiter" | awk '$1 == $2 { print $1; exit }')
echo "bounded-test: '$*' still running after ${limit} s; ending its session $session" >&2
if [ -n "$session" ] && [ "$session" != "$(ps -o sid= -p $$ | tr -d ' ')" ]; then
  pkill -TERM -s "$session"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pgrep -s "$session" >/dev/null || break
    sleep 1
  done
  pkill -KILL -s "$session"
  sleep 1
  if pgrep -s "$session" >/dev/null; then
    echo "bounded-test: processes of session $session survived SIGKILL:" >&2
    ps -o pid=,args= -s "$session" >&2
  fi
fi
wait "$waiter" 2>/dev/null
wait "$echoer" 2>/dev/null

# Swift Testing prints `◇ Test name() started.` and `✔ Test name() passed after …` (or
# failed, skipped); XCTest prints `Test Case 'name' started` and `Test Case 'name' passed (…)`.
hung=$(awk '
  /Test Case .* started/ { match($0, /Test Case .[^'"'"']+./); name = substr($0, RSTART + 10, RLENGTH - 11); open[name]++; next }
  /Test Case .* (passed|failed|skipped)/ { match($0, /Test Case .[^'"'"']+./); name = substr($0, RSTART + 10, RLENGTH - 11); open[name]--; next }
  / Suite .* started\.$/ { name = $0; sub(/^.* Suite /, "", name); sub(/ started\.$/, "", name); suites[name]++; next }
  / Suite .* (passed|failed|skipped)/ { name = $0; sub(/^.* Suite /, "", name); sub(/ (passed|failed|skipped).*$/, "", name); suites[name]--; next }
  / Test (run|case) / { next }
  / Test .* started\.$/ { sub(/^.* Test /, ""); sub(/ started\.$/, ""); open[$0]++; next }
  / Test .* (passed|failed|skipped)( after .*)?\.?$/ {
    line = $0
    sub(/^.* Test /, "", line)
    sub(/ (with [0-9]+ test cases? )?(passed|failed|skipped).*$/, "", line)
    open[line]--
  }
  END {
    for (name in open) if (open[name] > 0) print "  test " name
    for (name in suites) if (suites[name] > 0) print "  in suite " name
  }
' "$log" | sort)
if [ -n "$hung" ]; then
  echo "bounded-test: tests that started and did not finish:" >&2
  echo "$hung" >&2
else
  echo "bounded-test: no test was left unfinished in the output (a hang outside a test, or before the first)" >&2
fi
exit 124
