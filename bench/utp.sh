#!/usr/bin/env bash
# uTP against TCP and against libtorrent's uTP: 1 GiB over 127.0.0.1, PeerNet -> PeerNet over uTP (the downloader
# dials with --utp only), PeerNet -> PeerNet over TCP (--utp off on both), and libtorrent -> libtorrent over uTP
# (enable_outgoing_tcp/enable_incoming_tcp off, uTP on), side by side in one run of bench/swarm.sh's transfer benchmark.
#
#   bench/utp.sh [--size MIB=1024] [--runs N=3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=1024 runs=3
while (($#)); do
    case $1 in
        --size) size=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--size MIB] [--runs N]" >&2; exit 2 ;;
    esac
done
exec bench/swarm.sh --only transfer --formats v1 --size "$size" --runs "$runs" \
    --pairs peernet-utp:peernet-utp,peernet-tcp:peernet-tcp,libtorrent-utp:libtorrent-utp
