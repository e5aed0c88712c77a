#!/usr/bin/env bash
# What MSE/PE costs: 1 GiB PeerNet -> PeerNet over 127.0.0.1, plain BitTorrent (--encryption disabled), the default
# (MSE enabled: encrypted handshake, plaintext payload) and RC4 throughout (--encryption forced --encryption-level rc4),
# side by side in one run of bench/swarm.sh's transfer benchmark.
#
#   bench/encryption.sh [--size MIB=1024] [--runs N=3]
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
    --pairs peernet-plain:peernet-plain,peernet:peernet,peernet-rc4:peernet-rc4
