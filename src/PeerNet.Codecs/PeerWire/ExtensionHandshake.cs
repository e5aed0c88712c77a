using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;
using PeerNet.Bencode;

namespace PeerNet.PeerWire;

/// <summary>
/// The BEP 10 extension handshake: the dictionary sent as extended message 0 by peers that set the extension
/// bit. Parsing is liberal, as libtorrent is: unknown keys are ignored, and a known key whose value has the
/// wrong type or is out of range is treated as absent. Only a payload that is not a bencoded dictionary, or
/// one naming more extensions than <see cref="MaxExtensions"/>, is refused.
/// </summary>
internal sealed class ExtensionHandshake
{
    /// <summary>The extended message id of the handshake itself.</summary>
    public const byte MessageId = 0;

    /// <summary>Most entries accepted in <c>m</c>; real clients send about ten.</summary>
    public const int MaxExtensions = 64;

    /// <summary>Longest extension name kept, in bytes; longer names are ignored.</summary>
    public const int MaxExtensionNameLength = 64;

    /// <summary>Longest client name (<c>v</c>) kept, in UTF-8 bytes; a longer one is ignored.</summary>
    public const int MaxClientNameLength = 128;

    /// <summary>Largest <c>metadata_size</c> accepted (BEP 9): 64 MiB, as <see cref="Metainfo.MetainfoLimits.MaxTorrentSize"/>.</summary>
    public const int MaxMetadataSize = 64 * 1024 * 1024;

    private static readonly IReadOnlyDictionary<string, byte> NoMessages = new Dictionary<string, byte>();

    /// <summary>
    /// <c>m</c>: extension name → the extended message id the sender wants to receive it on. Id 0 means the
    /// sender disables that extension (BEP 10: in a later handshake, to turn it off).
    /// </summary>
    public IReadOnlyDictionary<string, byte> Messages { get; init; } = NoMessages;

    /// <summary>
    /// <c>v</c>: client name and version, e.g. "libtorrent 2.0.11". Only ever shown, so a received one has its control
    /// and bidi characters replaced (<see cref="DisplayText"/>) as it is read.
    /// </summary>
    public string? ClientName { get; init; }

    /// <summary><c>p</c>: the sender's listen port (1–65535).</summary>
    public int? ListenPort { get; init; }

    /// <summary><c>reqq</c>: how many outstanding requests the sender queues without dropping (≥ 1).</summary>
    public int? RequestQueueLength { get; init; }

    /// <summary><c>yourip</c>: the receiver's address as the sender sees it (4 or 16 bytes).</summary>
    public IPAddress? YourIp { get; init; }

    /// <summary><c>ipv4</c>: the sender's own IPv4 address.</summary>
    public IPAddress? Ipv4 { get; init; }

    /// <summary><c>ipv6</c>: the sender's own IPv6 address.</summary>
    public IPAddress? Ipv6 { get; init; }

    /// <summary>BEP 9 <c>metadata_size</c>: size of the info dictionary (1 to <see cref="MaxMetadataSize"/>).</summary>
    public int? MetadataSize { get; init; }

    /// <summary>BEP 21 <c>upload_only</c>: the sender will not download (a seed or partial seed).</summary>
    public bool? UploadOnly { get; init; }

    /// <summary>The id the sender assigned to <paramref name="name"/>, or 0 when it did not offer it.</summary>
    public byte GetMessageId(string name) => Messages.TryGetValue(name, out byte id) ? id : (byte)0;

    /// <summary>Parses the payload of extended message 0 (after the extended id byte).</summary>
    public static bool TryParse(in ReadOnlySequence<byte> payload, [NotNullWhen(true)] out ExtensionHandshake? handshake, out PeerWireError error)
    {
        handshake = null;
        ReadOnlyMemory<byte> data = SequenceReading.Contiguous(payload, out byte[]? rented);
        try
        {
            if (!ExtensionPayload.TryParseDictionary(data, out BencodeDocument? document, out _, out error))
            {
                return false;
            }

            using (document)
            {
                return TryRead(document.Root, out handshake, out error);
            }
        }
        finally
        {
            SequenceReading.Return(rented);
        }
    }

    /// <summary>Writes the bencoded dictionary (the payload after the extended id), keys in sorted order.</summary>
    public void WritePayload(IBufferWriter<byte> output)
    {
        var w = new BencodeWriter(output);
        w.WriteDictionaryStart();
        if (Ipv4 is not null)
        {
            w.WriteString("ipv4"u8);
            WriteAddress(w, Ipv4, AddressFamily.InterNetwork);
        }

        if (Ipv6 is not null)
        {
            w.WriteString("ipv6"u8);
            WriteAddress(w, Ipv6, AddressFamily.InterNetworkV6);
        }

        w.WriteString("m"u8);
        WriteMessages(w);
        if (MetadataSize is { } metadataSize)
        {
            w.WriteString("metadata_size"u8);
            w.WriteInteger(metadataSize);
        }

        if (ListenPort is { } port)
        {
            w.WriteString("p"u8);
            w.WriteInteger(port);
        }

        if (RequestQueueLength is { } reqq)
        {
            w.WriteString("reqq"u8);
            w.WriteInteger(reqq);
        }

        if (UploadOnly is { } uploadOnly)
        {
            w.WriteString("upload_only"u8);
            w.WriteInteger(uploadOnly ? 1 : 0);
        }

        if (ClientName is not null)
        {
            w.WriteString("v"u8);
            w.WriteString(ClientName);
        }

        if (YourIp is not null)
        {
            w.WriteString("yourip"u8);
            WriteAddress(w, YourIp, YourIp.AddressFamily);
        }

        w.WriteEnd();
    }

    /// <summary>Writes the whole peer-wire message: length prefix, id 20, extended id 0, payload.</summary>
    public void WriteMessage(IBufferWriter<byte> output)
    {
        using var payload = new PooledBufferWriter();
        WritePayload(payload);
        PeerMessageWriter.WriteExtended(output, MessageId, payload.WrittenSpan);
    }

    private static bool TryRead(BencodeNode root, out ExtensionHandshake? handshake, out PeerWireError error)
    {
        handshake = null;
        Dictionary<string, byte>? messages = null;
        BencodeNode m = root["m"u8];
        if (m.IsDictionary)
        {
            messages = new Dictionary<string, byte>(StringComparer.Ordinal);
            int count = 0;
            foreach ((BencodeNode key, BencodeNode value) in m.Entries)
            {
                if (++count > MaxExtensions)
                {
                    error = PeerWireError.TooManyExtensions;
                    return false;
                }

                // A name that is not UTF-8 names no extension anyone implements (they are ASCII), and decoding it
                // lossily would merge distinct names and make one up to three times longer than the limit it passed.
                ReadOnlySpan<byte> name = key.StringSpan;
                if (name.Length is > 0 and <= MaxExtensionNameLength && Utf8.IsValid(name) && ExtensionPayload.GetInteger(value, 0, byte.MaxValue) is { } id)
                {
                    messages[Encoding.UTF8.GetString(name)] = (byte)id;
                }
            }
        }

        BencodeNode v = root["v"u8];
        handshake = new ExtensionHandshake
        {
            Messages = messages ?? NoMessages,
            ClientName = ReadClientName(v),
            ListenPort = (int?)ExtensionPayload.GetInteger(root["p"u8], 1, ushort.MaxValue),
            RequestQueueLength = (int?)ExtensionPayload.GetInteger(root["reqq"u8], 1, int.MaxValue),
            YourIp = ReadAddress(root["yourip"u8], 4, 16),
            Ipv4 = ReadAddress(root["ipv4"u8], 4, 4),
            Ipv6 = ReadAddress(root["ipv6"u8], 16, 16),
            MetadataSize = (int?)ExtensionPayload.GetInteger(root["metadata_size"u8], 1, MaxMetadataSize),
            UploadOnly = ExtensionPayload.GetInteger(root["upload_only"u8], long.MinValue, long.MaxValue) is { } u ? u != 0 : null,
        };
        error = PeerWireError.None;
        return true;
    }

    private static string? ReadClientName(BencodeNode v)
    {
        if (!v.IsString || v.StringSpan.Length > MaxClientNameLength)
        {
            return null;
        }

        // Invalid UTF-8 decodes to U+FFFD, three bytes each, and so does a replaced control (DEL and C1 were one
        // or two): keep the name only if it still fits the limit, so the handshake written back (WritePayload) is
        // one this parser reads the same.
        string name = DisplayText.Sanitize(v.GetString()!);
        return Encoding.UTF8.GetByteCount(name) <= MaxClientNameLength ? name : null;
    }

    private static IPAddress? ReadAddress(BencodeNode node, int length1, int length2)
    {
        ReadOnlySpan<byte> bytes = node.StringSpan;
        return node.IsString && (bytes.Length == length1 || bytes.Length == length2) ? new IPAddress(bytes) : null;
    }

    private static void WriteAddress(BencodeWriter w, IPAddress address, AddressFamily family)
    {
        if (address.AddressFamily != family)
        {
            ThrowHelper.ThrowArgument(nameof(address), $"Expected an {family} address.");
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        w.WriteString(bytes[..written]);
    }

    private void WriteMessages(BencodeWriter w)
    {
        if (Messages.Count > MaxExtensions)
        {
            ThrowHelper.ThrowInvalidOperation($"At most {MaxExtensions} extensions may be offered.");
        }

        // BEP 3: keys sorted as raw byte strings, so sort the UTF-8 encodings, not the UTF-16 strings.
        var entries = new (byte[] Name, byte Id)[Messages.Count];
        int i = 0;
        foreach ((string name, byte id) in Messages)
        {
            entries[i++] = (Encoding.UTF8.GetBytes(name), id);
        }

        Array.Sort(entries, static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        w.WriteDictionaryStart();
        foreach ((byte[] name, byte id) in entries)
        {
            w.WriteString(name);
            w.WriteInteger(id);
        }

        w.WriteEnd();
    }
}
