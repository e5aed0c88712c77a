#!/usr/bin/env bash
# What MSE/PE costs, PeerNet and libtorrent: 1 GiB over 127.0.0.1, side by side in one run of bench/swarm.sh's
# transfer benchmark:
#   PeerNet -> PeerNet over TCP (--utp off, as libtorrent's rows: a node's default dials uTP first): plain BitTorrent
#                       (--encryption disabled), the default (MSE enabled: encrypted handshake, plaintext payload;
#                       the peernet-tcp pair) and RC4 throughout (--encryption forced --encryption-level rc4);
#   libtorrent -> libtorrent (TCP): plain (it dials plain and accepts both, lt_common.make_session) and RC4 throughout
#                       (out_enc_policy/in_enc_policy pe_forced, allowed_enc_level pe_rc4: lt_*.py --enc forced).
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
    --pairs peernet-plain:peernet-plain,peernet-tcp:peernet-tcp,peernet-rc4:peernet-rc4,libtorrent:libtorrent,libtorrent-rc4:libtorrent-rc4
