namespace PeerNet.Discovery.Trackers;

/// <summary>An announce or scrape that failed: the tracker refused, answered nonsense, or did not answer in time.</summary>
internal sealed class TrackerException : Exception
{
    public TrackerException()
    {
    }

    public TrackerException(string message)
        : base(message)
    {
    }

    public TrackerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the tracker itself refused (a failure reason or UDP error), not when it was unreachable.</summary>
    public bool IsRefusal { get; init; }
}
