#!/usr/bin/env bash
# End-to-end proxy benchmark: calls/s and p50/p99 latency of Filecoin.ChainHead and
# Filecoin.StateGetActor over WebSocket and HTTP, direct to a simulated daemon vs through fpool vs
# through nginx; a miner's read mix (ChainNotify-following clients, WindowPoSt and sealing reads)
# through fpool with its cache on and off; fpool's memory with 1,000 ChainNotify websockets;
# failover time and the ChainNotify gap when the serving daemon dies. Everything on 127.0.0.1;
# every child process is stopped on exit. See Benchmarks/README.md ("Proxy benchmark").
#
#   bash Benchmarks/proxy/run.sh                 # build (release), run, write Benchmarks/proxy/latest.md
#   bash Benchmarks/proxy/run.sh --quick         # shorter windows, 200 websockets (a trial, not for figures)
#   bash Benchmarks/proxy/run.sh --no-build -- --skip memory,gap   # options after -- go to ProxyLoad
#   bash Benchmarks/proxy/run.sh -- --skip memory,matrix,gap,failover   # the miner mix alone
#
# Environment: OUT (report path, default Benchmarks/proxy/latest.md; --quick writes none unless
# OUT is set), SCRATCH (SwiftPM scratch path, default .build-bench in the repository root),
# NGINX_WORKERS (default: the number of cores, as fpool's event loops), MIX_READ_COST (the CPU
# cost per state read of the mix's simulator, `fpool sim --read-cost`, default 1ms, empty for
# none; passed only if this fpool's sim has the option), KEEP_WORK=1 (keep the temporary folder
# with the logs of fpool, the daemons and nginx).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=$(dirname "$here")
root=$(dirname "$bench")
scratch=${SCRATCH:-$root/.build-bench}
quick=0
build=1
extra=()
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --no-build) build=0 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if ((quick)); then out=${OUT:-}; else out=${OUT:-$here/latest.md}; fi

say() { printf '[run.sh] %s\n' "$*" >&2; }

# --- nginx from Debian's packages (no service is started: policy-rc.d refuses it) ----------------
bash "$bench/install-nginx.sh"
nginx_bin=$(command -v nginx)

# --- build ----------------------------------------------------------------------------------------
if ((build)); then
    say "building fpool and ProxyLoad (release, scratch $scratch)"
    (cd "$bench" && swift build -c release --scratch-path "$scratch" --product fpool >&2 \
        && swift build -c release --scratch-path "$scratch" --product ProxyLoad >&2 \
        && swift build -c release --scratch-path "$scratch" --product NIOTunnel >&2)
fi
bin=$(cd "$bench" && swift build -c release --scratch-path "$scratch" --show-bin-path)
for tool in fpool ProxyLoad NIOTunnel; do
    [ -x "$bin/$tool" ] || { say "missing $bin/$tool (run without --no-build)"; exit 1; }
done

# --- children and cleanup -------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/fpool-proxy-bench.XXXXXX")
# Every child's process id, in the order started: stopped in reverse (the load, the proxies, the daemons).
children=()
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pids=()
    local index
    for ((index = ${#children[@]} - 1; index >= 0; index--)); do
        local pid=${children[index]}
        kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); }
    done
    for _ in $(seq 50); do # up to 5 s for a graceful stop
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if ((status != 0)); then
        for file in "$work"/*.err "$work"/*/error.log; do
            [ -s "$file" ] && { say "last lines of ${file#"$work"/}:"; tail -n 15 "$file" >&2; }
        done
    fi
    if [ -n "${KEEP_WORK:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Waits (bounded) until a command succeeds.
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

# --- one stack: simulated daemons, nginx, a SwiftNIO tunnel and fpool ----------------------------
# Each start_* function starts one child and sets the variables named in its comment.

# `fpool sim` with 3 daemons and a 30 s block time (heads stay still during the load), plus any
# options given. Sets sim_pid, pool_info, control_port, ports[], tokens[].
start_sim() {
    local name=$1
    shift
    "$bin/fpool" sim --nodes 3 --block-time 30s --base-port 0 --control-port 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    sim_pid=$!
    children+=("$sim_pid")
    wait_for "fpool sim ($name)" 300 grep -q '^control endpoint:' "$work/$name.out"
    pool_info=$(sed -n 's/^FULLNODE_API_POOL_INFO=//p' "$work/$name.out")
    control_port=$(sed -n 's|^control endpoint: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/$name.out")
    local entries entry
    IFS=, read -r -a entries <<<"$pool_info"
    ports=() tokens=()
    for entry in "${entries[@]}"; do # token:/ip4/127.0.0.1/tcp/PORT/http:name
        tokens+=("${entry%%:*}")
        ports+=("$(sed -n 's|.*/tcp/\([0-9]*\)/http.*|\1|p' <<<"$entry")")
    done
    ((${#ports[@]} == 3)) || { say "could not read 3 daemons from: $pool_info"; exit 1; }
    say "$name: daemons on ports ${ports[*]}, control endpoint on $control_port"
}

# nginx in front of ports[] (all traffic to node 0, nodes 1 and 2 as backup), in its own prefix.
# Sets nginx_pid, nginx_port.
start_nginx() {
    local prefix=$work/$1
    mkdir -p "$prefix"
    nginx_port=$("$bin/ProxyLoad" free-port)
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@LISTEN@|$nginx_port|g" -e "s|@WORKERS@|${NGINX_WORKERS:-$(nproc)}|g" \
        -e "s|@PORT0@|${ports[0]}|g" -e "s|@PORT1@|${ports[1]}|g" -e "s|@PORT2@|${ports[2]}|g" \
        "$here/nginx.conf.template" >"$prefix/nginx.conf"
    "$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' 2>>"$prefix/error.log" &
    nginx_pid=$!
    children+=("$nginx_pid")
    wait_for "nginx ($1)" 100 bash -c "exec 3<>/dev/tcp/127.0.0.1/$nginx_port" 2>/dev/null
    say "$1: nginx $("$nginx_bin" -v 2>&1 | sed 's/.*: //') on port $nginx_port (pid $nginx_pid)"
}

# A SwiftNIO byte tunnel to node 0 (a reference: the least a SwiftNIO proxy does per call).
# Sets tunnel_pid, tunnel_port.
start_tunnel() {
    "$bin/NIOTunnel" --listen-port 0 --upstream-port "${ports[0]}" >"$work/$1.out" 2>"$work/$1.err" &
    tunnel_pid=$!
    children+=("$tunnel_pid")
    wait_for "NIOTunnel ($1)" 100 grep -q '^listening on ' "$work/$1.out"
    tunnel_port=$(sed -n 's/^listening on //p' "$work/$1.out")
    say "$1: SwiftNIO byte tunnel on port $tunnel_port (pid $tunnel_pid)"
}

# `fpool run` over pool_info's daemons with its own repo folder, and any VAR=value given (the
# pool's settings). Sets fpool_pid, fpool_port, fpool_token.
start_fpool() {
    local name=$1
    shift
    local repo=$work/$name-repo
    mkdir -p "$repo"
    chmod 700 "$repo" # fpool refuses a repo others can read
    env "$@" FULLNODE_API_POOL_INFO="$pool_info" FPOOL_PATH="$repo" \
        "$bin/fpool" run --listen /ip4/127.0.0.1/tcp/0/http >"$work/$name.out" 2>"$work/$name.err" &
    fpool_pid=$!
    children+=("$fpool_pid")
    wait_for "fpool run ($name)" 300 test -s "$repo/token"
    fpool_port=$(sed -n 's|.*/tcp/\([0-9]*\)/http.*|\1|p' "$repo/api")
    fpool_token=$(tr -d '\n' <"$repo/token")
    say "$name: fpool${*:+ with $*} on port $fpool_port (pid $fpool_pid)"
}

# --- the stack of the calls/s matrix, memory, failover and channel gap ----------------------------
start_sim sim
start_nginx nginx
start_tunnel tunnel
start_fpool fpool
args=(
    --direct-port "${ports[0]}" --direct-token "${tokens[0]}" --nginx-port "$nginx_port" --nginx-pid "$nginx_pid"
    --nginx-token "${tokens[0]}" --fpool-port "$fpool_port" --fpool-token "$fpool_token" --fpool-pid "$fpool_pid"
    --tunnel-port "$tunnel_port" --tunnel-pid "$tunnel_pid" --sim-pid "$sim_pid" --control-port "$control_port" --nodes 3
)

# --- the miner mix's own stack ----------------------------------------------------------------------
# Its simulator may charge a CPU cost per state read (`--read-cost`, where this fpool has it),
# which the other cases must not pay; and its two fpools differ only in the cache.

# Whether the options for ProxyLoad skip a part (`--skip a,b` or `--skip=a,b`).
skips() {
    local previous="" arg list
    for arg in "${extra[@]}"; do
        list=""
        [ "$previous" = --skip ] && list=$arg
        [[ $arg == --skip=* ]] && list=${arg#--skip=}
        [[ ",$list," == *",$1,"* ]] && return 0
        previous=$arg
    done
    return 1
}

if ! skips mix; then
    read_cost=${MIX_READ_COST-1ms}
    sim_options=()
    if [ -n "$read_cost" ] && "$bin/fpool" sim --help 2>&1 | grep -q -- '--read-cost'; then
        sim_options=(--read-cost "$read_cost")
        args+=(--mix-read-cost "$read_cost")
    elif [ -n "$read_cost" ]; then
        say "mix: this fpool sim has no --read-cost; the mix's daemons charge nothing per state read"
    fi
    start_sim mix-sim "${sim_options[@]}"
    start_nginx mix-nginx
    start_tunnel mix-tunnel
    start_fpool mix-fpool-nocache FPOOL_CACHE_BYTES=0
    args+=(--mix-nocache-port "$fpool_port" --mix-nocache-token "$fpool_token" --mix-nocache-pid "$fpool_pid")
    start_fpool mix-fpool
    args+=(
        --mix-direct-port "${ports[0]}" --mix-token "${tokens[0]}" --mix-nginx-port "$nginx_port" --mix-nginx-pid "$nginx_pid"
        --mix-tunnel-port "$tunnel_port" --mix-tunnel-pid "$tunnel_pid" --mix-fpool-port "$fpool_port"
        --mix-fpool-token "$fpool_token" --mix-fpool-pid "$fpool_pid" --mix-sim-pid "$sim_pid" --mix-control-port "$control_port"
    )
fi

# --- the benchmark --------------------------------------------------------------------------------
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || commit="$commit + uncommitted changes in Sources/"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
args+=(
    --note "Machine: $(nproc) cores ($cpu), $mem, $(uname -sr); $(swift --version 2>/dev/null | head -n 1 | sed 's/ (.*//'), release build; fpool $commit; nginx $("$nginx_bin" -v 2>&1 | sed 's/.*: //') with ${NGINX_WORKERS:-$(nproc)} workers."
    --note "The load generator, the proxy and the three simulated daemons (one process, NIO's default event loops: one per core) share the $(nproc) cores, so absolute figures are lower than on separate machines; compare the rows with each other."
    --note "direct: node 0 itself; fpool: \`fpool run\` over the three daemons (one WebSocket per daemon upstream); nginx: upstream keep-alive to node 0 (nodes 1, 2 as backup), WebSocket tunnelled one upstream connection per client; nio-tunnel: a SwiftNIO byte tunnel to node 0 (Benchmarks/proxy/NIOTunnel, one upstream connection per client, nothing parsed), the least work a SwiftNIO proxy can do per call. Tokens: node 0's for direct and nginx, fpool's admin token for fpool."
)
if ((quick)); then
    args+=(--warmup 0.5 --duration 1.5 --latency-duration 1 --memory-sockets 200 --rounds 1)
fi
[ -n "$out" ] && args+=(--out "$out")
# In the background, so that a signal to this script runs its trap at once.
"$bin/ProxyLoad" run "${args[@]}" "${extra[@]}" &
load_pid=$!
children+=("$load_pid")
wait "$load_pid"
