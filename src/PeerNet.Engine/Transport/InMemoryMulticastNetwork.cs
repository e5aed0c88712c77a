using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Multicast groups in one process, for tests: each node gets an interface at its own address
/// (<see cref="CreateInterface"/>); a datagram sent to a group is copied, at once, into the receive queue of every
/// socket that joined it, the sender's own included (multicast loopback), with the sender's address as its source. A
/// full queue drops the datagram, as a full UDP receive buffer would. An interface joins only groups of its own
/// address family. Nothing here touches a real network.
/// </summary>
internal sealed class InMemoryMulticastNetwork(int receiveQueueCapacity = 256)
{
    private readonly int _receiveQueueCapacity = receiveQueueCapacity >= 1 ? receiveQueueCapacity
        : throw new ArgumentOutOfRangeException(nameof(receiveQueueCapacity), receiveQueueCapacity, "At least 1.");

    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, List<Member>> _groups = [];
    private long _sent;
    private long _delivered;
    private long _dropped;

    /// <summary>Datagrams sent to a group so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Copies put in a receive queue so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Copies dropped at a full queue, and datagrams sent to something other than a joined group.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>A node's interface at <paramref name="address"/>: what it joins with, and the source of what it sends.</summary>
    public IMulticastTransport CreateInterface(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new Interface(this, address);
    }

    private void Send(ReadOnlyMemory<byte> datagram, IPEndPoint from, IPEndPoint to)
    {
        Interlocked.Increment(ref _sent);
        Member[] members;
        lock (_lock)
        {
            members = _groups.TryGetValue(to, out List<Member>? list) ? [.. list] : [];
        }

        if (members.Length == 0)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        byte[] data = datagram.ToArray(); // one copy shared by every receiver: they only read it
        foreach (Member member in members)
        {
            Interlocked.Increment(ref member.TryEnqueue(data, from) ? ref _delivered : ref _dropped);
        }
    }

    private void Leave(Member member)
    {
        lock (_lock)
        {
            if (_groups.TryGetValue(member.Group, out List<Member>? list) && list.Remove(member) && list.Count == 0)
            {
                _groups.Remove(member.Group);
            }
        }
    }

    private sealed class Interface(InMemoryMulticastNetwork network, IPAddress address) : IMulticastTransport
    {
        public IDatagramSocket Join(IPEndPoint group)
        {
            ArgumentNullException.ThrowIfNull(group);
            if (group.AddressFamily != address.AddressFamily)
            {
                throw new SocketException((int)SocketError.AddressFamilyNotSupported);
            }

            var member = new Member(network, group, new IPEndPoint(address, group.Port));
            lock (network._lock)
            {
                if (!network._groups.TryGetValue(group, out List<Member>? list))
                {
                    list = [];
                    network._groups.Add(group, list);
                }

                list.Add(member);
            }

            return member;
        }
    }

    private sealed class Member(InMemoryMulticastNetwork network, IPEndPoint group, IPEndPoint source)
        : InMemoryDatagramSocket(source, network._receiveQueueCapacity)
    {
        public IPEndPoint Group { get; } = group;

        protected override void Send(ReadOnlyMemory<byte> datagram, IPEndPoint remote) => network.Send(datagram, LocalEndPoint, remote);

        protected override void Leave() => network.Leave(this);
    }
}
