#!/usr/bin/env bash
# Publishes the peernet tool as it ships (Release, ReadyToRun: precompiled, so the JIT only re-tiers hot code) for
# this machine's runtime, and prints the executable's path. Used by swarm.sh, creation.sh and idle.sh.
# ReadyToRun measured on a 1 GiB PeerNet->PeerNet download: downloader user CPU -13% (median of 5 interleaved runs).
#
#   bench/publish-peernet.sh [PROJECT-FOLDER]   (default src/PeerNet.Cli; e.g. samples/SeedMany)
#
# PEERNET_PUBLISH=composite publishes it self-contained with one composite ReadyToRun image of the runtime, ASP.NET
# Core and PeerNet (one version bubble: the framework's generics over PeerNet's types, which the JIT compiles at start in
# the default build, are precompiled too), into publish-composite/ (~150 MB). Default: framework-dependent (publish-r2r/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
project=${1:-src/PeerNet.Cli}
case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "publish-peernet.sh: no runtime identifier for $(uname -m)" >&2; exit 1 ;;
esac
# The two builds share the project's obj/, where ReadyToRun output is kept between publishes: left from the other build
# it is copied as is (a composite's component stubs in the framework-dependent folder abort at start). So it is cleared
# when the build asked for is not the one it holds, and kept otherwise (an up-to-date publish compiles nothing).
build=${PEERNET_PUBLISH:-framework}
r2r=$project/obj/Release/net10.0/$rid/R2R
if [[ -d $r2r && $(cat "$r2r.build" 2>/dev/null) != "$build" ]]; then rm -rf "$r2r"; fi
mkdir -p "$(dirname "$r2r")" && echo "$build" > "$r2r.build"
echo "publish-peernet.sh: $build build of $project" >&2
case $build in
    framework)
        out=$project/bin/Release/net10.0/$rid/publish-r2r
        dotnet publish "$project" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$out" -v quiet -nologo >/dev/null ;;
    composite)
        out=$project/bin/Release/net10.0/$rid/publish-composite
        dotnet publish "$project" -c Release -r "$rid" --self-contained true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true \
            -o "$out" -v quiet -nologo >/dev/null ;;
    *) echo "publish-peernet.sh: PEERNET_PUBLISH is framework or composite, not '$PEERNET_PUBLISH'" >&2; exit 2 ;;
esac
# The executable is named after the assembly (peernet for the CLI, else the project file's name).
name=$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "$project"/*.csproj | head -n 1)
[[ -n $name ]] || name=$(basename "$project"/*.csproj .csproj)
echo "$PWD/$out/$name"
