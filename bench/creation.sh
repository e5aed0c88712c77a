#!/usr/bin/env bash
# Torrent-creation throughput: PeerNet against mktorrent and libtorrent's create_torrent, on the same file,
# in the same run, each tool at its defaults (mktorrent with as many threads as cores).
#
#   bench/creation.sh [SIZE_MIB=1024] [RUNS=3]
#
# Prints a markdown table of medians (wall seconds, CPU seconds, MB/s, peak RSS) and the ratio of each
# tool's wall time to PeerNet's. The source file is in the page cache for every tool (it is read once
# before timing), so the figures compare hashing pipelines, not disks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=${1:-1024}
runs=${2:-3}
piece=$((1024 * 1024))
work=$(mktemp -d /tmp/peernet-bench-create.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! command -v mktorrent >/dev/null || [[ ! -x /usr/bin/time ]] || ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "installing mktorrent, time and python3-libtorrent..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mktorrent time python3-libtorrent >/dev/null
fi

echo "publishing peernet (Release, ReadyToRun)..." >&2
peernet=$(bench/publish-peernet.sh)

src="$work/data.bin"
echo "writing ${size_mib} MiB of random data..." >&2
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$src"
cat "$src" >/dev/null

# measure LABEL CMD... : appends "label wall cpu rss_kib hashes" to $work/results
measure() {
    local label=$1
    shift
    local out="$work/out.txt" tm="$work/time.txt"
    /usr/bin/time -f "%e %U %S %M" -o "$tm" "$@" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    read -r wall user sys rss <"$tm"
    echo "$label $wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') $rss" >>"$work/results"
}

hash_of() { # hash_of TORRENT -> "v1 v2"
    /usr/bin/python3 -c 'import sys,libtorrent as lt; ih=lt.torrent_info(sys.argv[1]).info_hashes(); print((str(ih.v1) if ih.has_v1() else "-")+" "+(str(ih.v2) if ih.has_v2() else "-"))' "$1"
}

: >"$work/results"
for ((r = 1; r <= runs; r++)); do
    echo "run $r/$runs" >&2
    for v in v1 v2 hybrid; do
        rm -f "$work/pn-$v.torrent" "$work/lt-$v.torrent"
        measure "peernet-$v" "$peernet" create "$src" "--$v" --piece-size "$piece" -o "$work/pn-$v.torrent"
        measure "libtorrent-$v" /usr/bin/python3 bench/scripts/lt_create.py "$v" "$piece" "$src" "$work/lt-$v.torrent"
        [[ $(hash_of "$work/pn-$v.torrent") == $(hash_of "$work/lt-$v.torrent") ]] || { echo "creation.sh: $v info-hashes differ between PeerNet and libtorrent" >&2; exit 1; }
    done
    rm -f "$work/mk.torrent"
    measure "mktorrent-v1" mktorrent -t "$(nproc)" -l 20 -o "$work/mk.torrent" "$src"
    [[ $(hash_of "$work/mk.torrent") == $(hash_of "$work/pn-v1.torrent") ]] || { echo "creation.sh: v1 info-hashes differ between PeerNet and mktorrent" >&2; exit 1; }
done

echo
echo "Torrent creation, ${size_mib} MiB file, 1 MiB pieces, median of $runs runs ($(nproc) cores, $(date -u +%F)):"
echo
echo "| tool | format | wall s | CPU s | MB/s | peak RSS MB | wall ÷ PeerNet's |"
echo "|---|---|---:|---:|---:|---:|---:|"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A pn_wall
for label in peernet-v1 mktorrent-v1 libtorrent-v1 peernet-v2 libtorrent-v2 peernet-hybrid libtorrent-hybrid; do
    wall=$(awk -v l="$label" '$1==l {print $2}' "$work/results" | median)
    cpu=$(awk -v l="$label" '$1==l {print $3}' "$work/results" | median)
    rss=$(awk -v l="$label" '$1==l {print $4}' "$work/results" | median)
    tool=${label%-*} format=${label##*-}
    [[ $tool == peernet ]] && pn_wall[$format]=$wall
    awk -v t="$tool" -v f="$format" -v w="$wall" -v c="$cpu" -v r="$rss" -v m="$size_mib" -v p="${pn_wall[$format]}" \
        'BEGIN {printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %.2f× |\n", t, f, w, c, m * 1.048576 / w, r / 1024, w / p}'
done
