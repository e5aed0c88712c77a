using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.Benchmarks;

/// <summary>Deterministic sample torrents with a realistic shape, shared by the codec benchmarks.</summary>
public static class SampleTorrents
{
    private static readonly SampleTorrent Multi = SampleTorrent.CreateMultiFile();

    /// <summary>
    /// A multi-file v1 torrent (about 30 KiB): 30 files in nested folders, 1,500 pieces of 256 KiB (20-byte SHA-1
    /// hashes), an announce-list of three tiers, a comment, creator and creation date. Returns a fresh copy.
    /// </summary>
    public static byte[] MultiFile()
    {
        var buffer = new ArrayBufferWriter<byte>(32 * 1024);
        Multi.Write(new BencodeWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The description <see cref="MultiFile"/> encodes, for benchmarks that encode it themselves.</summary>
    public static SampleTorrent MultiFileModel => Multi;
}

/// <summary>One file of a multi-file torrent: its length and path components.</summary>
public sealed record SampleFile(long Length, string[] Path);

/// <summary>What a torrent creator holds before encoding: plain strings, numbers and the piece hashes.</summary>
public sealed class SampleTorrent
{
    public required string Announce { get; init; }

    public required string[][] AnnounceList { get; init; }

    public required string Comment { get; init; }

    public required string CreatedBy { get; init; }

    public required long CreationDate { get; init; }

    public required string Name { get; init; }

    public required int PieceLength { get; init; }

    public required byte[] Pieces { get; init; }

    public required SampleFile[] Files { get; init; }

    /// <summary>Writes the torrent with keys in BEP 3 order.</summary>
    public void Write(BencodeWriter writer)
    {
        writer.WriteDictionaryStart();
        writer.WriteString("announce"u8);
        writer.WriteString(Announce);
        writer.WriteString("announce-list"u8);
        writer.WriteListStart();
        foreach (string[] tier in AnnounceList)
        {
            writer.WriteListStart();
            foreach (string url in tier)
            {
                writer.WriteString(url);
            }

            writer.WriteEnd();
        }

        writer.WriteEnd();
        writer.WriteString("comment"u8);
        writer.WriteString(Comment);
        writer.WriteString("created by"u8);
        writer.WriteString(CreatedBy);
        writer.WriteString("creation date"u8);
        writer.WriteInteger(CreationDate);
        writer.WriteString("info"u8);
        writer.WriteDictionaryStart();
        writer.WriteString("files"u8);
        writer.WriteListStart();
        foreach (SampleFile file in Files)
        {
            writer.WriteDictionaryStart();
            writer.WriteString("length"u8);
            writer.WriteInteger(file.Length);
            writer.WriteString("path"u8);
            writer.WriteListStart();
            foreach (string part in file.Path)
            {
                writer.WriteString(part);
            }

            writer.WriteEnd();
            writer.WriteEnd();
        }

        writer.WriteEnd();
        writer.WriteString("name"u8);
        writer.WriteString(Name);
        writer.WriteString("piece length"u8);
        writer.WriteInteger(PieceLength);
        writer.WriteString("pieces"u8);
        writer.WriteString(Pieces);
        writer.WriteEnd();
        writer.WriteEnd();
    }

    internal static SampleTorrent CreateMultiFile()
    {
        const int PieceLength = 256 * 1024;
        const int PieceCount = 1_500;
        var random = new Random(20_240_601);

        var files = new List<SampleFile>();
        for (int season = 1; season <= 2; season++)
        {
            for (int episode = 1; episode <= 10; episode++)
            {
                files.Add(new SampleFile(0, [$"Season {season}", $"Disc {((episode - 1) / 5) + 1}", $"Episode {episode:D2} - The Long Title of Part {episode}.mkv"]));
            }
        }

        files.Add(new SampleFile(0, ["Extras", "Featurettes", "Making of.mp4"]));
        files.Add(new SampleFile(0, ["Extras", "Featurettes", "Deleted Scenes.mp4"]));
        files.Add(new SampleFile(0, ["Extras", "Trailer.mp4"]));
        files.Add(new SampleFile(0, ["Subtitles", "English.srt"]));
        files.Add(new SampleFile(0, ["Subtitles", "Deutsch (Übersetzung).srt"]));
        files.Add(new SampleFile(0, ["Subtitles", "日本語.srt"]));
        files.Add(new SampleFile(0, ["Artwork", "cover.jpg"]));
        files.Add(new SampleFile(0, ["Artwork", "back.jpg"]));
        files.Add(new SampleFile(0, ["README.txt"]));
        files.Add(new SampleFile(0, ["checksums.sha256"]));

        // Spread the content over the files so the total fills all but part of the last piece.
        long total = ((long)(PieceCount - 1) * PieceLength) + 12_345;
        long[] weights = [.. files.Select(f => f.Path[^1].EndsWith(".mkv", StringComparison.Ordinal) ? random.NextInt64(800, 1_200) : random.NextInt64(1, 20))];
        long weightSum = weights.Sum();
        long assigned = 0;
        for (int i = 0; i < files.Count; i++)
        {
            long length = i == files.Count - 1 ? total - assigned : total * weights[i] / weightSum;
            files[i] = files[i] with { Length = length };
            assigned += length;
        }

        byte[] pieces = new byte[PieceCount * 20];
        random.NextBytes(pieces);

        return new SampleTorrent
        {
            Announce = "http://tracker.example.org:6969/announce",
            AnnounceList =
            [
                ["http://tracker.example.org:6969/announce"],
                ["udp://tracker.example.net:1337/announce", "udp://open.tracker.example.com:80/announce"],
                ["https://backup.example.org/announce"],
            ],
            Comment = "Sample multi-file torrent for PeerNet benchmarks; not real content.",
            CreatedBy = "PeerNet 0.1.0",
            CreationDate = 1_700_000_000,
            Name = "The Sample Collection (2024) [1080p]",
            PieceLength = PieceLength,
            Pieces = pieces,
            Files = [.. files],
        };
    }
}
