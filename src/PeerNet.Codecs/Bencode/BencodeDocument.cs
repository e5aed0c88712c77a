using System.Buffers;
using System.Runtime.CompilerServices;

namespace PeerNet.Bencode;

/// <summary>
/// A parsed bencode document: a flat array of tokens over the original bytes, walked through
/// <see cref="BencodeNode"/> views. Parsing is iterative (no recursion), checks every limit before it
/// buffers anything, and copies no string: nodes point into the source, so exact byte ranges (an info
/// dictionary, for its info-hash) are always available.
/// </summary>
/// <remarks>
/// The token array is rented from a pool; dispose the document when done with it. Nodes must not be used
/// after their document is disposed.
/// </remarks>
public sealed partial class BencodeDocument : IDisposable
{
    private Token[]? _tokens;

    private BencodeDocument(ReadOnlyMemory<byte> source, Token[] tokens, int count)
    {
        Source = source;
        _tokens = tokens;
        TokenCount = count;
    }

    /// <summary>The bytes the document was parsed from, up to the end of the root value.</summary>
    public ReadOnlyMemory<byte> Source { get; }

    /// <summary>Number of values in the document, keys included.</summary>
    public int TokenCount { get; }

    /// <summary>The root value.</summary>
    public BencodeNode Root => new(this, 0);

    /// <summary>Parses exactly one value that fills <paramref name="data"/>, or throws <see cref="BencodeException"/>.</summary>
    public static BencodeDocument Parse(ReadOnlyMemory<byte> data, BencodeLimits? limits = null)
    {
        if (!TryParse(data, out BencodeDocument? document, out BencodeError error, limits))
        {
            throw new BencodeException(error);
        }

        return document;
    }

    /// <summary>Parses exactly one value that fills <paramref name="data"/>; trailing bytes are an error.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BencodeDocument? document, out BencodeError error, BencodeLimits? limits = null)
    {
        if (!TryParsePrefix(data, out document, out int consumed, out error, limits))
        {
            return false;
        }

        if (consumed != data.Length)
        {
            document.Dispose();
            document = null;
            error = new BencodeError(BencodeErrorCode.TrailingData, consumed);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Parses one value at the start of <paramref name="data"/> and reports how many bytes it took, leaving
    /// the rest (as BEP 9's <c>data</c> message, where raw bytes follow the dictionary).
    /// </summary>
    public static bool TryParsePrefix(ReadOnlyMemory<byte> data, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BencodeDocument? document, out int bytesConsumed, out BencodeError error, BencodeLimits? limits = null)
        => TryParse(data, lenient: false, out document, out bytesConsumed, out error, limits);

    /// <summary>
    /// Parses a .torrent's bencode as libtorrent reads it, and only for that: torrents in the wild carry leading
    /// zeros (<c>i01e</c>, <c>06:</c>), <c>i-0e</c>, repeated keys (the first is used) and bytes after the root
    /// value (ignored: <paramref name="bytesConsumed"/> says where the root ended). Wire formats (KRPC, peer wire,
    /// extension messages, trackers) keep the strict <see cref="TryParse(ReadOnlyMemory{byte}, out BencodeDocument?, out BencodeError, BencodeLimits?)"/>.
    /// Every limit still applies, and node spans stay exact, so an info-hash is still over the bytes as written.
    /// </summary>
    internal static bool TryParseTorrent(ReadOnlyMemory<byte> data, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BencodeDocument? document, out int bytesConsumed, out BencodeError error, BencodeLimits? limits = null)
        => TryParse(data, lenient: true, out document, out bytesConsumed, out error, limits);

    private static bool TryParse(ReadOnlyMemory<byte> data, bool lenient, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BencodeDocument? document, out int bytesConsumed, out BencodeError error, BencodeLimits? limits)
    {
        limits ??= BencodeLimits.Default;
        // Frames for the first 64 levels live on the stack; deeper (hostile or unusual) nesting rents more.
        Span<Frame> frames = stackalloc Frame[Math.Min(limits.MaxDepth, 64)];
        var parser = new Parser(data.Span, limits, frames, lenient);
        try
        {
            error = parser.Run();
            if (error.Code != BencodeErrorCode.None)
            {
                document = null;
                bytesConsumed = 0;
                return false;
            }

            document = new BencodeDocument(data[..parser.Position], parser.TakeTokens(), parser.Count);
            bytesConsumed = parser.Position;
            return true;
        }
        finally
        {
            parser.ReturnBuffers();
        }
    }

    /// <summary>Returns the token array to its pool.</summary>
    public void Dispose()
    {
        Token[]? tokens = _tokens;
        _tokens = null;
        if (tokens is not null)
        {
            ArrayPool<Token>.Shared.Return(tokens);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref readonly Token GetToken(int index)
    {
        Token[]? tokens = _tokens;
        if (tokens is null)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(BencodeDocument));
        }

        return ref tokens[index];
    }

    /// <summary>
    /// One value: where it starts, where its payload starts (string bytes, integer digits) and ends, and the
    /// index of the token after its whole subtree (its next sibling).
    /// </summary>
    internal struct Token
    {
        public int Start;
        public int ValueStart;
        public int End;
        public int Next;
        public BencodeKind Kind;
    }
}
