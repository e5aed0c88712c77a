using System.Buffers;

namespace PeerNet.Bencode;

public sealed partial class BencodeDocument
{
    /// <summary>
    /// The iterative parser. Open containers live on an explicit stack bounded by
    /// <see cref="BencodeLimits.MaxDepth"/>, so hostile nesting cannot overflow the call stack.
    /// </summary>
    /// <remarks>
    /// Lenient parsing (.torrent files only, <see cref="TryParseTorrent"/>) reads what libtorrent's bdecode reads:
    /// leading zeros in integers and string lengths, <c>-0</c>, up to 20 digits (a value past 64 bits stays in the
    /// document but reads as no integer), repeated keys (lookups find the first). Every limit still holds.
    /// </remarks>
    private ref partial struct Parser
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly BencodeLimits _limits;
        private readonly bool _lenient;
        private Token[] _tokens;
        private Span<Frame> _frames;   // one per open container; starts on the caller's stack
        private Frame[]? _rentedFrames;
        private int _depth;

        public Parser(ReadOnlySpan<byte> data, BencodeLimits limits, Span<Frame> frames, bool lenient)
        {
            _data = data;
            _limits = limits;
            _lenient = lenient;

            // Every value takes at least two bytes, so this never rents more than the input could need; a
            // typical .torrent (a few hundred values, most bytes in 'pieces') fits without growing.
            _tokens = ArrayPool<Token>.Shared.Rent(Math.Clamp(data.Length / 8, 16, 4096));
            _frames = frames;
            _rentedFrames = null;
            _depth = 0;
            Count = 0;
            Position = 0;
        }

        public int Count { get; private set; }

        public int Position { get; private set; }

        public Token[] TakeTokens()
        {
            Token[] tokens = _tokens;
            _tokens = [];
            return tokens;
        }

        public readonly void ReturnBuffers()
        {
            if (_tokens.Length > 0)
            {
                ArrayPool<Token>.Shared.Return(_tokens);
            }

            if (_rentedFrames is not null)
            {
                ArrayPool<Frame>.Shared.Return(_rentedFrames);
            }
        }

        public BencodeError Run()
        {
            ReadOnlySpan<byte> data = _data;
            int pos = 0;
            do
            {
                if (pos >= data.Length)
                {
                    return Fail(BencodeErrorCode.UnexpectedEnd, pos);
                }

                byte c = data[pos];
                if (c == (byte)'e' && _depth > 0)
                {
                    BencodeError closeError = CloseContainer(pos);
                    if (closeError.Code != BencodeErrorCode.None)
                    {
                        return closeError;
                    }

                    pos++;
                    continue;
                }

                bool isKey = false;
                if (_depth > 0)
                {
                    int top = _depth - 1;
                    ref Frame frame = ref _frames[top];
                    isKey = frame.IsDictionary && (frame.Children & 1) == 0;
                    if (isKey && (uint)(c - '0') > 9)
                    {
                        return Fail(BencodeErrorCode.KeyNotString, pos);
                    }

                    frame.Children++;
                }

                if (Count >= _limits.MaxTokens)
                {
                    return Fail(BencodeErrorCode.TooManyTokens, pos);
                }

                BencodeError error;
                switch (c)
                {
                    case (byte)'i':
                        error = ReadInteger(ref pos);
                        break;
                    case (byte)'l':
                    case (byte)'d':
                        error = OpenContainer(c == (byte)'l' ? BencodeKind.List : BencodeKind.Dictionary, ref pos);
                        break;
                    case >= (byte)'0' and <= (byte)'9':
                        error = ReadString(ref pos, isKey);
                        break;
                    default:
                        return Fail(BencodeErrorCode.UnexpectedByte, pos);
                }

                if (error.Code != BencodeErrorCode.None)
                {
                    return error;
                }
            }
            while (_depth > 0);

            Position = pos;
            return default;
        }

        private static BencodeError Fail(BencodeErrorCode code, int offset) => new(code, offset);

        private int AddToken(BencodeKind kind, int start, int valueStart, int end)
        {
            if (Count == _tokens.Length)
            {
                int grown = (int)Math.Min((long)_tokens.Length * 2, Math.Max(_limits.MaxTokens, 16));
                Token[] bigger = ArrayPool<Token>.Shared.Rent(grown);
                _tokens.AsSpan(0, Count).CopyTo(bigger);
                ArrayPool<Token>.Shared.Return(_tokens);
                _tokens = bigger;
            }

            int index = Count++;
            ref Token t = ref _tokens[index];
            t.Kind = kind;
            t.Start = start;
            t.ValueStart = valueStart;
            t.End = end;
            t.Next = index + 1;
            return index;
        }

        private BencodeError OpenContainer(BencodeKind kind, ref int pos)
        {
            if (_depth >= _limits.MaxDepth)
            {
                return Fail(BencodeErrorCode.DepthExceeded, pos);
            }

            if (_depth == _frames.Length)
            {
                Frame[] bigger = ArrayPool<Frame>.Shared.Rent(_frames.Length * 2);
                _frames.CopyTo(bigger);
                if (_rentedFrames is not null)
                {
                    ArrayPool<Frame>.Shared.Return(_rentedFrames);
                }

                _rentedFrames = bigger;
                _frames = bigger;
            }

            int index = AddToken(kind, pos, pos + 1, -1);
            _frames[_depth] = new Frame { Token = index, LastKey = -1, IsDictionary = kind == BencodeKind.Dictionary };
            _depth++;
            pos++;
            return default;
        }

        private BencodeError CloseContainer(int pos)
        {
            int top = _depth - 1;
            ref Frame frame = ref _frames[top];
            int index = frame.Token;
            ref Token t = ref _tokens[index];
            if (frame.IsDictionary)
            {
                if ((frame.Children & 1) != 0)
                {
                    return Fail(BencodeErrorCode.MissingValue, pos);
                }

                if (frame.Unsorted)
                {
                    int duplicate = FindDuplicateKey(index);
                    if (duplicate >= 0)
                    {
                        return Fail(BencodeErrorCode.DuplicateKey, duplicate);
                    }
                }
            }

            t.End = pos + 1;
            t.Next = Count;
            _depth--;
            return default;
        }

        /// <summary>
        /// Keys arrived out of order (legal to read, though BEP 3 asks writers to sort), so the cheap
        /// neighbour check did not prove them distinct: sort the keys and compare neighbours.
        /// </summary>
        private readonly int FindDuplicateKey(int dictionary)
        {
            // Copies only this dictionary's keys, so the cost over a whole document stays linear in its size.
            var keys = new List<(byte[] Key, int Start)>();
            int i = dictionary + 1;
            while (i < Count)
            {
                ref readonly Token key = ref _tokens[i];
                keys.Add((_data[key.ValueStart..key.End].ToArray(), key.Start));
                i = _tokens[key.Next].Next;
            }

            keys.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            for (int k = 1; k < keys.Count; k++)
            {
                if (keys[k - 1].Key.AsSpan().SequenceEqual(keys[k].Key))
                {
                    return Math.Max(keys[k - 1].Start, keys[k].Start);
                }
            }

            return -1;
        }
    }

    /// <summary>libtorrent's bdecode reads up to 20 digits (a leading zero among them) before it calls an integer an overflow.</summary>
    private const int LenientMaxIntegerDigits = 20;

    /// <summary>libtorrent's bdecode refuses a string whose length takes more than 16 digits (leading zeros count).</summary>
    private const int LenientMaxLengthDigits = 16;

    /// <summary>The parser's state for one open container.</summary>
    private struct Frame
    {
        public int Token;        // index of the container's token
        public int Children;     // values begun so far in it (keys and values alike, for a dictionary)
        public int LastKey;      // token index of the previous key of a dictionary, or -1
        public bool IsDictionary;
        public bool Unsorted;    // whether a dictionary's keys arrived out of order
    }
}
