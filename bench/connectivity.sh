#!/usr/bin/env bash
# Issue 16's connectivity figures against libtorrent, from one run: one dated header (date, commit, machine, load
# average), then, one after the other:
#   1. uTP throughput   bench/utp.sh: 1 GiB over 127.0.0.1, PeerNet -> PeerNet over uTP and over TCP, libtorrent ->
#                       libtorrent over uTP;
#   2. MSE/PE cost      bench/encryption.sh: 1 GiB over 127.0.0.1, PeerNet plain / MSE default / RC4 throughout,
#                       libtorrent plain / RC4 throughout;
#   3. the routed path  bench/utp_ledbat.sh: 64 MiB through 5% random UDP loss, and LEDBAT beside a bulk TCP flow on a
#                       20 Mbit/s link, PeerNet -> PeerNet and libtorrent -> libtorrent over uTP, in network namespaces.
# Each part also prints its own conditions (load average as it starts and ends) and its markdown tables. A part that
# fails does not stop the others; the exit status is then 1. As root (part 3 makes network namespaces). Takes about
# 25 minutes at the defaults on 2 cores (libtorrent's uTP moves 1 GiB at ~9 MB/s), about 12 with --quick.
#
#   sudo bench/connectivity.sh [--size MIB=1024] [--runs N=3] [--quick] [--only utp,encryption,path]
#
# --quick: 64 MiB transfers, one run each, to try the script (its transfer figures are not the benchmark's); the path
# measurements have fixed sizes either way. --only: a comma-separated subset of the parts.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=1024 runs=3 only=utp,encryption,path
while (($#)); do
    case $1 in
        --size) size=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --quick) size=64 runs=1; shift ;;
        --only) only=$2; shift 2 ;;
        *) echo "usage: $0 [--size MIB] [--runs N] [--quick] [--only utp,encryption,path]" >&2; exit 2 ;;
    esac
done
for part in ${only//,/ }; do
    case $part in
        utp | encryption | path) ;;
        *) echo "$0: unknown part '$part' (utp, encryption, path)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (the path measurements make network namespaces)" >&2; exit 2; }
wants() { [[ ,$only, == *,$1,* ]]; }

echo "# Connectivity against libtorrent (issue 16): one run"
echo
echo "$(date -u '+%F %H:%M UTC'); peernet $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests bench || echo ' (with uncommitted changes)');" \
    "$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);"
echo "libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)' 2>/dev/null || echo '?'), $(dotnet --version) SDK;" \
    "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); transfers ${size} MiB, ${runs} run(s) each (median)."
echo

failed=()
run_part() {
    local name=$1
    shift
    echo "## $name"
    echo
    "$@" || failed+=("$name")
    echo
}
wants utp && run_part "uTP throughput (bench/utp.sh)" bench/utp.sh --size "$size" --runs "$runs"
wants encryption && run_part "MSE/PE cost (bench/encryption.sh)" bench/encryption.sh --size "$size" --runs "$runs"
wants path && run_part "uTP through 5% loss and beside TCP: LEDBAT (bench/utp_ledbat.sh)" bench/utp_ledbat.sh

echo "Finished $(date -u '+%F %H:%M UTC'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
