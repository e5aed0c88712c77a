#!/usr/bin/env bash
# Redundant storage across real processes on loopback: NODES `peernet store serve` providers on 127.0.0.1, a random
# file of SIZE MiB put K-of-N (`peernet store put`) and read back (`peernet store get`, then cmp), each timed from
# the command's start to its exit (dotnet start-up, connections, and the providers' fsyncs included). Beside them,
# the single-node computation (bench/PeerNet.Benchmarks --grid: encrypt + Reed-Solomon + SHA-256 block hashes and
# trees for put; Merkle proof checks + Reed-Solomon decode from parity + decrypt for get; one thread, no network,
# no disk writes), on the same file.
#
#   bench/grid.sh [--size MIB=1024] [--nodes N=10] [--shares K-of-N=3-of-10]
#
# Prints a markdown table with the conditions (date, machine, load average) to paste into docs/performance.md.
# Needs about SIZE × (2 + N/K) MiB free under /tmp: the file, the copy fetched, and the shares.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=1024 nodes=10 shares=3-of-10
while (($#)); do
    case $1 in
        --size) size=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --shares) shares=$2; shift 2 ;;
        *) echo "usage: $0 [--size MIB] [--nodes N] [--shares K-of-N]" >&2; exit 2 ;;
    esac
done
k=${shares%%-of-*} n=${shares##*-of-}

need_mib=$((size * 2 + size * n / k + 512))
free_mib=$(df -Pm /tmp | awk 'NR==2 {print $4}')
if ((free_mib < need_mib)); then
    echo "grid.sh: /tmp has ${free_mib} MiB free, the benchmark needs about ${need_mib} MiB" >&2
    exit 1
fi

echo "publishing peernet (Release, ReadyToRun) and building the benchmarks (Release)..." >&2
peernet=$(bench/publish-peernet.sh)
dotnet build bench/PeerNet.Benchmarks -c Release -v quiet -nologo >"${TMPDIR:-/tmp}/peernet-bench-grid-build.log" || { cat "${TMPDIR:-/tmp}/peernet-bench-grid-build.log" >&2; exit 1; }
bench=(dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll)

work=$(mktemp -d /tmp/peernet-bench-grid.XXXXXX)
pids=()
cleanup() {
    ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null && wait "${pids[@]}" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "writing $size MiB of random bytes..." >&2
head -c $((size * 1048576)) /dev/urandom >"$work/file"

# The providers, each with its state folder, on a free port of 127.0.0.1; each prints its address once listening.
quota=$(((size / k + 64) * 2))M
for ((i = 0; i < nodes; i++)); do
    "$peernet" store serve --share "$quota" --state "$work/p$i" --bind 127.0.0.1 --port 0 >"$work/p$i.out" 2>"$work/p$i.err" &
    pids+=($!)
done
peers=()
for ((i = 0; i < nodes; i++)); do
    for ((t = 0; t < 600; t++)); do
        grep -q '^/ip4/127\.0\.0\.1/' "$work/p$i.out" && break
        sleep 0.1
    done
    address=$(grep -m 1 '^/ip4/127\.0\.0\.1/' "$work/p$i.out") || { echo "provider $i did not start:" >&2; cat "$work/p$i.err" >&2; exit 1; }
    peers+=(--peer "$address")
done

# Runs a command with its stdout to $1; "elapsed user system" (its own CPU, not the providers') lands in $work/time.
# A failing command stops the script (set -e), with its stderr on the terminal.
timed() {
    local out=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >"$out"
}

# The providers' CPU seconds so far (user + system, all of them): what a verb cost on their side.
ticks=$(getconf CLK_TCK)
providers_cpu() {
    local pid total=0
    for pid in "${pids[@]}"; do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total $ticks" | awk '{printf "%.2f", $1 / $2}'
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "store put..." >&2
cpu0=$(providers_cpu)
timed "$work/cap" "$peernet" store put "$work/file" --shares "$shares" --state "$work/owner" --bind 127.0.0.1 "${peers[@]}"
read -r put_s put_user put_sys <"$work/time"
cpu1=$(providers_cpu)
cap=$(cat "$work/cap")
echo "store get..." >&2
timed "$work/get.out" "$peernet" store get "$cap" -o "$work/fetched" --state "$work/reader" --bind 127.0.0.1 "${peers[@]}"
read -r get_s get_user get_sys <"$work/time"
cpu2=$(providers_cpu)
cmp "$work/file" "$work/fetched"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
stored=$(du -scm "$work"/p*/grid/shares | tail -n 1 | cut -f1)
rm -f "$work/fetched"
echo "single-node computation..." >&2
single=$("${bench[@]}" --grid "$work/file" "$k" "$n")

echo
echo "$(date -u '+%F %H:%M UTC'); $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);"
echo "peernet $(git rev-parse --short HEAD) Release ReadyToRun, $(dotnet --version) SDK; load average before put $load_start, after get $load_end."
echo "$size MiB random file $shares on $nodes \`store serve\` processes on 127.0.0.1 (shares under /tmp, fsynced on commit; $stored MiB stored);"
echo "the file in the page cache. Wall: the command's, start-up included. CPU: user+system seconds of the command, and of"
echo "the $nodes providers together during it. Single node: one thread, MB per second of wall time / of its CPU time."
echo
/usr/bin/python3 - "$size" "$put_s" "$put_user" "$put_sys" "$get_s" "$get_user" "$get_sys" "$cpu0" "$cpu1" "$cpu2" "$single" <<'PY'
import json, sys
size, put_s, put_u, put_y, get_s, get_u, get_y, c0, c1, c2 = (float(a) for a in sys.argv[1:11])
single = json.loads(sys.argv[11])
mb = size * 1048576 / 1e6
print("| operation | wall s | MB/s (wall) | CPU s: command | CPU s: providers | MB per CPU s (command) | single node MB/s (wall) | single node MB per CPU s | command ÷ single node (per CPU s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, wall, cpu, prov, op in (("`store put`", put_s, put_u + put_y, c1 - c0, "encode"), ("`store get`", get_s, get_u + get_y, c2 - c1, "decode")):
    w, c = single[op] / 1e6, single[op + "_cpu"] / 1e6
    print(f"| {name} | {wall:.1f} | {mb / wall:.0f} | {cpu:.1f} | {prov:.1f} | {mb / cpu:.0f} | {w:.0f} ({op}) | {c:.0f} | {mb / cpu / c:.2f} |")
PY
