using System.IO.Pipelines;
using System.Net;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Fuzz;

/// <summary>
/// yamux frames from a peer. The header parser: every 12-byte window of the input parses or names an error, and a
/// parsed header writes back to its bytes. The session: a responder <see cref="YamuxSession"/> (small limits) is fed
/// the input as the initiator's frames, in pieces whose sizes the input's first byte picks, while it accepts streams,
/// reads them and answers; it must end (connection end or protocol error, with a reason) within the deadline, never
/// hold more than a window per stream, and every frame it writes must be a valid header with a payload that fits.
/// </summary>
public static class YamuxTarget
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static readonly YamuxOptions Options = new()
    {
        MaxInboundStreams = 8,
        MaxPendingControlFrames = 64,
        MaxFramePayload = 1024,
        CloseTimeout = TimeSpan.FromMilliseconds(200),
    };

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        for (int i = 0; i + YamuxHeader.Size <= data.Length; i++)
        {
            ReadOnlySpan<byte> window = data.Slice(i, YamuxHeader.Size);
            if (YamuxHeader.TryParse(window, localIsInitiator: false, YamuxOptions.SpecInitialWindow, out YamuxHeader header, out string? error))
            {
                Check.Bytes(window, header.ToArray(), "a parsed header written back");
            }
            else
            {
                Check.That(!string.IsNullOrEmpty(error), "a refused header with no error");
            }
        }

        RunSessionAsync(data.ToArray()).GetAwaiter().GetResult();
    }

    private static async Task RunSessionAsync(byte[] input)
    {
        int piece = input.Length > 0 ? 1 + (input[0] % 64) : 1;
        var connection = new PipeConnection();
        var session = new YamuxSession(connection, isInitiator: false, Options);
        session.Start();
        var served = new List<Task>();
        Task accepting = Task.Run(async () =>
        {
            while (await session.AcceptStreamAsync(CancellationToken.None) is { } stream)
            {
                served.Add(ServeAsync(stream));
            }
        });
        Task<byte[]> written = ReadAllAsync(connection.PeerInput);

        for (int offset = 0; offset < input.Length && !session.Completion.IsCompleted; offset += piece)
        {
            int n = Math.Min(piece, input.Length - offset);
            FlushResult flushed = await connection.PeerOutput.WriteAsync(input.AsMemory(offset, n));
            if (flushed.IsCompleted)
            {
                break;
            }
        }

        await connection.PeerOutput.CompleteAsync();
        await session.Completion.WaitAsync(Deadline);
        Check.That(!string.IsNullOrEmpty(session.CloseReason), "the session ended with no reason");
        await session.DisposeAsync().AsTask().WaitAsync(Deadline);
        await accepting.WaitAsync(Deadline);
        await Task.WhenAll(served).WaitAsync(Deadline);
        CheckFrames(await written.WaitAsync(Deadline));
    }

    /// <summary>Reads what the peer sends, a little at a time, and answers once it finished.</summary>
    private static async Task ServeAsync(YamuxStream stream)
    {
        try
        {
            byte[] buffer = new byte[4096];
            long total = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                total += n;
                Check.That(stream.ReceiveWindowRemaining >= 0 && stream.ReceiveWindowRemaining <= stream.ReceiveWindowSize, $"window {stream.ReceiveWindowRemaining}");
            }

            await stream.WriteAsync(BitConverter.GetBytes(total));
            stream.CompleteWrites();
        }
        catch (IOException)
        {
            // Reset or the session ended: both are the peer's to cause.
        }
        catch (InvalidOperationException)
        {
            // Writes already completed.
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private static void CheckFrames(byte[] output)
    {
        int offset = 0;
        while (offset < output.Length)
        {
            Check.That(output.Length - offset >= YamuxHeader.Size, $"a partial header at {offset} of {output.Length}");
            bool ok = YamuxHeader.TryParse(output.AsSpan(offset, YamuxHeader.Size), localIsInitiator: true, (uint)Options.MaxFramePayload, out YamuxHeader header, out string? error);
            Check.That(ok, $"the session wrote an invalid frame: {error}");
            offset += YamuxHeader.Size + (header.Type == YamuxFrameType.Data ? (int)header.Length : 0);
            Check.That(offset <= output.Length, "a data frame runs past the end");
        }
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var all = new MemoryStream();
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return all.ToArray();
            }
        }
    }

    /// <summary>A connection made of two pipes; the target plays the other end.</summary>
    private sealed class PipeConnection : IDuplexConnection
    {
        private readonly Pipe _in = new();
        private readonly Pipe _out = new();

        public PipeReader Input => _in.Reader;

        public PipeWriter Output => _out.Writer;

        public PipeWriter PeerOutput => _in.Writer;

        public PipeReader PeerInput => _out.Reader;

        public IPEndPoint RemoteEndPoint { get; } = new(IPAddress.Loopback, 1);

        public IPEndPoint LocalEndPoint { get; } = new(IPAddress.Loopback, 2);

        public long BytesReceived => 0;

        public long BytesSent => 0;

        public void Abort(Exception? reason = null)
        {
            var error = new ConnectionAbortedException("aborted", reason);
            _in.Reader.Complete(error);
            _out.Writer.Complete(error);
        }

        public ValueTask DisposeAsync()
        {
            _in.Reader.Complete();
            _out.Writer.Complete();
            return ValueTask.CompletedTask;
        }
    }
}
