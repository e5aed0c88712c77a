using System.Buffers;
using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// A mutable bencode tree for building test torrents, hostile ones included. Writing records each value's
/// byte offset in <see cref="Offset"/>, so a test can check that an error points at the value it names.
/// </summary>
internal abstract class BValue
{
    /// <summary>Where this value started in the last encoding that contained it, or -1.</summary>
    public int Offset { get; set; } = -1;

    public static BStr Str(string text) => new(Encoding.UTF8.GetBytes(text));

    public static BStr Str(byte[] bytes) => new(bytes);

    public static BInt Int(long value) => new(value);

    public static BList List(params BValue[] items)
    {
        var list = new BList();
        list.Items.AddRange(items);
        return list;
    }

    public static BList StrList(params string[] items) => List([.. items.Select(Str)]);

    public static BRaw Raw(string encoded) => new(Encoding.UTF8.GetBytes(encoded));

    public static BRaw Raw(byte[] encoded) => new(encoded);

    /// <summary>Encodes <paramref name="value"/>, recording offsets; dictionaries are key-sorted unless <see cref="BDict.KeepOrder"/>.</summary>
    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new BencodeWriter(buffer);
        Write(value, writer, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(BValue value, BencodeWriter writer, ArrayBufferWriter<byte> buffer)
    {
        value.Offset = buffer.WrittenCount;
        switch (value)
        {
            case BInt i:
                writer.WriteInteger(i.Value);
                break;
            case BStr s:
                writer.WriteString(s.Bytes.AsSpan());
                break;
            case BRaw r:
                writer.WriteRaw(r.Encoded);
                break;
            case BList l:
                writer.WriteListStart();
                foreach (BValue item in l.Items)
                {
                    Write(item, writer, buffer);
                }

                writer.WriteEnd();
                break;
            case BDict d:
                writer.WriteDictionaryStart();
                IEnumerable<KeyValuePair<byte[], BValue>> entries = d.KeepOrder
                    ? d.Entries
                    : d.Entries.OrderBy(e => e.Key, ByteComparer.Instance);
                foreach (KeyValuePair<byte[], BValue> entry in entries)
                {
                    writer.WriteString(entry.Key.AsSpan());
                    Write(entry.Value, writer, buffer);
                }

                writer.WriteEnd();
                break;
            default:
                throw new InvalidOperationException(value.GetType().Name);
        }
    }
}

internal sealed class BInt(long value) : BValue
{
    public long Value { get; } = value;
}

internal sealed class BStr(byte[] bytes) : BValue
{
    public byte[] Bytes { get; } = bytes;
}

/// <summary>Bytes written as they are: broken bencode, or a value of the wrong shape.</summary>
internal sealed class BRaw(byte[] encoded) : BValue
{
    public byte[] Encoded { get; } = encoded;
}

internal sealed class BList : BValue
{
    public List<BValue> Items { get; } = [];
}

internal sealed class BDict : BValue
{
    /// <summary>Entries in insertion order; written sorted unless <see cref="KeepOrder"/>.</summary>
    public List<KeyValuePair<byte[], BValue>> Entries { get; } = [];

    /// <summary>Write the entries in insertion order (hostile: unsorted keys).</summary>
    public bool KeepOrder { get; set; }

    public BValue? this[string key]
    {
        get => Get(Encoding.UTF8.GetBytes(key));
        set => Set(Encoding.UTF8.GetBytes(key), value);
    }

    public BValue? Get(byte[] key) => Entries.FirstOrDefault(e => e.Key.AsSpan().SequenceEqual(key)).Value;

    /// <summary>Adds, replaces (in place) or, for null, removes an entry.</summary>
    public void Set(byte[] key, BValue? value)
    {
        int index = Entries.FindIndex(e => e.Key.AsSpan().SequenceEqual(key));
        if (value is null)
        {
            if (index >= 0)
            {
                Entries.RemoveAt(index);
            }
        }
        else if (index >= 0)
        {
            Entries[index] = new(key, value);
        }
        else
        {
            Entries.Add(new(key, value));
        }
    }

    public BDict With(string key, BValue value)
    {
        this[key] = value;
        return this;
    }
}

internal sealed class ByteComparer : IComparer<byte[]>
{
    public static ByteComparer Instance { get; } = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
