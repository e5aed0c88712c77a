using System.Buffers;
using System.Text;

namespace PeerNet.Libp2p;

/// <summary>Where a multistream-select negotiation stands.</summary>
internal enum MultistreamStatus
{
    /// <summary>Waiting for more bytes from the remote side.</summary>
    Pending,

    /// <summary>Both sides agreed on <see cref="MultistreamNegotiation.Protocol"/>; what follows on the wire is that protocol's.</summary>
    Selected,

    /// <summary>The negotiation failed (<see cref="MultistreamNegotiation.Error"/> says why); close the connection or stream.</summary>
    Failed,
}

/// <summary>
/// multistream-select 1.0's messages: a varint length, then a UTF-8 line ending in <c>\n</c> (the length counts it).
/// Lines are bounded, so a peer cannot make us buffer a long one.
/// </summary>
internal static class MultistreamMessage
{
    /// <summary>The header both sides send first.</summary>
    public const string Header = "/multistream/1.0.0";

    /// <summary>"Not available": the listener's answer to a protocol it does not speak.</summary>
    public const string NotAvailable = "na";

    /// <summary>The dialer's request for the listener's protocols.</summary>
    public const string List = "ls";

    /// <summary>Longest line (its <c>\n</c> included) accepted by default: protocol IDs are short; go-libp2p allows 1024.</summary>
    public const int DefaultMaxLineLength = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Appends <paramref name="line"/> as one message.</summary>
    public static void Write(string line, IBufferWriter<byte> output)
    {
        int length = StrictUtf8.GetByteCount(line) + 1;
        UnsignedVarint.Write((ulong)length, output);
        Span<byte> span = output.GetSpan(length);
        StrictUtf8.GetBytes(line, span);
        span[length - 1] = (byte)'\n';
        output.Advance(length);
    }

    /// <summary>
    /// Reads one message at the start of <paramref name="input"/>: <see cref="VarintStatus.Ok"/> with its line (without
    /// <c>\n</c>) and the bytes it took, <see cref="VarintStatus.NeedMore"/>, or <see cref="VarintStatus.Invalid"/> with
    /// <paramref name="error"/> (a bad length, over <paramref name="maxLineLength"/>, no <c>\n</c> at the end, a
    /// <c>\n</c> or control character inside, not UTF-8). A length over the bound fails before its bytes arrive.
    /// </summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> input, int maxLineLength, out string? line, out int consumed, out string? error)
    {
        line = null;
        consumed = 0;
        error = null;
        VarintStatus status = UnsignedVarint.TryRead(input, out ulong length, out int prefix);
        if (status == VarintStatus.NeedMore && input.Length < UnsignedVarint.MaxLength)
        {
            return VarintStatus.NeedMore;
        }

        if (status != VarintStatus.Ok)
        {
            error = "the message length is not a valid varint";
            return VarintStatus.Invalid;
        }

        if (length == 0 || length > (ulong)maxLineLength)
        {
            error = length == 0 ? "an empty message" : $"a {length}-byte message, over the {maxLineLength}-byte limit";
            return VarintStatus.Invalid;
        }

        if ((ulong)(input.Length - prefix) < length)
        {
            return VarintStatus.NeedMore;
        }

        ReadOnlySpan<byte> body = input.Slice(prefix, (int)length);
        if (body[^1] != (byte)'\n')
        {
            error = "a message that does not end in a newline";
            return VarintStatus.Invalid;
        }

        ReadOnlySpan<byte> text = body[..^1];
        foreach (byte b in text)
        {
            if (b < 0x20 || b == 0x7F)
            {
                error = "a message with a control character in it";
                return VarintStatus.Invalid;
            }
        }

        try
        {
            line = StrictUtf8.GetString(text);
        }
        catch (DecoderFallbackException)
        {
            error = "a message that is not UTF-8";
            return VarintStatus.Invalid;
        }

        consumed = prefix + (int)length;
        return VarintStatus.Ok;
    }
}

/// <summary>
/// One side of a multistream-select 1.0 negotiation, as a pure state machine: feed it what arrives with
/// <see cref="Receive"/>, send what it writes. Simultaneous open is not supported (nor needed: the dialer is known).
/// </summary>
internal abstract class MultistreamNegotiation
{
    private readonly int _maxLineLength;

    private protected MultistreamNegotiation(int maxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, MultistreamMessage.Header.Length + 1);
        _maxLineLength = maxLineLength;
    }

    /// <summary>Where the negotiation stands.</summary>
    public MultistreamStatus Status { get; private set; }

    /// <summary>The protocol agreed, once <see cref="Status"/> is <see cref="MultistreamStatus.Selected"/>.</summary>
    public string? Protocol { get; private set; }

    /// <summary>Why it failed, once <see cref="Status"/> is <see cref="MultistreamStatus.Failed"/>.</summary>
    public string? Error { get; private set; }

    private protected bool HeaderReceived { get; private set; }

    /// <summary>
    /// Reads every complete message at the start of <paramref name="input"/> and writes the replies to
    /// <paramref name="output"/>, stopping once selected or failed; <paramref name="consumed"/> bytes were used (keep
    /// the rest: after selection it is the chosen protocol's data, before it the start of a message).
    /// </summary>
    public MultistreamStatus Receive(ReadOnlySpan<byte> input, IBufferWriter<byte> output, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(output);
        consumed = 0;
        while (Status == MultistreamStatus.Pending)
        {
            VarintStatus read = MultistreamMessage.TryRead(input[consumed..], _maxLineLength, out string? line, out int used, out string? error);
            if (read == VarintStatus.NeedMore)
            {
                break;
            }

            if (read == VarintStatus.Invalid)
            {
                return Fail($"the remote sent {error}");
            }

            consumed += used;
            if (!HeaderReceived)
            {
                if (line != MultistreamMessage.Header)
                {
                    return Fail($"the remote does not speak {MultistreamMessage.Header} (it said '{DisplayText.Sanitize(line, 80)}')");
                }

                HeaderReceived = true;
                OnHeader(output);
                continue;
            }

            OnLine(line!, output);
        }

        return Status;
    }

    private protected abstract void OnHeader(IBufferWriter<byte> output);

    private protected abstract void OnLine(string line, IBufferWriter<byte> output);

    private protected void Select(string protocol)
    {
        Protocol = protocol;
        Status = MultistreamStatus.Selected;
    }

    private protected MultistreamStatus Fail(string error)
    {
        Error = error;
        Status = MultistreamStatus.Failed;
        return Status;
    }
}

/// <summary>
/// The dialer: proposes its protocols in order of preference, the header and the first proposal at once (as go- and
/// js-libp2p do), the next after each <c>na</c>.
/// </summary>
internal sealed class MultistreamDialer : MultistreamNegotiation
{
    private readonly string[] _protocols;
    private int _proposed;

    /// <summary>A dialer that will propose <paramref name="protocols"/> (at least one), most wanted first.</summary>
    public MultistreamDialer(IReadOnlyList<string> protocols, int maxLineLength = MultistreamMessage.DefaultMaxLineLength)
        : base(maxLineLength)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        ArgumentOutOfRangeException.ThrowIfZero(protocols.Count);
        foreach (string protocol in protocols)
        {
            if (!MultistreamListener.IsValidProtocolId(protocol, maxLineLength))
            {
                throw new ArgumentException($"'{DisplayText.Sanitize(protocol, 80)}' is not a protocol ID: it starts with '/', has no control characters and fits a line.", nameof(protocols));
            }
        }

        _protocols = [.. protocols];
    }

    /// <summary>Writes the opening: the header and the first proposal.</summary>
    public void Start(IBufferWriter<byte> output)
    {
        if (_proposed != 0)
        {
            throw new InvalidOperationException("The dialer has already started.");
        }

        MultistreamMessage.Write(MultistreamMessage.Header, output);
        MultistreamMessage.Write(_protocols[_proposed++], output);
    }

    private protected override void OnHeader(IBufferWriter<byte> output)
    {
        if (_proposed == 0)
        {
            Fail("the dialer received before it started");
        }
    }

    private protected override void OnLine(string line, IBufferWriter<byte> output)
    {
        string current = _protocols[_proposed - 1];
        if (line == current)
        {
            Select(current);
        }
        else if (line == MultistreamMessage.NotAvailable)
        {
            if (_proposed == _protocols.Length)
            {
                Fail($"the remote speaks none of {string.Join(", ", _protocols)}");
                return;
            }

            MultistreamMessage.Write(_protocols[_proposed++], output);
        }
        else
        {
            Fail($"the remote answered '{DisplayText.Sanitize(line, 80)}' to '{current}'");
        }
    }
}

/// <summary>
/// The listener: answers the header with the header, a protocol it speaks by echoing it (selected), <c>ls</c> with its
/// list, anything else with <c>na</c>; after <see cref="MaxAttempts"/> unanswerable proposals it gives up.
/// </summary>
internal sealed class MultistreamListener : MultistreamNegotiation
{
    /// <summary>Proposals (and <c>ls</c> requests) a dialer may make before the listener stops answering.</summary>
    public const int MaxAttempts = 16;

    private readonly string[] _protocols;
    private int _attempts;

    /// <summary>A listener for <paramref name="protocols"/>.</summary>
    public MultistreamListener(IReadOnlyList<string> protocols, int maxLineLength = MultistreamMessage.DefaultMaxLineLength)
        : base(maxLineLength)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        _protocols = [.. protocols];
    }

    /// <summary>Whether <paramref name="protocol"/> can be proposed: starts with '/', printable, and fits a line of <paramref name="maxLineLength"/>.</summary>
    public static bool IsValidProtocolId(string protocol, int maxLineLength) =>
        protocol is { Length: > 1 } && protocol[0] == '/' && Encoding.UTF8.GetByteCount(protocol) < maxLineLength && !protocol.Any(c => char.IsControl(c));

    private protected override void OnHeader(IBufferWriter<byte> output) => MultistreamMessage.Write(MultistreamMessage.Header, output);

    private protected override void OnLine(string line, IBufferWriter<byte> output)
    {
        if (Array.IndexOf(_protocols, line) >= 0)
        {
            MultistreamMessage.Write(line, output);
            Select(line);
            return;
        }

        if (++_attempts > MaxAttempts)
        {
            Fail($"the remote made over {MaxAttempts} proposals without agreement");
            return;
        }

        if (line == MultistreamMessage.List)
        {
            WriteList(output);
        }
        else
        {
            MultistreamMessage.Write(MultistreamMessage.NotAvailable, output);
        }
    }

    /// <summary>The <c>ls</c> answer: one message holding each protocol as a message of its own, then a newline.</summary>
    private void WriteList(IBufferWriter<byte> output)
    {
        var inner = new ArrayBufferWriter<byte>();
        foreach (string protocol in _protocols)
        {
            MultistreamMessage.Write(protocol, inner);
        }

        UnsignedVarint.Write((ulong)inner.WrittenCount + 1, output);
        output.Write(inner.WrittenSpan);
        output.Write("\n"u8);
    }
}
