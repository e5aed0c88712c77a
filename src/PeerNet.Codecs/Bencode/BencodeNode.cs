using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace PeerNet.Bencode;

/// <summary>
/// A view of one value in a <see cref="BencodeDocument"/>. A default node (<see cref="Exists"/> false) stands
/// for an absent value, so lookups chain without null checks: <c>root["info"]["name"].Exists</c>.
/// </summary>
[DebuggerDisplay("{Kind} at {Offset}")]
public readonly struct BencodeNode
{
    private readonly BencodeDocument? _document;
    private readonly int _index;

    internal BencodeNode(BencodeDocument document, int index)
    {
        _document = document;
        _index = index;
    }

    /// <summary>False for the node of an absent key or list index.</summary>
    public bool Exists => _document is not null;

    /// <summary>The value's type, or <see cref="BencodeKind.None"/> when absent.</summary>
    public BencodeKind Kind => _document is null ? BencodeKind.None : Token.Kind;

    /// <summary>Byte offset of the value in the source.</summary>
    public int Offset => _document is null ? -1 : Token.Start;

    /// <summary>The exact encoded bytes of the value (for a dictionary: from 'd' through 'e').</summary>
    public ReadOnlySpan<byte> RawSpan => _document is null ? default : _document.Source.Span[Token.Start..Token.End];

    /// <summary>The exact encoded bytes of the value, as memory over the source.</summary>
    public ReadOnlyMemory<byte> RawMemory => _document is null ? default : _document.Source[Token.Start..Token.End];

    /// <summary>True for a string value.</summary>
    public bool IsString => Kind == BencodeKind.String;

    /// <summary>True for an integer value.</summary>
    public bool IsInteger => Kind == BencodeKind.Integer;

    /// <summary>True for a list.</summary>
    public bool IsList => Kind == BencodeKind.List;

    /// <summary>True for a dictionary.</summary>
    public bool IsDictionary => Kind == BencodeKind.Dictionary;

    private ref readonly BencodeDocument.Token Token => ref _document!.GetToken(_index);

    /// <summary>The bytes of a string value; empty for anything else.</summary>
    public ReadOnlySpan<byte> StringSpan => IsString ? _document!.Source.Span[Token.ValueStart..Token.End] : default;

    /// <summary>The bytes of a string value as memory over the source (no copy); empty for anything else.</summary>
    public ReadOnlyMemory<byte> StringMemory => IsString ? _document!.Source[Token.ValueStart..Token.End] : default;

    /// <summary>Decodes a string value as UTF-8 (invalid sequences become U+FFFD); null for anything else.</summary>
    public string? GetString() => IsString ? Encoding.UTF8.GetString(StringSpan) : null;

    /// <summary>Whether the string value equals <paramref name="ascii"/>.</summary>
    public bool StringEquals(ReadOnlySpan<byte> ascii) => IsString && StringSpan.SequenceEqual(ascii);

    /// <summary>
    /// Reads an integer value. False for anything else, and for an integer past the signed 64-bit range (only a
    /// .torrent, read leniently, keeps one).
    /// </summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (!IsInteger)
        {
            return false;
        }

        ref readonly BencodeDocument.Token t = ref Token;
        ReadOnlySpan<byte> text = _document!.Source.Span[t.ValueStart..(t.End - 1)];

        // The parser proved these an optional '-' and digits; a lenient .torrent's may have leading zeros.
        return Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length;
    }

    /// <summary>
    /// Offset of the first thing in this value's bytes that strict bencode forbids and libtorrent calls a soft
    /// error: a leading zero in an integer (<c>i01e</c>; <c>i-0e</c> passes) or in a string length (<c>01:</c>), or
    /// dictionary keys that are unsorted or repeated; -1 if there is none.
    /// </summary>
    internal int FindSoftError() => _document is null ? -1 : _document.FindSoftError(_index);

    /// <summary>Looks up <paramref name="key"/> in a dictionary; an absent node if missing or not a dictionary.</summary>
    public BencodeNode this[ReadOnlySpan<byte> key] => TryGetValue(key, out BencodeNode value) ? value : default;

    /// <summary>Looks up <paramref name="key"/> in a dictionary.</summary>
    public bool TryGetValue(ReadOnlySpan<byte> key, out BencodeNode value)
    {
        value = default;
        if (!IsDictionary)
        {
            return false;
        }

        BencodeDocument document = _document!;
        ReadOnlySpan<byte> source = document.Source.Span;
        int end = Token.Next;
        int i = _index + 1;
        while (i < end)
        {
            ref readonly BencodeDocument.Token k = ref document.GetToken(i);
            if (source[k.ValueStart..k.End].SequenceEqual(key))
            {
                value = new BencodeNode(document, i + 1);
                return true;
            }

            i = document.GetToken(i + 1).Next;
        }

        return false;
    }

    /// <summary>The i-th item of a list; an absent node when out of range or not a list.</summary>
    public BencodeNode this[int index]
    {
        get
        {
            if (!IsList || index < 0)
            {
                return default;
            }

            foreach (BencodeNode item in Items)
            {
                if (index-- == 0)
                {
                    return item;
                }
            }

            return default;
        }
    }

    /// <summary>Number of items in a list, or entries in a dictionary; 0 for anything else.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            if (IsList)
            {
                foreach (BencodeNode _ in Items)
                {
                    n++;
                }
            }
            else if (IsDictionary)
            {
                foreach (KeyValuePair<BencodeNode, BencodeNode> _ in Entries)
                {
                    n++;
                }
            }

            return n;
        }
    }

    /// <summary>The items of a list (nothing for anything else).</summary>
    public ListEnumerable Items => new(this);

    /// <summary>The key/value pairs of a dictionary in document order (nothing for anything else).</summary>
    public DictionaryEnumerable Entries => new(this);

    /// <summary>Writes the value again through <paramref name="writer"/> (canonical re-encoding).</summary>
    public void WriteTo(BencodeWriter writer)
    {
        switch (Kind)
        {
            case BencodeKind.Integer:
                TryGetInt64(out long v);
                writer.WriteInteger(v);
                break;
            case BencodeKind.String:
                writer.WriteString(StringSpan);
                break;
            case BencodeKind.List:
                writer.WriteListStart();
                foreach (BencodeNode item in Items)
                {
                    item.WriteTo(writer);
                }

                writer.WriteEnd();
                break;
            case BencodeKind.Dictionary:
                writer.WriteDictionaryStart();
                foreach (KeyValuePair<BencodeNode, BencodeNode> entry in Entries)
                {
                    writer.WriteString(entry.Key.StringSpan);
                    entry.Value.WriteTo(writer);
                }

                writer.WriteEnd();
                break;
            default:
                ThrowHelper.ThrowInvalidOperation("An absent node has no encoding.");
                break;
        }
    }

    internal int NextIndex => Token.Next;

    internal int Index => _index;

    internal BencodeDocument? Document => _document;

    /// <summary>Enumerates the items of a list without allocating.</summary>
    public readonly struct ListEnumerable(BencodeNode list)
    {
        /// <summary>Returns the enumerator.</summary>
        public ListEnumerator GetEnumerator() => new(list);
    }

    /// <summary>Walks a list's items through their sibling links.</summary>
    public struct ListEnumerator
    {
        private readonly BencodeDocument? _document;
        private readonly int _end;
        private int _next;

        internal ListEnumerator(BencodeNode list)
        {
            if (list.IsList)
            {
                _document = list.Document;
                _end = list.NextIndex;
                _next = list.Index + 1;
            }
        }

        /// <summary>The current item.</summary>
        public BencodeNode Current { get; private set; }

        /// <summary>Advances to the next item.</summary>
        public bool MoveNext()
        {
            if (_document is null || _next >= _end)
            {
                return false;
            }

            Current = new BencodeNode(_document, _next);
            _next = _document.GetToken(_next).Next;
            return true;
        }
    }

    /// <summary>Enumerates the entries of a dictionary without allocating.</summary>
    public readonly struct DictionaryEnumerable(BencodeNode dictionary)
    {
        /// <summary>Returns the enumerator.</summary>
        public DictionaryEnumerator GetEnumerator() => new(dictionary);
    }

    /// <summary>Walks a dictionary's key/value pairs.</summary>
    public struct DictionaryEnumerator
    {
        private readonly BencodeDocument? _document;
        private readonly int _end;
        private int _next;

        internal DictionaryEnumerator(BencodeNode dictionary)
        {
            if (dictionary.IsDictionary)
            {
                _document = dictionary.Document;
                _end = dictionary.NextIndex;
                _next = dictionary.Index + 1;
            }
        }

        /// <summary>The current key (a string node) and value.</summary>
        public KeyValuePair<BencodeNode, BencodeNode> Current { get; private set; }

        /// <summary>Advances to the next entry.</summary>
        public bool MoveNext()
        {
            if (_document is null || _next >= _end)
            {
                return false;
            }

            int value = _next + 1;
            Current = new KeyValuePair<BencodeNode, BencodeNode>(new BencodeNode(_document, _next), new BencodeNode(_document, value));
            _next = _document.GetToken(value).Next;
            return true;
        }
    }
}
