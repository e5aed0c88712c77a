using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="BencodeDocument"/>: whole and prefix parsing agree; a parsed document re-encodes (through
/// <see cref="BencodeNode.WriteTo"/>) to exactly its input, since only canonical bencode is accepted and
/// <c>WriteTo</c> keeps document order; every key looks up to its own value; and the limits are exact — the
/// document parses under limits equal to its own depth, token count and longest string, and fails with the
/// matching error under any one of them made smaller. The lenient reading of .torrent files
/// (<see cref="BencodeDocument.TryParseTorrent"/>) reads every valid prefix the same, to the same end, and finds no
/// soft error in it but keys out of order.
/// </summary>
public static class BencodeTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        bool whole = BencodeDocument.TryParse(input, out BencodeDocument? document, out BencodeError error);
        bool prefix = BencodeDocument.TryParsePrefix(input, out BencodeDocument? prefixDocument, out int consumed, out BencodeError prefixError);
        CheckLenient(input, prefix ? prefixDocument : null, consumed);
        prefixDocument?.Dispose();
        if (whole)
        {
            Check.That(prefix && consumed == input.Length, "TryParse succeeded but TryParsePrefix did not take the whole input");
        }
        else
        {
            Check.That(error.Code != BencodeErrorCode.None, "TryParse failed with no error code");
            Check.That(error.Offset >= 0 && error.Offset <= input.Length, $"error offset {error.Offset} outside the input");
            if (prefix)
            {
                Check.That(consumed < input.Length, "TryParsePrefix took the whole input that TryParse refused");
                Check.Equal(new BencodeError(BencodeErrorCode.TrailingData, consumed), error, "TryParse error after a valid prefix");
            }
            else
            {
                Check.Equal(prefixError, error, "TryParse and TryParsePrefix errors");
            }

            return;
        }

        Check.That(document is not null, "TryParse succeeded with no document");
        using (document)
        {
            var shape = new Shape();
            Walk(document.Root, 0, ref shape);
            Check.Equal(document.TokenCount, shape.Tokens, "token count");

            var output = new ArrayBufferWriter<byte>(input.Length);
            document.Root.WriteTo(new BencodeWriter(output));
            Check.Bytes(input, output.WrittenSpan, "WriteTo re-encoding");

            CheckLimits(input, shape);
        }
    }

    private static void CheckLenient(byte[] input, BencodeDocument? strict, int consumed)
    {
        bool lenient = BencodeDocument.TryParseTorrent(input, out BencodeDocument? document, out int lenientConsumed, out BencodeError error);
        using (document)
        {
            Check.That(lenient || error.Code != BencodeErrorCode.None, "TryParseTorrent failed with no error code");
            if (strict is null)
            {
                return;
            }

            Check.That(lenient, $"TryParseTorrent refused a valid prefix: {error}");
            Check.Equal(consumed, lenientConsumed, "end of the root value, strict and lenient");
            Check.Equal(strict.TokenCount, document!.TokenCount, "token count, strict and lenient");
            // Strict bencode has no leading zero, but may have keys out of order (only repeats are refused): a soft
            // error there can only be a key, which starts with a nonzero digit or is "0:".
            int soft = document.Root.FindSoftError();
            Check.That(soft == -1 || input[soft] is >= (byte)'1' and <= (byte)'9' || input.AsSpan(soft).StartsWith("0:"u8), $"soft error at {soft} in canonical bencode");
        }
    }

    private static void CheckLimits(byte[] input, Shape shape)
    {
        var exact = new BencodeLimits { MaxDepth = Math.Max(1, shape.Depth), MaxTokens = shape.Tokens, MaxStringLength = shape.LongestString };
        Check.That(BencodeDocument.TryParse(input, out BencodeDocument? d, out BencodeError e, exact), $"refused under its own limits: {e}");
        d.Dispose();

        if (shape.Depth > 1)
        {
            ExpectLimitError(input, exact with { MaxDepth = shape.Depth - 1 }, BencodeErrorCode.DepthExceeded);
        }

        if (shape.Tokens > 1)
        {
            ExpectLimitError(input, exact with { MaxTokens = shape.Tokens - 1 }, BencodeErrorCode.TooManyTokens);
        }

        if (shape.LongestString > 0)
        {
            ExpectLimitError(input, exact with { MaxStringLength = shape.LongestString - 1 }, BencodeErrorCode.StringTooLong);
        }
    }

    private static void ExpectLimitError(byte[] input, BencodeLimits limits, BencodeErrorCode expected)
    {
        if (BencodeDocument.TryParse(input, out BencodeDocument? d, out BencodeError e, limits))
        {
            d.Dispose();
            throw new FuzzInvariantException($"parsed under a limit it exceeds ({limits}); expected {expected}");
        }

        Check.Equal(expected, e.Code, "error under a tightened limit");
    }

    private static void Walk(BencodeNode node, int depth, ref Shape shape)
    {
        shape.Tokens++;
        Check.That(node.Exists, "a walked node does not exist");
        ReadOnlySpan<byte> raw = node.RawSpan;
        switch (node.Kind)
        {
            case BencodeKind.Integer:
                Check.That(node.TryGetInt64(out long integer), "an integer node does not read as Int64");
                Check.Bytes(System.Text.Encoding.ASCII.GetBytes($"i{integer}e"), raw, "integer encoding");
                break;
            case BencodeKind.String:
                ReadOnlySpan<byte> s = node.StringSpan;
                shape.LongestString = Math.Max(shape.LongestString, s.Length);
                Check.That(raw.EndsWith(s) && raw[raw.Length - s.Length - 1] == (byte)':', "string payload is not the tail of its encoding");
                break;
            case BencodeKind.List:
                shape.Depth = Math.Max(shape.Depth, depth + 1);
                int count = 0;
                foreach (BencodeNode item in node.Items)
                {
                    if (count < 4)
                    {
                        Check.Equal(item.Offset, node[count].Offset, "list indexer");
                    }

                    count++;
                    Walk(item, depth + 1, ref shape);
                }

                Check.Equal(count, node.Count, "list Count");
                Check.That(!node[count].Exists, "list indexer past the end");
                break;
            case BencodeKind.Dictionary:
                shape.Depth = Math.Max(shape.Depth, depth + 1);
                int entries = 0;
                foreach ((BencodeNode key, BencodeNode value) in node.Entries)
                {
                    entries++;
                    Check.That(key.IsString, "a dictionary key is not a string");
                    Check.That(node.TryGetValue(key.StringSpan, out BencodeNode found) && found.Offset == value.Offset, "a key does not look up to its own value");
                    Walk(key, depth + 1, ref shape);
                    Walk(value, depth + 1, ref shape);
                }

                Check.Equal(entries, node.Count, "dictionary Count");
                break;
            default:
                throw new FuzzInvariantException($"node of kind {node.Kind}");
        }
    }

    private struct Shape
    {
        public int Depth;
        public int Tokens;
        public int LongestString;
    }
}
