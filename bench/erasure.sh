#!/usr/bin/env bash
# Reed-Solomon encode and decode on one core: PeerNet's ReedSolomon against zfec (Tahoe-LAFS's coder, its C core
# through Debian's python3-zfec) and Intel ISA-L (Debian's libisal-dev, ec_encode_data through bench/native/isal_ec.c),
# timed the same way in the same run: 1 MiB segments split into k blocks, n-k parity blocks coded; decode rebuilds the
# data after losing min(n-k, k) data blocks, inverting the matrix each time; best of ROUNDS passes of ~0.2 s.
#
#   bench/erasure.sh [ROUNDS]    (default 5)
#
# Installs python3-zfec, libisal-dev and gcc if missing. Prints a markdown table of data GB/s and the ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-5}
segment=1048576
missing=()
/usr/bin/python3 -c 'import zfec' 2>/dev/null || missing+=(python3-zfec)
[[ -f /usr/include/isa-l/erasure_code.h ]] || missing+=(libisal-dev)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
work=$(mktemp -d /tmp/peernet-bench-erasure.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build bench/PeerNet.Benchmarks -c Release -v quiet -nologo >/dev/null
gcc -O2 -o "$work/isal_ec" bench/native/isal_ec.c -lisal
peernet=(dotnet bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll --erasure)
isal_version=$(dpkg-query -W -f '${Version}' libisal-dev 2>/dev/null || echo '?')
zfec_version=$(/usr/bin/python3 -c 'import zfec; print(zfec.__version__)')

echo
echo "Reed-Solomon on one core, 1 MiB segments, data GB/s (best of $rounds), $(date -u +%F), $(nproc) cores of $(lscpu | sed -n 's/^Model name: *//p' | head -n 1):"
echo
echo "| k-of-n | op | PeerNet | zfec $zfec_version | ISA-L $isal_version | PeerNet ÷ zfec | PeerNet ÷ ISA-L |"
echo "|---|---|---:|---:|---:|---:|---:|"
for code in "3 10" "5 8" "10 16" "16 32"; do
    read -r k n <<<"$code"
    p=$("${peernet[@]}" "$k" "$n" "$segment" "$rounds")
    z=$(/usr/bin/python3 bench/scripts/zfec_bench.py "$k" "$n" "$segment" "$rounds")
    i=$("$work/isal_ec" "$k" "$n" "$segment" "$rounds")
    for op in encode decode; do
        /usr/bin/python3 - "$k" "$n" "$op" "$p" "$z" "$i" <<'PY'
import json, sys
k, n, op, *runs = sys.argv[1:]
p, z, i = (json.loads(r)[op] / 1e9 for r in runs)
print(f"| {k}-of-{n} | {op} | {p:.2f} | {z:.3f} | {i:.2f} | {p / z:.0f}× | {p / i:.2f}× |")
PY
    done
done
