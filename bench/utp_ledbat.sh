#!/usr/bin/env bash
# uTP on a real routed path (issue 16), as root: the home-router namespaces of the port-mapping tests without
# miniupnpd (tests/PeerNet.Interop.Tests/scripts/home_router.sh), peernet seed on the "internet" side, peernet get
# --utp only in the home behind NAT.
#   loss:   nftables in the router drops 5% of the UDP datagrams either way (numgen random); 64 MiB must arrive
#           byte-identical.
#   LEDBAT: tc tbf shapes the router's home-side link to 20 Mbit/s with a queue of up to 300 ms; a bulk TCP flow
#           (scripts/tcp_bulk.py) joins the uTP transfer for 15 s and leaves; the home's nftables counters give each
#           protocol's bytes per second. LEDBAT should leave TCP the link (uTP below 20%) and take it back after.
# Both are UtpPathTests in PeerNet.Interop.Tests with PEERNET_UTP_PATH_BENCH=1; the figures are printed at the end.
#
#   bench/utp_ledbat.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
PEERNET_UTP_PATH_BENCH=1 PEERNET_UTP_PATH_REPORT="$report" PEERNET_REQUIRE_INTEROP=1 \
    dotnet test tests/PeerNet.Interop.Tests --filter-class '*UtpPathTests' --output Detailed
echo
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), peernet $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$report"
