#!/usr/bin/env bash
# Publishes the peernet tool as it ships (Release, ReadyToRun: precompiled, so the JIT only re-tiers hot code) for
# this machine's runtime, and prints the executable's path. Used by swarm.sh, creation.sh and idle.sh.
# ReadyToRun measured on a 1 GiB PeerNet->PeerNet download: downloader user CPU -13% (median of 5 interleaved runs).
#
#   bench/publish-peernet.sh [PROJECT-FOLDER]   (default src/PeerNet.Cli; e.g. samples/SeedMany)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
project=${1:-src/PeerNet.Cli}
case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "publish-peernet.sh: no runtime identifier for $(uname -m)" >&2; exit 1 ;;
esac
out=$project/bin/Release/net10.0/$rid/publish-r2r
dotnet publish "$project" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$out" -v quiet -nologo >/dev/null
# The executable is named after the assembly (peernet for the CLI, else the project file's name).
name=$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "$project"/*.csproj | head -n 1)
[[ -n $name ]] || name=$(basename "$project"/*.csproj .csproj)
echo "$PWD/$out/$name"
