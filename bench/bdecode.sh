#!/usr/bin/env bash
# Bencode decoding: PeerNet's BencodeDocument.Parse against libtorrent's lt::bdecode (the parser its blog
# measured at 887 ns per torrent), on the same sample torrent, in the same run.
#
#   bench/bdecode.sh
#
# Needs libtorrent-rasterbar-dev, pkg-config and g++ (installed here if missing). Prints both figures (best
# of ten rounds for libtorrent; BenchmarkDotNet's mean for PeerNet) and their ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! pkg-config --exists libtorrent-rasterbar 2>/dev/null; then
    echo "installing libtorrent-rasterbar-dev and pkg-config..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtorrent-rasterbar-dev pkg-config g++ >/dev/null
fi
work=$(mktemp -d /tmp/peernet-bench-bdecode.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build bench/PeerNet.Benchmarks -c Release -v quiet -nologo >/dev/null
dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll --write-sample "$work/sample.torrent"
g++ -O2 -std=c++17 -o "$work/lt_bdecode" bench/native/lt_bdecode.cpp $(pkg-config --cflags --libs libtorrent-rasterbar)

lt_ns=$("$work/lt_bdecode" "$work/sample.torrent")
dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll --filter '*BencodeBenchmarks.Parse' \
    --artifacts "$work/bdn" --exporters csv >"$work/bdn.log" 2>&1 || { cat "$work/bdn.log" >&2; exit 1; }
csv=$(find "$work/bdn" -name '*BencodeBenchmarks-report.csv' | head -n 1)
# The Mean column is "1,234.5 ns" or "1.234 us"; normalise to ns.
pn_ns=$(awk -F',' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="Mean") c=i} NR==2 {print $c}' "$csv" | tr -d '"' |
    awk '{v=$1; gsub(/[^0-9.]/,"",v); if ($2=="us"||$2=="μs") v*=1000; else if ($2=="ms") v*=1e6; print v}')
size=$(stat -c %s "$work/sample.torrent")
echo
echo "bdecode of the sample torrent ($size bytes), $(date -u +%F):"
echo
echo "| parser | ns per torrent | libtorrent ÷ PeerNet |"
echo "|---|---:|---:|"
awk -v a="$pn_ns" -v b="$lt_ns" 'BEGIN {printf "| PeerNet BencodeDocument.Parse | %.0f | %.2f× |\n| libtorrent 2.0.8 lt::bdecode | %.0f | 1.00× |\n", a, b / a, b}'
