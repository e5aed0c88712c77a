#!/usr/bin/env bash
# The real-time channel (issue 17): one-way latency, RFC 3550 jitter and loss of a datagram channel
# (/peernet/datagram/1.0.0) carrying a voice call's frames, 50 a second of 160 bytes, between two PeerNet nodes:
#   - on 127.0.0.1 (both nodes in one process);
#   - between two network namespaces this script makes (as root), over a link with added one-way delay, jitter and
#     loss: tc netem on a veth pair where the kernel has sch_netem, else scripts/tun_link.py, a user-space link
#     emulator between two TUN devices (the same delay/loss model; it says which it used).
# The channel runs over the libp2p connection (TCP, Noise, yamux): a lost packet is retransmitted by TCP, so loss on
# the link shows as delay (and as datagrams dropped when later than the channel's 200 ms lateness), not as gaps.
# Each case lasts SECONDS; everything is under `timeout`; the namespaces and processes go on exit.
#
#   sudo bench/datagram.sh [--seconds S=20] [--link auto|netem|tun]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=20 link=auto
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --link) link=$2; shift 2 ;;
        *) echo "usage: $0 [--seconds S] [--link auto|netem|tun]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }

S=$$
nsa=pndga$S nsb=pndgb$S
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet build bench/PeerNet.Benchmarks -c Release -v quiet -nologo >/dev/null
bench=(dotnet "$PWD/bench/PeerNet.Benchmarks/bin/Release/net10.0/PeerNet.Benchmarks.dll")
limit=$((seconds + 90))

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), peernet $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- loopback (127.0.0.1), ${seconds} s of 50 x 160 B/s"
timeout "$limit" "${bench[@]}" --datagram-loopback --seconds "$seconds"

# Two namespaces, A (10.77.0.1) and B (10.77.0.2), joined by a veth pair with netem or by two TUN devices.
ip netns add "$nsa"
ip netns add "$nsb"
ip -n "$nsa" link set lo up
ip -n "$nsb" link set lo up
if [ "$link" = auto ]; then
    ip link add dgp$S type veth peer name dgq$S
    if tc qdisc add dev dgp$S root netem delay 1ms 2>/dev/null; then link=netem; else link=tun; fi
    ip link del dgp$S
fi
if [ "$link" = netem ]; then
    ip link add dga$S type veth peer name dgb$S
    ip link set dga$S netns "$nsa"
    ip link set dgb$S netns "$nsb"
    ip -n "$nsa" addr add 10.77.0.1/24 dev dga$S
    ip -n "$nsb" addr add 10.77.0.2/24 dev dgb$S
else
    ip -n "$nsa" tuntap add dev dga$S mode tun
    ip -n "$nsb" tuntap add dev dgb$S mode tun
    ip -n "$nsa" addr add 10.77.0.1/32 peer 10.77.0.2/32 dev dga$S
    ip -n "$nsb" addr add 10.77.0.2/32 peer 10.77.0.1/32 dev dgb$S
fi
ip -n "$nsa" link set dga$S up
ip -n "$nsb" link set dgb$S up

# run_case NAME DELAY_MS JITTER_MS LOSS_PERCENT: the same delay, jitter and loss each way.
run_case() {
    local name=$1 delay=$2 jitter=$3 loss=$4 emulator=""
    echo "-- $name: one-way delay ${delay} ms, jitter ${jitter} ms, loss ${loss}% each way ($link), ${seconds} s of 50 x 160 B/s"
    if [ "$link" = netem ]; then
        local spec="delay ${delay}ms"
        [ "$jitter" = 0 ] || spec="$spec ${jitter}ms distribution normal rate 1gbit" # rate: no reordering, as tun_link
        [ "$loss" = 0 ] || spec="$spec loss ${loss}%"
        # shellcheck disable=SC2086
        ip netns exec "$nsa" tc qdisc replace dev dga$S root netem $spec
        # shellcheck disable=SC2086
        ip netns exec "$nsb" tc qdisc replace dev dgb$S root netem $spec
    else
        python3 bench/scripts/tun_link.py "$nsa" dga$S "$nsb" dgb$S --delay "$delay" --jitter "$jitter" --loss "$loss" \
            --seconds "$limit" >"$work/link.out" &
        emulator=$!
        pids+=("$emulator")
        for _ in $(seq 100); do grep -q ready "$work/link.out" && break; sleep 0.1; done
        grep -q ready "$work/link.out" || { echo "the link emulator did not start" >&2; cat "$work/link.out" >&2; exit 1; }
    fi

    : >"$work/listen.out"
    ip netns exec "$nsb" timeout "$limit" "${bench[@]}" --datagram-listen 10.77.0.2 --seconds "$seconds" >"$work/listen.out" &
    local listener=$!
    pids+=("$listener")
    for _ in $(seq 300); do grep -q '^listening ' "$work/listen.out" && break; sleep 0.1; done
    local address
    address=$(sed -n 's/^listening //p' "$work/listen.out")
    [ -n "$address" ] || { echo "the receiver did not start" >&2; cat "$work/listen.out" >&2; exit 1; }
    ip netns exec "$nsa" timeout "$limit" "${bench[@]}" --datagram-send "$address" --bind 10.77.0.1 --seconds "$seconds"
    wait "$listener"
    grep -v '^listening ' "$work/listen.out"
    if [ -n "$emulator" ]; then
        kill "$emulator"
        wait "$emulator" || true
        grep -v '^ready' "$work/link.out"
    fi
}

run_case "delay" 20 0 0
run_case "delay and jitter" 20 5 0
run_case "delay, 1% loss" 20 0 1
run_case "delay, 5% loss" 20 0 5
