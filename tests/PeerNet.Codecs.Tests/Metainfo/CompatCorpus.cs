using System.Text.Json;
using PeerNet.Engine.Tests.FuzzCorpus;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// The compat-torrent corpus (tests/data/compat-torrents, written by its generate.py): torrents read as libtorrent
/// 2.0.8 reads them, with PeerNet's expected reading of each. Shared by the Codecs test and the interop test
/// (which compares the same files with python3-libtorrent).
/// </summary>
internal static class CompatCorpus
{
    private static readonly Lazy<CompatCase[]> CasesLazy = new(Load);

    public static string Folder => RepositoryFiles.Combine("tests", "data", "compat-torrents");

    public static IReadOnlyList<CompatCase> Cases => CasesLazy.Value;

    public static CompatCase Get(string file) => Cases.Single(c => c.File == file);

    public static byte[] Read(string file) => File.ReadAllBytes(Path.Combine(Folder, file));

    private static CompatCase[] Load()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { RespectNullableAnnotations = true };
        return JsonSerializer.Deserialize<CompatCase[]>(File.ReadAllBytes(Path.Combine(Folder, "manifest.json")), options)
            ?? throw new InvalidOperationException("manifest.json is JSON null");
    }
}

/// <summary>One file of the corpus: where the case comes from, and PeerNet's reading ("loaded") or refusal.</summary>
internal sealed record CompatCase(
    string File,
    string Source,
    string Case,
    string Outcome,
    string? Error,
    string? Name,
    string? Version,
    long PieceLength,
    int PieceCount,
    long TotalSize,
    string? InfoHashV1,
    string? InfoHashV2,
    IReadOnlyList<CompatFile>? Files,
    CompatDifference? Libtorrent)
{
    public bool Loads => Outcome == "loaded";

    public override string ToString() => File;
}

/// <summary>One file as PeerNet lists it; the symlink target is relative to the name folder.</summary>
internal sealed record CompatFile(string Path, long Length, long Offset, bool Pad, string? SymlinkTarget, bool Executable, bool Hidden);

/// <summary>Where PeerNet deliberately reads a file otherwise than libtorrent: what libtorrent does instead, and why.</summary>
internal sealed record CompatDifference(string Why, string? Name, IReadOnlyList<string>? Paths, bool Loads);
