using System.Net;
using NSec.Cryptography;
using PeerNet.Bencode;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;


    /// <summary>
    /// Stores an immutable BEP 44 item: <paramref name="bencodedValue"/> (at most 1000 bytes, any bencoded value)
    /// goes to the k nodes closest to its target, SHA-1(value), that gave a write token.
    /// </summary>
    public async Task<DhtPutResult> PutImmutableAsync(ReadOnlyMemory<byte> bencodedValue, CancellationToken cancellationToken)
    {
        byte[] value = CheckValue(bencodedValue);
        NodeId target = DhtItem.ImmutableTarget(value);
        int accepted = await PutAsync(target, new KrpcMessage { TransactionId = [], ItemValue = value }, cancellationToken).ConfigureAwait(false);
        return new DhtPutResult(target.ToHash(), accepted);
    }

    /// <summary>Finds the immutable item with target <paramref name="target"/>: its bencoded value, or null.</summary>
    public async Task<byte[]?> GetImmutableAsync(Sha1Hash target, CancellationToken cancellationToken)
    {
        NodeId key = NodeId.FromHash(target);
        byte[]? found = null;
        await LookupAsync(key, DhtMethod.Get, cancellationToken, answer =>
        {
            // BEP 44: the receiver verifies that the value hashes to the target.
            if (found is null && answer.ItemValue is not null && DhtItem.ImmutableTarget(answer.ItemValue) == key)
            {
                found = answer.ItemValue;
            }
        }).ConfigureAwait(false);
        return found;
    }

    /// <summary>The Ed25519 public key (32 bytes) of the 32-byte private key seed: what readers of its mutable items look it up by.</summary>
    public static byte[] MutableItemPublicKey(ReadOnlySpan<byte> privateKeySeed)
    {
        using var key = Key.Import(Ed25519, privateKeySeed, KeyBlobFormat.RawPrivateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>
    /// Stores a mutable BEP 44 item signed by the Ed25519 key whose 32-byte seed is <paramref name="privateKeySeed"/>,
    /// under SHA-1(public key + <paramref name="salt"/>) with sequence number <paramref name="sequence"/>.
    /// </summary>
    public async Task<DhtPutResult> PutMutableAsync(ReadOnlyMemory<byte> privateKeySeed, ReadOnlyMemory<byte> salt, ReadOnlyMemory<byte> bencodedValue, long sequence, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(salt.Length, DhtLimits.MaxSaltLength, nameof(salt));
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        byte[] value = CheckValue(bencodedValue);
        byte[]? saltBytes = salt.IsEmpty ? null : salt.ToArray();
        byte[] publicKey, signature;
        using (var key = Key.Import(Ed25519, privateKeySeed.Span, KeyBlobFormat.RawPrivateKey))
        {
            publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            signature = Ed25519.Sign(key, DhtItem.SignedBytes(salt.Span, sequence, value));
        }

        NodeId target = DhtItem.MutableTarget(publicKey, salt.Span);
        int accepted = await PutAsync(target, new KrpcMessage
        {
            TransactionId = [],
            ItemValue = value,
            PublicKey = publicKey,
            Signature = signature,
            Salt = saltBytes,
            Sequence = sequence,
        }, cancellationToken).ConfigureAwait(false);
        return new DhtPutResult(target.ToHash(), accepted);
    }

    /// <summary>Finds the mutable item of <paramref name="publicKey"/> and <paramref name="salt"/> with the highest valid sequence number, or null.</summary>
    public async Task<DhtMutableItem?> GetMutableAsync(ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(publicKey.Length, 32, nameof(publicKey));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(salt.Length, DhtLimits.MaxSaltLength, nameof(salt));
        byte[] key = publicKey.ToArray();
        byte[] saltBytes = salt.ToArray();
        NodeId target = DhtItem.MutableTarget(key, saltBytes);
        DhtMutableItem? best = null;
        await LookupAsync(target, DhtMethod.Get, cancellationToken, answer =>
        {
            if (answer.ItemValue is not null && answer.Sequence is long seq && (best is null || seq > best.Sequence)
                && answer.PublicKey is not null && answer.PublicKey.AsSpan().SequenceEqual(key) && answer.Signature is not null
                && IsSignatureValid(key, saltBytes, seq, answer.ItemValue, answer.Signature))
            {
                best = new DhtMutableItem(answer.ItemValue, seq, answer.Signature);
            }
        }).ConfigureAwait(false);
        return best;
    }

    /// <summary>
    /// BEP 51: asks <paramref name="node"/> for a sample of the info-hashes it stores (and nodes near
    /// <paramref name="target"/>, to walk the DHT); null when it does not answer or does not support it.
    /// </summary>
    public async Task<DhtSamples?> SampleInfohashesAsync(IPEndPoint node, Sha1Hash target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        KrpcMessage? answer = await QueryAsync(node, null, tid => NewQuery(tid, DhtMethod.SampleInfohashes, NodeId.FromHash(target)), cancellationToken).ConfigureAwait(false);
        if (answer?.Type != KrpcMessageType.Response || answer.Samples is null)
        {
            return null;
        }

        IReadOnlyList<DhtContact> nodes = Family == System.Net.Sockets.AddressFamily.InterNetwork ? answer.Nodes : answer.Nodes6;
        return new DhtSamples(
            [.. answer.Samples.Select(s => s.ToHash())],
            answer.SampleCount ?? answer.Samples.Count,
            TimeSpan.FromSeconds(answer.Interval ?? 0),
            [.. nodes.Select(n => n.EndPoint)]);
    }

    /// <summary>A put's value must be one bencoded value of at most 1000 bytes: it is written into the packet as is.</summary>
    private static byte[] CheckValue(ReadOnlyMemory<byte> bencodedValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bencodedValue.Length, DhtLimits.MaxItemValueLength, nameof(bencodedValue));
        if (!BencodeDocument.TryParse(bencodedValue, out BencodeDocument? document, out BencodeError error))
        {
            throw new ArgumentException($"The item value is not one bencoded value: {error.Message}.", nameof(bencodedValue));
        }

        document.Dispose();
        return bencodedValue.ToArray();
    }

    private static bool IsSignatureValid(byte[] publicKey, ReadOnlySpan<byte> salt, long sequence, byte[] value, byte[] signature) =>
        PublicKey.TryImport(Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out PublicKey? key)
        && Ed25519.Verify(key!, DhtItem.SignedBytes(salt, sequence, value), signature);

    /// <summary>A get lookup for tokens, then a put of <paramref name="item"/>'s BEP 44 fields to each of the k closest nodes that gave one.</summary>
    private async Task<int> PutAsync(NodeId target, KrpcMessage item, CancellationToken cancellationToken)
    {
        LookupResult lookup = await LookupAsync(target, DhtMethod.Get, cancellationToken).ConfigureAwait(false);
        var puts = new List<Task<KrpcMessage?>>();
        foreach ((DhtContact contact, byte[]? token) in lookup.Closest)
        {
            if (token is not null)
            {
                puts.Add(QueryAsync(contact.EndPoint, contact.Id, tid => NewQuery(tid, DhtMethod.Put) with
                {
                    Token = token,
                    ItemValue = item.ItemValue,
                    PublicKey = item.PublicKey,
                    Signature = item.Signature,
                    Salt = item.Salt,
                    Sequence = item.Sequence,
                }, cancellationToken));
            }
        }

        KrpcMessage?[] answers = await Task.WhenAll(puts).ConfigureAwait(false);
        return answers.Count(a => a?.Type == KrpcMessageType.Response);
    }

    /// <summary>Answers a BEP 44 get (the item if stored, a token, nodes) or put (checked, then stored).</summary>
    private KrpcMessage AnswerItem(KrpcMessage query, IPEndPoint from)
    {
        if (query.Method == DhtMethod.Get)
        {
            KrpcMessage reply = Reply(query, from, Closest(query.Target), _tokens.Create(from.Address));
            StoredItem? item = _items.Get(query.Target);

            // BEP 44: with a seq in the request, the value is returned only if ours is newer.
            if (item is null || (query.Sequence is long seen && item.PublicKey is not null && item.Sequence <= seen))
            {
                return item is null ? reply : reply with { Sequence = item.Sequence };
            }

            return reply with
            {
                ItemValue = item.Value,
                PublicKey = item.PublicKey,
                Signature = item.Signature,
                Sequence = item.PublicKey is null ? null : item.Sequence,
            };
        }

        return AnswerPut(query, from);
    }

    private KrpcMessage AnswerPut(KrpcMessage query, IPEndPoint from)
    {
        if (query.Token is null || !_tokens.IsValid(query.Token, from.Address))
        {
            return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.Protocol, "Protocol Error: bad token");
        }

        byte[] value = query.ItemValue!;
        long now = _time.GetTimestamp();
        if (query.PublicKey is null)
        {
            _items.Put(DhtItem.ImmutableTarget(value), new StoredItem(value, null, null, 0, null, now));
            return Reply(query, from);
        }

        if (query.Signature is null || query.Sequence is not long seq)
        {
            return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.Protocol, "Protocol Error: a mutable put needs sig and seq");
        }

        // BEP 44: "the signature must be verified"; a failure is "206 invalid signature".
        if (!IsSignatureValid(query.PublicKey, query.Salt, seq, value, query.Signature))
        {
            return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.InvalidSignature, "invalid signature");
        }

        NodeId target = DhtItem.MutableTarget(query.PublicKey, query.Salt);
        StoredItem? current = _items.Get(target);
        if (current is not null)
        {
            // BEP 44: cas, when present, must match the current seq (301); a lower seq is refused (302).
            if (query.CompareAndSwap is long cas && cas != current.Sequence)
            {
                return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.CasMismatch, "CAS mismatch");
            }

            if (seq < current.Sequence || (seq == current.Sequence && !value.AsSpan().SequenceEqual(current.Value)))
            {
                return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.SequenceLessThanCurrent, "sequence number less than current");
            }
        }

        _items.Put(target, new StoredItem(value, query.PublicKey, query.Salt, seq, query.Signature, now));
        return Reply(query, from);
    }
}

/// <summary>What a BEP 44 put did.</summary>
/// <param name="Target">The item's target (SHA-1 of the value, or of public key + salt).</param>
/// <param name="AcceptedBy">How many of the k closest nodes stored it.</param>
public sealed record DhtPutResult(Sha1Hash Target, int AcceptedBy);

/// <summary>A BEP 51 sample_infohashes answer.</summary>
/// <param name="InfoHashes">The sampled info-hashes.</param>
/// <param name="StoredCount">How many info-hashes the node stores in all (<c>num</c>).</param>
/// <param name="Interval">How long to wait before asking the same node again.</param>
/// <param name="Nodes">Nodes it returned near the target.</param>
public sealed record DhtSamples(IReadOnlyList<Sha1Hash> InfoHashes, int StoredCount, TimeSpan Interval, IReadOnlyList<IPEndPoint> Nodes);

/// <summary>A mutable BEP 44 item as found: its bencoded value, sequence number and signature.</summary>
public sealed record DhtMutableItem(byte[] Value, long Sequence, byte[] Signature);
