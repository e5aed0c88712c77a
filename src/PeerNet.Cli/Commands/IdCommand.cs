using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using PeerNet.Daemon.Hosting;
using PeerNet.Libp2p;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet id [--state DIR] [--port N]</c>: the node's libp2p peer ID (its key made on first use, as the daemon
/// would) and the multiaddrs it would be reached at, one per line after the ID.
/// </summary>
internal static class IdCommand
{
    public static Command Build()
    {
        var state = new Option<string>("--state")
        {
            Description = "The daemon's state folder; the key is node/identity.key in it, made there if missing. Default: $XDG_DATA_HOME/peernet, else ~/.local/share/peernet.",
            HelpName = "DIR",
        };
        var port = new Option<int>("--port")
        {
            Description = "The TCP port shown in the multiaddrs (the daemon's --port).",
            HelpName = "N",
            DefaultValueFactory = _ => 6881,
        };
        var command = new Command("id", "Show the node's libp2p peer ID and the multiaddrs it listens on (the key is made on first use).")
        {
            state, port,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, () => RunAsync(parseResult.GetValue(state), parseResult.GetValue(port), stdout));
        });
        return command;
    }

    private static async Task<int> RunAsync(string? stateFolder, int port, TextWriter stdout)
    {
        if (port is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentException($"--port {port} is not a TCP port (1-65535).");
        }

        string folder = DaemonFiles.NodeFolder(stateFolder ?? DaemonFiles.DefaultStateFolder());
        using NodeIdentity identity = NodeIdentity.LoadOrCreate(folder);
        await stdout.WriteLineAsync(identity.PeerId.ToString()).ConfigureAwait(false);
        foreach (IPAddress address in ListenAddresses())
        {
            await stdout.WriteLineAsync(Multiaddr.ForTcp(address, port, identity.PeerId).ToString()).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>
    /// The addresses of the interfaces that are up, IPv4 first, loopback included (a node listens on every address);
    /// IPv6 link-local ones are left out, as they mean nothing without their interface.
    /// </summary>
    private static List<IPAddress> ListenAddresses()
    {
        var addresses = new List<IPAddress>();
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
            {
                IPAddress address = unicast.Address;
                if (address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal && !addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }
        }

        return [.. addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)];
    }
}
