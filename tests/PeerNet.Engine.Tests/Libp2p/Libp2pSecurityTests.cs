using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using PeerNet.Libp2p;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>The libp2p upgrade (multistream-select to <c>/noise</c>, then Noise XX) and the secured channel, over the in-memory network.</summary>
public sealed class Libp2pSecurityTests
{
    private static int _next;

    private static async Task<(IAsyncDisposable Scope, IDuplexConnection Client, IDuplexConnection Server)> PairAsync()
    {
        int n = Interlocked.Increment(ref _next);
        var network = new InMemoryNetwork(TimeProvider.System);
        InMemoryTransport server = network.CreateTransport(IPAddress.Parse($"10.77.{n / 200}.{n % 200 + 1}"));
        InMemoryTransport client = network.CreateTransport(IPAddress.Parse($"10.78.{n / 200}.{n % 200 + 1}"));
        (IPeerListener listener, IDuplexConnection c, IDuplexConnection s) = await ConnectPairAsync(server, client, new IPEndPoint(IPAddress.Parse($"10.77.{n / 200}.{n % 200 + 1}"), 4001));
        return (new Scope(listener, server, client), c, s);
    }

    private sealed class Scope(params IAsyncDisposable[] items) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (IAsyncDisposable item in items)
            {
                await item.DisposeAsync();
            }
        }
    }

    private static async Task<(SecuredLibp2pConnection Dialer, SecuredLibp2pConnection Listener)> UpgradeAsync(
        IDuplexConnection client, IDuplexConnection server, NodeIdentity dialer, NodeIdentity listener)
    {
        Task<SecuredLibp2pConnection> inbound = Libp2pSecurity.SecureInboundAsync(server, listener, Ct);
        Task<SecuredLibp2pConnection> outbound = Libp2pSecurity.SecureOutboundAsync(client, dialer, listener.PeerId, Ct);
        return (await outbound.WaitAsync(TestTimeout, Ct), await inbound.WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task Upgrade_AuthenticatesBothPeers_AndStreamsRoundTripBothWays()
    {
        (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
        await using IAsyncDisposable _ = scope;
        using NodeIdentity alice = NodeIdentity.CreateEphemeral();
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        (SecuredLibp2pConnection a, SecuredLibp2pConnection b) = await UpgradeAsync(client, server, alice, bob);
        Assert.Equal(bob.PeerId, a.RemotePeer);
        Assert.Equal(alice.PeerId, b.RemotePeer);
        Assert.IsType<NoiseConnection>(a.Connection);

        // More than a frame's worth, in chunks that do not line up with frames, each way at once.
        const long total = 3_000_000;
        Task[] streams =
        [
            WriteStreamAsync(a.Connection.Output, total, seed: 1, chunk: 100_000),
            ReadStreamAsync(b.Connection.Input, total, seed: 1),
            WriteStreamAsync(b.Connection.Output, total, seed: 2, chunk: 777),
            ReadStreamAsync(a.Connection.Input, total, seed: 2),
        ];
        await Task.WhenAll(streams).WaitAsync(TestTimeout, Ct);

        // Framing costs 18 bytes a frame: what went on the wire is a little more than what was written.
        Assert.InRange(client.BytesSent, total, total + (total / NoiseTransportFrame.MaxPlaintext + 200) * 18 + 4096);

        // Closing one side ends the other's input cleanly.
        await a.Connection.Output.CompleteAsync();
        await a.Connection.DisposeAsync();
        Assert.Equal(0, await ReadToEndAsync(b.Connection.Input).WaitAsync(TestTimeout, Ct));
        await b.Connection.DisposeAsync();
    }

    [Fact]
    public async Task Reader_ThatExaminesWithoutConsuming_GetsMoreOnTheNextRead()
    {
        (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
        await using IAsyncDisposable _ = scope;
        using NodeIdentity alice = NodeIdentity.CreateEphemeral();
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        (SecuredLibp2pConnection a, SecuredLibp2pConnection b) = await UpgradeAsync(client, server, alice, bob);

        await WriteAsync(a.Connection.Output, [1, 2, 3]);
        PipeReader input = b.Connection.Input;
        ReadResult first = await input.ReadAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal([1, 2, 3], first.Buffer.ToArray());
        input.AdvanceTo(first.Buffer.Start, first.Buffer.End); // seen, not taken

        await WriteAsync(a.Connection.Output, [4, 5]);
        ReadResult second = await input.ReadAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal([1, 2, 3, 4, 5], second.Buffer.ToArray());
        input.AdvanceTo(second.Buffer.GetPosition(4));

        // What is left and not yet examined comes at once.
        Assert.True(input.TryRead(out ReadResult third));
        Assert.Equal([5], third.Buffer.ToArray());
        input.AdvanceTo(third.Buffer.End);
        await a.Connection.DisposeAsync();
        await b.Connection.DisposeAsync();
    }

    [Fact]
    public async Task DialingTheWrongPeer_FailsWithTheReason_AndNeverRevealsTheDialer()
    {
        (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
        await using IAsyncDisposable _ = scope;
        using NodeIdentity alice = NodeIdentity.CreateEphemeral();
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        using NodeIdentity carol = NodeIdentity.CreateEphemeral();
        Task<SecuredLibp2pConnection> inbound = Libp2pSecurity.SecureInboundAsync(server, bob, Ct);
        var e = await Assert.ThrowsAsync<Libp2pUpgradeException>(() => Libp2pSecurity.SecureOutboundAsync(client, alice, carol.PeerId, Ct).WaitAsync(TestTimeout, Ct));
        Assert.Equal("peer_id_mismatch", e.Reason);
        Assert.Contains(bob.PeerId.ToString(), e.Message, StringComparison.Ordinal);

        await client.DisposeAsync();
        var closed = await Assert.ThrowsAsync<Libp2pUpgradeException>(() => inbound.WaitAsync(TestTimeout, Ct));
        Assert.Equal("closed", closed.Reason);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task TamperedOrTruncatedFrames_FailTheRead_WithTheReason()
    {
        using NodeIdentity alice = NodeIdentity.CreateEphemeral();
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        foreach (byte[] injected in new byte[][] { [0x00, 0x11, .. new byte[17]], [0x00, 0x05, 1, 2, 3, 4, 5], [0x01, 0x00, 1, 2, 3] })
        {
            (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
            await using IAsyncDisposable _ = scope;
            (SecuredLibp2pConnection a, SecuredLibp2pConnection b) = await UpgradeAsync(client, server, alice, bob);

            // Bytes that bypass alice's cipher: a forged frame, a frame too short for its tag, or a cut-off frame.
            await WriteAsync(client.Output, injected);
            await client.Output.CompleteAsync();
            var e = await Assert.ThrowsAsync<NoiseTransportException>(async () => await ReadToEndAsync(b.Connection.Input).WaitAsync(TestTimeout, Ct));
            NoiseFailure expected = injected[1] == 0x11 ? NoiseFailure.BadCiphertext : injected[0] == 0x01 ? NoiseFailure.Truncated : NoiseFailure.BadLength;
            Assert.Equal(expected, e.Failure);

            // And the failure sticks.
            await Assert.ThrowsAsync<NoiseTransportException>(async () => await b.Connection.Input.ReadAsync(Ct));
            await a.Connection.DisposeAsync();
            await b.Connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task ListenerOfferedOnlyOtherProtocols_SaysNa_ThenFailsWhenTheDialerLeaves()
    {
        (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
        await using IAsyncDisposable _ = scope;
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        Task<SecuredLibp2pConnection> inbound = Libp2pSecurity.SecureInboundAsync(server, bob, Ct);
        var dialer = new MultistreamDialer(["/tls/1.0.0"]);
        var opening = new ArrayBufferWriter<byte>();
        dialer.Start(opening);
        await WriteAsync(client.Output, opening.WrittenSpan.ToArray());

        byte[] expected = [.. Line("/multistream/1.0.0"), .. Line("na")];
        byte[] answer = await ReadExactlyAsync(client.Input, expected.Length).WaitAsync(TestTimeout, Ct);
        Assert.Equal(expected, answer);
        await client.DisposeAsync();
        Assert.Equal("closed", (await Assert.ThrowsAsync<Libp2pUpgradeException>(() => inbound.WaitAsync(TestTimeout, Ct))).Reason);
        await server.DisposeAsync();

        static byte[] Line(string text)
        {
            var output = new ArrayBufferWriter<byte>();
            MultistreamMessage.Write(text, output);
            return output.WrittenSpan.ToArray();
        }
    }

    [Fact]
    public async Task SilentDialer_TimesOut()
    {
        (IAsyncDisposable scope, IDuplexConnection client, IDuplexConnection server) = await PairAsync();
        await using IAsyncDisposable _ = scope;
        using NodeIdentity bob = NodeIdentity.CreateEphemeral();
        var e = await Assert.ThrowsAsync<Libp2pUpgradeException>(() => Libp2pSecurity.SecureInboundAsync(server, bob, Ct, TimeSpan.FromMilliseconds(200)).WaitAsync(TestTimeout, Ct));
        Assert.Equal("timeout", e.Reason);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }
}
