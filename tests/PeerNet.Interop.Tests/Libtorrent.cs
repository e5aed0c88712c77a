using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>One file as libtorrent lists it (pad files included).</summary>
internal sealed record LtFile(string Path, long Size, bool Pad, bool Executable);

/// <summary>Output of <c>lt_info.py</c>: a torrent as libtorrent parses it. Hashes are lowercase hex or null.</summary>
internal sealed record LtTorrentInfo(
    string Version,
    string? InfoHashV1,
    string? InfoHashV2,
    string Name,
    long TotalSize,
    long PieceSpaceSize,
    long PieceLength,
    int NumPieces,
    IReadOnlyList<LtFile> Files);

/// <summary>
/// One torrent as <c>lt_read_all.py</c> reports libtorrent's reading of it: an error, or everything that decides where
/// its files go. Symlink targets start with the torrent's name, as libtorrent's <c>file_storage::symlink</c> gives them.
/// </summary>
internal sealed record LtReading(string File, string? Error, string? Name, string? InfoHashV1, string? InfoHashV2, long PieceLength, int NumPieces, IReadOnlyList<LtEntry>? Files);

/// <summary>One file of an <see cref="LtReading"/>, with its flags.</summary>
internal sealed record LtEntry(string Path, long Size, long Offset, bool Pad, bool Symlink, bool Executable, bool Hidden, string? Target);

/// <summary>Output of <c>lt_create.py</c>: the info-hashes of the torrent libtorrent wrote.</summary>
internal sealed record LtHashes(string? InfoHashV1, string? InfoHashV2);

/// <summary>Output of <c>lt_check.py</c>: what libtorrent's file check found on disk.</summary>
internal sealed record LtCheckResult(string State, double Progress, int NumPieces, int PiecesHave, bool IsSeeding, IReadOnlyList<string> Errors)
{
    public bool IsComplete => NumPieces > 0 && PiecesHave == NumPieces;
}

/// <summary>libtorrent as an oracle, through the scripts in <c>scripts/</c>. Callers first <c>Require(Libtorrent)</c>.</summary>
internal static class Libtorrent
{
    public static string VersionArgument(TorrentVersion version) => version switch
    {
        TorrentVersion.V1 => "v1",
        TorrentVersion.V2 => "v2",
        TorrentVersion.Hybrid => "hybrid",
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, null),
    };

    public static TorrentVersion ParseVersion(string version) => version switch
    {
        "v1" => TorrentVersion.V1,
        "v2" => TorrentVersion.V2,
        "hybrid" => TorrentVersion.Hybrid,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, null),
    };

    /// <summary>How libtorrent parses the torrent at <paramref name="torrentPath"/>.</summary>
    public static Task<LtTorrentInfo> InfoAsync(string torrentPath, CancellationToken cancellationToken)
        => PythonScripts.RunJsonAsync<LtTorrentInfo>("lt_info.py", [torrentPath], cancellationToken: cancellationToken);

    /// <summary>
    /// Makes libtorrent create a torrent of <paramref name="source"/> at <paramref name="outputPath"/>. With
    /// <paramref name="fileOrder"/> (relative paths starting with the torrent's name), files are added in that order;
    /// otherwise libtorrent walks the folder itself.
    /// </summary>
    public static async Task<LtHashes> CreateAsync(TorrentVersion version, long pieceLength, string outputPath, string source, IReadOnlyList<string>? fileOrder, CancellationToken cancellationToken)
    {
        List<string> arguments = ["--version", VersionArgument(version), "--piece-size", pieceLength.ToString(), "--out", outputPath];
        if (fileOrder is not null)
        {
            string orderPath = outputPath + ".order.txt";
            await File.WriteAllLinesAsync(orderPath, fileOrder, cancellationToken).ConfigureAwait(false);
            arguments.AddRange(["--order", orderPath]);
        }

        arguments.Add(source);
        return await PythonScripts.RunJsonAsync<LtHashes>("lt_create.py", arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How libtorrent reads every .torrent in <paramref name="folder"/> (one Python process for them all).</summary>
    public static Task<LtReading[]> ReadAllAsync(string folder, CancellationToken cancellationToken)
        => PythonScripts.RunJsonAsync<LtReading[]>("lt_read_all.py", [folder], cancellationToken: cancellationToken);

    /// <summary>Has libtorrent check the data under <paramref name="savePath"/> against the torrent.</summary>
    public static Task<LtCheckResult> CheckAsync(string torrentPath, string savePath, CancellationToken cancellationToken)
        => PythonScripts.RunJsonAsync<LtCheckResult>("lt_check.py", [torrentPath, savePath, "60"], TimeSpan.FromSeconds(90), cancellationToken);
}
