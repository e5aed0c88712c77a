#!/bin/sh
# Two network namespaces for the uTP SYN-flood test: `sh syn_flood_net.sh up S` / `sh syn_flood_net.sh down S` (as root).
#   pnsfs$S  10.250.0.1/24 on pnsfs$S (veth)   the seed (a peernet daemon), the node under attack
#   pnsfl$S  10.250.0.2/24 on pnsfl$S (veth)   the leecher (peernet get --utp only) and the flooder
#   pnsfz$S  10.251.0.2/30, a sink: the seed's namespace routes 198.18.0.0/16 through it (10.251.0.1/30 on pnsfk$S)
# The flooder sends SYNs with source addresses forged from 198.18.0.0/16 (RFC 2544's benchmarking block). Every
# answer to a forged source leaves the seed's namespace toward the sink, one gateway (one neighbour entry, not 65,536),
# where it dies: the sink forwards nothing and has no such address (and with forwarding off Linux sends no ICMP
# either). Nothing reaches the leecher's namespace, let alone the host. (A dummy interface would do as well, where
# the kernel has the module.) Reverse-path filtering is off in the seed's namespace: the forged sources come in on
# the leecher's veth while their route points at the sink. nftables counts, in the seed's namespace, what
# comes in from the forged block (counter synin) and what goes out to it (counter replies), in IP bytes.
# The leecher's namespace has no default route: nothing it sends goes anywhere but the seed.
set -eu
action=$1
S=$2
if [ "$action" = down ]; then
    for ns in pnsfs$S pnsfl$S pnsfz$S; do
        ip netns del "$ns" 2>/dev/null || true
    done
    exit 0
fi

ip netns add pnsfs$S
ip netns add pnsfl$S
ip netns add pnsfz$S
ip link add pnsfs$S type veth peer name pnsfl$S
ip link set pnsfs$S netns pnsfs$S
ip link set pnsfl$S netns pnsfl$S

ip -n pnsfs$S link set lo up
ip -n pnsfs$S addr add 10.250.0.1/24 dev pnsfs$S
ip -n pnsfs$S link set pnsfs$S up
ip link add pnsfk$S type veth peer name pnsfz$S
ip link set pnsfk$S netns pnsfs$S
ip link set pnsfz$S netns pnsfz$S
ip -n pnsfs$S addr add 10.251.0.1/30 dev pnsfk$S
ip -n pnsfs$S link set pnsfk$S up
ip -n pnsfz$S link set lo up
ip -n pnsfz$S addr add 10.251.0.2/30 dev pnsfz$S
ip -n pnsfz$S link set pnsfz$S up
ip netns exec pnsfz$S sysctl -qw net.ipv4.ip_forward=0
ip -n pnsfs$S route add 198.18.0.0/16 via 10.251.0.2 dev pnsfk$S
for conf in all default pnsfs$S; do
    ip netns exec pnsfs$S sysctl -qw net.ipv4.conf.$conf.rp_filter=0
done

ip -n pnsfl$S link set lo up
ip -n pnsfl$S addr add 10.250.0.2/24 dev pnsfl$S
ip -n pnsfl$S link set pnsfl$S up

ip netns exec pnsfs$S nft -f - <<NFT
table inet pnsf {
    counter synin {
    }
    counter replies {
    }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr 198.18.0.0/16 counter name "synin"
    }
    chain output {
        type filter hook output priority 0; policy accept;
        ip daddr 198.18.0.0/16 counter name "replies"
    }
}
NFT
echo ready
