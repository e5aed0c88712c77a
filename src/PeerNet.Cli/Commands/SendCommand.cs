using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using PeerNet.Daemon.Hosting;
using PeerNet.Libp2p;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet send PEER TEXT [--state DIR] [--timeout S]</c>: a direct message (<c>/peernet/dm/1.0.0</c>) from this
/// node's identity; "delivered" once the peer acknowledged it, exit 1 with the reason otherwise.
/// </summary>
internal static class SendCommand
{
    public static Command Build()
    {
        var peer = new Argument<string>("PEER")
        {
            Description = "The receiver: its multiaddr ending in /p2p/PEERID (as `peernet id` or `peernet listen` print it), or its peer ID when this node knows an address for it.",
        };
        var text = new Argument<string>("TEXT") { Description = "The message (UTF-8, at most 64 KiB)." };
        var state = new Option<string>("--state")
        {
            Description = "The state folder whose identity (node/identity.key) sends, as `peernet id` shows it; $XDG_DATA_HOME/peernet, else ~/.local/share/peernet, when left out.",
            HelpName = "DIR",
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the dial and the acknowledgement.",
            HelpName = "S",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("send", "Send a direct message to a libp2p peer and wait for its acknowledgement.")
        {
            peer, text, state, timeout,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, () => RunAsync(
                parseResult.GetValue(peer)!, parseResult.GetValue(text)!, parseResult.GetValue(state), parseResult.GetValue(timeout), stdout, cancellationToken));
        });
        return command;
    }

    private static async Task<int> RunAsync(string peer, string text, string? stateFolder, int timeoutSeconds, TextWriter stdout, CancellationToken cancellationToken)
    {
        if (timeoutSeconds < 1)
        {
            throw new ArgumentException($"--timeout {timeoutSeconds} is not a number of seconds (1 or more).");
        }

        byte[] data = System.Text.Encoding.UTF8.GetBytes(text);
        if (data.Length > Libp2pService.MaxMessageLength)
        {
            throw new ArgumentException($"the message is {data.Length} bytes; a direct message carries at most {Libp2pService.MaxMessageLength}.");
        }

        Multiaddr? address = null;
        Libp2pPeerId? id = null;
        if (peer.StartsWith('/'))
        {
            if (!Multiaddr.TryParse(peer, out address, out string? error))
            {
                throw new ArgumentException($"'{peer}' is not a multiaddr: {error}.");
            }
        }
        else if (!Libp2pPeerId.TryParse(peer, out id, out _))
        {
            throw new ArgumentException($"'{peer}' is neither a multiaddr (/ip4/ADDRESS/tcp/PORT/p2p/PEERID) nor a peer ID.");
        }

        PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions
            {
                ListenAddress = IPAddress.IPv6Any,
                ListenPort = 0,
                StateDirectory = DaemonFiles.NodeFolder(stateFolder ?? DaemonFiles.DefaultStateFolder()),
                Dht = false,
                LocalDiscovery = false,
                Trackers = false,
                PortMapping = PortMappingOptions.None,
            },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable disposeNode = node.ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        TimeSpan took;
        try
        {
            took = address is not null
                ? await node.Libp2p.SendMessageAsync(address, data, timeout.Token).ConfigureAwait(false)
                : await node.Libp2p.SendMessageAsync(id!, data, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no acknowledgement from {peer} within {timeoutSeconds} s.");
        }

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"delivered ({took.TotalMilliseconds:0} ms)")).ConfigureAwait(false);
        return 0;
    }
}
