using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.Creation;

/// <summary>
/// Writes the info dictionary and the .torrent around it. Every dictionary is written with its keys in
/// sorted order (BEP 3: "Keys must be strings and appear in sorted order"), so the info dictionary is
/// canonical and matches libtorrent's byte for byte.
/// </summary>
internal static class MetainfoEncoder
{
    private const string PadDirectory = ".pad";

    /// <summary>Encodes the info dictionary.</summary>
    public static byte[] EncodeInfo(PieceLayout layout, PieceHashes hashes, bool isPrivate)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new BencodeWriter(buffer);
        ScannedSource source = layout.Source;
        bool single = source.IsSingleFile;
        SourceFile first = source.Files[0];

        w.WriteDictionaryStart();
        if (single && layout.HasV1 && first.IsExecutable)
        {
            w.WriteString("attr"u8);
            w.WriteString("x"u8);
        }

        if (layout.HasV2)
        {
            w.WriteString("file tree"u8);
            WriteFileTree(w, source.Files, hashes.FileRoots, 0, source.Files.Length, 0);
        }

        if (layout.HasV1 && !single)
        {
            w.WriteString("files"u8);
            WriteFileList(w, layout);
        }

        if (layout.HasV1 && single)
        {
            w.WriteString("length"u8);
            w.WriteInteger(first.Length);
        }

        if (layout.HasV2)
        {
            w.WriteString("meta version"u8);
            w.WriteInteger(2);
        }

        w.WriteString("name"u8);
        w.WriteString(source.Name);
        w.WriteString("piece length"u8);
        w.WriteInteger(layout.PieceLength);
        if (layout.HasV1)
        {
            w.WriteString("pieces"u8);
            w.WriteString(hashes.V1Pieces);
        }

        if (isPrivate)
        {
            w.WriteString("private"u8);
            w.WriteInteger(1);
        }

        w.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the whole .torrent around an encoded info dictionary.</summary>
    public static byte[] EncodeTorrent(ReadOnlySpan<byte> info, PieceLayout layout, PieceHashes hashes, TorrentCreationOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(info.Length + 1024);
        var w = new BencodeWriter(buffer);
        w.WriteDictionaryStart();
        IReadOnlyList<string> trackers = options.Trackers;
        if (trackers.Count > 0)
        {
            w.WriteString("announce"u8);
            w.WriteString(trackers[0]);
        }

        // BEP 12, one tier per tracker; like libtorrent and mktorrent, only when there is more than one.
        if (trackers.Count > 1)
        {
            w.WriteString("announce-list"u8);
            w.WriteListStart();
            foreach (string tracker in trackers)
            {
                w.WriteListStart();
                w.WriteString(tracker);
                w.WriteEnd();
            }

            w.WriteEnd();
        }

        if (!string.IsNullOrEmpty(options.Comment))
        {
            w.WriteString("comment"u8);
            w.WriteString(options.Comment);
        }

        if (!string.IsNullOrEmpty(options.CreatedBy))
        {
            w.WriteString("created by"u8);
            w.WriteString(options.CreatedBy);
        }

        if (options.CreationDate is { } date)
        {
            w.WriteString("creation date"u8);
            w.WriteInteger(date.ToUnixTimeSeconds());
        }

        w.WriteString("info"u8);
        w.WriteRaw(info);
        if (layout.HasV2)
        {
            WritePieceLayers(w, layout, hashes);
        }

        IReadOnlyList<string> seeds = options.WebSeeds;
        if (seeds.Count > 0)
        {
            // BEP 19: a single URL may be a string; libtorrent writes a list only for several.
            w.WriteString("url-list"u8);
            if (seeds.Count == 1)
            {
                w.WriteString(seeds[0]);
            }
            else
            {
                w.WriteListStart();
                foreach (string seed in seeds)
                {
                    w.WriteString(seed);
                }

                w.WriteEnd();
            }
        }

        w.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// v1 <c>files</c> in canonical order. In a hybrid torrent each non-empty file whose length is not a whole
    /// number of pieces is followed by a BEP 47 pad file <c>{attr: "p", path: [".pad", "N"]}</c>, the last too.
    /// </summary>
    private static void WriteFileList(BencodeWriter w, PieceLayout layout)
    {
        SourceFile[] files = layout.Files;
        w.WriteListStart();
        for (int i = 0; i < files.Length; i++)
        {
            SourceFile file = files[i];
            WriteFileEntry(w, file.IsExecutable ? "x"u8 : default, file.Length, file.Utf8Segments);
            long pad = layout.Pads[i];
            if (pad > 0)
            {
                string size = pad.ToString(System.Globalization.CultureInfo.InvariantCulture);
                WriteFileEntry(w, "p"u8, pad, [System.Text.Encoding.UTF8.GetBytes(PadDirectory), System.Text.Encoding.UTF8.GetBytes(size)]);
            }
        }

        w.WriteEnd();
    }

    private static void WriteFileEntry(BencodeWriter w, ReadOnlySpan<byte> attr, long length, byte[][] path)
    {
        w.WriteDictionaryStart();
        if (!attr.IsEmpty)
        {
            w.WriteString("attr"u8);
            w.WriteString(attr);
        }

        w.WriteString("length"u8);
        w.WriteInteger(length);
        w.WriteString("path"u8);
        w.WriteListStart();
        foreach (byte[] segment in path)
        {
            w.WriteString(segment);
        }

        w.WriteEnd();
        w.WriteEnd();
    }

    /// <summary>
    /// BEP 52 <c>file tree</c>: one nested dictionary per folder level; a file is a dictionary whose only key is
    /// the empty string, mapping to <c>{attr?, length, pieces root?}</c> (no root for an empty file). Files
    /// [<paramref name="start"/>, <paramref name="end"/>) share their first <paramref name="depth"/> segments and
    /// are in canonical order, so each level's keys come out sorted.
    /// </summary>
    private static void WriteFileTree(BencodeWriter w, SourceFile[] files, Sha256Hash[] roots, int start, int end, int depth)
    {
        w.WriteDictionaryStart();
        int i = start;
        while (i < end)
        {
            byte[] segment = files[i].Utf8Segments[depth];
            int j = i + 1;
            while (j < end && files[j].Utf8Segments[depth].AsSpan().SequenceEqual(segment))
            {
                j++;
            }

            w.WriteString(segment);
            if (files[i].Utf8Segments.Length == depth + 1)
            {
                WriteLeaf(w, files[i], roots[i]);
            }
            else
            {
                WriteFileTree(w, files, roots, i, j, depth + 1);
            }

            i = j;
        }

        w.WriteEnd();
    }

    private static void WriteLeaf(BencodeWriter w, SourceFile file, Sha256Hash root)
    {
        Span<byte> bytes = stackalloc byte[Sha256Hash.Length];
        w.WriteDictionaryStart();
        w.WriteString(""u8);
        w.WriteDictionaryStart();
        if (file.IsExecutable)
        {
            w.WriteString("attr"u8);
            w.WriteString("x"u8);
        }

        w.WriteString("length"u8);
        w.WriteInteger(file.Length);
        if (file.Length > 0)
        {
            root.CopyTo(bytes);
            w.WriteString("pieces root"u8);
            w.WriteString(bytes);
        }

        w.WriteEnd();
        w.WriteEnd();
    }

    /// <summary>
    /// BEP 52 <c>piece layers</c>: pieces root → concatenated piece hashes, for every file longer than one
    /// piece, keyed in sorted order (identical files share one entry).
    /// </summary>
    private static void WritePieceLayers(BencodeWriter w, PieceLayout layout, PieceHashes hashes)
    {
        var entries = new SortedDictionary<Sha256Hash, int>();
        for (int i = 0; i < layout.Files.Length; i++)
        {
            if (layout.Files[i].Length > layout.PieceLength)
            {
                entries.TryAdd(hashes.FileRoots[i], i);
            }
        }

        w.WriteString("piece layers"u8);
        w.WriteDictionaryStart();
        Span<byte> bytes = stackalloc byte[Sha256Hash.Length];
        foreach ((Sha256Hash root, int file) in entries)
        {
            root.CopyTo(bytes);
            w.WriteString(bytes);
            ReadOnlySpan<Sha256Hash> layer = hashes.PieceLayer.AsSpan(layout.FirstPieceOf(file), layout.PieceCountOf(file));
            byte[] concatenated = new byte[layer.Length * Sha256Hash.Length];
            for (int p = 0; p < layer.Length; p++)
            {
                layer[p].CopyTo(concatenated.AsSpan(p * Sha256Hash.Length));
            }

            w.WriteString(concatenated);
        }

        w.WriteEnd();
    }
}
