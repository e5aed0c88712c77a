using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>Settings of the libp2p Kademlia DHT (<see cref="Libp2pDht"/>).</summary>
internal sealed record Libp2pDhtOptions
{
    /// <summary>k: bucket size, peers returned and asked to store (the spec's 20).</summary>
    public int BucketSize { get; init; } = 20;

    /// <summary>α: requests in flight per lookup (the spec's 3).</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>How long one request (dial, stream, answer) may take; and how long a served stream waits for each request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a whole lookup may take; it then ends with what it found.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long provider records and stored values live (js-libp2p's 48 h).</summary>
    public TimeSpan RecordTtl { get; init; } = TimeSpan.FromHours(48);

    /// <summary>Most keys with provider records held for others.</summary>
    public int MaxProviderKeys { get; init; } = 10_000;

    /// <summary>Most providers held for one key.</summary>
    public int MaxProvidersPerKey { get; init; } = 64;

    /// <summary>Most records (PUT_VALUE) held for others.</summary>
    public int MaxRecords { get; init; } = 1_024;

    /// <summary>Most requests served on one inbound stream.</summary>
    public int MaxRequestsPerStream { get; init; } = 64;

    /// <summary>Most peers a lookup keeps as candidates.</summary>
    public int MaxLookupCandidates { get; init; } = 256;

    /// <summary>Most addresses tried when dialling a peer met in a lookup.</summary>
    public int MaxDialAddresses { get; init; } = 4;

    /// <summary>The clock of record expiry.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The node's libp2p Kademlia DHT (<c>/ipfs/kad/1.0.0</c>, <see cref="Libp2pService.Dht"/>), interoperable with
/// js-libp2p's and go-libp2p's: a routing table of the connected peers whose identify lists the protocol and
/// announces addresses (server mode); it serves FIND_NODE, GET_VALUE/PUT_VALUE (<c>/pk/</c> records only),
/// ADD_PROVIDER and GET_PROVIDERS; it looks up peers, closest peers, providers and values by iterative queries (α = 3
/// in flight, k = 20), dialling the peers met on the way. Keys are bytes: a peer ID's multihash, a content
/// multihash (the multihash of a CID, as js uses for content routing; <see cref="Sha256Multihash"/>), a record key.
/// Not the BitTorrent DHT (<see cref="PeerNetNode.Dht"/>).
/// </summary>
public sealed partial class Libp2pDht
{
    /// <summary>The protocol.</summary>
    public const string ProtocolId = KadCodec.ProtocolId;

    private readonly Libp2pHost _host;
    private readonly Func<Multiaddr, CancellationToken, Task<Libp2pPeerInfo>> _dial;
    private readonly Func<IReadOnlyList<Multiaddr>> _selfAddresses;
    private readonly Libp2pDhtOptions _options;
    private readonly CancellationToken _stopping;
    private readonly KadRoutingTable _table;
    private readonly KadProviderStore _providers;
    private readonly KadRecordStore _records;

    internal Libp2pDht(
        Libp2pHost host,
        Func<Multiaddr, CancellationToken, Task<Libp2pPeerInfo>> dial,
        Func<IReadOnlyList<Multiaddr>> selfAddresses,
        Libp2pDhtOptions? options,
        CancellationToken stopping)
    {
        _host = host;
        _dial = dial;
        _selfAddresses = selfAddresses;
        _options = options ?? new Libp2pDhtOptions();
        _stopping = stopping;
        _table = new KadRoutingTable(host.PeerId, _options.BucketSize, _options.Time);
        _providers = new KadProviderStore(_options.MaxProviderKeys, _options.MaxProvidersPerKey, _options.RecordTtl, _options.Time);
        _records = new KadRecordStore(_options.MaxRecords, _options.RecordTtl, _options.Time);
        host.SetHandler(ProtocolId, ServeAsync);
        host.ConnectionReady += OnConnectionReady;
    }

    /// <summary>The peers in the routing table now.</summary>
    public IReadOnlyList<Libp2pPeerId> RoutingTable => _table.Peers;

    /// <summary>How many peers the routing table holds.</summary>
    public int RoutingTableSize => _table.Count;

    internal KadRoutingTable Table => _table;

    internal KadProviderStore Providers => _providers;

    internal KadRecordStore Records => _records;

    /// <summary>The SHA-256 multihash of <paramref name="content"/> (<c>0x12 0x20</c> and the digest): the key of a CIDv1 or CIDv0 of that content.</summary>
    public static byte[] Sha256Multihash(ReadOnlySpan<byte> content)
    {
        byte[] multihash = new byte[2 + SHA256.HashSizeInBytes];
        multihash[0] = 0x12;
        multihash[1] = SHA256.HashSizeInBytes;
        SHA256.HashData(content, multihash.AsSpan(2));
        return multihash;
    }

    /// <summary>
    /// Fills the routing table: looks up this node's own ID through the peers known (connect to one first, e.g. with
    /// <see cref="Libp2pService.ConnectAsync"/>); returns how many peers the table holds after.
    /// </summary>
    public async Task<int> BootstrapAsync(CancellationToken cancellationToken = default)
    {
        await LookupAsync(_host.PeerId.Multihash.ToArray(), KadMessageType.FindNode, null, cancellationToken).ConfigureAwait(false);
        return _table.Count;
    }

    /// <summary>
    /// Finds <paramref name="peer"/>'s addresses: from a connection or the routing table, else by a lookup of its ID
    /// that ends when a peer names it. Null when nobody did.
    /// </summary>
    public async Task<Libp2pPeerInfo?> FindPeerAsync(Libp2pPeerId peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_table.Find(peer) is { } known)
        {
            return Describe(known.Id, known.Addresses);
        }

        if (IsConnected(peer) && _host.Peers.Get(peer) is { } record)
        {
            return Describe(peer, Strip(record.ListenAddrs));
        }

        KadPeer? found = null;
        await LookupAsync(peer.Multihash.ToArray(), KadMessageType.FindNode, (from, answer) =>
        {
            found ??= answer.CloserPeers.FirstOrDefault(p => p.Id.Equals(peer) && p.Addresses.Count > 0);
            return found is not null;
        }, cancellationToken).ConfigureAwait(false);
        return found is null ? null : Describe(found.Id, found.Addresses);
    }

    /// <summary>The (at most k = 20) peers closest to <paramref name="key"/> that answered a lookup, nearest first.</summary>
    public async Task<IReadOnlyList<Libp2pPeerId>> GetClosestPeersAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        IReadOnlyList<KadContact> closest = await LookupAsync(key.ToArray(), KadMessageType.FindNode, null, cancellationToken).ConfigureAwait(false);
        return [.. closest.Select(c => c.Id)];
    }

    /// <summary>
    /// Announces this node as a provider of <paramref name="key"/> (a multihash, e.g. <see cref="Sha256Multihash"/>):
    /// keeps the record itself and sends ADD_PROVIDER, with this node's addresses, to the k peers closest to the key.
    /// Returns how many peers were sent it.
    /// </summary>
    public async Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        byte[] k = key.ToArray();
        IReadOnlyList<Multiaddr> self = Strip(_selfAddresses());
        _providers.Add(k, _host.PeerId, self);
        IReadOnlyList<KadContact> closest = await LookupAsync(k, KadMessageType.FindNode, null, cancellationToken).ConfigureAwait(false);
        var message = new KadRpc(KadMessageType.AddProvider, k, null, [], [new KadPeer(_host.PeerId, self)]);
        bool[] sent = await Task.WhenAll(closest.Select(c => SendAsync(c, message, cancellationToken))).ConfigureAwait(false);
        return sent.Count(s => s);
    }

    /// <summary>
    /// Finds providers of <paramref name="key"/>: those this node holds, then by a lookup that asks GET_PROVIDERS and
    /// ends once <paramref name="maxProviders"/> are known (with any this node was told of while it ran). Each comes with the addresses it announced.
    /// </summary>
    public async Task<IReadOnlyList<Libp2pPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxProviders = 20, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxProviders, 1);
        byte[] k = key.ToArray();
        var found = new Dictionary<Libp2pPeerId, KadPeer>();
        foreach (KadPeer local in _providers.Get(k))
        {
            found.TryAdd(local.Id, local);
        }

        if (found.Count < maxProviders)
        {
            await LookupAsync(k, KadMessageType.GetProviders, (from, answer) =>
            {
                foreach (KadPeer provider in answer.ProviderPeers)
                {
                    if (found.Count < maxProviders)
                    {
                        found.TryAdd(provider.Id, provider);
                    }
                }

                return found.Count >= maxProviders;
            }, cancellationToken).ConfigureAwait(false);

            // An ADD_PROVIDER that arrived while the lookup ran (it has no answer, so its sender may have asked us to look
            // just after sending it) counts as well as one a peer named.
            foreach (KadPeer local in _providers.Get(k))
            {
                if (found.Count < maxProviders)
                {
                    found.TryAdd(local.Id, local);
                }
            }
        }

        return [.. found.Values.Select(p => Describe(p.Id, p.Addresses))];
    }

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> here and at the k peers closest to the key
    /// (PUT_VALUE); returns how many peers took it. Only <c>/pk/</c> records are accepted (as js-libp2p's DHT accepts
    /// by default): another namespace, or a public key that is not the key's peer's, is an <see cref="ArgumentException"/>.
    /// </summary>
    public async Task<int> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        if (value.Length > KadCodec.MaxValueLength)
        {
            throw new ArgumentException($"The value is {value.Length} bytes, over {KadCodec.MaxValueLength}.", nameof(value));
        }

        if (!KadRecords.Validate(key.Span, value.Span, out string? error))
        {
            throw new ArgumentException($"The record is refused: {error}.", nameof(key));
        }

        KadValue record = _records.Put(key.Span, value.Span);
        IReadOnlyList<KadContact> closest = await LookupAsync(record.Key, KadMessageType.FindNode, null, cancellationToken).ConfigureAwait(false);
        var message = new KadRpc(KadMessageType.PutValue, record.Key, record with { TimeReceived = "" }, [], []);
        bool[] stored = await Task.WhenAll(closest.Select(c => SendAsync(c, message, cancellationToken))).ConfigureAwait(false);
        return stored.Count(s => s);
    }

    /// <summary>
    /// The value of <paramref name="key"/>: held here, else the first valid record a lookup of GET_VALUE finds; null when
    /// none. A record that does not validate (<c>/pk/</c> only) is ignored.
    /// </summary>
    public async Task<byte[]?> GetValueAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        CheckKey(key.Span);
        byte[] k = key.ToArray();
        if (LocalValue(k) is { } local)
        {
            return local.Value;
        }

        byte[]? value = null;
        await LookupAsync(k, KadMessageType.GetValue, (from, answer) =>
        {
            if (answer.Record is { } r && r.Key.AsSpan().SequenceEqual(k) && KadRecords.Validate(r.Key, r.Value, out _))
            {
                value ??= r.Value;
            }

            return value is not null;
        }, cancellationToken).ConfigureAwait(false);
        return value;
    }

    private static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > KadCodec.MaxKeyLength)
        {
            throw new ArgumentException($"A DHT key is 1 to {KadCodec.MaxKeyLength} bytes; this one is {key.Length}.", nameof(key));
        }
    }

    private Libp2pPeerInfo Describe(Libp2pPeerId peer, IReadOnlyList<Multiaddr> addresses) =>
        new() { PeerId = peer, ListenAddresses = addresses, IsConnected = IsConnected(peer) };

    /// <summary>A value this node holds or can make: a stored record, or the <c>/pk/</c> record of a peer whose ID inlines its key.</summary>
    private KadValue? LocalValue(byte[] key)
    {
        if (_records.Get(key) is { } stored)
        {
            return stored;
        }

        if (KadRecords.IsPublicKeyKey(key)
            && Libp2pPeerId.TryFromMultihash(key.AsSpan(KadRecords.PublicKeyPrefix.Length), out Libp2pPeerId? peer, out _)
            && peer.Ed25519PublicKey is { } publicKey)
        {
            return new KadValue(key, Libp2pKeys.EncodeEd25519PublicKey(publicKey), "");
        }

        return null;
    }

    private bool IsConnected(Libp2pPeerId peer) => _host.Connections.Any(c => c.RemotePeer.Equals(peer));

    /// <summary>A peer joins the routing table once identify says it serves the DHT and where it listens.</summary>
    private void OnConnectionReady(Libp2pConnection connection)
    {
        Libp2pPeerRecord? record = connection.Identified.IsCompletedSuccessfully ? connection.Identified.Result : null;
        if (record is not null && record.Protocols.Contains(ProtocolId))
        {
            _table.TryAdd(connection.RemotePeer, Strip(record.ListenAddrs), IsConnected);
        }
    }

    /// <summary>The TCP addresses of <paramref name="addresses"/> without their <c>/p2p</c> part, at most 16.</summary>
    internal static IReadOnlyList<Multiaddr> Strip(IEnumerable<Multiaddr> addresses) =>
        [.. addresses.Select(a => EndPointOf(a) is { } e ? Multiaddr.ForTcp(e.Address, e.Port) : null).OfType<Multiaddr>().Distinct().Take(KadCodec.MaxAddressesPerPeer)];

    /// <summary>The TCP endpoint of <c>/ip4|ip6/ADDRESS/tcp/PORT[/p2p/ID]</c>; null for anything else (or port 0).</summary>
    private static IPEndPoint? EndPointOf(Multiaddr address)
    {
        IReadOnlyList<MultiaddrComponent> parts = address.Components;
        if (parts.Count is < 2 or > 3
            || parts[0].Protocol is not (MultiaddrProtocol.Ip4 or MultiaddrProtocol.Ip6)
            || parts[1].Protocol != MultiaddrProtocol.Tcp
            || (parts.Count == 3 && parts[2].Protocol != MultiaddrProtocol.P2p)
            || !IPAddress.TryParse(parts[0].Value, out IPAddress? ip)
            || !int.TryParse(parts[1].Value, System.Globalization.CultureInfo.InvariantCulture, out int port)
            || port == 0)
        {
            return null;
        }

        return new IPEndPoint(ip, port);
    }

    private static ReadOnlyMemory<byte> Frame(KadRpc rpc)
    {
        var output = new ArrayBufferWriter<byte>();
        KadCodec.Write(rpc, output);
        return output.WrittenMemory;
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken a, CancellationToken b)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(a, b);
        cts.CancelAfter(timeout);
        return cts;
    }

    /// <summary>Reads (bounded) to the peer's FIN, then disposes the stream, in the background: a graceful close without holding the caller.</summary>
    private void CloseLater(YamuxStream stream)
    {
        _ = Task.Run(async () =>
        {
            await using ConfiguredAsyncDisposable dispose = stream.ConfigureAwait(false);
            try
            {
                using var timeout = Deadline(TimeSpan.FromSeconds(2), _stopping, CancellationToken.None);
                byte[] sink = new byte[256];
                for (int total = 0; total < 4096;)
                {
                    int n = await stream.ReadAsync(sink, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return;
                    }

                    total += n;
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Disposing resets it.
            }
        }, CancellationToken.None);
    }
}
