using System.Threading.Channels;

namespace PeerNet.Storage;

/// <summary>
/// Runs work off the caller's thread on a fixed number of workers (every core by default). A session has two,
/// each shared by every torrent: hashing (one worker per core, so a recheck and live downloads together never use
/// more than the machine's cores) and the writer of verified pieces (one worker). Callers await the result. Work already running is never abandoned: cancellation only drops work not yet started,
/// so a caller may return its buffer to a pool as soon as its await ends.
/// </summary>
internal sealed class WorkQueue : IAsyncDisposable
{
    /// <summary>Default bound on queued work items.</summary>
    public const int DefaultCapacity = 4096;

    private readonly Channel<WorkItem> _channel;
    private readonly Task[] _workers;

    /// <summary>Starts <paramref name="concurrency"/> workers (0: <see cref="Environment.ProcessorCount"/>).</summary>
    public WorkQueue(int concurrency = 0, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(concurrency);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Concurrency = concurrency == 0 ? Environment.ProcessorCount : concurrency;
        _channel = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(capacity)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _workers = new Task[Concurrency];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    /// <summary>Number of workers.</summary>
    public int Concurrency { get; }

    /// <summary>Queues <paramref name="work"/> and completes with its result (or its exception).</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var item = new WorkItem<T>(work, cancellationToken);
        try
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new ObjectDisposedException(nameof(WorkQueue), e);
        }

        return await item.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking work, finishes what is queued, and waits for the workers.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private async Task WorkAsync()
    {
        ChannelReader<WorkItem> reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out WorkItem? item))
            {
                item.Execute();
            }
        }
    }

    private abstract class WorkItem
    {
        public abstract void Execute();
    }

    private sealed class WorkItem<T>(Func<T> work, CancellationToken cancellationToken) : WorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public override void Execute()
        {
            if (cancellationToken.IsCancellationRequested)
            {
                _completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                _completion.TrySetResult(work());
            }
            catch (OperationCanceledException e) when (e.CancellationToken == cancellationToken)
            {
                _completion.TrySetCanceled(cancellationToken);
            }
            catch (Exception e)
            {
                _completion.TrySetException(e);
            }
        }
    }
}
