using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PeerNet.Discovery.Dht;

namespace PeerNet.Cli.Commands;

/// <summary>Builds and starts the node the swarm verbs share, and the DHT node of <c>peernet dht</c>.</summary>
internal static class SessionFactory
{
    /// <summary>
    /// Starts a node from the verb's options: its port and address, the state folder (DHT state, and resume data unless
    /// <paramref name="resumeDirectory"/> says otherwise), discovery and limits; <c>-v</c> logs to stderr. A port that is
    /// taken or not allowed, or an address not of this machine, is an error a user can act on.
    /// </summary>
    public static async Task<PeerNetNode> StartNodeAsync(ParseResult parseResult, PeerOptions options, string? resumeDirectory, CancellationToken cancellationToken)
    {
        IPAddress address = PeerOptions.ParseAddress(parseResult.GetValue(options.Bind), IPAddress.IPv6Any);
        int port = parseResult.GetValue(options.Port);
        string[]? bootstrap = parseResult.GetValue(options.Bootstrap);
        (UtpOptions utp, bool outgoingTcp) = options.UtpOptions(parseResult);
        var nodeOptions = new PeerNetNodeOptions
        {
            ListenAddress = address,
            ListenPort = port,
            StateDirectory = PeerOptions.StateDirectory(),
            ResumeDirectory = resumeDirectory,
            Dht = !parseResult.GetValue(options.NoDht),
            DhtBootstrapNodes = bootstrap is { Length: > 0 } ? bootstrap : null,
            LocalDiscovery = !parseResult.GetValue(options.NoLsd),
            Trackers = !parseResult.GetValue(options.NoTrackers),
            UploadRateLimit = parseResult.GetValue(options.UploadLimit),
            DownloadRateLimit = parseResult.GetValue(options.DownloadLimit),
            Encryption = options.EncryptionOptions(parseResult),
            Utp = utp,
            OutgoingTcp = outgoingTcp,
            Holepunch = !parseResult.GetValue(options.NoHolepunch),
            PortMapping = parseResult.GetValue(options.PortMapping) ?? new PortMappingOptions(),
        };
        ILoggerFactory? logs = parseResult.GetValue(options.Verbose) ? new StderrLoggerFactory(parseResult.InvocationConfiguration.Error, LogLevel.Debug) : null;
        try
        {
            // The node waits for the DHT's bootstrap: a DHT that cannot be reached is said so, not waited on in silence.
            Task<PeerNetNode> starting = PeerNetNode.StartAsync(nodeOptions, logs, cancellationToken: cancellationToken);
            if (!nodeOptions.Dht)
            {
                return await starting.ConfigureAwait(false);
            }

            await DhtJoin.WaitAsync(starting, () => starting.Result.Dht?.GetStats().Nodes ?? 1, nodeOptions.DhtBootstrapNodes, parseResult.InvocationConfiguration.Error, CancellationToken.None).ConfigureAwait(false);
            return await starting.ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"port {port} is in use (another peernet, or another client?): choose another with --port N, or --port 0 for any free one.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new IOException($"{address} is not an address of this machine: give one of its addresses with --bind, or leave --bind out.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new IOException($"port {port} needs privileges this process does not have: choose one above 1023 with --port.", e);
        }
    }

    /// <summary>
    /// A DHT node on a free UDP port of the bound address's family (announces carry the TCP port explicitly), its
    /// node ID and routing table kept across runs in the state folder. Waits at most 15 s for the bootstrap (saying so
    /// after 5 s without an answer), or until <paramref name="stopWaiting"/>; the node keeps joining in the background
    /// after that. A <paramref name="readOnly"/> node (BEP 43) queries but is never put into other nodes' tables: right
    /// for a one-shot command that leaves a moment later.
    /// </summary>
    public static async Task<DhtNode> StartDhtAsync(IPAddress bind, int port, IReadOnlyList<string>? bootstrap, TextWriter log, bool readOnly, CancellationToken stopWaiting, CancellationToken cancellationToken)
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
        // Not disposed here: the join goes on in the background after this returns, still ended by Ctrl+C.
        var joining = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopWaiting);
        Task start = node.StartAsync(joining.Token);
        try
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopWaiting);
            waiting.CancelAfter(JoinLimit);
            await DhtJoin.WaitAsync(start, () => node.GetStats().Nodes, bootstrap, log, waiting.Token).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (!start.IsCompleted && !stopWaiting.IsCancellationRequested)
            {
                await log.WriteLineAsync("DHT: still joining; continuing in the background").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
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

    /// <summary>How long <see cref="StartDhtAsync"/> waits for the bootstrap before going on with the node joining in the background.</summary>
    private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(15);
}
