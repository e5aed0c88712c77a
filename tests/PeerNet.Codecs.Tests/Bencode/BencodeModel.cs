using CsCheck;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>A test-only model of a bencode value: what the parser should find, independent of its token array.</summary>
internal abstract record BValue
{
    /// <summary>Values in the tree, keys included (what <see cref="BencodeDocument.TokenCount"/> counts).</summary>
    public abstract int TokenCount { get; }

    public abstract void Write(BencodeWriter writer);

    public byte[] Encode() => B.Write(Write);

    public override string ToString() => B.Text(Encode());
}

internal sealed record BInt(long Value) : BValue
{
    public override int TokenCount => 1;

    public override void Write(BencodeWriter writer) => writer.WriteInteger(Value);
}

internal sealed record BStr(byte[] Value) : BValue
{
    public override int TokenCount => 1;

    public override void Write(BencodeWriter writer) => writer.WriteString(Value);
}

internal sealed record BList(BValue[] Items) : BValue
{
    public override int TokenCount => 1 + Items.Sum(static i => i.TokenCount);

    public override void Write(BencodeWriter writer)
    {
        writer.WriteListStart();
        foreach (BValue item in Items)
        {
            item.Write(writer);
        }

        writer.WriteEnd();
    }
}

/// <summary>Keys are unique; <see cref="Canonical"/> also sorts them as raw bytes, as BEP 3 requires of writers.</summary>
internal sealed record BDict((byte[] Key, BValue Value)[] Entries) : BValue
{
    public override int TokenCount => 1 + Entries.Sum(static e => 1 + e.Value.TokenCount);

    public override void Write(BencodeWriter writer)
    {
        writer.WriteDictionaryStart();
        foreach ((byte[] key, BValue value) in Entries)
        {
            writer.WriteString(key);
            value.Write(writer);
        }

        writer.WriteEnd();
    }

    public static BDict Canonical(IEnumerable<(byte[] Key, BValue Value)> entries)
    {
        var unique = new List<(byte[] Key, BValue Value)>();
        foreach ((byte[] key, BValue value) in entries)
        {
            if (!unique.Exists(e => e.Key.AsSpan().SequenceEqual(key)))
            {
                unique.Add((key, value));
            }
        }

        unique.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        return new BDict([.. unique]);
    }
}

internal static class BModel
{
    /// <summary>Strings: usually short and drawn from bytes that look like bencode syntax, sometimes any bytes.</summary>
    public static readonly Gen<byte[]> String = Gen.Frequency<byte[]>(
        (3, Gen.OneOf("ilde0123456789:-xyz"u8.ToArray()).Array[0, 6]),
        (1, Gen.Byte.Array[0, 40]));

    /// <summary>Keys from a tiny alphabet so dictionaries often draw the same key twice (and must drop one).</summary>
    public static readonly Gen<byte[]> Key = Gen.OneOf("abe:0"u8.ToArray()).Array[0, 3];

    public static readonly Gen<long> Integer = Gen.Frequency<long>(
        (2, Gen.Long),
        (2, Gen.Long[-1000, 1000]),
        (1, Gen.OneOf(0L, -1L, long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1)));

    public static readonly Gen<BValue> Scalar = Gen.OneOf<BValue>(
        Integer.Select(static v => (BValue)new BInt(v)),
        String.Select(static s => (BValue)new BStr(s)));

    /// <summary>Value trees nested at most <paramref name="depth"/> containers deep.</summary>
    public static Gen<BValue> Value(int depth)
    {
        if (depth == 0)
        {
            return Scalar;
        }

        Gen<BValue> inner = Value(depth - 1);
        Gen<BValue> list = inner.Array[0, 5].Select(static items => (BValue)new BList(items));
        Gen<BValue> dict = Gen.Select(Key, inner).Array[0, 6]
            .Select(static pairs => (BValue)BDict.Canonical(pairs.Select(static p => (p.Item1, p.Item2))));
        return Gen.Frequency<BValue>((2, Scalar), (1, list), (1, dict));
    }

    /// <summary>Asserts that <paramref name="node"/> holds exactly <paramref name="model"/>.</summary>
    public static void AssertMatches(BValue model, BencodeNode node)
    {
        Assert.True(node.Exists);
        switch (model)
        {
            case BInt i:
                Assert.Equal(BencodeKind.Integer, node.Kind);
                Assert.True(node.TryGetInt64(out long v));
                Assert.Equal(i.Value, v);
                break;
            case BStr s:
                Assert.Equal(BencodeKind.String, node.Kind);
                Assert.True(node.StringSpan.SequenceEqual(s.Value));
                break;
            case BList l:
                Assert.Equal(BencodeKind.List, node.Kind);
                Assert.Equal(l.Items.Length, node.Count);
                int n = 0;
                foreach (BencodeNode item in node.Items)
                {
                    AssertMatches(l.Items[n++], item);
                }

                Assert.Equal(l.Items.Length, n);
                break;
            case BDict d:
                Assert.Equal(BencodeKind.Dictionary, node.Kind);
                Assert.Equal(d.Entries.Length, node.Count);
                int k = 0;
                foreach (KeyValuePair<BencodeNode, BencodeNode> entry in node.Entries)
                {
                    Assert.True(entry.Key.StringSpan.SequenceEqual(d.Entries[k].Key));
                    AssertMatches(d.Entries[k].Value, entry.Value);
                    AssertMatches(d.Entries[k].Value, node[d.Entries[k].Key]);
                    k++;
                }

                Assert.Equal(d.Entries.Length, k);
                break;
            default:
                Assert.Fail("unknown model type");
                break;
        }
    }
}
