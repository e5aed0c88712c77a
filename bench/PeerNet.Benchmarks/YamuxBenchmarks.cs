using System.Net;
using BenchmarkDotNet.Attributes;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Benchmarks;

/// <summary>
/// yamux throughput: 64 MiB through one stream, and through 16 streams at once (4 MiB each), between two
/// <see cref="YamuxSession"/>s over a loopback TCP connection or an unshaped in-memory one (standing in for the
/// secured link: no Noise yet); beside it the same 64 MiB over the bare connection, the ceiling. Each invocation
/// moves the 64 MiB once: MB/s = 67.1 / mean seconds.
/// </summary>
public class YamuxBenchmarks
{
    private const int Total = 64 * 1024 * 1024;
    private const int WriteSize = 64 * 1024;

    private readonly byte[] _chunk = new byte[WriteSize];
    private IPeerTransport? _serverTransport;
    private IPeerTransport? _clientTransport;
    private IPeerListener? _listener;
    private IDuplexConnection? _rawClient;
    private IDuplexConnection? _rawServer;
    private YamuxSession? _dialer;
    private YamuxSession? _responder;

    /// <summary>The link under the sessions.</summary>
    [Params("tcp", "memory")]
    public string Link { get; set; } = "tcp";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    /// <summary>The bare connection: the ceiling.</summary>
    [Benchmark(Baseline = true)]
    public async Task Raw()
    {
        Task reading = Task.Run(async () =>
        {
            long left = Total;
            while (left > 0)
            {
                System.IO.Pipelines.ReadResult result = await _rawServer!.Input.ReadAsync();
                left -= result.Buffer.Length;
                _rawServer.Input.AdvanceTo(result.Buffer.End);
            }
        });
        for (int sent = 0; sent < Total; sent += WriteSize)
        {
            await _rawClient!.Output.WriteAsync(_chunk);
        }

        await reading;
    }

    /// <summary>One stream.</summary>
    [Benchmark]
    public Task OneStream() => StreamsAsync(1);

    /// <summary>16 streams at once.</summary>
    [Benchmark]
    public Task SixteenStreams() => StreamsAsync(16);

    private async Task StreamsAsync(int count)
    {
        int each = Total / count;
        var tasks = new List<Task>(2 * count);
        for (int i = 0; i < count; i++)
        {
            YamuxStream outbound = await _dialer!.OpenStreamAsync(CancellationToken.None);
            tasks.Add(Task.Run(async () =>
            {
                for (int sent = 0; sent < each; sent += WriteSize)
                {
                    await outbound.WriteAsync(_chunk);
                }

                outbound.CompleteWrites();
            }));
            YamuxStream inbound = (await _responder!.AcceptStreamAsync(CancellationToken.None))!;
            tasks.Add(Task.Run(async () =>
            {
                byte[] buffer = new byte[WriteSize];
                while (await inbound.ReadAsync(buffer) > 0)
                {
                }

                inbound.CompleteWrites();
                await inbound.DisposeAsync();
                await outbound.DisposeAsync();
            }));
        }

        await Task.WhenAll(tasks);
    }

    private async Task SetupAsync()
    {
        IPEndPoint endPoint;
        if (Link == "tcp")
        {
            _serverTransport = new TcpTransport();
            _clientTransport = new TcpTransport();
            endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        }
        else
        {
            var network = new InMemoryNetwork();
            _serverTransport = network.CreateTransport(IPAddress.Parse("127.0.9.1"));
            _clientTransport = network.CreateTransport(IPAddress.Parse("127.0.9.2"));
            endPoint = new IPEndPoint(IPAddress.Parse("127.0.9.1"), 4001);
        }

        _listener = await _serverTransport.ListenAsync(endPoint, CancellationToken.None);
        (_rawClient, _rawServer) = await PairAsync();
        var (client, server) = await PairAsync();
        _dialer = new YamuxSession(client, isInitiator: true);
        _responder = new YamuxSession(server, isInitiator: false);
        _dialer.Start();
        _responder.Start();
    }

    private async Task<(IDuplexConnection Client, IDuplexConnection Server)> PairAsync()
    {
        ValueTask<IDuplexConnection> accept = _listener!.AcceptAsync(CancellationToken.None);
        IDuplexConnection client = await _clientTransport!.ConnectAsync(_listener.LocalEndPoint, CancellationToken.None);
        return (client, await accept);
    }

    private async Task CleanupAsync()
    {
        await _dialer!.DisposeAsync();
        await _responder!.DisposeAsync();
        await _rawClient!.DisposeAsync();
        await _rawServer!.DisposeAsync();
        await _listener!.DisposeAsync();
        await _clientTransport!.DisposeAsync();
        await _serverTransport!.DisposeAsync();
    }
}
