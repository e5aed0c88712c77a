namespace PeerNet.Bencode;

public sealed partial class BencodeDocument
{
    /// <summary>The parser's readers of the two scalar values, integers and strings (strict or lenient).</summary>
    private ref partial struct Parser
    {
        private BencodeError ReadInteger(ref int pos)
        {
            ReadOnlySpan<byte> data = _data;
            int start = pos;
            int p = pos + 1;
            bool negative = p < data.Length && data[p] == (byte)'-';
            int digitsStart = negative ? p + 1 : p;
            p = digitsStart;
            int maxDigits = _lenient ? LenientMaxIntegerDigits : BencodeLimits.MaxIntegerDigits;

            // Accumulate as a negative number so long.MinValue is representable.
            long acc = 0;
            bool overflow = false;
            while (p < data.Length && (uint)(data[p] - '0') <= 9)
            {
                if (p - digitsStart >= maxDigits)
                {
                    return Fail(BencodeErrorCode.IntegerTooLong, start);
                }

                int digit = data[p] - '0';
                if (!overflow && acc < (long.MinValue + digit) / 10)
                {
                    // Only the 19th digit can overflow. If a 20th follows, the integer is too long whatever its
                    // value, as BencodeLimits.MaxIntegerDigits documents: say so rather than IntegerOverflow.
                    bool wider = p + 1 < data.Length && (uint)(data[p + 1] - '0') <= 9;
                    if (!_lenient)
                    {
                        return Fail(wider ? BencodeErrorCode.IntegerTooLong : BencodeErrorCode.IntegerOverflow, start);
                    }

                    overflow = true; // kept, as libtorrent keeps it; BencodeNode.TryGetInt64 says it is no integer
                }

                acc = overflow ? acc : (acc * 10) - digit;
                p++;
            }

            if (p >= data.Length)
            {
                return Fail(BencodeErrorCode.UnexpectedEnd, p);
            }

            if (data[p] != (byte)'e')
            {
                return Fail(BencodeErrorCode.UnexpectedByte, p);
            }

            int digits = p - digitsStart;
            if (digits == 0)
            {
                return Fail(BencodeErrorCode.IntegerEmpty, start);
            }

            // BEP 3: "i-0e is invalid. All encodings with a leading zero, such as i03e, are invalid, other than i0e."
            if (!_lenient && ((data[digitsStart] == (byte)'0' && digits > 1) || (negative && acc == 0)))
            {
                return Fail(BencodeErrorCode.IntegerNotCanonical, start);
            }

            if (!_lenient && !negative && acc == long.MinValue)
            {
                return Fail(BencodeErrorCode.IntegerOverflow, start);
            }

            AddToken(BencodeKind.Integer, start, negative ? digitsStart - 1 : digitsStart, p + 1);
            pos = p + 1;
            return default;
        }

        private BencodeError ReadString(ref int pos, bool isKey)
        {
            ReadOnlySpan<byte> data = _data;
            int start = pos;
            int p = pos;
            long length = 0;
            while (p < data.Length && (uint)(data[p] - '0') <= 9)
            {
                length = (length * 10) + (data[p] - '0');
                if (length > _limits.MaxStringLength)
                {
                    return Fail(BencodeErrorCode.StringTooLong, start);
                }

                p++;
            }

            if (p >= data.Length)
            {
                return Fail(BencodeErrorCode.UnexpectedEnd, p);
            }

            if (data[p] != (byte)':')
            {
                return Fail(BencodeErrorCode.UnexpectedByte, p);
            }

            // Strict: no leading zero. Lenient: as libtorrent, whose token keeps at most 16 digits of length.
            if (_lenient ? p - start > LenientMaxLengthDigits : data[start] == (byte)'0' && p - start > 1)
            {
                return Fail(BencodeErrorCode.StringLengthNotCanonical, start);
            }

            int valueStart = p + 1;
            if (length > data.Length - valueStart)
            {
                return Fail(BencodeErrorCode.UnexpectedEnd, data.Length);
            }

            int end = valueStart + (int)length;
            int index = AddToken(BencodeKind.String, start, valueStart, end);

            // Lenient parsing keeps repeated keys (lookups find the first, as libtorrent's do), so it need not
            // track the order that proves keys distinct.
            if (isKey && !_lenient)
            {
                int top = _depth - 1;
                ref Frame frame = ref _frames[top];
                int previous = frame.LastKey;
                if (previous >= 0)
                {
                    ref readonly Token prev = ref _tokens[previous];
                    int order = data[prev.ValueStart..prev.End].SequenceCompareTo(data[valueStart..end]);
                    if (order == 0)
                    {
                        return Fail(BencodeErrorCode.DuplicateKey, start);
                    }

                    if (order > 0)
                    {
                        frame.Unsorted = true;
                    }
                }

                frame.LastKey = index;
            }

            pos = end;
            return default;
        }
    }
}
