#!/usr/bin/env bash
# Whole transfers on loopback, side by side in one invocation: PeerNet, libtorrent (python3-libtorrent) and
# aria2, each seeding to and downloading from the others where they can, then a capped swarm, then torrent
# creation (bench/creation.sh). See bench/scripts/swarm.py for what is measured and how.
#
#   bench/swarm.sh [--size MIB=1024] [--swarm-size MIB=256] [--runs N=3] [--only transfer|swarm|creation]
#                  [--pairs SEEDER:DOWNLOADER,...] [--formats v1,v2]
#
# Prints markdown tables of medians with the conditions (date, machine, load average) to paste into
# docs/performance.md. Needs about 2 × SIZE + 9 × SWARM-SIZE of free space under /tmp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=1024 swarm_size=256 runs=3 only="" pairs="" formats=v1,v2
while (($#)); do
    case $1 in
        --size) size=$2; shift 2 ;;
        --swarm-size) swarm_size=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --pairs) pairs=$2; shift 2 ;;
        --formats) formats=$2; shift 2 ;;
        *) echo "usage: $0 [--size MIB] [--swarm-size MIB] [--runs N] [--only transfer|swarm|creation] [--pairs S:D,...] [--formats v1,v2]" >&2; exit 2 ;;
    esac
done

if ! command -v aria2c >/dev/null || [[ ! -x /usr/bin/time ]] || ! command -v mktorrent >/dev/null || ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "installing aria2, mktorrent, time and python3-libtorrent..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aria2 mktorrent time python3-libtorrent >/dev/null
fi

need_mib=$((2 * size + 10 * swarm_size + 512))
free_mib=$(df -Pm /tmp | awk 'NR==2 {print $4}')
if ((free_mib < need_mib)); then
    echo "swarm.sh: /tmp has ${free_mib} MiB free, the benchmark needs about ${need_mib} MiB" >&2
    exit 1
fi

echo "publishing peernet (Release, ReadyToRun, ${PEERNET_PUBLISH:-framework})..." >&2
peernet=$(bench/publish-peernet.sh)

work=$(mktemp -d /tmp/peernet-bench-swarm.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "## Conditions"
echo
echo "$(date -u '+%F %H:%M UTC'); $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); peernet $(git rev-parse --short HEAD) Release ReadyToRun (${PEERNET_PUBLISH:-framework} build), $(dotnet --version) SDK;"
echo "libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)'), $(aria2c --version | head -n 1)."
echo "Seeder data in the page cache (read before each run); downloads into a fresh folder under /tmp (same filesystem)."
echo
if [[ $only != creation ]]; then
    args=(--peernet "$peernet" --lt-scripts "$PWD/tests/PeerNet.Interop.Tests/scripts" --work "$work"
        --size-mib "$size" --swarm-mib "$swarm_size" --runs "$runs" --formats "$formats" --json "$work/results.json")
    [[ -n $only ]] && args+=(--only "$only")
    [[ -n $pairs ]] && args+=(--pairs "$pairs")
    /usr/bin/python3 bench/scripts/swarm.py "${args[@]}"
    cp "$work/results.json" "/tmp/peernet-bench-swarm-last.json"
    echo "(raw measurements: /tmp/peernet-bench-swarm-last.json; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
fi
if [[ -z $only || $only == creation ]]; then
    bash bench/creation.sh "$size" "$runs"
fi
