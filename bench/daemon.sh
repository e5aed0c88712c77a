#!/usr/bin/env bash
# Daemons hosting many small torrents: `peernet daemon` beside Debian's transmission-daemon, in one run, on the same
# torrents: add them all, a graceful stop, a restart (start-up time until every torrent seeds), idle CPU and RSS, the
# latency of asking every torrent's status; then PeerNet's API under load (wrk, 200 connections). See
# bench/scripts/daemon_scale.py for what is measured and how.
#
#   bench/daemon.sh [--count N=10000] [--size-kib K=16] [--seconds S=60] [--load-seconds S=60] [--clients peernet,transmission]
#
# Runs inside a network namespace of its own (unshare: needs root) with only loopback up. Prints a markdown table
# for docs/performance.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
args=()
count=10000 size=16
while (($#)); do
    case $1 in
        --count) count=$2; shift 2 ;;
        --size-kib) size=$2; shift 2 ;;
        --seconds | --load-seconds | --clients) args+=("$1" "$2"); shift 2 ;;
        *) echo "usage: $0 [--count N] [--size-kib K] [--seconds S] [--load-seconds S] [--clients peernet,transmission]" >&2; exit 2 ;;
    esac
done

if ! command -v transmission-daemon >/dev/null || ! command -v wrk >/dev/null || ! command -v unshare >/dev/null; then
    echo "installing transmission-daemon, wrk and util-linux..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends transmission-daemon wrk util-linux iproute2 >/dev/null
fi

echo "publishing the peernet tool (Release, ReadyToRun)..." >&2
peernet=$(bench/publish-peernet.sh)

work=$(mktemp -d /tmp/peernet-bench-daemon.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "## Conditions"
echo
echo "$(date -u '+%F %H:%M UTC'); $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); load average at start: $(cut -d' ' -f1-3 /proc/loadavg);"
echo "peernet $(git rev-parse --short HEAD) Release ReadyToRun, $(transmission-daemon -V 2>&1 | head -n 1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2);"
echo "$count trackerless torrents of $size KiB (16 KiB pieces), data on disk before the add; DHT and local discovery off in both."
echo
unshare --net -- bash -c 'ip link set lo up && exec /usr/bin/python3 "$@"' daemon \
    bench/scripts/daemon_scale.py --peernet "$peernet" --work "$work" --count "$count" --size-kib "$size" \
    "${args[@]}" --json "$work/results.json"
cp "$work/results.json" /tmp/peernet-bench-daemon-last.json
echo
echo "(raw measurements: /tmp/peernet-bench-daemon-last.json; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
