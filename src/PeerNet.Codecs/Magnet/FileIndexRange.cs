namespace PeerNet.Magnet;

/// <summary>
/// An inclusive range of zero-based file indices from a magnet link's <c>so</c> (select-only) parameter
/// (BEP 53): <c>4-6</c> is files 4, 5 and 6; a single index <c>2</c> is the range 2–2.
/// </summary>
public readonly record struct FileIndexRange
{
    /// <summary>Creates the range <paramref name="first"/>–<paramref name="last"/>, both included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative, or <paramref name="last"/> is below <paramref name="first"/>.</exception>
    public FileIndexRange(int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        First = first;
        Last = last;
    }

    /// <summary>Creates the range holding the one index <paramref name="index"/>.</summary>
    public FileIndexRange(int index)
        : this(index, index)
    {
    }

    /// <summary>The first index in the range.</summary>
    public int First { get; }

    /// <summary>The last index in the range (included).</summary>
    public int Last { get; }

    /// <summary>True when <paramref name="index"/> lies in the range.</summary>
    public bool Contains(int index) => index >= First && index <= Last;

    /// <summary>The BEP 53 form: <c>5</c> for a single index, <c>4-6</c> for a range.</summary>
    public override string ToString()
        => First == Last
            ? First.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{First}-{Last}");
}
