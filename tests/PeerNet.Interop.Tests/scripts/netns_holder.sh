#!/bin/sh
# Holds a private network namespace for the LSD tests: run as `unshare -rn sh netns_holder.sh [ipv4|ipv6]` (a new
# user and network namespace; works unprivileged where user namespaces are allowed), so multicast never leaves it.
#   ipv4 (default): loopback with multicast on and 239.0.0.0/8 (the IPv4 LSD group) routed through it, from 127.0.0.1.
#   ipv6: IPv6 multicast does not loop back on lo, so a veth pair (lsd0, lsd1) carries it; no IPv4 multicast route,
#         so only the IPv6 group can work. Waits until their link-local addresses are usable (DAD done).
# Then prints "ready PID" (what nsenter --target takes) and waits until stdin closes.
set -eu
mode=${1:-ipv4}
ip link set lo up
if [ "$mode" = ipv6 ]; then
    ip link add lsd0 type veth peer name lsd1
    ip link set lsd0 up
    ip link set lsd1 up
    tries=0
    while [ -z "$(ip -6 addr show dev lsd0 scope link)" ] || [ -n "$(ip -6 addr show tentative)" ]; do
        tries=$((tries + 1))
        [ $tries -le 100 ] || { echo "link-local addresses still tentative" >&2; exit 1; }
        sleep 0.1
    done
else
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo src 127.0.0.1
fi
echo "ready $$"
cat >/dev/null
