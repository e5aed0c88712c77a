namespace PeerNet.Magnet;

/// <summary>
/// Hard limits on magnet links, checked by <see cref="MagnetLink.Parse"/> and <see cref="MagnetLink.Create"/>.
/// A link at a limit is accepted; one past it is refused. No legitimate magnet link comes near them.
/// </summary>
public static class MagnetLimits
{
    /// <summary>
    /// Longest link, in characters: 64 KiB. Checked on the input before any work, and on the canonical form
    /// (<see cref="MagnetLink.ToString"/>) so that every accepted link formats to a link that parses again.
    /// </summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Most distinct trackers (<c>tr</c>): 100.</summary>
    public const int MaxTrackers = 100;

    /// <summary>Most distinct web seeds (<c>ws</c>): 100.</summary>
    public const int MaxWebSeeds = 100;

    /// <summary>Most distinct peer addresses (<c>x.pe</c>): 200.</summary>
    public const int MaxPeers = 200;

    /// <summary>Most select-only items (<c>so</c>), single indices and ranges alike: 1,000.</summary>
    public const int MaxSelectOnlyRanges = 1000;
}
