using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

public sealed class BencodeNodeTests
{
    // Keys sorted: info < list < neg < num < text.
    private const string Sample =
        "d4:infod6:lengthi12e4:name5:a.txte4:listli1e3:twoledee3:negi-9223372036854775808e3:numi42e4:text7:h\u00c3\u00a9llo e";

    private static BencodeDocument ParseSample() => BencodeDocument.Parse(B.Bytes(Sample));

    [Fact]
    public void Root_IsTheWholeDictionary()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode root = document.Root;
        Assert.True(root.Exists);
        Assert.True(root.IsDictionary);
        Assert.False(root.IsList || root.IsString || root.IsInteger);
        Assert.Equal(BencodeKind.Dictionary, root.Kind);
        Assert.Equal(0, root.Offset);
        Assert.Equal(5, root.Count);
        Assert.Equal(Sample, B.Text(root.RawSpan));
        Assert.Equal(Sample, B.Text(root.RawMemory.Span));
    }

    [Fact]
    public void DictionaryIndexer_FindsValuesByKey()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode root = document.Root;

        Assert.True(root["num"u8].TryGetInt64(out long num));
        Assert.Equal(42, num);
        Assert.True(root["neg"u8].TryGetInt64(out long neg));
        Assert.Equal(long.MinValue, neg);
        Assert.Equal("a.txt", root["info"u8]["name"u8].GetString());
        Assert.True(root["info"u8]["length"u8].TryGetInt64(out long length));
        Assert.Equal(12, length);
        Assert.True(root.TryGetValue("list"u8, out BencodeNode list));
        Assert.True(list.IsList);
        Assert.False(root.TryGetValue("lis"u8, out BencodeNode missing));
        Assert.False(missing.Exists);
    }

    [Fact]
    public void DictionaryIndexer_KeyEqualToAValueIsNotFound()
    {
        // "a.txt" and "two" are values, not keys; lookups must only compare keys.
        using BencodeDocument document = BencodeDocument.Parse(B.Bytes("d1:a1:b1:bi1ee"));
        Assert.True(document.Root["b"u8].IsInteger);
        Assert.True(document.Root["a"u8].StringEquals("b"u8));
        Assert.False(document.Root["i1e"u8].Exists);
    }

    [Fact]
    public void Strings_ExposeBytesAndUtf8Text()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode text = document.Root["text"u8];
        Assert.True(text.IsString);
        Assert.Equal("h\u00e9llo ", text.GetString());
        Assert.True(text.StringSpan.SequenceEqual("h\u00e9llo "u8));
        Assert.True(text.StringMemory.Span.SequenceEqual("h\u00e9llo "u8));
        Assert.True(text.StringEquals("h\u00e9llo "u8));
        Assert.False(text.StringEquals("h\u00e9llo"u8));
        Assert.Equal("7:h\u00c3\u00a9llo ", B.Text(text.RawSpan));
        Assert.False(text.TryGetInt64(out _));
    }

    [Fact]
    public void GetString_InvalidUtf8_BecomesReplacementCharacter()
    {
        using BencodeDocument document = BencodeDocument.Parse(B.Bytes("2:a\u00ff"));
        Assert.Equal("a\ufffd", document.Root.GetString());
        Assert.Equal(2, document.Root.StringSpan.Length);
    }

    [Fact]
    public void Lists_EnumerateAndIndex()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode list = document.Root["list"u8];
        Assert.Equal(4, list.Count);

        var kinds = new List<BencodeKind>();
        foreach (BencodeNode item in list.Items)
        {
            kinds.Add(item.Kind);
        }

        Assert.Equal([BencodeKind.Integer, BencodeKind.String, BencodeKind.List, BencodeKind.Dictionary], kinds);
        Assert.True(list[0].TryGetInt64(out long one));
        Assert.Equal(1, one);
        Assert.Equal("two", list[1].GetString());
        Assert.Equal(0, list[2].Count);
        Assert.True(list[2].IsList);
        Assert.Equal(0, list[3].Count);
        Assert.True(list[3].IsDictionary);
        Assert.False(list[4].Exists);
        Assert.False(list[-1].Exists);
        Assert.False(list[int.MaxValue].Exists);
    }

    [Fact]
    public void Entries_AreInDocumentOrderWithOffsets()
    {
        using BencodeDocument document = ParseSample();
        var keys = new List<string>();
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in document.Root.Entries)
        {
            Assert.True(entry.Key.IsString);
            Assert.True(entry.Value.Exists);
            Assert.Equal(entry.Key.Offset + entry.Key.RawSpan.Length, entry.Value.Offset);
            keys.Add(entry.Key.GetString()!);
        }

        Assert.Equal(["info", "list", "neg", "num", "text"], keys);
    }

    [Fact]
    public void Offsets_PointAtTheValueInTheSource()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode info = document.Root["info"u8];
        Assert.Equal(7, info.Offset);
        Assert.Equal(Sample.IndexOf("4:list", StringComparison.Ordinal) + 6, document.Root["list"u8].Offset);
    }

    [Fact]
    public void AbsentNodes_ChainWithoutThrowing()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode absent = document.Root["nope"u8]["deeper"u8][3]["x"u8];
        Assert.False(absent.Exists);
        Assert.Equal(BencodeKind.None, absent.Kind);
        Assert.Equal(-1, absent.Offset);
        Assert.True(absent.RawSpan.IsEmpty);
        Assert.True(absent.RawMemory.IsEmpty);
        Assert.True(absent.StringSpan.IsEmpty);
        Assert.True(absent.StringMemory.IsEmpty);
        Assert.Null(absent.GetString());
        Assert.False(absent.StringEquals(""u8));
        Assert.False(absent.TryGetInt64(out _));
        Assert.Equal(0, absent.Count);
        Assert.False(absent.TryGetValue("x"u8, out _));
        foreach (BencodeNode unused in absent.Items)
        {
            Assert.Fail("an absent node has no items");
        }

        foreach (KeyValuePair<BencodeNode, BencodeNode> unused in absent.Entries)
        {
            Assert.Fail("an absent node has no entries");
        }

        Assert.False(default(BencodeNode).Exists);
        Assert.Throws<InvalidOperationException>(() => B.ReEncode(absent));
    }

    [Fact]
    public void WrongKindAccess_GivesAbsentOrEmpty()
    {
        using BencodeDocument document = ParseSample();
        BencodeNode list = document.Root["list"u8];
        BencodeNode num = document.Root["num"u8];
        Assert.False(list["x"u8].Exists);
        Assert.False(document.Root[0].Exists);
        Assert.False(num[0].Exists);
        Assert.False(num["x"u8].Exists);
        Assert.Equal(0, num.Count);
        Assert.True(num.StringSpan.IsEmpty);
        Assert.Null(num.GetString());
        Assert.False(list.TryGetInt64(out _));
        foreach (BencodeNode unused in document.Root.Items)
        {
            Assert.Fail("a dictionary has no list items");
        }

        foreach (KeyValuePair<BencodeNode, BencodeNode> unused in list.Entries)
        {
            Assert.Fail("a list has no dictionary entries");
        }
    }

    [Fact]
    public void RawSpan_OfInfoDictionary_IsTheExactSourceBytesEvenWhenKeysAreUnsorted()
    {
        // Not canonical: "name" before "length", "z" before "a" at the top. The info-hash must cover the bytes as sent.
        const string Info = "d4:name1:x6:lengthi1e5:piecei0ee";
        string torrent = "d1:zi0e4:info" + Info + "1:ai1ee";
        byte[] source = B.Bytes(torrent);
        using BencodeDocument document = BencodeDocument.Parse(source);
        BencodeNode info = document.Root["info"u8];
        Assert.Equal(Info, B.Text(info.RawSpan));
        Assert.Equal(torrent.IndexOf(Info, StringComparison.Ordinal), info.Offset);
        Assert.True(info.RawMemory.Span.SequenceEqual(source.AsSpan(info.Offset, Info.Length)));
        Assert.True(info["length"u8].TryGetInt64(out long length));
        Assert.Equal(1, length);
    }

    [Fact]
    public void RawSpan_OfDocumentParsedFromASlice_IsRelativeToTheSlice()
    {
        byte[] buffer = B.Bytes("JUNKd4:infod1:ai1eee MORE");
        using BencodeDocument document = BencodeDocument.Parse(buffer.AsMemory(4, 16));
        BencodeNode info = document.Root["info"u8];
        Assert.Equal("d1:ai1ee", B.Text(info.RawSpan));
        Assert.Equal(7, info.Offset);
    }

    [Fact]
    public void TryGetInt64_ReadsBoundaryValues()
    {
        foreach (long value in new[] { 0L, 1L, -1L, 10L, -10L, long.MaxValue, long.MinValue, long.MinValue + 1 })
        {
            using BencodeDocument document = BencodeDocument.Parse(B.Write(w => w.WriteInteger(value)));
            Assert.True(document.Root.TryGetInt64(out long read));
            Assert.Equal(value, read);
        }
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        BencodeDocument document = ParseSample();
        BencodeNode root = document.Root;
        BencodeNode list = root["list"u8];
        document.Dispose();

        Assert.Throws<ObjectDisposedException>(() => root.Kind);
        Assert.Throws<ObjectDisposedException>(() => root["num"u8]);
        Assert.Throws<ObjectDisposedException>(() => root.RawSpan.Length);
        Assert.Throws<ObjectDisposedException>(() => list.Count);
        Assert.Throws<ObjectDisposedException>(() => list[0]);
        Assert.Throws<ObjectDisposedException>(() => document.Root.IsDictionary);
        Assert.Throws<ObjectDisposedException>(() => B.ReEncode(root));

        // Disposing twice is harmless.
        document.Dispose();
    }

    [Fact]
    public void Dispose_WhileEnumerating_ThrowsObjectDisposed()
    {
        BencodeDocument document = ParseSample();
        BencodeNode.ListEnumerator items = document.Root["list"u8].Items.GetEnumerator();
        Assert.True(items.MoveNext());
        document.Dispose();
        Assert.Throws<ObjectDisposedException>(() => items.MoveNext());
    }

    [Fact]
    public void WriteTo_ReencodesTheCanonicalSampleByteForByte()
    {
        using BencodeDocument document = ParseSample();
        Assert.Equal(Sample, B.Text(B.ReEncode(document.Root)));
        Assert.Equal("d6:lengthi12e4:name5:a.txte", B.Text(B.ReEncode(document.Root["info"u8])));
    }
}
