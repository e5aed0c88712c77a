namespace PeerNet.Daemon.Service;

/// <summary>
/// The words the CLI's <c>--utp</c>, <c>--port-mapping</c> and <c>--encryption</c> and the daemon's <c>Node:Utp</c>,
/// <c>Node:PortMapping</c> and <c>Node:Encryption</c> share, and the node options each gives: one copy for both. Public
/// only for the CLI, which references the daemon (as it uses <c>PeerNet.Daemon.Hosting</c>); the words are a user
/// interface's, not the library's, so they stay out of the engine's public API.
/// </summary>
public static class ConnectivityWords
{
    /// <summary>The words <see cref="TryParsePortMapping"/> takes, for error messages.</summary>
    public const string PortMappingHelp = "a comma-separated list of pcp, natpmp and upnp, or none";

    /// <summary>What a uTP mode asks of the node: its <see cref="UtpOptions"/>, and whether it dials over TCP (<see cref="PeerNetNodeOptions.OutgoingTcp"/>).</summary>
    public static (UtpOptions Utp, bool OutgoingTcp) UtpOptionsOf(UtpMode mode) => mode switch
    {
        UtpMode.Off => (new UtpOptions { Outgoing = false, Incoming = false }, true),
        UtpMode.Only => (new UtpOptions { Outgoing = true }, false),
        UtpMode.Accept => (new UtpOptions { Outgoing = false }, true),
        _ => (new UtpOptions(), true),
    };

    /// <summary>
    /// A port mapping list (<see cref="PortMappingHelp"/>, any case, <c>nat-pmp</c> for <c>natpmp</c>): the protocols
    /// named, or <see cref="PortMappingOptions.None"/>. False, with the first word not understood, otherwise.
    /// </summary>
    public static bool TryParsePortMapping(string? text, out PortMappingOptions options, out string badWord)
    {
        options = PortMappingOptions.None;
        badWord = "";
        text ??= "";
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (string word in text.Split(',', StringSplitOptions.TrimEntries))
        {
            switch (word.ToLowerInvariant())
            {
                case "pcp":
                    options = options with { Pcp = true };
                    break;
                case "natpmp":
                case "nat-pmp":
                    options = options with { NatPmp = true };
                    break;
                case "upnp":
                    options = options with { Upnp = true };
                    break;
                default:
                    badWord = word;
                    options = PortMappingOptions.None;
                    return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One of an enum's names, in any case (<c>forced</c>, <c>Both</c>); unlike <see cref="Enum.TryParse{TEnum}(string?, bool, out TEnum)"/>
    /// no number and no list of names.
    /// </summary>
    public static bool TryParseName<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
    {
        value = default;
        string? name = Enum.GetNames<TEnum>().FirstOrDefault(n => string.Equals(n, text?.Trim(), StringComparison.OrdinalIgnoreCase));
        return name is not null && Enum.TryParse(name, out value);
    }

    /// <summary>An enum's names in lower case joined by "or", for error messages: <c>disabled, enabled or forced</c>.</summary>
    public static string NamesOf<TEnum>()
        where TEnum : struct, Enum
    {
        string[] names = [.. Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant())];
        return names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }
}

/// <summary>How the node uses uTP (BEP 29) beside TCP: the CLI's <c>--utp</c> and the daemon's <c>Node:Utp</c>.</summary>
public enum UtpMode
{
    /// <summary>Dial over TCP; accept uTP and TCP.</summary>
    Accept,

    /// <summary>uTP first, then TCP; both accepted (the default, the library's and libtorrent's).</summary>
    On,

    /// <summary>TCP only.</summary>
    Off,

    /// <summary>Dial over uTP only; both accepted.</summary>
    Only,
}
