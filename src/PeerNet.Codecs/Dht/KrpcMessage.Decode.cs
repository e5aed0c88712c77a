using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using PeerNet.Bencode;
using PeerNet.PeerWire;

namespace PeerNet.Dht;

internal sealed partial record KrpcMessage
{
    /// <summary>
    /// Decodes one KRPC packet. On failure, <paramref name="failure"/> says why, and carries the transaction ID
    /// when the packet was a query whose <c>t</c> could be read, so the node can answer with error 203.
    /// Unknown keys are ignored (BEP 5 leaves room for extensions); known keys of the wrong type, compact lists of
    /// a bad length, and anything over a limit are refused.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> packet, [NotNullWhen(true)] out KrpcMessage? message, out KrpcDecodeFailure failure, DhtLimits? limits = null)
    {
        limits ??= DhtLimits.Default;
        message = null;
        failure = default;
        if (packet.Length > limits.MaxPacketLength)
        {
            failure = new KrpcDecodeFailure(KrpcDecodeError.PacketTooLarge, null, false);
            return false;
        }

        var bencodeLimits = new BencodeLimits { MaxDepth = limits.MaxDepth, MaxTokens = limits.MaxTokens, MaxStringLength = limits.MaxPacketLength };
        if (!BencodeDocument.TryParse(packet, out BencodeDocument? document, out _, bencodeLimits))
        {
            failure = new KrpcDecodeFailure(KrpcDecodeError.NotBencode, null, false);
            return false;
        }

        using (document)
        {
            BencodeNode root = document.Root;
            if (!root.IsDictionary)
            {
                failure = new KrpcDecodeFailure(KrpcDecodeError.NotDictionary, null, false);
                return false;
            }

            BencodeNode t = root["t"u8];
            if (!t.IsString || t.StringSpan.Length > limits.MaxTransactionIdLength)
            {
                failure = new KrpcDecodeFailure(KrpcDecodeError.TransactionIdInvalid, null, false);
                return false;
            }

            byte[] transactionId = t.StringSpan.ToArray();
            BencodeNode y = root["y"u8];
            bool isQuery = y.StringEquals("q"u8);
            var reader = new Reader(root, limits, transactionId);
            KrpcDecodeError error = isQuery ? reader.ReadQuery()
                : y.StringEquals("r"u8) ? reader.ReadResponse()
                : y.StringEquals("e"u8) ? reader.ReadError()
                : KrpcDecodeError.MessageTypeInvalid;
            if (error == KrpcDecodeError.None)
            {
                error = reader.ReadCommon();
            }

            if (error != KrpcDecodeError.None)
            {
                failure = new KrpcDecodeFailure(error, transactionId, isQuery);
                return false;
            }

            message = reader.Build();
            return true;
        }
    }

    /// <summary>Reads a message's fields into locals, then builds it; every check returns a specific error.</summary>
    private ref struct Reader(BencodeNode root, DhtLimits limits, byte[] transactionId)
    {
        private KrpcMessageType _type;
        private DhtMethod _method;
        private string? _methodName;
        private NodeId _id;
        private NodeId _target;
        private byte[]? _token;
        private int _port;
        private bool _impliedPort;
        private DhtWant _want;
        private List<DhtContact>? _nodes;
        private List<DhtContact>? _nodes6;
        private List<IPEndPoint>? _values;
        private byte[]? _itemValue;
        private byte[]? _publicKey;
        private byte[]? _signature;
        private byte[]? _salt;
        private long? _sequence;
        private long? _cas;
        private int? _interval;
        private int? _num;
        private List<NodeId>? _samples;
        private int _errorCode;
        private string? _errorMessage;
        private byte[]? _version;
        private IPEndPoint? _requester;
        private bool _readOnly;

        public KrpcDecodeError ReadQuery()
        {
            _type = KrpcMessageType.Query;
            BencodeNode q = root["q"u8];
            if (!q.IsString)
            {
                return KrpcDecodeError.MethodNameInvalid;
            }

            _method = DhtMethods.Parse(q.StringSpan);
            _methodName = Encoding.UTF8.GetString(q.StringSpan);
            BencodeNode a = root["a"u8];
            if (!a.IsDictionary)
            {
                return KrpcDecodeError.BodyMissing;
            }

            KrpcDecodeError error = ReadId(a);
            if (error != KrpcDecodeError.None)
            {
                return error;
            }

            error = ReadWant(a["want"u8]);
            if (error != KrpcDecodeError.None)
            {
                return error;
            }

            return _method switch
            {
                DhtMethod.FindNode or DhtMethod.SampleInfohashes => ReadTarget(a["target"u8]),
                DhtMethod.GetPeers => ReadTarget(a["info_hash"u8]),
                DhtMethod.AnnouncePeer => ReadAnnounce(a),
                DhtMethod.Get => Then(ReadTarget(a["target"u8]), ReadSequence(a["seq"u8], ref _sequence)),
                DhtMethod.Put => ReadPut(a),
                _ => KrpcDecodeError.None,
            };
        }

        public KrpcDecodeError ReadResponse()
        {
            _type = KrpcMessageType.Response;
            BencodeNode r = root["r"u8];
            if (!r.IsDictionary)
            {
                return KrpcDecodeError.BodyMissing;
            }

            KrpcDecodeError error = ReadId(r);
            error = Then(error, ReadToken(r["token"u8], required: false));
            error = Then(error, ReadNodes(r["nodes"u8], DhtContact.V4Length, ref _nodes));
            error = Then(error, ReadNodes(r["nodes6"u8], DhtContact.V6Length, ref _nodes6));
            error = Then(error, ReadValues(r["values"u8]));
            error = Then(error, ReadItem(r, put: false));
            error = Then(error, ReadSamples(r));
            return error;
        }

        public KrpcDecodeError ReadError()
        {
            _type = KrpcMessageType.Error;
            BencodeNode e = root["e"u8];
            if (!e.IsList || !e[0].TryGetInt64(out long code) || code is < int.MinValue or > int.MaxValue)
            {
                return KrpcDecodeError.ErrorInvalid;
            }

            _errorCode = (int)code;
            _errorMessage = e[1].GetString() ?? string.Empty;
            return KrpcDecodeError.None;
        }

        /// <summary>The top-level keys any message may carry: <c>v</c>, <c>ip</c>, <c>ro</c>.</summary>
        public KrpcDecodeError ReadCommon()
        {
            BencodeNode v = root["v"u8];
            if (v.Exists)
            {
                if (!v.IsString)
                {
                    return KrpcDecodeError.FieldTypeInvalid;
                }

                _version = v.StringSpan.ToArray();
            }

            BencodeNode ip = root["ip"u8];
            if (ip.Exists)
            {
                if (!ip.IsString || ip.StringSpan.Length is not (CompactPeer.V4Length or CompactPeer.V6Length))
                {
                    return KrpcDecodeError.AddressInvalid;
                }

                _requester = CompactPeer.Read(ip.StringSpan);
            }

            BencodeNode ro = root["ro"u8];
            if (ro.Exists)
            {
                if (!ro.TryGetInt64(out long flag))
                {
                    return KrpcDecodeError.FieldTypeInvalid;
                }

                // BEP 43: "ro" set to 1 marks a read-only node.
                _readOnly = flag == 1;
            }

            return KrpcDecodeError.None;
        }

        public readonly KrpcMessage Build() => new()
        {
            Type = _type,
            TransactionId = transactionId,
            ClientVersion = _version,
            RequesterEndPoint = _requester,
            ReadOnly = _readOnly,
            Method = _method,
            MethodName = _methodName,
            Id = _id,
            Target = _target,
            Token = _token,
            Port = _port,
            ImpliedPort = _impliedPort,
            Want = _want,
            Nodes = (IReadOnlyList<DhtContact>?)_nodes ?? [],
            Nodes6 = (IReadOnlyList<DhtContact>?)_nodes6 ?? [],
            Values = (IReadOnlyList<IPEndPoint>?)_values ?? [],
            ItemValue = _itemValue,
            PublicKey = _publicKey,
            Signature = _signature,
            Salt = _salt,
            Sequence = _sequence,
            CompareAndSwap = _cas,
            Interval = _interval,
            SampleCount = _num,
            Samples = _samples,
            ErrorCode = _errorCode,
            ErrorMessage = _errorMessage,
        };

        private static KrpcDecodeError Then(KrpcDecodeError first, KrpcDecodeError second) =>
            first != KrpcDecodeError.None ? first : second;

        private KrpcDecodeError ReadId(BencodeNode body)
        {
            BencodeNode id = body["id"u8];
            if (!id.IsString || id.StringSpan.Length != NodeId.Length)
            {
                return KrpcDecodeError.NodeIdInvalid;
            }

            _id = new NodeId(id.StringSpan);
            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadTarget(BencodeNode target)
        {
            if (!target.IsString || target.StringSpan.Length != NodeId.Length)
            {
                return KrpcDecodeError.TargetInvalid;
            }

            _target = new NodeId(target.StringSpan);
            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadToken(BencodeNode token, bool required)
        {
            if (!token.Exists)
            {
                return required ? KrpcDecodeError.TokenInvalid : KrpcDecodeError.None;
            }

            if (!token.IsString || token.StringSpan.Length > limits.MaxTokenLength)
            {
                return KrpcDecodeError.TokenInvalid;
            }

            _token = token.StringSpan.ToArray();
            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadAnnounce(BencodeNode a)
        {
            KrpcDecodeError error = Then(ReadTarget(a["info_hash"u8]), ReadToken(a["token"u8], required: true));
            if (error != KrpcDecodeError.None)
            {
                return error;
            }

            BencodeNode implied = a["implied_port"u8];
            long impliedValue = 0;
            if (implied.Exists && !implied.TryGetInt64(out impliedValue))
            {
                return KrpcDecodeError.PortInvalid;
            }

            // BEP 5: "If it is present and non-zero, the port argument should be ignored and the source port of
            // the UDP packet should be used as the peer's port instead."
            _impliedPort = impliedValue != 0;
            BencodeNode port = a["port"u8];
            if (port.TryGetInt64(out long portValue) && portValue is >= 0 and <= ushort.MaxValue)
            {
                _port = (int)portValue;
                return KrpcDecodeError.None;
            }

            return _impliedPort && !port.Exists ? KrpcDecodeError.None : KrpcDecodeError.PortInvalid;
        }

        private KrpcDecodeError ReadPut(BencodeNode a)
        {
            KrpcDecodeError error = ReadToken(a["token"u8], required: true);
            error = Then(error, ReadItem(a, put: true));
            return Then(error, ReadSequence(a["cas"u8], ref _cas));
        }

        private KrpcDecodeError ReadItem(BencodeNode body, bool put)
        {
            BencodeNode v = body["v"u8];
            if (v.Exists)
            {
                // BEP 44: "the bencoded form of v must be less than 1000 bytes" (v may be any bencoded type).
                if (v.RawSpan.Length > DhtLimits.MaxItemValueLength)
                {
                    return KrpcDecodeError.ItemValueInvalid;
                }

                _itemValue = v.RawSpan.ToArray();
            }
            else if (put)
            {
                return KrpcDecodeError.ItemValueInvalid;
            }

            KrpcDecodeError error = ReadFixed(body["k"u8], 32, ref _publicKey);
            error = Then(error, ReadFixed(body["sig"u8], 64, ref _signature));
            if (error != KrpcDecodeError.None)
            {
                return error;
            }

            BencodeNode salt = body["salt"u8];
            if (salt.Exists)
            {
                if (!salt.IsString || salt.StringSpan.Length > DhtLimits.MaxSaltLength)
                {
                    return KrpcDecodeError.SaltInvalid;
                }

                _salt = salt.StringSpan.ToArray();
            }

            return ReadSequence(body["seq"u8], ref _sequence);
        }

        private static KrpcDecodeError ReadFixed(BencodeNode node, int length, ref byte[]? into)
        {
            if (!node.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!node.IsString || node.StringSpan.Length != length)
            {
                return KrpcDecodeError.ItemKeyInvalid;
            }

            into = node.StringSpan.ToArray();
            return KrpcDecodeError.None;
        }

        private static KrpcDecodeError ReadSequence(BencodeNode node, ref long? into)
        {
            if (!node.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!node.TryGetInt64(out long value) || value < 0)
            {
                return KrpcDecodeError.SequenceInvalid;
            }

            into = value;
            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadWant(BencodeNode want)
        {
            if (!want.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!want.IsList)
            {
                return KrpcDecodeError.WantInvalid;
            }

            foreach (BencodeNode item in want.Items)
            {
                if (!item.IsString)
                {
                    return KrpcDecodeError.WantInvalid;
                }

                // BEP 32: "n4" and "n6"; other strings are for future families and ignored.
                _want |= item.StringEquals("n4"u8) ? DhtWant.N4 : item.StringEquals("n6"u8) ? DhtWant.N6 : DhtWant.None;
            }

            return KrpcDecodeError.None;
        }

        private readonly KrpcDecodeError ReadNodes(BencodeNode node, int entryLength, ref List<DhtContact>? into)
        {
            if (!node.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!node.IsString || node.StringSpan.Length % entryLength != 0)
            {
                return KrpcDecodeError.NodesInvalid;
            }

            if (node.StringSpan.Length / entryLength > limits.MaxNodes)
            {
                return KrpcDecodeError.TooManyNodes;
            }

            into = DhtContact.ReadList(node.StringSpan, entryLength);
            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadValues(BencodeNode values)
        {
            if (!values.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!values.IsList)
            {
                return KrpcDecodeError.ValuesInvalid;
            }

            int count = 0;
            foreach (BencodeNode item in values.Items)
            {
                if (!item.IsString || item.StringSpan.Length is not (CompactPeer.V4Length or CompactPeer.V6Length))
                {
                    return KrpcDecodeError.ValuesInvalid;
                }

                if (++count > limits.MaxValues)
                {
                    return KrpcDecodeError.TooManyValues;
                }
            }

            _values = new List<IPEndPoint>(count);
            foreach (BencodeNode item in values.Items)
            {
                _values.Add(CompactPeer.Read(item.StringSpan));
            }

            return KrpcDecodeError.None;
        }

        private KrpcDecodeError ReadSamples(BencodeNode r)
        {
            BencodeNode samples = r["samples"u8];
            if (samples.Exists)
            {
                if (!samples.IsString || samples.StringSpan.Length % NodeId.Length != 0 || samples.StringSpan.Length / NodeId.Length > limits.MaxSamples)
                {
                    return KrpcDecodeError.SamplesInvalid;
                }

                ReadOnlySpan<byte> span = samples.StringSpan;
                _samples = new List<NodeId>(span.Length / NodeId.Length);
                for (int i = 0; i < span.Length; i += NodeId.Length)
                {
                    _samples.Add(new NodeId(span.Slice(i, NodeId.Length)));
                }
            }

            return Then(ReadSmallInt(r["interval"u8], ref _interval), ReadSmallInt(r["num"u8], ref _num));
        }

        private static KrpcDecodeError ReadSmallInt(BencodeNode node, ref int? into)
        {
            if (!node.Exists)
            {
                return KrpcDecodeError.None;
            }

            if (!node.TryGetInt64(out long value) || value is < 0 or > int.MaxValue)
            {
                return KrpcDecodeError.SamplesInvalid;
            }

            into = (int)value;
            return KrpcDecodeError.None;
        }
    }
}

/// <summary>Why a packet was refused, and what is needed to answer it with an error.</summary>
/// <param name="Error">What is wrong.</param>
/// <param name="TransactionId">The packet's <c>t</c>, when it could be read.</param>
/// <param name="IsQuery">Whether the packet was a query (only queries are answered with errors).</param>
internal readonly record struct KrpcDecodeFailure(KrpcDecodeError Error, byte[]? TransactionId, bool IsQuery)
{
    /// <summary>Whether the sender should get a 203 Protocol Error reply.</summary>
    public bool ShouldReply => IsQuery && TransactionId is not null;
}
