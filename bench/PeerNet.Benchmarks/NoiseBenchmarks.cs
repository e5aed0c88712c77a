using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Benchmarks;

/// <summary>
/// libp2p's secure channel: a whole upgrade (multistream-select to <c>/noise</c>, then the Noise XX handshake with
/// both identity signatures checked) between two nodes over in-memory pipes, and the transport's throughput through
/// <see cref="NoiseConnection"/> (16 MiB written in 64 KiB writes on one side, read on the other, framed, encrypted
/// and authenticated on the way). Handshakes per second is 1 / <see cref="Upgrade"/>; MB/s is 16 MiB / <see cref="Transfer16MiB"/>.
/// </summary>
[MemoryDiagnoser]
public class NoiseBenchmarks
{
    private const int Total = 16 * 1024 * 1024;
    private const int Chunk = 64 * 1024;

    private NodeIdentity _alice = null!;
    private NodeIdentity _bob = null!;
    private SecuredLibp2pConnection _a = null!;
    private SecuredLibp2pConnection _b = null!;

    /// <summary>Two ends of a connection as two pipes, with nothing between them (no socket, no wire task).</summary>
    private sealed class PipeEnd(PipeReader input, PipeWriter output, int port) : IDuplexConnection
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;

        public IPEndPoint RemoteEndPoint { get; } = new(IPAddress.Loopback, port ^ 1);

        public IPEndPoint LocalEndPoint { get; } = new(IPAddress.Loopback, port);

        public long BytesReceived => 0;

        public long BytesSent => 0;

        public void Abort(Exception? reason = null)
        {
            input.Complete(reason);
            output.Complete(reason);
        }

        public ValueTask DisposeAsync()
        {
            input.Complete();
            output.Complete();
            return ValueTask.CompletedTask;
        }

        public static (PipeEnd A, PipeEnd B) Pair()
        {
            var options = new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false);
            var up = new Pipe(options);
            var down = new Pipe(options);
            return (new PipeEnd(down.Reader, up.Writer, 4000), new PipeEnd(up.Reader, down.Writer, 4001));
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _alice = NodeIdentity.CreateEphemeral();
        _bob = NodeIdentity.CreateEphemeral();
        (_a, _b) = UpgradeAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _b.Connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _alice.Dispose();
        _bob.Dispose();
    }

    private async Task<(SecuredLibp2pConnection, SecuredLibp2pConnection)> UpgradeAsync()
    {
        (PipeEnd client, PipeEnd server) = PipeEnd.Pair();
        Task<SecuredLibp2pConnection> inbound = Libp2pSecurity.SecureInboundAsync(server, _bob, CancellationToken.None);
        SecuredLibp2pConnection outbound = await Libp2pSecurity.SecureOutboundAsync(client, _alice, _bob.PeerId, CancellationToken.None);
        return (outbound, await inbound);
    }

    /// <summary>One whole upgrade, both sides: two X25519 key pairs made, six DHs, two signatures checked.</summary>
    [Benchmark]
    public async Task<Libp2pPeerId> Upgrade()
    {
        (SecuredLibp2pConnection a, SecuredLibp2pConnection b) = await UpgradeAsync();
        await a.Connection.DisposeAsync();
        await b.Connection.DisposeAsync();
        return a.RemotePeer;
    }

    /// <summary>16 MiB one way through the encrypted channel.</summary>
    [Benchmark]
    public async Task<long> Transfer16MiB()
    {
        Task<long> read = ReadAsync(_b.Connection.Input);
        PipeWriter output = _a.Connection.Output;
        for (int sent = 0; sent < Total; sent += Chunk)
        {
            output.GetSpan(Chunk)[..Chunk].Fill(0x5A);
            output.Advance(Chunk);
            await output.FlushAsync();
        }

        return await read;
    }

    private static async Task<long> ReadAsync(PipeReader input)
    {
        long received = 0;
        while (received < Total)
        {
            ReadResult result = await input.ReadAsync();
            received += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
        }

        return received;
    }
}
