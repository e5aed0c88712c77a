using PeerNet.Dht;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="KrpcMessage.TryDecode"/>: a refusal names an error, and offers a 203 reply only for a query whose
/// transaction ID was read; an accepted message keeps every limit (transaction ID, token, nodes, values,
/// samples, BEP 44 value and salt); its encoding decodes again (under a larger packet limit: an announce with
/// only <c>implied_port</c> gains a <c>port</c>), and encoding is stable from then on.
/// </summary>
public static class KrpcTarget
{
    private static readonly DhtLimits Roomy = DhtLimits.Default with { MaxPacketLength = 4 * DhtLimits.DefaultMaxPacketLength };

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        if (!KrpcMessage.TryDecode(input, out KrpcMessage? message, out KrpcDecodeFailure failure))
        {
            Check.That(failure.Error != KrpcDecodeError.None, "refused with no error");
            Check.That(!failure.ShouldReply || failure.TransactionId!.Length <= DhtLimits.DefaultMaxTransactionIdLength, "a reply offered with an over-long transaction ID");
            return;
        }

        DhtLimits limits = DhtLimits.Default;
        Check.That(input.Length <= limits.MaxPacketLength, "accepted an oversized packet");
        Check.That(message.TransactionId.Length <= limits.MaxTransactionIdLength, "transaction ID over the limit");
        Check.That(message.Token is null || message.Token.Length <= limits.MaxTokenLength, "token over the limit");
        Check.That(message.Nodes.Count <= limits.MaxNodes && message.Nodes6.Count <= limits.MaxNodes, "too many nodes");
        Check.That(message.Values.Count <= limits.MaxValues, "too many values");
        Check.That(message.Samples is null || message.Samples.Count <= limits.MaxSamples, "too many samples");
        Check.That(message.ItemValue is null || message.ItemValue.Length <= DhtLimits.MaxItemValueLength, "BEP 44 value over 1000 bytes");
        Check.That(message.Salt is null || message.Salt.Length <= DhtLimits.MaxSaltLength, "salt over 64 bytes");
        Check.That(message.Type != KrpcMessageType.Query || message.MethodName is not null, "a query without its method name");

        byte[] once = message.ToArray();
        Check.That(KrpcMessage.TryDecode(once, out KrpcMessage? again, out KrpcDecodeFailure againFailure, Roomy), $"its own encoding is refused: {againFailure.Error}");
        Check.Equal(message.Type, again.Type, "type after a round trip");
        Check.Bytes(message.TransactionId, again.TransactionId, "transaction ID after a round trip");
        Check.Equal(message.Id, again.Id, "node ID after a round trip");
        Check.Bytes(once, again.ToArray(), "encoding after a second round trip");
    }
}
