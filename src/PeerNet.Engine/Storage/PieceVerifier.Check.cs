namespace PeerNet.Storage;

internal sealed partial class PieceVerifier
{
    /// <summary>
    /// Verifies every piece whose bytes are on disk, in parallel on the
    /// hashing queue. Pieces touching a missing or short file count as missing without being read; only real I/O
    /// failures throw. At most <see cref="WorkQueue.Concurrency"/> pieces are in flight, each with one
    /// read buffer of at most <see cref="ReadChunkSize"/> bytes.
    /// </summary>
    public Task<CheckResult> CheckAsync(TorrentStorage storage, IProgress<CheckProgress>? progress = null, CancellationToken cancellationToken = default)
        => CheckAsync(storage, null, progress, cancellationToken);

    /// <summary>Like <see cref="CheckAsync(TorrentStorage, IProgress{CheckProgress}?, CancellationToken)"/>, over <paramref name="pieces"/> only (all when null).</summary>
    public async Task<CheckResult> CheckAsync(TorrentStorage storage, PieceBitfield? pieces, IProgress<CheckProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storage);
        WorkQueue queue = Queue;
        int count = Map.PieceCount;
        var statuses = new FileStatus[Map.FileCount];
        for (int i = 0; i < statuses.Length; i++)
        {
            if (Map.IsStored(i))
            {
                statuses[i] = storage.GetFileStatus(i);
            }
        }

        var candidates = new List<int>();
        int total = 0;
        int missing = 0;
        for (int piece = 0; piece < count; piece++)
        {
            if (pieces is not null && !pieces[piece])
            {
                continue;
            }

            total++;
            if (IsOnDisk(piece, statuses))
            {
                candidates.Add(piece);
            }
            else
            {
                missing++;
            }
        }

        var verified = new PieceBitfield(count);
        var unknown = new PieceBitfield(count);
        int done = missing;
        int good = 0;
        int failed = 0;
        int step = Math.Max(1, total / 200);
        progress?.Report(new CheckProgress(done, total, 0));

        var options = new ParallelOptions { MaxDegreeOfParallelism = queue.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(candidates, options, async (piece, token) =>
        {
            PieceCheckResult result = await queue.RunAsync(() => VerifyStored(piece, storage), token).ConfigureAwait(false);
            switch (result.Verdict)
            {
                case PieceVerdict.Good:
                    verified.Set(piece);
                    Interlocked.Increment(ref good);
                    break;
                case PieceVerdict.Unknown:
                    unknown.Set(piece);
                    break;
                case PieceVerdict.Missing:
                    Interlocked.Increment(ref missing);
                    break;
                default:
                    Interlocked.Increment(ref failed);
                    break;
            }

            int n = Interlocked.Increment(ref done);
            if (progress is not null && n % step == 0 && n != total)
            {
                progress.Report(new CheckProgress(n, total, Volatile.Read(ref good)));
            }
        }).ConfigureAwait(false);

        progress?.Report(new CheckProgress(total, total, good));
        return new CheckResult { Verified = verified, Unknown = unknown, Failed = failed, Missing = missing };
    }

    /// <summary>Whether every stored file under the piece's hashed bytes exists and is long enough.</summary>
    private bool IsOnDisk(int piece, FileStatus[] statuses)
    {
        int length = HasV1 ? Map.GetPieceSize(piece) : Map.GetV2DataLength(piece);
        foreach (FileSlice slice in Map.GetSlices(piece, 0, length))
        {
            FileStatus status = statuses[slice.FileIndex];
            if (!status.Exists || status.Length < slice.FileOffset + slice.Length)
            {
                return false;
            }
        }

        return true;
    }
}
