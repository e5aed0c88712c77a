using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PeerNet.Daemon.Hosting;
using PeerNet.Libp2p;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet chat TOPIC [--peer MULTIADDR]...</c>: a libp2p node on the gossipsub topic; each line read from stdin is
/// published, each message received is printed as <c>SHORTID: text</c>. Who joins and leaves the topic, and lines that
/// reached no one, are said on stderr. Plain lines when stdin or stdout is redirected, so scripts and tests can drive
/// it; on a terminal, <see cref="ChatTerminal"/>'s prompt UI. It runs until Ctrl+C (the end of stdin stops the sending,
/// not the listening).
/// </summary>
internal static class ChatCommand
{
    /// <summary>How many characters of a peer ID's end name its author: enough to tell people in a room apart.</summary>
    public const int ShortIdLength = 8;

    private static readonly TimeSpan PeerPollInterval = TimeSpan.FromMilliseconds(250);

    /// <param name="input">Where lines come from; stdin when null (tests give their own).</param>
    public static Command Build(TextReader? input)
    {
        var topic = new Argument<string>("topic") { Description = "The gossipsub topic to join (any text; peers that join the same one talk)." };
        var peers = new Option<string[]>("--peer")
        {
            Description = "A libp2p peer to dial, as /ip4/ADDRESS/tcp/PORT/p2p/PEERID (repeatable; what 'peernet id' or another chat prints).",
            HelpName = "MULTIADDR",
        };
        var port = new Option<int>("--port") { Description = "TCP port to listen on (0: any free one).", HelpName = "N", DefaultValueFactory = _ => 0 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on (all of IPv4 and IPv6 by default).", HelpName = "ADDRESS" };
        var state = new Option<string>("--state")
        {
            Description = "Speak as the daemon's identity, the key in node/identity.key of this state folder (made if missing). Default: a new identity for this run.",
            HelpName = "DIR",
        };
        var command = new Command("chat", "Chat on a gossipsub topic: lines typed are published, messages received are printed as 'SHORTID: text'.")
        {
            topic, peers, port, bind, state,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            var options = new ChatOptions(
                parseResult.GetRequiredValue(topic),
                parseResult.GetValue(peers) ?? [],
                parseResult.GetValue(port),
                PeerOptions.ParseAddress(parseResult.GetValue(bind), IPAddress.IPv6Any),
                parseResult.GetValue(state));
            return CommandRunner.RunAsync(stderr, () => RunAsync(options, input, stdout, stderr, cancellationToken));
        });
        return command;
    }

    /// <summary>The last <see cref="ShortIdLength"/> characters of <paramref name="peer"/>'s ID, as chat lines name authors.</summary>
    public static string Short(Libp2pPeerId peer)
    {
        string id = peer.ToString();
        return id[^Math.Min(ShortIdLength, id.Length)..];
    }

    private static async Task<int> RunAsync(ChatOptions options, TextReader? input, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // On a terminal (nobody gave the input, neither end redirected): the prompt UI; otherwise plain lines.
        ChatTerminal? terminal = input is null && !Console.IsInputRedirected && !Console.IsOutputRedirected
            ? new ChatTerminal(stdout, () => Console.ReadKey(intercept: true))
            : null;
        input ??= Console.In;
        if (options.Port is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"--port {options.Port} is not a TCP port (0-65535).");
        }

        if (string.IsNullOrEmpty(options.Topic) || Encoding.UTF8.GetByteCount(options.Topic) > 512)
        {
            throw new ArgumentException("the topic must be 1 to 512 bytes of text.");
        }

        Multiaddr[] dial = [.. options.Peers.Select(p => Multiaddr.TryParse(p, out Multiaddr? a, out string? error) ? a : throw new ArgumentException($"--peer '{p}': {error}"))];
        PeerNetNode node;
        try
        {
            node = await PeerNetNode.StartAsync(
                new PeerNetNodeOptions
                {
                    ListenAddress = options.Bind,
                    ListenPort = options.Port,
                    StateDirectory = options.State is null ? null : DaemonFiles.NodeFolder(options.State),
                    Dht = false,
                    LocalDiscovery = false,
                    Trackers = false,
                },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"port {options.Port} is in use: choose another with --port N, or leave it out for any free one.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new IOException($"{options.Bind} is not an address of this machine: give one of its addresses with --bind, or leave --bind out.", e);
        }

        await using (node.ConfigureAwait(false))
        {
            Libp2pPubsub pubsub = node.Libp2p.Pubsub;
            using PubsubSubscription subscription = pubsub.Subscribe(options.Topic);
            using var say = new SemaphoreSlim(1, 1); // lines from the three loops below do not interleave mid-line
            async Task SayAsync(TextWriter writer, string line)
            {
                await say.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    await writer.WriteLineAsync(line).ConfigureAwait(false);
                    await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    say.Release();
                }
            }

            Task NoteAsync(string line)
            {
                if (terminal is null)
                {
                    return SayAsync(stderr, line);
                }

                terminal.Notice(line);
                return Task.CompletedTask;
            }

            Task PrintAsync(Libp2pPeerId author, string text)
            {
                if (terminal is null)
                {
                    return SayAsync(stdout, $"{Short(author)}: {text}");
                }

                terminal.Message(Short(author), text);
                return Task.CompletedTask;
            }

            Func<CancellationToken, Task<string?>> readLine = terminal is null
                ? ct => Task.Run(async () => await input.ReadLineAsync(ct).ConfigureAwait(false), ct)
                : ct => Task.Run(terminal.ReadLine, ct);
            Action<string>? sent = terminal is null ? null : line => terminal.Message("you", DisplayText.Sanitize(line), own: true);

            await NoteAsync($"chat on '{DisplayText.Sanitize(options.Topic)}' as {node.Identity.PeerId} ({Short(node.Identity.PeerId)}); reach it at {string.Join(" ", node.Libp2p.ListenAddresses)}").ConfigureAwait(false);
            foreach (Multiaddr address in dial)
            {
                try
                {
                    Libp2pPeerInfo peer = await node.Libp2p.ConnectAsync(address, cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
                    await NoteAsync($"connected to {peer.PeerId} ({Short(peer.PeerId)})").ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException or SocketException or InvalidOperationException)
                {
                    await NoteAsync($"could not reach {address}: {DisplayText.Sanitize(e.Message)}").ConfigureAwait(false);
                }
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task receiving = ReceiveAsync(subscription, PrintAsync, stop.Token);
            Task watching = WatchPeersAsync(pubsub, options.Topic, NoteAsync, stop.Token);
            try
            {
                await SendAsync(readLine, pubsub, options.Topic, NoteAsync, sent, stop.Token).ConfigureAwait(false);

                // stdin ended: keep listening until Ctrl+C.
                await Task.WhenAny(receiving, watching).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C is how a chat ends.
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(receiving, watching).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }

        return 0;
    }

    /// <summary>Publishes each line read, saying when one reached nobody (and, on a terminal, showing it as sent); returns at the end of the input.</summary>
    private static async Task SendAsync(Func<CancellationToken, Task<string?>> readLine, Libp2pPubsub pubsub, string topic, Func<string, Task> note, Action<string>? sent, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Console input reads synchronously even through ReadLineAsync: a thread of its own, so Ctrl+C is not kept waiting.
            string? line = await readLine(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return;
            }

            if (line.Length == 0)
            {
                continue;
            }

            int reached;
            try
            {
                reached = await pubsub.PublishAsync(topic, Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                await note($"not sent: {e.Message}").ConfigureAwait(false);
                continue;
            }

            if (reached == 0)
            {
                await note("not sent: no peer on the topic yet").ConfigureAwait(false);
            }
            else
            {
                sent?.Invoke(line);
            }
        }
    }

    private static async Task ReceiveAsync(PubsubSubscription subscription, Func<Libp2pPeerId, string, Task> print, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (PubsubMessage message in subscription.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                // Anyone can publish anything: what reaches the terminal is cleaned of control sequences.
                string text = DisplayText.Sanitize(Encoding.UTF8.GetString(message.Data.Span));
                await print(message.From, text).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Says on stderr who joins and leaves the topic (among the connected peers), polling the router.</summary>
    private static async Task WatchPeersAsync(Libp2pPubsub pubsub, string topic, Func<string, Task> note, CancellationToken cancellationToken)
    {
        var known = new HashSet<Libp2pPeerId>();
        try
        {
            while (true)
            {
                var now = pubsub.TopicPeers(topic).ToHashSet();
                foreach (Libp2pPeerId joined in now.Where(p => !known.Contains(p)))
                {
                    await note($"{Short(joined)} joined ({joined})").ConfigureAwait(false);
                }

                foreach (Libp2pPeerId left in known.Where(p => !now.Contains(p)))
                {
                    await note($"{Short(left)} left").ConfigureAwait(false);
                }

                known = now;
                await Task.Delay(PeerPollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private sealed record ChatOptions(string Topic, string[] Peers, int Port, IPAddress Bind, string? State);
}
