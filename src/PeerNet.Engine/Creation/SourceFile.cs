using System.Text;

namespace PeerNet.Creation;

/// <summary>One file to put in a torrent: where it is on disk and where it goes in the torrent.</summary>
internal sealed class SourceFile
{
    public SourceFile(string fullPath, IReadOnlyList<string> segments, long length, bool isExecutable)
    {
        FullPath = fullPath;
        Segments = segments;
        Utf8Segments = [.. segments.Select(Encoding.UTF8.GetBytes)];
        Length = length;
        IsExecutable = isExecutable;
    }

    /// <summary>Absolute path to read the data from (a symlink is read through).</summary>
    public string FullPath { get; }

    /// <summary>Path inside the torrent, one entry per folder level, the file name last.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <summary>The segments as UTF-8, as they are written and sorted.</summary>
    public byte[][] Utf8Segments { get; }

    /// <summary>Size in bytes when it was scanned.</summary>
    public long Length { get; }

    /// <summary>Owner-executable: gets <c>attr "x"</c> (BEP 47).</summary>
    public bool IsExecutable { get; }

    /// <summary>
    /// Canonical tree order, as libtorrent lays out v2 and hybrid torrents: compare segment by segment as
    /// raw UTF-8 bytes, a folder's files coming where its name sorts (so <c>a/b</c> precedes <c>a.c</c>).
    /// </summary>
    public static int CompareCanonical(SourceFile? x, SourceFile? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        byte[][] a = x.Utf8Segments;
        byte[][] b = y.Utf8Segments;
        int common = Math.Min(a.Length, b.Length);
        for (int i = 0; i < common; i++)
        {
            int c = a[i].AsSpan().SequenceCompareTo(b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }
}
