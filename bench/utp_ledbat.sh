#!/usr/bin/env bash
# uTP on a real routed path (issue 16), PeerNet and libtorrent, as root: the home-router namespaces of the port-mapping
# tests without miniupnpd (tests/PeerNet.Interop.Tests/scripts/home_router.sh), a seeder on the "internet" side and a
# downloader dialing it over uTP only from the home behind NAT; each measurement once with both ends PeerNet
# (peernet seed, peernet get --utp only) and once with both ends libtorrent (lt_seed.py, lt_download.py --transport
# utp: TCP off both ways, uTP and LEDBAT at libtorrent's defaults, utp_target_delay 100 ms).
#   loss:   nftables in the router drops 5% of the UDP datagrams either way (numgen random); 64 MiB must arrive
#           byte-identical (libtorrent gets 300 s; if it has not finished, how far it got is the figure).
#   LEDBAT: tc tbf shapes the router's home-side link to 20 Mbit/s with a queue of up to 300 ms; a bulk TCP flow
#           (scripts/tcp_bulk.py, its sender on CUBIC whatever the machine's default) joins the uTP transfer for 15 s
#           and leaves; the home's nftables counters give each protocol's bytes per second. LEDBAT should leave TCP
#           the link (uTP below 20%) and take it back after (asserted for PeerNet; libtorrent's figures are measured,
#           not asserted).
# Both are UtpPathTests in PeerNet.Interop.Tests with PEERNET_UTP_PATH_BENCH=1 (Debug build, as the tests run); the
# figures are printed at the end as a markdown table, PeerNet beside libtorrent, even when a test failed (the exit
# status is then the tests'). About 9 minutes (libtorrent's loss test takes its full 300 s here).
#
#   bench/utp_ledbat.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), peernet $(git rev-parse --short HEAD), load at start $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
PEERNET_UTP_PATH_BENCH=1 PEERNET_UTP_PATH_REPORT="$report" PEERNET_REQUIRE_INTEROP=1 \
    dotnet test --project tests/PeerNet.Interop.Tests --filter-class '*UtpPathTests' --output Detailed || status=$?
echo
echo "== uTP on the routed path: $(date -u '+%Y-%m-%d %H:%M UTC'), peernet $(git rev-parse --short HEAD), libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)' 2>/dev/null || echo '?'), load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# The tests write MEASUREMENT<TAB>CLIENT<TAB>VALUE lines: a row per measurement, a column per client.
awk -F'\t' '
    !($1 in seen) { seen[$1] = 1; order[n++] = $1 }
    { value[$1, $2] = $3 }
    END {
        print "| measurement | peernet → peernet | libtorrent → libtorrent |"
        print "|---|---|---|"
        for (i = 0; i < n; i++) {
            k = order[i]
            printf "| %s | %s | %s |\n", k, ((k, "peernet") in value) ? value[k, "peernet"] : "–", ((k, "libtorrent") in value) ? value[k, "libtorrent"] : "–"
        }
    }' "$report"
exit "$status"
