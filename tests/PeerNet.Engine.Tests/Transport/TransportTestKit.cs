using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>Streams of known bytes to push through a connection and check on the other side.</summary>
internal static class TransportTestKit
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    // A prime length, so a stream offset never lines up with a chunk boundary by accident.
    private static readonly byte[] Pattern = MakePattern(1_048_573);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Listens on <paramref name="endPoint"/>, connects to it and accepts: the listener and both ends.</summary>
    public static async Task<(IPeerListener Listener, IDuplexConnection Client, IDuplexConnection Server)> ConnectPairAsync(
        IPeerTransport server, IPeerTransport client, IPEndPoint endPoint)
    {
        IPeerListener listener = await server.ListenAsync(endPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        ValueTask<IDuplexConnection> accept = listener.AcceptAsync(Ct);
        IDuplexConnection clientEnd = await client.ConnectAsync(listener.LocalEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        IDuplexConnection serverEnd = await accept.AsTask().WaitAsync(TestTimeout, Ct);
        return (listener, clientEnd, serverEnd);
    }

    /// <summary>Writes <paramref name="total"/> bytes of stream <paramref name="seed"/>, flushing every chunk.</summary>
    public static async Task WriteStreamAsync(PipeWriter writer, long total, int seed, int chunk = 64 * 1024)
    {
        long position = 0;
        while (position < total)
        {
            int n = (int)Math.Min(chunk, total - position);
            Fill(writer.GetSpan(n)[..n], position, seed);
            writer.Advance(n);
            position += n;
            FlushResult flush = await writer.FlushAsync(Ct);
            Assert.False(flush.IsCompleted, "The peer stopped reading.");
        }
    }

    /// <summary>Reads exactly <paramref name="total"/> bytes and checks each is the byte of stream <paramref name="seed"/> at its offset.</summary>
    public static async Task ReadStreamAsync(PipeReader reader, long total, int seed)
    {
        long position = 0;
        while (position < total)
        {
            ReadResult result = await reader.ReadAsync(Ct);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long take = Math.Min(buffer.Length, total - position);
            foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, take))
            {
                Verify(segment.Span, position, seed);
                position += segment.Length;
            }

            reader.AdvanceTo(buffer.GetPosition(take));
            if (result.IsCompleted && position < total)
            {
                Assert.Fail($"The stream ended after {position} of {total} bytes.");
            }
        }
    }

    /// <summary>Reads until the peer completes the stream; returns how many bytes came.</summary>
    public static async Task<long> ReadToEndAsync(PipeReader reader)
    {
        long count = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(Ct);
            count += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return count;
            }
        }
    }

    public static async Task WriteAsync(PipeWriter writer, byte[] bytes)
    {
        FlushResult result = await writer.WriteAsync(bytes, Ct);
        Assert.False(result.IsCompleted);
    }

    public static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        ReadResult result = await reader.ReadAtLeastAsync(count, Ct);
        Assert.True(result.Buffer.Length >= count, "The stream ended early.");
        byte[] bytes = result.Buffer.Slice(0, count).ToArray();
        reader.AdvanceTo(result.Buffer.GetPosition(count));
        return bytes;
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails naming <paramref name="what"/> after <see cref="TestTimeout"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what)
        => Poll.UntilAsync(condition, what, TestTimeout, TimeSpan.FromMilliseconds(10));

    /// <summary>Fills <paramref name="span"/> with the bytes of stream <paramref name="seed"/> from <paramref name="position"/> on.</summary>
    public static void Fill(Span<byte> span, long position, int seed)
    {
        while (!span.IsEmpty)
        {
            int index = PatternIndex(position, seed);
            int n = Math.Min(span.Length, Pattern.Length - index);
            Pattern.AsSpan(index, n).CopyTo(span);
            span = span[n..];
            position += n;
        }
    }

    private static void Verify(ReadOnlySpan<byte> span, long position, int seed)
    {
        while (!span.IsEmpty)
        {
            int index = PatternIndex(position, seed);
            int n = Math.Min(span.Length, Pattern.Length - index);
            if (!span[..n].SequenceEqual(Pattern.AsSpan(index, n)))
            {
                Assert.Fail($"Stream {seed}: wrong bytes at or after offset {position}.");
            }

            span = span[n..];
            position += n;
        }
    }

    private static int PatternIndex(long position, int seed) => (int)((position + (seed * 7919L)) % Pattern.Length);

    private static byte[] MakePattern(int length)
    {
        byte[] bytes = new byte[length];
        new Random(12345).NextBytes(bytes);
        return bytes;
    }
}
