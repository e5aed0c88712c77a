namespace PeerNet.Libp2p;

/// <summary>Datagram channels: <c>/peernet/datagram/1.0.0</c>, one yamux stream per channel.</summary>
public sealed partial class Libp2pService
{
    /// <summary>The datagram-channel protocol ID.</summary>
    public const string DatagramProtocol = DatagramFrameCodec.ProtocolId;

    /// <summary>Largest datagram, in bytes: 8 KiB.</summary>
    public const int MaxDatagramLength = DatagramFrameCodec.MaxPayloadLength;

    /// <summary>
    /// Opens a datagram channel to <paramref name="peer"/> (connected first with <see cref="ConnectAsync"/>); throws
    /// <see cref="IOException"/> when the peer does not take them. Dispose it to end it.
    /// </summary>
    public async Task<DatagramChannel> OpenDatagramChannelAsync(Libp2pPeerId peer, DatagramChannelOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DatagramChannelOptions();
        options.Validate();
        YamuxStream stream = await _host.OpenStreamAsync(Connected(peer), [DatagramFrameCodec.ProtocolId], cancellationToken).ConfigureAwait(false);
        return new DatagramChannel(stream, peer, options);
    }

    /// <summary>
    /// Takes datagram channels peers open: each is handed to <paramref name="handler"/>, and lives until either side
    /// disposes it or the connection ends (the handler may return at once). Replaces an earlier handler.
    /// </summary>
    public void SetDatagramChannelHandler(Func<DatagramChannel, CancellationToken, Task> handler, DatagramChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new DatagramChannelOptions();
        options.Validate();
        _host.SetHandler(DatagramFrameCodec.ProtocolId, async (stream, connection, cancellationToken) =>
        {
            var channel = new DatagramChannel(stream, connection.RemotePeer, options);
            await using (channel.ConfigureAwait(false))
            {
                await handler(channel, cancellationToken).ConfigureAwait(false);
                await channel.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        });
    }

    /// <summary>Stops taking datagram channels (those open go on); false when no handler was set.</summary>
    public bool RemoveDatagramChannelHandler() => _host.RemoveHandler(DatagramFrameCodec.ProtocolId);
}
