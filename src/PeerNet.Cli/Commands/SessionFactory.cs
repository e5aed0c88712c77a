using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using PeerNet.Discovery.Dht;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Cli.Commands;

/// <summary>Builds and starts the TCP session the swarm verbs share.</summary>
internal static class SessionFactory
{
    public static async Task<SwarmSession> StartAsync(ParseResult parseResult, PeerOptions options, CancellationToken cancellationToken)
    {
        IPAddress address = PeerOptions.ParseAddress(parseResult.GetValue(options.Bind), IPAddress.IPv6Any);

        DhtNode? dht = parseResult.GetValue(options.NoDht) ? null
            : await StartDhtAsync(address, 0, parseResult.GetValue(options.Bootstrap), parseResult.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        var sessionOptions = new SessionOptions
        {
            Dht = dht,
            OwnsDht = true,
            LocalDiscovery = !parseResult.GetValue(options.NoLsd),
            ListenEndPoint = new IPEndPoint(address, parseResult.GetValue(options.Port)),
            UploadRateLimit = parseResult.GetValue(options.UploadLimit),
            DownloadRateLimit = parseResult.GetValue(options.DownloadLimit),
            LoggerFactory = parseResult.GetValue(options.Verbose) ? new StderrLoggerFactory(parseResult.InvocationConfiguration.Error, LogLevel.Debug) : null,
        };
        return await StartAsync(sessionOptions, new TcpTransport(new TcpTransportOptions(), sessionOptions.Time), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A DHT node on a free UDP port of the bound address's family (announces carry the TCP port explicitly), its
    /// node ID and routing table kept across runs in the state folder. Waits at most 15 s for the bootstrap; the
    /// node keeps joining in the background after that. A <paramref name="readOnly"/> node (BEP 43) queries but is
    /// never put into other nodes' tables: right for a one-shot command that leaves a moment later.
    /// </summary>
    public static async Task<DhtNode> StartDhtAsync(IPAddress bind, int port, IReadOnlyList<string>? bootstrap, TextWriter log, CancellationToken cancellationToken, bool readOnly = false)
    {
        bool v6 = bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !bind.Equals(IPAddress.IPv6Any);
        IPAddress address = bind.Equals(IPAddress.IPv6Any) ? IPAddress.Any : bind;
        string stateDirectory = PeerOptions.StateDirectory();
        Directory.CreateDirectory(stateDirectory);
        var node = new DhtNode(new DhtNodeOptions
        {
            BindEndPoint = new IPEndPoint(address, port),
            BootstrapNodes = bootstrap is { Count: > 0 } ? bootstrap : DhtNodeOptions.DefaultBootstrapNodes,
            StatePath = ClaimStatePath(Path.Combine(stateDirectory, v6 ? "dht6.state" : "dht.state")),

            // Loopback and private addresses are what a test or a LAN swarm has: let them into the table.
            RestrictRoutingAddresses = !(IPAddress.IsLoopback(address) || bootstrap is { Count: > 0 }),
            ReadOnly = readOnly,
        });
        Task start = node.StartAsync(cancellationToken);
        try
        {
            await start.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await log.WriteLineAsync("DHT: still joining; continuing in the background").ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await log.WriteLineAsync($"DHT: could not join ({e.Message}); continuing without it").ConfigureAwait(false);
        }

        return node;
    }

    /// <summary>
    /// The DHT state file, if no other peernet process on this machine is using it (two nodes with one node ID
    /// would confuse the DHT): a lock beside it is held until the process exits. Null (a fresh ID, nothing saved)
    /// when it is taken.
    /// </summary>
    private static string? ClaimStatePath(string path)
    {
        try
        {
            _stateLock = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return path;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static FileStream? _stateLock;

    /// <summary>Starts a session over <paramref name="transport"/>; on failure, the session is disposed (the transport is the caller's).</summary>
    public static async Task<SwarmSession> StartAsync(SessionOptions sessionOptions, TcpTransport transport, CancellationToken cancellationToken)
    {
        var session = new SwarmSession(sessionOptions, transport);
        try
        {
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return session;
    }
}
