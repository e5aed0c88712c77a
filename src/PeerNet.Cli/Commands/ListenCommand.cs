using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using PeerNet.Daemon.Hosting;
using PeerNet.Libp2p;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet listen [--state DIR] [--port N] [--bind ADDRESS]</c>: a node with this identity that takes direct messages
/// and prints each as <c>PEERID: text</c>, until Ctrl+C. Its multiaddrs come first, for <c>peernet send</c>.
/// </summary>
internal static class ListenCommand
{
    public static Command Build()
    {
        var state = new Option<string>("--state")
        {
            Description = "The state folder whose identity (node/identity.key) receives, as `peernet id` shows it; $XDG_DATA_HOME/peernet, else ~/.local/share/peernet, when left out.",
            HelpName = "DIR",
        };
        var port = new Option<int>("--port")
        {
            Description = "The TCP port to listen on (the daemon's, so a running daemon with this identity is not doubled); 0 picks a free one.",
            HelpName = "N",
            DefaultValueFactory = _ => 6881,
        };
        var bind = new Option<string>("--bind")
        {
            Description = "Listen on this address only, instead of every address.",
            HelpName = "ADDRESS",
        };
        var command = new Command("listen", "Receive direct messages (peernet send) and print them, until Ctrl+C.")
        {
            state, port, bind,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, () => RunAsync(
                parseResult.GetValue(state), parseResult.GetValue(port), parseResult.GetValue(bind), stdout, cancellationToken));
        });
        return command;
    }

    private static async Task<int> RunAsync(string? stateFolder, int port, string? bind, TextWriter stdout, CancellationToken cancellationToken)
    {
        if (port is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"--port {port} is not a TCP port (0-65535).");
        }

        IPAddress address = PeerOptions.ParseAddress(bind, IPAddress.IPv6Any);
        PeerNetNode node;
        try
        {
            node = await PeerNetNode.StartAsync(
                new PeerNetNodeOptions
                {
                    ListenAddress = address,
                    ListenPort = port,
                    StateDirectory = DaemonFiles.NodeFolder(stateFolder ?? DaemonFiles.DefaultStateFolder()),
                    Dht = false,
                    LocalDiscovery = false,
                    Trackers = false,
                },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"port {port} is in use (a daemon? it receives messages itself): choose another with --port N.", e);
        }

        await using (node.ConfigureAwait(false))
        {
            // One writer at a time: messages may arrive on several connections at once.
            using var gate = new SemaphoreSlim(1, 1);
            node.Libp2p.SetMessageHandler(async (message, token) =>
            {
                await gate.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    await stdout.WriteLineAsync($"{message.From}: {DisplayText.Sanitize(message.Text)}").ConfigureAwait(false);
                    await stdout.FlushAsync(token).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            });
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await stdout.WriteLineAsync($"listening as {node.Libp2p.PeerId}; messages follow, Ctrl+C ends").ConfigureAwait(false);
                foreach (Multiaddr listen in node.Libp2p.ListenAddresses)
                {
                    await stdout.WriteLineAsync(listen.ToString()).ConfigureAwait(false);
                }

                await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }

            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return 0;
        }
    }
}
