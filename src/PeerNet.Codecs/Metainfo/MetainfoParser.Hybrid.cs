using System.Globalization;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// BEP 52 hybrids describe the same data twice; a torrent whose two descriptions disagree could make v1 and v2
    /// peers write different files, so it is refused, never read from one half. The test is libtorrent's
    /// (<c>files_compatible</c>): the v2 files, each followed by the pad that ends it on a piece boundary (the
    /// last one's only if the v1 list has it too: libtorrent before 2.0.8 wrote none), must line up one for one
    /// with the v1 list — same count, same total, and every file with data at the same index, path, length and
    /// offset. Empty files, symlinks and pads need only be in the same places. The result is that padded v2 list,
    /// pads named as libtorrent names them.
    /// </summary>
    private static List<TorrentFile> MergeHybrid(BencodeNode info, List<TorrentFile> v1, List<TorrentFile> v2, string folder, long pieceLength)
    {
        var merged = new List<TorrentFile>(v1.Count);
        long total = 0;
        foreach (TorrentFile file in v2)
        {
            merged.Add(file.At(total));
            total += file.Length;
            long tail = total % pieceLength;
            if (tail != 0)
            {
                long pad = pieceLength - tail;
                merged.Add(new TorrentFile(folder + "/.pad/" + pad.ToString(CultureInfo.InvariantCulture), pad, total) { IsPadFile = true });
                total += pad;
            }
        }

        if (merged.Count == v1.Count + 1)
        {
            RemoveTailPadding(merged);
        }

        if (merged.Count != v1.Count)
        {
            Fail(MetainfoErrorCode.Inconsistent, info, $"the v1 file list has {v1.Count} entries (pad files included) where the v2 file tree needs {merged.Count}");
        }

        long v1Total = v1[^1].Offset + v1[^1].Length;
        long v2Total = merged[^1].Offset + merged[^1].Length;
        if (v1Total != v2Total)
        {
            Fail(MetainfoErrorCode.Inconsistent, info, $"the v1 files span {v1Total} bytes, the v2 file tree {v2Total}");
        }

        for (int i = 0; i < v1.Count; i++)
        {
            TorrentFile a = v1[i];
            TorrentFile b = merged[i];
            bool aHasData = !a.IsPadFile && a.Length > 0;
            bool bHasData = !b.IsPadFile && b.Length > 0;
            if (aHasData != bHasData || (aHasData && (a.Path != b.Path || a.Length != b.Length || a.Offset != b.Offset)))
            {
                Fail(MetainfoErrorCode.Inconsistent, info, $"v1 entry {i} ('{a.Path}', {a.Length} bytes at {a.Offset}) does not match the v2 file tree ('{b.Path}', {b.Length} bytes at {b.Offset})");
            }
        }

        return merged;
    }

    /// <summary>Drops the pad after the last file with data, if there is one; the empty files after it move back.</summary>
    private static void RemoveTailPadding(List<TorrentFile> files)
    {
        for (int i = files.Count - 1; i >= 0; i--)
        {
            TorrentFile file = files[i];
            if (file.Length == 0)
            {
                continue;
            }

            if (file.IsPadFile)
            {
                files.RemoveAt(i);
                for (int j = i; j < files.Count; j++)
                {
                    files[j] = files[j].At(file.Offset);
                }
            }

            return;
        }
    }
}
