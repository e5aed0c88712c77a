#!/bin/sh
# Holds a private network namespace for the LSD tests: run as `unshare -rn sh netns_holder.sh [ipv4|ipv6]` (a new
# user and network namespace; works unprivileged where user namespaces are allowed), so multicast never leaves it.
#   ipv4 (default): loopback with multicast on and 239.0.0.0/8 (the IPv4 LSD group) routed through it, from 127.0.0.1.
#   ipv6: IPv6 multicast does not loop back on lo, so a veth pair (lsd0, lsd1) carries it; no IPv4 multicast route,
#         so only the IPv6 group can work. Waits until their link-local addresses are usable (DAD done).
#   dualstack: a veth pair whose ends have both families: ds0 10.16.0.1/24 and fd00:16::1/64, ds1 10.16.0.2/24 and
#         fd00:16::2/64, with 10.16.0.3-4 and fd00:16::3-4 on ds0 too (one address per single-family node); the IPv6
#         ones added with nodad, so no duplicate address detection leaves them tentative (unusable) for a second;
#         accept_local on, so IPv4 packets between two addresses of the namespace may cross the pair.
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
elif [ "$mode" = dualstack ]; then
    ip link add ds0 type veth peer name ds1
    for n in 1 3 4; do
        ip addr add 10.16.0.$n/24 dev ds0
        ip -6 addr add fd00:16::$n/64 dev ds0 nodad
    done
    ip addr add 10.16.0.2/24 dev ds1
    ip -6 addr add fd00:16::2/64 dev ds1 nodad
    # libtorrent binds its sockets to the device (ds1), so its replies cross the pair and arrive on ds0 from an
    # address of this host, which IPv4 drops as martian unless told to accept them.
    for dev in all ds0 ds1; do
        echo 1 > /proc/sys/net/ipv4/conf/$dev/accept_local
    done
    ip link set ds0 up
    ip link set ds1 up
    tries=0
    while [ -n "$(ip -6 addr show tentative)" ]; do
        tries=$((tries + 1))
        [ $tries -le 100 ] || { echo "addresses still tentative" >&2; exit 1; }
        sleep 0.1
    done
else
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo src 127.0.0.1
fi
echo "ready $$"
cat >/dev/null
