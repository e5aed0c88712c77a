#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS — fuzzes one target of fuzz/PeerNet.Fuzz with AFL++ through SharpFuzz.
#
# Installs what is missing: AFL++ from Debian's packages (apt-get install afl++) and the SharpFuzz
# instrumenter (dotnet tool SharpFuzz.CommandLine, into fuzz/.tools). Builds PeerNet.Fuzz (Release) into
# fuzz/.build/TARGET, instruments PeerNet.Codecs.dll there (and PeerNet.Engine.dll, for the targets that run
# Engine code), then runs afl-fuzz for SECONDS with fuzz/corpus/TARGET as seeds, fuzz/dictionaries/TARGET.dict
# (if there is one) as tokens, and fuzz/findings/TARGET as output (kept between runs: a second run resumes).
# Ends with execs/s, corpus size, crashes and hangs.
#
# A crash input reproduces with: dotnet fuzz/.build/TARGET/PeerNet.Fuzz.dll TARGET FILE
# Once fixed, copy it to fuzz/regressions/TARGET/ so the unit test keeps running it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    echo "usage: fuzz/run.sh TARGET SECONDS" >&2
    echo "targets: $(cd fuzz/corpus && ls -d -- */ | tr -d / | tr '\n' ' ')" >&2
    exit 2
}
[[ $# -eq 2 ]] || usage
target=$1
seconds=$2
[[ -d fuzz/corpus/$target && $target != */* ]] || usage
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || usage

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v afl-fuzz >/dev/null; then
    echo "run.sh: installing afl++ (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi

sharpfuzz=fuzz/.tools/sharpfuzz
if [[ ! -x $sharpfuzz ]]; then
    echo "run.sh: installing the SharpFuzz.CommandLine tool into fuzz/.tools"
    dotnet tool install --tool-path fuzz/.tools SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# Build once per run under a lock (two targets may be started at once), then work on a private copy: the
# instrumenter rewrites assemblies in place, and each target's copy is instrumented fresh.
out=fuzz/.build/$target
mkdir -p fuzz/.build
(
    flock 9
    dotnet build fuzz/PeerNet.Fuzz/PeerNet.Fuzz.csproj -c Release --nologo -v quiet -clp:ErrorsOnly
    rm -rf "$out"
    cp -r fuzz/PeerNet.Fuzz/bin/Release/net10.0 "$out"
) 9>fuzz/.build/lock

assemblies=(PeerNet.Codecs.dll)
case $target in
    resume | metainfo | peersession | leechsession | yamux) assemblies+=(PeerNet.Engine.dll) ;; # ResumeData; PieceMap and StoragePaths; the whole swarm; the yamux session
esac
for assembly in "${assemblies[@]}"; do
    "$sharpfuzz" "$out/$assembly" >/dev/null
    echo "run.sh: instrumented $assembly"
done

findings=fuzz/findings/$target
mkdir -p "$findings"

# dotnet itself is not instrumented (SharpFuzz instruments the assemblies), hence AFL_SKIP_BIN_CHECK. The
# machine is shared, so no CPU pinning; findings/ is resumed if a previous run left one.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export AFL_AUTORESUME=1
echo "run.sh: afl-fuzz $target for $seconds s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
dictionary=()
[[ -f fuzz/dictionaries/$target.dict ]] && dictionary=(-x "fuzz/dictionaries/$target.dict")
afl_command=(afl-fuzz -i "fuzz/corpus/$target" -o "$findings" "${dictionary[@]}" -t 5000 -m none -V "$seconds"
    -- dotnet "$out/PeerNet.Fuzz.dll" "$target")
if [[ -t 1 ]]; then
    "${afl_command[@]}" || true
else
    # Without a terminal, AFL++ prints a line per test case: keep that in a log instead.
    AFL_NO_UI=1 "${afl_command[@]}" >"$findings/afl.log" 2>&1 || { tail -n 20 "$findings/afl.log" >&2; true; }
fi

stats=$findings/default/fuzzer_stats
if [[ ! -f $stats ]]; then
    echo "run.sh: afl-fuzz wrote no $stats" >&2
    exit 1
fi
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(find "$findings/default/crashes" -type f ! -name README.txt 2>/dev/null | wc -l)
hangs=$(find "$findings/default/hangs" -type f 2>/dev/null | wc -l)
echo "run.sh: $target: run_time $(stat run_time) s, execs $(stat execs_done), execs/s $(stat execs_per_sec)," \
    "corpus $(stat corpus_count), crashes $crashes, hangs $hangs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $crashes -gt 0 ]]; then
    echo "run.sh: crash inputs in $findings/default/crashes/" >&2
    exit 3
fi
