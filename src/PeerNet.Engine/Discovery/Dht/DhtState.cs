using System.Buffers;
using System.Net;
using PeerNet.Bencode;
using PeerNet.Dht;
using PeerNet.Storage;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// What a node keeps across restarts: its ID, its external address if learnt, and its routing-table nodes, as a
/// small bencoded file (<c>id</c>, <c>ip</c>, <c>nodes</c>, <c>nodes6</c>). Written to a temporary file and
/// renamed over the old one, so a crash never leaves half a file.
/// </summary>
internal sealed record DhtState(NodeId Id, IPAddress? ExternalAddress, IReadOnlyList<DhtContact> Nodes)
{
    /// <summary>Nodes kept at most (a full table is far smaller).</summary>
    public const int MaxNodes = 2000;

    /// <summary>Reads the file, or null when it is missing or unreadable (the node then starts afresh).</summary>
    public static DhtState? Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 256 * 1024)
            {
                return null;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (!BencodeDocument.TryParse(bytes, out BencodeDocument? document, out _, new BencodeLimits { MaxDepth = 2, MaxTokens = 16 }))
        {
            return null;
        }

        using (document)
        {
            BencodeNode root = document.Root;
            ReadOnlySpan<byte> id = root["id"u8].StringSpan;
            ReadOnlySpan<byte> ip = root["ip"u8].StringSpan;
            ReadOnlySpan<byte> nodes = root["nodes"u8].StringSpan;
            ReadOnlySpan<byte> nodes6 = root["nodes6"u8].StringSpan;
            if (id.Length != NodeId.Length || ip.Length is not (0 or 4 or 16)
                || nodes.Length % DhtContact.V4Length != 0 || nodes6.Length % DhtContact.V6Length != 0)
            {
                return null;
            }

            var all = DhtContact.ReadList(nodes, DhtContact.V4Length);
            all.AddRange(DhtContact.ReadList(nodes6, DhtContact.V6Length));
            return new DhtState(new NodeId(id), ip.IsEmpty ? null : new IPAddress(ip), all.Take(MaxNodes).ToList());
        }
    }

    /// <summary>Writes the file: a temporary file beside it, then a rename over it.</summary>
    public void Save(string path)
    {
        var output = new ArrayBufferWriter<byte>(4096);
        var w = new BencodeWriter(output);
        w.WriteDictionaryStart();
        w.WriteString("id"u8);
        w.WriteString(Id.ToArray());
        if (ExternalAddress is not null)
        {
            w.WriteString("ip"u8);
            w.WriteString(ExternalAddress.GetAddressBytes());
        }

        WriteNodes(w, "nodes"u8, Nodes.Where(n => n.IsV4).Take(MaxNodes).ToList(), DhtContact.V4Length);
        WriteNodes(w, "nodes6"u8, Nodes.Where(n => !n.IsV4).Take(MaxNodes).ToList(), DhtContact.V6Length);
        w.WriteEnd();

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        // Opened as storage opens files: a link planted at the temporary file's name is refused, not followed.
        string temporary = path + ".tmp";
        using (IStorageFile file = PhysicalFileSystem.Buffered.OpenFile(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(output.WrittenSpan, 0);
        }

        PhysicalFileSystem.Buffered.MoveFile(temporary, path);
    }

    private static void WriteNodes(BencodeWriter w, ReadOnlySpan<byte> key, List<DhtContact> nodes, int entryLength)
    {
        var compact = new byte[nodes.Count * entryLength];
        int at = 0;
        foreach (DhtContact node in nodes)
        {
            at += node.Write(compact.AsSpan(at));
        }

        w.WriteString(key);
        w.WriteString(compact);
    }
}
