using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>A provider that answered wrongly, late or not at all: it is marked and not used again.</summary>
internal sealed class GridProviderException(Libp2pPeerId peer, string message, Exception? inner = null) : IOException(message, inner)
{
    public Libp2pPeerId Peer { get; } = peer;
}

/// <summary>One <c>/peernet/store/1.0.0</c> stream to a provider: requests answered one at a time, each within a deadline.</summary>
internal sealed class GridSession : IAsyncDisposable
{
    private readonly Libp2pStream _stream;
    private readonly TimeSpan _timeout;

    private GridSession(Libp2pPeerId peer, Libp2pStream stream, TimeSpan timeout)
    {
        Peer = peer;
        _stream = stream;
        _timeout = timeout;
    }

    public Libp2pPeerId Peer { get; }

    public static async Task<GridSession> OpenAsync(Libp2pService libp2p, Libp2pPeerId peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            Libp2pStream stream = await libp2p.OpenStreamAsync(peer, GridStoreCodec.ProtocolId, deadline.Token).ConfigureAwait(false);
            return new GridSession(peer, stream, timeout);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new GridProviderException(peer, $"{peer} could not be reached for storage: {e.Message}", e);
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns the answer (refusals included); throws <see cref="GridProviderException"/> on silence or garbage.</summary>
    public async Task<StoreResponse> RequestAsync(StoreRequest request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            await _stream.WriteAsync(GridStoreCodec.Frame(request), deadline.Token).ConfigureAwait(false);
            byte[] body = await Libp2pNegotiation.ReadBodyAsync(_stream, GridStoreCodec.MaxResponseLength, deadline.Token).ConfigureAwait(false)
                ?? throw new GridProviderException(Peer, $"{Peer} closed the storage stream without an answer.");
            return GridStoreCodec.TryParseResponse(body, out StoreResponse? response, out string? error)
                ? response!
                : throw new GridProviderException(Peer, $"{Peer} answered garbage: {error}.");
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GridProviderException(Peer, $"{Peer} did not answer within {_timeout.TotalSeconds:0.#} s.", e);
        }
        catch (Exception e) when (e is IOException or InvalidDataException && e is not GridProviderException)
        {
            throw new GridProviderException(Peer, $"{Peer}'s storage stream failed: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _stream.CompleteWrites();
        }
        catch (IOException)
        {
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
