using System.Net;

namespace PeerNet.Dht;

/// <summary>
/// One KRPC message (BEP 5) with the fields of BEP 32 (<c>want</c>, <c>nodes6</c>), BEP 42 (<c>ip</c>), BEP 43
/// (<c>ro</c>), BEP 44 (<c>get</c>/<c>put</c>) and BEP 51 (<c>sample_infohashes</c>). One flat type for queries,
/// responses and errors: a response does not name the query it answers, so the decoder keeps whatever
/// optional fields are present and the node matches them to its outstanding query by transaction ID.
/// </summary>
internal sealed partial record KrpcMessage
{
    /// <summary>Query, response or error.</summary>
    public KrpcMessageType Type { get; init; }

    /// <summary><c>t</c>: chosen by the querier and echoed back.</summary>
    public required byte[] TransactionId { get; init; }

    /// <summary><c>v</c> at the top level: the sender's client version, if it sent one.</summary>
    public byte[]? ClientVersion { get; init; }

    /// <summary><c>ip</c> (BEP 42): in a response, the endpoint the responder saw the query come from.</summary>
    public IPEndPoint? RequesterEndPoint { get; init; }

    /// <summary><c>ro = 1</c> (BEP 43): the querier is read-only and must not be added to routing tables.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>For a query, its method.</summary>
    public DhtMethod Method { get; init; }

    /// <summary>For a query, the method name as sent (kept for unknown methods).</summary>
    public string? MethodName { get; init; }

    /// <summary><c>id</c>: the sender's node ID (queries and responses).</summary>
    public NodeId Id { get; init; }

    /// <summary>
    /// The key a query is about: <c>target</c> of find_node, get and sample_infohashes, <c>info_hash</c> of
    /// get_peers and announce_peer.
    /// </summary>
    public NodeId Target { get; init; }

    /// <summary><c>token</c>: in a get_peers/get response, for a later announce_peer/put; in those queries, echoed back.</summary>
    public byte[]? Token { get; init; }

    /// <summary>announce_peer <c>port</c>.</summary>
    public int Port { get; init; }

    /// <summary>announce_peer <c>implied_port = 1</c>: use the query's source port instead of <see cref="Port"/>.</summary>
    public bool ImpliedPort { get; init; }

    /// <summary><c>want</c> (BEP 32).</summary>
    public DhtWant Want { get; init; }

    /// <summary><c>nodes</c>: IPv4 compact node info.</summary>
    public IReadOnlyList<DhtContact> Nodes { get; init; } = [];

    /// <summary><c>nodes6</c> (BEP 32): IPv6 compact node info.</summary>
    public IReadOnlyList<DhtContact> Nodes6 { get; init; } = [];

    /// <summary><c>values</c>: peers of a get_peers response, IPv4 and IPv6.</summary>
    public IReadOnlyList<IPEndPoint> Values { get; init; } = [];

    /// <summary>BEP 44 <c>v</c>: the item's bencoded value, byte-exact.</summary>
    public byte[]? ItemValue { get; init; }

    /// <summary>BEP 44 <c>k</c>: a mutable item's 32-byte Ed25519 public key.</summary>
    public byte[]? PublicKey { get; init; }

    /// <summary>BEP 44 <c>sig</c>: a mutable item's 64-byte Ed25519 signature.</summary>
    public byte[]? Signature { get; init; }

    /// <summary>BEP 44 <c>salt</c>.</summary>
    public byte[]? Salt { get; init; }

    /// <summary>BEP 44 <c>seq</c>.</summary>
    public long? Sequence { get; init; }

    /// <summary>BEP 44 <c>cas</c>.</summary>
    public long? CompareAndSwap { get; init; }

    /// <summary>BEP 51 <c>interval</c>, seconds.</summary>
    public int? Interval { get; init; }

    /// <summary>BEP 51 <c>num</c>: how many info-hashes the responder stores.</summary>
    public int? SampleCount { get; init; }

    /// <summary>BEP 51 <c>samples</c>.</summary>
    public IReadOnlyList<NodeId>? Samples { get; init; }

    /// <summary>For an error, its code (201–204, BEP 44's 205–302).</summary>
    public int ErrorCode { get; init; }

    /// <summary>For an error, its message.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>A query of <paramref name="method"/> from <paramref name="id"/>.</summary>
    public static KrpcMessage CreateQuery(byte[] transactionId, DhtMethod method, NodeId id) =>
        new() { Type = KrpcMessageType.Query, TransactionId = transactionId, Method = method, Id = id };

    /// <summary>An error reply.</summary>
    public static KrpcMessage CreateError(byte[] transactionId, int code, string message) =>
        new() { Type = KrpcMessageType.Error, TransactionId = transactionId, ErrorCode = code, ErrorMessage = message };
}
