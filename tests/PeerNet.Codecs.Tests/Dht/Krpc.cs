using System.Net;
using System.Text;
using PeerNet.Dht;

namespace PeerNet.Codecs.Tests.Dht;

/// <summary>Helpers for KRPC tests: Latin-1 packets, fixed IDs, decode-or-fail.</summary>
internal static class Krpc
{
    /// <summary>A 20-byte ID as text, for hand-written packets (BEP 5's examples use these).</summary>
    public const string IdA = "abcdefghij0123456789";

    public const string IdB = "mnopqrstuvwxyz123456";

    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static NodeId Id(string latin1) => new(Bytes(latin1));

    public static KrpcMessage Decode(string latin1, DhtLimits? limits = null) => Decode(Bytes(latin1), limits);

    public static KrpcMessage Decode(byte[] packet, DhtLimits? limits = null)
    {
        Assert.True(KrpcMessage.TryDecode(packet, out KrpcMessage? message, out KrpcDecodeFailure failure, limits), $"refused: {failure.Error}");
        return message;
    }

    public static KrpcDecodeFailure Refuse(string latin1, DhtLimits? limits = null) => Refuse(Bytes(latin1), limits);

    public static KrpcDecodeFailure Refuse(byte[] packet, DhtLimits? limits = null)
    {
        Assert.False(KrpcMessage.TryDecode(packet, out _, out KrpcDecodeFailure failure, limits), "accepted a packet it should refuse");
        Assert.NotEqual(KrpcDecodeError.None, failure.Error);
        return failure;
    }

    public static KrpcMessage RoundTrip(KrpcMessage message)
    {
        byte[] encoded = message.ToArray();
        KrpcMessage decoded = Decode(encoded);
        Assert.Equal(encoded, decoded.ToArray());
        return decoded;
    }

    public static IPEndPoint V4(int i, int port = 6881) => new(IPAddress.Parse($"10.0.{i / 256}.{i % 256}"), port);

    public static IPEndPoint V6(int i, int port = 6881) => new(IPAddress.Parse($"fd00::{i:x}"), port);

    public static DhtContact Node4(int i) => new(NodeId.Random(new Random(i)), V4(i));

    public static DhtContact Node6(int i) => new(NodeId.Random(new Random(i + 1000)), V6(i));

    /// <summary>A response whose body holds <paramref name="key"/> with a raw value, for limit tests.</summary>
    public static string ResponseWith(string key, string rawValue) => $"d1:rd2:id20:{IdB}{key}{rawValue}e1:t2:aa1:y1:re";
}
