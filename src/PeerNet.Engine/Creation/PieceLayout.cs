using PeerNet.Metainfo;

namespace PeerNet.Creation;

/// <summary>
/// Where each file sits in the stream of bytes that pieces are cut from. In a v1 torrent files follow each
/// other; in a v2 or hybrid torrent with several files each file starts a new piece (BEP 52: "pad files"),
/// so the gap after a file's last partial piece is zeros — the v1 pad file of a hybrid torrent.
/// </summary>
internal sealed class PieceLayout
{
    private readonly long[] _starts;

    public PieceLayout(ScannedSource source, TorrentVersion version, long pieceLength)
    {
        Source = source;
        Version = version;
        PieceLength = pieceLength;
        SourceFile[] files = source.Files;
        _starts = new long[files.Length];
        Pads = new long[files.Length];

        // A single-file hybrid keeps the single-file form, which has no room for a pad file.
        bool align = version != TorrentVersion.V1 && !source.IsSingleFile;
        long position = 0;
        for (int i = 0; i < files.Length; i++)
        {
            _starts[i] = position;
            long length = files[i].Length;
            long tail = length % pieceLength;
            Pads[i] = align && tail != 0 ? pieceLength - tail : 0;
            position = checked(position + length + Pads[i]);
        }

        StreamLength = position;
        long pieces = (position + pieceLength - 1) / pieceLength;
        if (pieces > MaxPieces)
        {
            throw new ArgumentException(
                $"{pieces:N0} pieces of {pieceLength:N0} bytes is too many for one torrent; choose a larger piece size.");
        }

        PieceCount = (int)pieces;
    }

    /// <summary>Most pieces in one torrent: keeps the v1 <c>pieces</c> string under 2 GiB.</summary>
    public const int MaxPieces = int.MaxValue / Sha1Hash.Length;

    public ScannedSource Source { get; }

    public SourceFile[] Files => Source.Files;

    public TorrentVersion Version { get; }

    public bool HasV1 => Version != TorrentVersion.V2;

    public bool HasV2 => Version != TorrentVersion.V1;

    public long PieceLength { get; }

    /// <summary>Zero bytes after each file before the next begins (hybrid pad files).</summary>
    public long[] Pads { get; }

    /// <summary>Length of the stream of files and pads.</summary>
    public long StreamLength { get; }

    public int PieceCount { get; }

    /// <summary>Offset of file <paramref name="index"/> in the stream.</summary>
    public long StartOf(int index) => _starts[index];

    /// <summary>Index of the first piece of a file (v2: every file starts a piece).</summary>
    public int FirstPieceOf(int index) => (int)(_starts[index] / PieceLength);

    /// <summary>Number of pieces a file's data covers.</summary>
    public int PieceCountOf(int index) => (int)((Files[index].Length + PieceLength - 1) / PieceLength);

    /// <summary>
    /// The file whose data or pad holds stream offset <paramref name="position"/>: the last file starting at or
    /// before it (empty files share their start with the next file, so they are never the answer).
    /// </summary>
    public int FileAt(long position)
    {
        int index = Array.BinarySearch(_starts, position);
        if (index < 0)
        {
            return ~index - 1;
        }

        while (index + 1 < _starts.Length && _starts[index + 1] == position)
        {
            index++;
        }

        return index;
    }
}
