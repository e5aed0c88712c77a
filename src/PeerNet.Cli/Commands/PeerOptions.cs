using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using PeerNet.Daemon.Service;

namespace PeerNet.Cli.Commands;

/// <summary>Options shared by the verbs that join a swarm (<c>get</c>, <c>seed</c>).</summary>
internal sealed class PeerOptions
{
    public Option<string[]> Peers { get; } = new("--peer")
    {
        Description = "A peer to connect to, as HOST:PORT or [IPv6]:PORT; repeat for more.",
        HelpName = "HOST:PORT",
    };

    public Option<int> Port { get; } = PortOption("Port for peers (TCP), the DHT and UDP trackers (UDP), one number for all, IPv4 and IPv6. Default: a free port, printed at start.");

    public Option<string> Bind { get; } = new("--bind")
    {
        Description = "Address to listen on. Default: every address.",
        HelpName = "ADDRESS",
    };

    public Option<long> UploadLimit { get; } = new("--upload-limit")
    {
        Description = "Upload limit per second, e.g. 500K or 20M. Default: none.",
        HelpName = "RATE",
        CustomParser = ParseRate,
    };

    public Option<long> DownloadLimit { get; } = new("--download-limit")
    {
        Description = "Download limit per second, e.g. 500K or 20M. Default: none.",
        HelpName = "RATE",
        CustomParser = ParseRate,
    };

    public Option<int> UploadSlots { get; } = new("--upload-slots")
    {
        Description = "Peers unchoked at once (0: every interested peer).", // the default is shown from DefaultValueFactory
        HelpName = "N",
        DefaultValueFactory = _ => 4,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log peer events (connections, why each closed, bans, hash failures) to stderr.",
    };

    public Option<bool> NoTrackers { get; } = new("--no-trackers")
    {
        Description = "Do not announce to the torrent's trackers; use only the peers given with --peer.",
    };

    public Option<string[]> Bootstrap { get; } = new("--bootstrap")
    {
        Description = "A DHT node to join through (repeatable). Default: the well-known public routers.",
        HelpName = "HOST:PORT",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> NoDht { get; } = new("--no-dht")
    {
        Description = "Do not use the Mainline DHT to find peers (private torrents never do).",
    };

    public Option<bool> NoHolepunch { get; } = new("--no-holepunch")
    {
        Description = "Do not use BEP 55 holepunching (ut_holepunch: relaying for peers, and reaching peers behind NATs through a relay over uTP).",
    };

    public Option<bool> NoLsd { get; } = new("--no-lsd")
    {
        Description = "Do not use Local Service Discovery (BEP 14: multicast announces on the local network, TTL 1) to find peers (private torrents never do).",
    };

    public Option<PortMappingOptions> PortMapping { get; } = new("--port-mapping")
    {
        Description = "How to ask the home router to forward the port: a comma-separated list of pcp, natpmp and upnp, or none. Default: pcp,natpmp,upnp (PCP first, NAT-PMP when the router speaks only that, UPnP beside them).",
        HelpName = "LIST",
        CustomParser = ParsePortMapping, // absent: null, and the node's default (all three)
    };

    public Option<EncryptionPolicy> Encryption { get; } = new("--encryption")
    {
        Description = "Message Stream Encryption of peer connections: disabled, enabled (accept both; dial encrypted, then plain if the peer does not answer) or forced (encrypted only, in and out).",
        HelpName = "POLICY",
        DefaultValueFactory = _ => EncryptionPolicy.Enabled,
    };

    public Option<EncryptionLevel> EncryptionLevel { get; } = new("--encryption-level")
    {
        Description = "What an encrypted connection carries after its handshake: plaintext, rc4 or both.",
        HelpName = "LEVEL",
        DefaultValueFactory = _ => PeerNet.EncryptionLevel.Both,
    };

    public Option<bool> PreferRc4 { get; } = new("--prefer-rc4")
    {
        Description = "When both levels are allowed and offered, choose RC4 for the payload rather than plaintext.",
    };

    public Option<UtpMode> Utp { get; } = new("--utp")
    {
        Description = "uTP (BEP 29, LEDBAT) on the UDP port: on (dial peers over uTP first, as libtorrent, with TCP beside it once uTP has not answered in 500 ms; accept both), accept (dial over TCP, accept both), off (TCP only) or only (dial over uTP only; accept both).",
        HelpName = "MODE",
        DefaultValueFactory = _ => UtpMode.On,
    };

    /// <summary>What <c>--utp</c> asks of the node: its <see cref="UtpOptions"/>, and whether it dials over TCP.</summary>
    public (UtpOptions Utp, bool OutgoingTcp) UtpOptions(ParseResult parseResult) => ConnectivityWords.UtpOptionsOf(parseResult.GetValue(Utp));

    /// <summary>The <see cref="EncryptionOptions"/> these options give.</summary>
    public EncryptionOptions EncryptionOptions(ParseResult parseResult) => new()
    {
        Policy = parseResult.GetValue(Encryption),
        Level = parseResult.GetValue(EncryptionLevel),
        PreferRc4 = parseResult.GetValue(PreferRc4),
    };

    /// <summary>A <c>--port</c> option whose value is checked as it is parsed: 0 (any free port) to 65535.</summary>
    public static Option<int> PortOption(string description)
    {
        var option = new Option<int>("--port") { Description = description, HelpName = "PORT" };
        option.Validators.Add(result =>
        {
            int port = result.GetValueOrDefault<int>();
            if (port is < 0 or > 65535)
            {
                result.AddError($"--port {port} is not a port: give 1 to 65535, or 0 for any free one.");
            }
        });
        return option;
    }

    /// <summary>A <c>--bind</c> value: <paramref name="fallback"/> when absent; anything but an IP address is a clear error.</summary>
    public static IPAddress ParseAddress(string? text, IPAddress fallback)
        => text is null ? fallback
            : IPAddress.TryParse(text, out IPAddress? address) ? address
            : throw new ArgumentException($"'{text}' is not an IP address.");

    /// <summary>$XDG_STATE_HOME/peernet (default ~/.local/state/peernet): resume data and the DHT's state.</summary>
    public static string StateDirectory()
    {
        string? state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
        {
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(state, "peernet");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Peers);
        command.Options.Add(Port);
        command.Options.Add(Bind);
        command.Options.Add(UploadLimit);
        command.Options.Add(DownloadLimit);
        command.Options.Add(UploadSlots);
        command.Options.Add(Verbose);
        command.Options.Add(NoHolepunch);
        command.Options.Add(NoTrackers);
        command.Options.Add(Bootstrap);
        command.Options.Add(Encryption);
        command.Options.Add(EncryptionLevel);
        command.Options.Add(PreferRc4);
        command.Options.Add(Utp);
        command.Options.Add(NoDht);
        command.Options.Add(NoLsd);
        command.Options.Add(PortMapping);
    }

    /// <summary>A <c>--port-mapping</c> list: the protocols named, or none; anything else is an error naming the word.</summary>
    internal static PortMappingOptions ParsePortMapping(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!ConnectivityWords.TryParsePortMapping(text, out PortMappingOptions options, out string word))
        {
            result.AddError($"'{word}' is not a port mapping protocol: give {ConnectivityWords.PortMappingHelp}.");
        }

        return options;
    }

    internal static long ParseRate(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!ByteSize.TryParse(text, out long bytes) || bytes < 0)
        {
            result.AddError($"'{text}' is not a rate: use bytes per second or a suffix, as in 500K or 20M.");
        }

        return bytes;
    }

    /// <summary>Resolves HOST:PORT peers; an unparsable one is an error naming it.</summary>
    public static async Task<List<IPEndPoint>> ResolveAsync(IEnumerable<string> peers, CancellationToken cancellationToken)
    {
        var result = new List<IPEndPoint>();
        foreach (string peer in peers)
        {
            if (IPEndPoint.TryParse(peer, out IPEndPoint? endpoint) && endpoint.Port != 0)
            {
                result.Add(endpoint);
                continue;
            }

            int colon = peer.LastIndexOf(':');
            if (colon <= 0 || !ushort.TryParse(peer.AsSpan(colon + 1), out ushort port) || port == 0)
            {
                throw new ArgumentException($"'{peer}' is not HOST:PORT.");
            }

            IPAddress[] addresses = await Dns.GetHostAddressesAsync(peer[..colon], cancellationToken).ConfigureAwait(false);
            if (addresses.Length == 0)
            {
                throw new ArgumentException($"'{peer}': the host name has no address.");
            }

            result.Add(new IPEndPoint(addresses[0], port));
        }

        return result;
    }
}
