#!/usr/bin/env bash
# A node hosting many small torrents, seeding, all announced to a local opentracker, then idle: time to be ready,
# CPU share of one core and RSS, for PeerNet (samples/SeedMany on the public PeerNetNode) and libtorrent, in one
# run. See bench/scripts/idle.py for what is measured and how.
#
#   bench/idle.sh [--count N=1000] [--size-kib K=64] [--seconds S=60] [--clients peernet,libtorrent]
#
# Runs inside a network namespace of its own (unshare: needs root) with only loopback up, so neither client's DHT
# or tracker traffic leaves the machine. Prints a markdown table for docs/performance.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
count=1000 size=64 seconds=60 clients=peernet,libtorrent
while (($#)); do
    case $1 in
        --count) count=$2; shift 2 ;;
        --size-kib) size=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        *) echo "usage: $0 [--count N] [--size-kib K] [--seconds S] [--clients peernet,libtorrent]" >&2; exit 2 ;;
    esac
done

if ! command -v opentracker >/dev/null || ! command -v unshare >/dev/null || ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "installing opentracker, util-linux and python3-libtorrent..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opentracker util-linux iproute2 python3-libtorrent >/dev/null
fi

echo "publishing samples/SeedMany (Release, ReadyToRun)..." >&2
seedmany=$(bench/publish-peernet.sh samples/SeedMany)

work=$(mktemp -d /tmp/peernet-bench-idle.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "## Conditions"
echo
echo "$(date -u '+%F %H:%M UTC'); $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); load average at start: $(cut -d' ' -f1-3 /proc/loadavg);"
echo "peernet $(git rev-parse --short HEAD) Release ReadyToRun, libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)');"
echo "$count torrents of $size KiB (16 KiB pieces), idle window ${seconds} s after every torrent shows a seeder at the tracker and 10 s more."
echo
unshare --net -- bash -c 'ip link set lo up && exec /usr/bin/python3 "$@"' idle \
    bench/scripts/idle.py --seedmany "$seedmany" --lt-script "$PWD/bench/scripts/lt_seed_many.py" --work "$work" \
    --count "$count" --size-kib "$size" --seconds "$seconds" --clients "$clients" --json "$work/results.json"
cp "$work/results.json" /tmp/peernet-bench-idle-last.json
echo
echo "(raw measurements: /tmp/peernet-bench-idle-last.json; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
