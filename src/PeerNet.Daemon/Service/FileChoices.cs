using PeerNet.Metainfo;

namespace PeerNet.Daemon.Service;

/// <summary>
/// A torrent's files as its clients list them (the REST API's <c>files</c>, Transmission's file numbers): the files of
/// its metadata without BEP 47 pad files. The engine's priority list has one entry per file of the metadata, pads
/// included; these map between the two for the REST API and the Transmission RPC alike.
/// </summary>
internal static class FileChoices
{
    /// <summary>The metadata index of each listed file (each that is not a pad file), in order.</summary>
    public static int[] Listed(TorrentMetainfo metainfo) =>
        [.. Enumerable.Range(0, metainfo.Files.Count).Where(i => !metainfo.Files[i].IsPadFile)];

    /// <summary>The priorities now, one per file of the metadata: <paramref name="current"/>, or (null) every file normal and every pad skipped.</summary>
    public static int[] Current(TorrentMetainfo metainfo, IReadOnlyList<int>? current) =>
        current is not null && current.Count == metainfo.Files.Count
            ? [.. current]
            : [.. metainfo.Files.Select(f => f.IsPadFile ? FilePriorities.Skip : FilePriorities.Normal)];
}
