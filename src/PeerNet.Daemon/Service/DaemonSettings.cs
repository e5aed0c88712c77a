using System.Net;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The daemon's settings: the settings file (JSON), then <c>PEERNET_</c> environment variables (<c>PEERNET_Node__ListenPort=7000</c>,
/// sections joined by a double underscore, as .NET configuration reads them), then the command line's flags.
/// </summary>
internal sealed class DaemonSettings
{
    /// <summary>The peer-to-peer node.</summary>
    public NodeSettings Node { get; set; } = new();

    /// <summary>The HTTP API.</summary>
    public ApiSettings Api { get; set; } = new();

    /// <summary>Where added torrents go unless the request names a folder.</summary>
    public TorrentSettings Torrents { get; set; } = new();

    /// <summary>Redundant storage: the space lent to other peers' shares, and uploads through the API.</summary>
    public StorageSettings Storage { get; set; } = new();

    /// <summary>The problems with these settings, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!IPAddress.TryParse(Node.ListenAddress, out _))
        {
            problems.Add($"Node:ListenAddress '{Node.ListenAddress}' is not an IP address");
        }

        if (Node.ListenPort is < 0 or > 65535)
        {
            problems.Add($"Node:ListenPort {Node.ListenPort} is not a port (1 to 65535, or 0 for any free one)");
        }

        if (Node.UploadRateLimit < 0 || Node.DownloadRateLimit < 0)
        {
            problems.Add("Node:UploadRateLimit and Node:DownloadRateLimit cannot be negative (0 means none)");
        }

        if (Node.MaxConnections < 1)
        {
            problems.Add("Node:MaxConnections must be at least 1");
        }

        problems.AddRange(Node.Libp2pLimits.Validate().Select(p => "Node:" + p));

        if (!ConnectivityWords.TryParseName(Node.Encryption, out EncryptionPolicy _))
        {
            problems.Add($"Node:Encryption '{DisplayText.Sanitize(Node.Encryption, 100)}' is not a policy: give {ConnectivityWords.NamesOf<EncryptionPolicy>()}");
        }

        if (!ConnectivityWords.TryParseName(Node.EncryptionLevel, out EncryptionLevel _))
        {
            problems.Add($"Node:EncryptionLevel '{DisplayText.Sanitize(Node.EncryptionLevel, 100)}' is not a level: give {ConnectivityWords.NamesOf<EncryptionLevel>()}");
        }

        if (!ConnectivityWords.TryParseName(Node.Utp, out UtpMode _))
        {
            problems.Add($"Node:Utp '{DisplayText.Sanitize(Node.Utp, 100)}' is not a uTP mode: give {ConnectivityWords.NamesOf<UtpMode>()}");
        }

        if (!ConnectivityWords.TryParsePortMapping(Node.PortMapping, out _, out string word))
        {
            problems.Add($"Node:PortMapping '{DisplayText.Sanitize(word, 100)}' is not a port mapping protocol: give {ConnectivityWords.PortMappingHelp}");
        }

        if (!IPAddress.TryParse(Api.Address, out IPAddress? api))
        {
            problems.Add($"Api:Address '{Api.Address}' is not an IP address");
        }
        else if (!IPAddress.IsLoopback(api) && string.IsNullOrEmpty(Api.Token))
        {
            problems.Add($"Api:Address {Api.Address} is reachable from other machines: set Api:Token in the settings file to bind there");
        }

        if (Api.Port is < 0 or > 65535)
        {
            problems.Add($"Api:Port {Api.Port} is not a port (1 to 65535, or 0 for any free one)");
        }

        if (Api.Token is { Length: < ApiSettings.MinTokenLength })
        {
            problems.Add($"Api:Token must be at least {ApiSettings.MinTokenLength} characters");
        }

        if (Api.MaxRequestBodyBytes is < 1024 or > ApiSettings.MaxRequestBodyLimit)
        {
            problems.Add($"Api:MaxRequestBodyBytes must be from 1024 to {ApiSettings.MaxRequestBodyLimit}");
        }

        if (Api.AllowedHosts.Any(h => string.IsNullOrWhiteSpace(h) || h.Contains('*', StringComparison.Ordinal)))
        {
            problems.Add("Api:AllowedHosts names hosts exactly (no wildcards, no empty names)");
        }

        if (!ByteSize.TryParse(Storage.Share, out _))
        {
            problems.Add($"Storage:Share '{DisplayText.Sanitize(Storage.Share, 100)}' is not a size: write bytes or a number with a unit, as 500M, 50G or \"50 GiB\" (0 lends nothing)");
        }

        foreach (string peer in Storage.AllowedPeers)
        {
            if (!PeerNet.Libp2p.Libp2pPeerId.TryParse(peer, out _, out string? error))
            {
                problems.Add($"Storage:AllowedPeers '{DisplayText.Sanitize(peer, 100)}' is not a libp2p peer ID: {error}");
            }
        }

        if (!ByteSize.TryParse(Storage.MaxUpload, out long upload) || upload < 1)
        {
            problems.Add($"Storage:MaxUpload '{DisplayText.Sanitize(Storage.MaxUpload, 100)}' is not a size of at least one byte: write bytes or a number with a unit, as 500M or \"1 GiB\"");
        }

        return problems;
    }
}

/// <summary>The node's settings (<see cref="PeerNetNodeOptions"/> by the same names).</summary>
internal sealed class NodeSettings
{
    /// <summary>The address peers reach the node on; every address by default.</summary>
    public string ListenAddress { get; set; } = "::";

    /// <summary>The TCP port for peers (and the DHT's UDP port). Default 6881.</summary>
    public int ListenPort { get; set; } = 6881;

    /// <summary>Join the Mainline DHT. Default: on.</summary>
    public bool Dht { get; set; } = true;

    /// <summary>DHT nodes to join through (HOST:PORT); empty for the public routers.</summary>
    public IList<string> DhtBootstrapNodes { get; } = [];

    /// <summary>Local service discovery (multicast on the local network). Default: off.</summary>
    public bool LocalDiscovery { get; set; }

    /// <summary>Announce to trackers. Default: on.</summary>
    public bool Trackers { get; set; } = true;

    /// <summary>Upload limit over every torrent, bytes per second; 0 for none.</summary>
    public long UploadRateLimit { get; set; }

    /// <summary>Download limit over every torrent, bytes per second; 0 for none.</summary>
    public long DownloadRateLimit { get; set; }

    /// <summary>Most peer connections over every torrent. Default 200.</summary>
    public int MaxConnections { get; set; } = 200;

    /// <summary>
    /// The libp2p resource manager's limits (<see cref="Libp2p.Libp2pResourceLimits"/>, by the same names: MaxConnections,
    /// MaxInboundStreamsPerPeer, MaxStreamMemory, ...); each left out keeps its default (go-libp2p's base limits).
    /// </summary>
    public Libp2p.Libp2pResourceLimits Libp2pLimits { get; set; } = new();

    /// <summary>
    /// Message Stream Encryption of peer connections (<see cref="EncryptionPolicy"/>, as <c>--encryption</c>): disabled,
    /// enabled (accept both; dial encrypted, then plain if the peer does not answer) or forced. Default: enabled.
    /// </summary>
    public string Encryption { get; set; } = "enabled";

    /// <summary>What an encrypted connection carries after its handshake (<see cref="EncryptionLevel"/>): plaintext, rc4 or both. Default: both.</summary>
    public string EncryptionLevel { get; set; } = "both";

    /// <summary>When both levels are allowed and offered, choose RC4 for the payload rather than plaintext. Default: off.</summary>
    public bool PreferRc4 { get; set; }

    /// <summary>
    /// uTP beside TCP (<see cref="UtpMode"/>, as <c>--utp</c>): on (dial over uTP first, TCP beside it after 500 ms;
    /// accept both), accept (dial over TCP, accept both), off (TCP only) or only (dial over uTP only; accept both). Default: on.
    /// </summary>
    public string Utp { get; set; } = "on";

    /// <summary>
    /// How to ask the home router to forward the port (as <c>--port-mapping</c>): a comma-separated list of pcp, natpmp
    /// and upnp, or none. Default: all three. A node listening only on a loopback address never maps.
    /// </summary>
    public string PortMapping { get; set; } = "pcp,natpmp,upnp";

    /// <summary>BEP 55 holepunching (relaying for peers, and reaching peers behind NATs through a relay over uTP). Default: on.</summary>
    public bool Holepunch { get; set; } = true;

    /// <summary>The node's <see cref="EncryptionOptions"/> (valid settings only).</summary>
    public EncryptionOptions EncryptionOptions() => new()
    {
        Policy = ConnectivityWords.TryParseName(Encryption, out EncryptionPolicy policy) ? policy : EncryptionPolicy.Enabled,
        Level = ConnectivityWords.TryParseName(EncryptionLevel, out EncryptionLevel level) ? level : PeerNet.EncryptionLevel.Both,
        PreferRc4 = PreferRc4,
    };

    /// <summary>The node's <see cref="UtpOptions"/> and whether it dials over TCP (valid settings only).</summary>
    public (UtpOptions Utp, bool OutgoingTcp) UtpOptions() =>
        ConnectivityWords.UtpOptionsOf(ConnectivityWords.TryParseName(Utp, out UtpMode mode) ? mode : UtpMode.On);

    /// <summary>The node's <see cref="PortMappingOptions"/> (valid settings only).</summary>
    public PortMappingOptions PortMappingOptions() =>
        ConnectivityWords.TryParsePortMapping(PortMapping, out PortMappingOptions options, out _) ? options : new PortMappingOptions();
}

/// <summary>The HTTP API's settings.</summary>
internal sealed class ApiSettings
{
    /// <summary>The shortest token accepted from the settings file.</summary>
    public const int MinTokenLength = 16;

    /// <summary>The largest request body the settings may allow (a .torrent's own limit).</summary>
    public const long MaxRequestBodyLimit = 64L * 1024 * 1024;

    /// <summary>The address the API listens on. Default 127.0.0.1; any other needs <see cref="Token"/>.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The API's TCP port; 0 picks a free one. Default 8870.</summary>
    public int Port { get; set; } = 8870;

    /// <summary>The API token; null uses (and on first start makes) the one in <c>&lt;state&gt;/api-token</c>.</summary>
    public string? Token { get; set; }

    /// <summary>Host names the API answers to besides localhost and the loopback and bind addresses (DNS rebinding defence).</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>The largest request body, bytes (a .torrent upload). Default 16 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16L * 1024 * 1024;
}

/// <summary>Torrent defaults.</summary>
internal sealed class TorrentSettings
{
    /// <summary>Where torrents are saved unless a request says otherwise; null for <c>downloads</c> in the state folder.</summary>
    public string? DownloadFolder { get; set; }
}

/// <summary>
/// Redundant storage (docs/storage.md). Sizes are bytes or a number with a binary unit, as <c>peernet store serve --share</c>
/// takes them: <c>500M</c>, <c>50G</c>, <c>"50 GiB"</c>. Both need a restart to change.
/// </summary>
internal sealed class StorageSettings
{
    /// <summary>The disk lent to other peers' shares (under the state folder). Default 0: the node lends nothing.</summary>
    public string Share { get; set; } = "0";

    /// <summary>
    /// The peer IDs allowed to place shares in the space lent (a grid of friends); empty, the default, lets any peer
    /// allocate within <see cref="Share"/>.
    /// </summary>
    public string[] AllowedPeers { get; set; } = [];

    /// <summary>The largest file <c>POST /api/v1/storage/files</c> takes (it is staged in the state folder first). Default 1 GiB.</summary>
    public string MaxUpload { get; set; } = "1 GiB";

    /// <summary><see cref="Share"/> in bytes (valid settings only).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long ShareBytes => ByteSize.TryParse(Share, out long bytes) ? bytes : 0;

    /// <summary><see cref="MaxUpload"/> in bytes (valid settings only).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long MaxUploadBytes => ByteSize.TryParse(MaxUpload, out long bytes) ? bytes : 0;
}
