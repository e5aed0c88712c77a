using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Discovery.Lsd;
using PeerNet.Lsd;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Lsd;

/// <summary>
/// LSD services on one in-memory multicast network with a fake clock, and raw group members that send crafted
/// datagrams and record what the group carries. Every wait is bounded.
/// </summary>
internal sealed class LsdTestNet : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly List<IAsyncDisposable> _owned = [];

    public LsdTestNet(int receiveQueueCapacity = 256) => Network = new InMemoryMulticastNetwork(receiveQueueCapacity);

    public InMemoryMulticastNetwork Network { get; }

    public FakeTimeProvider Time { get; } = new();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A started service at <paramref name="address"/> announcing <paramref name="port"/>.</summary>
    public LsdService Start(string address, int port, LsdOptions? options = null)
    {
        var service = new LsdService(options ?? new LsdOptions(), Network.CreateInterface(IPAddress.Parse(address)), Time);
        _owned.Add(service);
        Assert.True(service.Start(port) > 0);
        return service;
    }

    /// <summary>A raw member of the IPv4 group at <paramref name="address"/>: sends anything, hears everything.</summary>
    public RawMember Join(string address)
    {
        var member = new RawMember(Network.CreateInterface(IPAddress.Parse(address)).Join(LsdMessage.GroupV4));
        _owned.Add(member);
        return member;
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms; fails naming <paramref name="what"/> if it does not hold within <see cref="Timeout"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what)
        => Poll.UntilAsync(condition, what, Timeout, TimeSpan.FromMilliseconds(10));

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable owned in _owned)
        {
            await owned.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);
        }
    }

    /// <summary>A group member outside any service: records every datagram it hears (parsed when it parses).</summary>
    internal sealed class RawMember : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public RawMember(IDatagramSocket socket)
        {
            Socket = socket;
            _loop = Task.Run(ReceiveAsync);
        }

        public IDatagramSocket Socket { get; }

        public ConcurrentQueue<(byte[] Datagram, IPEndPoint From)> Heard { get; } = new();

        /// <summary>Announces heard that carry <paramref name="hash"/> (from <paramref name="from"/> only, when given).</summary>
        public int AnnouncesOf(Sha1Hash hash, string? from = null) => Heard.Count(h => (from is null || h.From.Address.Equals(IPAddress.Parse(from)))
            && LsdMessage.TryParse(h.Datagram, out LsdAnnounce? a, out _) && a.InfoHashes.Contains(hash));

        public ValueTask SendAsync(byte[] datagram) => Socket.SendAsync(datagram, LsdMessage.GroupV4, Ct);

        private async Task ReceiveAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    DatagramReceived received = await Socket.ReceiveAsync(buffer, _stop.Token);
                    Heard.Enqueue((buffer.AsSpan(0, received.Length).ToArray(), received.RemoteEndPoint));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Socket.DisposeAsync();
            await _loop.WaitAsync(Timeout, Ct);
            _stop.Dispose();
        }
    }
}
