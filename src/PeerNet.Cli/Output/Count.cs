using System.Globalization;

namespace PeerNet.Cli.Output;

/// <summary>A number and the noun it counts, agreeing: "1 peer", "0 peers", "2 peers"; never "1 peers" or "peer(s)".</summary>
internal static class Count
{
    /// <summary>
    /// <paramref name="count"/> followed by <paramref name="singular"/> when it is exactly one, else by
    /// <paramref name="plural"/> (default: the singular with an "s").
    /// </summary>
    public static string Of(long count, string singular, string? plural = null)
        => string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? singular : plural ?? singular + "s")}");
}
