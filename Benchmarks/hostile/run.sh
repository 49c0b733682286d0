#!/usr/bin/env bash
# Hostile-client benchmark: one abusive pattern at a time against fpool and against nginx in front
# of the same simulated daemons, with comparable limits — websockets that flood calls and read
# nothing, request bodies that never finish, headers trickled, a connection flood, one websocket
# pipelining 60,000 calls — recording the proxy's resident memory (before / peak / after) and what
# well-behaved clients and /healthz saw meanwhile. Each run gets fresh daemons and a fresh proxy.
# Everything on 127.0.0.1; every child process is stopped by its id on exit. See
# Benchmarks/README.md ("Hostile clients").
#
#   bash Benchmarks/hostile/run.sh                   # build (release), run all, write Benchmarks/hostile/latest.md
#   bash Benchmarks/hostile/run.sh --quick           # smaller patterns, shorter holds (a trial, writes no report)
#   bash Benchmarks/hostile/run.sh --no-build --patterns pipeline,ws-flood --targets fpool
#
# Environment: OUT (report path, default Benchmarks/hostile/latest.md; --quick writes none unless
# OUT is set), SCRATCH (SwiftPM scratch path, default .build-bench in the repository root),
# NGINX_WORKERS (default: the number of cores), MAX_CONNECTIONS (fpool's --max-connections and
# nginx's worker_connections × workers, default 4096), SETTLE (seconds after a pattern's
# connections closed before memory is read again, default 5), KEEP_WORK=1 (keep the logs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=$(dirname "$here")
root=$(dirname "$bench")
scratch=${SCRATCH:-$root/.build-bench}
quick=0
build=1
patterns="ws-flood,stalled-body,trickled-headers,connection-flood,pipeline"
targets="fpool,nginx"
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --no-build) build=0 ;;
        --patterns) patterns=$2; shift ;;
        --targets) targets=$2; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if ((quick)); then out=${OUT:-}; else out=${OUT:-$here/latest.md}; fi
workers=${NGINX_WORKERS:-$(nproc)}
max_connections=${MAX_CONNECTIONS:-4096}

say() { printf '[run.sh] %s\n' "$*" >&2; }

bash "$bench/install-nginx.sh"
nginx_bin=$(command -v nginx)

# --- build ----------------------------------------------------------------------------------------
if ((build)); then
    say "building fpool and HostileLoad (release, scratch $scratch)"
    (cd "$bench" && swift build -c release --scratch-path "$scratch" --product fpool >&2 \
        && swift build -c release --scratch-path "$scratch" --product HostileLoad >&2)
fi
bin=$(cd "$bench" && swift build -c release --scratch-path "$scratch" --show-bin-path)
for tool in fpool HostileLoad; do
    [ -x "$bin/$tool" ] || { say "missing $bin/$tool (run without --no-build)"; exit 1; }
done

# --- children and cleanup -------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/fpool-hostile-bench.XXXXXX")
# nginx's workers run as another user (nobody): they write request bodies under it.
chmod 755 "$work"
sim_pid="" proxy_pid="" load_pid=""
# Stops these processes: TERM, up to 5 s, then KILL.
stop() {
    local pids=()
    for pid in "$@"; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); }
    done
    ((${#pids[@]})) || return 0
    for _ in $(seq 50); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop "$load_pid" "$proxy_pid" "$sim_pid"
    if ((status != 0)); then
        for file in "$work"/*/sim.err "$work"/*/fpool.err "$work"/*/nginx/error.log; do
            [ -s "$file" ] && { say "last lines of $file:"; tail -n 15 "$file" >&2; }
        done
    fi
    if [ -n "${KEEP_WORK:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The connection flood needs descriptors in the load generator; the proxies set their own caps.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)

wait_for() {
    local what=$1 tries=$2
    shift 2
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    say "timed out waiting for $what"
    return 1
}

# Fresh simulated daemons in $run_dir: sets sim_pid, ports, tokens.
start_sim() {
    "$bin/fpool" sim --nodes 3 --block-time 30s --base-port 0 --control-port 0 >"$run_dir/sim.out" 2>"$run_dir/sim.err" &
    sim_pid=$!
    wait_for "fpool sim" 300 grep -qs '^control endpoint:' "$run_dir/sim.out"
    pool_info=$(sed -n 's/^FULLNODE_API_POOL_INFO=//p' "$run_dir/sim.out")
    IFS=, read -r -a entries <<<"$pool_info"
    ports=() tokens=()
    for entry in "${entries[@]}"; do # token:/ip4/127.0.0.1/tcp/PORT/http:name
        tokens+=("${entry%%:*}")
        ports+=("$(sed -n 's|.*/tcp/\([0-9]*\)/http.*|\1|p' <<<"$entry")")
    done
    ((${#ports[@]} == 3)) || { say "could not read 3 daemons from: $pool_info"; exit 1; }
}

# fpool in front of them: sets proxy_pid, proxy_port, proxy_token.
start_fpool() {
    mkdir -p "$run_dir/fpool-repo"
    chmod 700 "$run_dir/fpool-repo"
    FULLNODE_API_POOL_INFO=$pool_info FPOOL_PATH=$run_dir/fpool-repo \
        "$bin/fpool" run --listen /ip4/127.0.0.1/tcp/0/http --max-connections "$max_connections" \
        >"$run_dir/fpool.out" 2>"$run_dir/fpool.err" &
    proxy_pid=$!
    wait_for "fpool run" 300 test -s "$run_dir/fpool-repo/token"
    proxy_port=$(sed -n 's|.*/tcp/\([0-9]*\)/http.*|\1|p' "$run_dir/fpool-repo/api")
    proxy_token=$(tr -d '\n' <"$run_dir/fpool-repo/token")
}

# nginx in front of node 0 (nodes 1, 2 as backup): sets proxy_pid, proxy_port, proxy_token.
start_nginx() {
    mkdir -p "$run_dir/nginx"
    proxy_port=$("$bin/HostileLoad" free-port)
    sed -e "s|@PREFIX@|$run_dir/nginx|g" -e "s|@LISTEN@|$proxy_port|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|@CONNECTIONS@|$((max_connections / workers))|g" \
        -e "s|@PORT0@|${ports[0]}|g" -e "s|@PORT1@|${ports[1]}|g" -e "s|@PORT2@|${ports[2]}|g" \
        "$here/nginx.conf.template" >"$run_dir/nginx/nginx.conf"
    "$nginx_bin" -p "$run_dir/nginx" -c "$run_dir/nginx/nginx.conf" -g 'daemon off;' 2>>"$run_dir/nginx/error.log" &
    proxy_pid=$!
    wait_for "nginx" 100 bash -c "exec 3<>/dev/tcp/127.0.0.1/$proxy_port" 2>/dev/null
    proxy_token=${tokens[0]}
}

# --- the runs -------------------------------------------------------------------------------------
results=$work/results.jsonl
sizes=()
if ((quick)); then
    sizes=(--flood-calls 10000 --body-bytes 20000000 --trickle-connections 5 --idle-connections 1000
        --pipeline-calls 20000 --hold 12 --settle 2 --quiet 2)
fi
[ -n "${SETTLE:-}" ] && sizes+=(--settle "$SETTLE")
started=$(date +%s)
IFS=, read -r -a pattern_list <<<"$patterns"
IFS=, read -r -a target_list <<<"$targets"
for pattern in "${pattern_list[@]}"; do
    for target in "${target_list[@]}"; do
        run_dir=$work/$pattern-$target
        mkdir -p "$run_dir"
        start_sim
        extra=()
        case "$target" in
            fpool) start_fpool; extra=(--nodes 3) ;;
            nginx) start_nginx; extra=(--temp-dir "$run_dir/nginx/client_body") ;;
            *) say "unknown target '$target' (fpool, nginx)"; exit 2 ;;
        esac
        hold=()
        if ((!quick)); then
            case "$pattern" in
                # fpool gives a body 30 s plus 1 s per MiB received (90 MB: about 116 s from the first byte).
                stalled-body) hold=(--hold 140) ;;
                # Past fpool's 60 s idle timeout, to see whether it ends a websocket it stopped reading.
                ws-flood) hold=(--hold 70) ;;
            esac
        fi
        say "$pattern against $target (port $proxy_port, pid $proxy_pid)"
        "$bin/HostileLoad" run --pattern "$pattern" --target "$target" --port "$proxy_port" --token "$proxy_token" \
            --pid "$proxy_pid" --sim-pid "$sim_pid" --results "$results" "${extra[@]}" "${sizes[@]}" "${hold[@]}" &
        load_pid=$!
        wait "$load_pid"
        load_pid=""
        stop "$proxy_pid"
        stop "$sim_pid"
        proxy_pid="" sim_pid=""
    done
done
say "all runs took $(($(date +%s) - started)) s"

# --- the report -----------------------------------------------------------------------------------
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || commit="$commit + uncommitted changes in Sources/"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
report=(
    --results "$results"
    --note "$(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(nproc) cores ($cpu), $mem, $(uname -sr); $(swift --version 2>/dev/null | head -n 1 | sed 's/ (.*//'), release build; fpool $commit; nginx $("$nginx_bin" -v 2>&1 | sed 's/.*: //') with $workers workers; descriptor limit $fd_limit."
    --note "The load generator, the proxy and the three simulated daemons (one process) share the cores. Each run starts fresh daemons (\`fpool sim --nodes 3 --block-time 30s\`) and a fresh proxy."
    --note "fpool: \`fpool run --max-connections $max_connections\`, every other limit at its default (request head and body within 30 s plus 1 s per MiB received, 100 MiB per request, 2,048 calls in flight and 16 MiB of unwritten answers per websocket, 30 s for a non-reading client). nginx: Benchmarks/hostile/nginx.conf.template (worker_connections $((max_connections / workers)) × $workers workers, client_header_timeout 30s, client_body_timeout 30s, client_max_body_size 100m, send_timeout 30s, keepalive_timeout 60s; everything to node 0)."
    --note "Hostile clients send no token; the good clients send fpool's admin token (fpool) or node 0's (nginx)."
)
[ -n "${SETTLE:-}" ] && report+=(--note "Memory after: read $SETTLE s after the pattern's connections closed, not 5 s (SETTLE).")
[ -n "$out" ] && report+=(--out "$out")
"$bin/HostileLoad" report "${report[@]}"
if [ -n "$out" ]; then say "report written to $out"; fi
