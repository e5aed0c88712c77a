namespace PeerNet.Tracker;

/// <summary>
/// The <c>event</c> of an announce (BEP 3). The numbers are BEP 15's UDP encoding; over HTTP the names are sent,
/// and <see cref="None"/> (a regular re-announce) sends no <c>event</c> at all.
/// </summary>
internal enum TrackerEvent
{
    /// <summary>A regular announce at the tracker's interval.</summary>
    None = 0,

    /// <summary>The download finished (sent once, not when a torrent starts complete).</summary>
    Completed = 1,

    /// <summary>The first announce of a torrent.</summary>
    Started = 2,

    /// <summary>The torrent is leaving: the tracker should forget this peer.</summary>
    Stopped = 3,
}
