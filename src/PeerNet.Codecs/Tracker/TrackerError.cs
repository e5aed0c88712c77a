namespace PeerNet.Tracker;

/// <summary>Why a tracker response was refused. Every value makes that announce or scrape a failure.</summary>
internal enum TrackerError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>An HTTP body longer than <see cref="TrackerLimits.MaxResponseBytes"/>, refused before it is parsed.</summary>
    ResponseTooLarge,

    /// <summary>An HTTP body that is not valid bencode (or exceeds the bencode limits).</summary>
    InvalidBencode,

    /// <summary>An HTTP body that is valid bencode but not a dictionary.</summary>
    NotDictionary,

    /// <summary>The tracker refused: an HTTP <c>failure reason</c> or a UDP error packet (action 3).</summary>
    Failure,

    /// <summary>A compact peer list whose length is not a multiple of 6 (IPv4) or 18 (IPv6) bytes.</summary>
    PeerListInvalid,

    /// <summary>More peers than <see cref="TrackerLimits.MaxPeers"/>.</summary>
    TooManyPeers,

    /// <summary>A scrape response without a <c>files</c> dictionary, or with an entry that is not one.</summary>
    ScrapeInvalid,

    /// <summary>More scraped torrents than <see cref="TrackerLimits.MaxScrapeFiles"/> (or the hashes asked for, over UDP).</summary>
    TooManyFiles,

    /// <summary>A UDP packet shorter than its action's fixed part, or with a partial entry.</summary>
    PacketTooShort,

    /// <summary>A UDP packet whose action is not the request's (nor an error).</summary>
    WrongAction,

    /// <summary>A UDP packet whose transaction id is not the request's.</summary>
    WrongTransactionId,
}

/// <summary>Sentences for <see cref="TrackerError"/>, for logs and status lines.</summary>
internal static class TrackerErrors
{
    public static string Describe(this TrackerError error) => error switch
    {
        TrackerError.None => "no error",
        TrackerError.ResponseTooLarge => "response is larger than the limit",
        TrackerError.InvalidBencode => "response is not valid bencode",
        TrackerError.NotDictionary => "response is not a dictionary",
        TrackerError.Failure => "the tracker refused the request",
        TrackerError.PeerListInvalid => "compact peer list length is not a multiple of the peer size",
        TrackerError.TooManyPeers => "response has more peers than the limit",
        TrackerError.ScrapeInvalid => "scrape response has no valid files dictionary",
        TrackerError.TooManyFiles => "scrape response has more torrents than the limit",
        TrackerError.PacketTooShort => "UDP packet is too short for its action",
        TrackerError.WrongAction => "UDP packet answers another action",
        TrackerError.WrongTransactionId => "UDP packet has another transaction id",
        _ => error.ToString(),
    };
}
