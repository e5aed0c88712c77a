namespace PeerNet.Daemon.Metrics;

/// <summary>The <c>Metrics</c> section of the settings: what <c>/metrics</c> shows.</summary>
internal sealed class MetricsSettings
{
    /// <summary>The most torrents a setting may give series of their own.</summary>
    public const int MaxPerTorrentLimit = 10_000;

    /// <summary>
    /// How many torrents get series of their own (labelled by info-hash), the most active first; 0 for none. Default
    /// 100: a scrape of a 10,000-torrent daemon stays small, and the node-wide series count every torrent anyway.
    /// </summary>
    public int PerTorrentLimit { get; set; } = 100;

    /// <summary>The problems with these settings, in words a user can act on.</summary>
    public IEnumerable<string> Validate()
    {
        if (PerTorrentLimit is < 0 or > MaxPerTorrentLimit)
        {
            yield return $"Metrics:PerTorrentLimit {PerTorrentLimit} must be from 0 to {MaxPerTorrentLimit}";
        }
    }
}
