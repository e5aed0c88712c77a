using System.Security.Cryptography;
using PeerNet.Erasure;

namespace PeerNet.Codecs.Tests.Erasure;

/// <summary>
/// Durability of k-of-n shares while providers leave and join, in virtual time: files are coded with the real
/// <see cref="ReedSolomon"/>, their shares held in memory by simulated providers, and every byte a repair moves is a
/// real share decoded from k survivors and re-encoded. Placement follows the storage design: the n providers
/// closest to the file's storage index by XOR distance (Kademlia's metric), one share each; a repair puts each
/// missing share on the next-closest live provider that holds none of the file's shares.
/// </summary>
/// <remarks>
/// This models the placement and repair policy, not the network: a provider that leaves takes its shares with it at
/// once, a check sees exactly which providers are alive, and transfers take no time. What it answers is whether a
/// check interval and repair threshold keep every file above k shares under a churn rate, and what repair costs.
/// </remarks>
internal sealed class ChurnSimulation
{
    public sealed record Settings
    {
        public int Providers { get; init; } = 100;
        public int Files { get; init; } = 1000;
        public int K { get; init; } = 3;
        public int N { get; init; } = 10;
        /// <summary>Fraction of the first providers that leave (for good, with their shares) during the run.</summary>
        public double Leaving { get; init; } = 0.3;
        /// <summary>Providers that join during the run, as a fraction of the first providers.</summary>
        public double Joining { get; init; } = 0.3;
        public TimeSpan Duration { get; init; } = TimeSpan.FromDays(30);
        public TimeSpan CheckInterval { get; init; } = TimeSpan.FromDays(1);
        public bool Repair { get; init; } = true;
        /// <summary>A check repairs a file whose live shares are fewer than this (n: repair at the first loss).</summary>
        public int RepairBelow { get; init; } = 10;
        public int ShareSize { get; init; } = 1024;
        public int Seed { get; init; } = 1;
    }

    public sealed record Result(
        int FilesLost,
        int FilesRetrievable,
        int MinLiveShares,
        int ProvidersLeft,
        int ProvidersJoined,
        long SharesLost,
        int Repairs,
        long SharesRebuilt,
        long RepairBytesDown,
        long RepairBytesUp,
        int ShareSize)
    {
        /// <summary>Repair traffic (down and up) per provider that left.</summary>
        public double RepairBytesPerLostProvider => ProvidersLeft == 0 ? 0 : (double)(RepairBytesDown + RepairBytesUp) / ProvidersLeft;

        /// <summary>What a provider that left held, on average.</summary>
        public double BytesHeldPerLostProvider => ProvidersLeft == 0 ? 0 : (double)SharesLost * ShareSize / ProvidersLeft;
    }

    private sealed class Provider(UInt128 id)
    {
        public UInt128 Id { get; } = id;
        public bool Alive { get; set; } = true;
        public Dictionary<(int File, int Share), byte[]> Shares { get; } = [];
    }

    private sealed class StoredFile(UInt128 index, byte[] data, int n)
    {
        public UInt128 Index { get; } = index;
        public byte[] Data { get; } = data;
        /// <summary>Which provider holds each share number (-1: nobody).</summary>
        public int[] Holders { get; } = Enumerable.Repeat(-1, n).ToArray();
        public bool Lost { get; set; }
    }

    private readonly Settings _settings;
    private readonly ReedSolomon _code;
    private readonly Random _random;
    private readonly List<Provider> _providers = [];
    private readonly List<StoredFile> _files = [];
    private readonly PriorityQueue<Action, (long Time, long Order)> _events = new();
    private long _order;
    private long _sharesLost;
    private int _repairs;
    private long _sharesRebuilt;
    private long _bytesDown;
    private long _bytesUp;
    private int _left;
    private int _joined;
    private int _minLive;

    private ChurnSimulation(Settings settings)
    {
        _settings = settings;
        _code = new ReedSolomon(settings.K, settings.N);
        _random = new Random(settings.Seed);
        _minLive = settings.N;
    }

    public static Result Run(Settings settings) => new ChurnSimulation(settings).Run();

    private Result Run()
    {
        long duration = _settings.Duration.Ticks;
        for (int i = 0; i < _settings.Providers; i++)
        {
            _providers.Add(new Provider(RandomId()));
        }

        for (int f = 0; f < _settings.Files; f++)
        {
            Put(f);
        }

        int leaving = (int)Math.Round(_settings.Providers * _settings.Leaving);
        foreach (int p in Enumerable.Range(0, _settings.Providers).OrderBy(_ => _random.Next()).Take(leaving))
        {
            At(_random.NextInt64(duration), () => Leave(p));
        }

        int joining = (int)Math.Round(_settings.Providers * _settings.Joining);
        for (int j = 0; j < joining; j++)
        {
            At(_random.NextInt64(duration), Join);
        }

        long interval = _settings.CheckInterval.Ticks;
        for (int f = 0; f < _files.Count; f++)
        {
            int file = f;
            for (long t = _random.NextInt64(interval); t < duration; t += interval)
            {
                At(t, () => Check(file));
            }
        }

        while (_events.TryDequeue(out Action? action, out _))
        {
            action();
        }

        int retrievable = Enumerable.Range(0, _files.Count).Count(f => Retrievable(_files[f], f));
        return new Result(
            _files.Count(f => f.Lost), retrievable, _minLive, _left, _joined, _sharesLost, _repairs, _sharesRebuilt,
            _bytesDown, _bytesUp, _settings.ShareSize);
    }

    private void At(long time, Action action) => _events.Enqueue(action, (time, _order++));

    private UInt128 RandomId()
    {
        Span<byte> id = stackalloc byte[16];
        _random.NextBytes(id);
        return BitConverter.ToUInt128(id);
    }

    private void Put(int f)
    {
        var data = new byte[_settings.K * _settings.ShareSize];
        _random.NextBytes(data);
        var file = new StoredFile(RandomId(), data, _settings.N);
        _files.Add(file);
        ReadOnlyMemory<byte>[] blocks = Blocks(data);
        byte[][] shares = Enumerable.Range(0, _settings.N).Select(_ => new byte[_settings.ShareSize]).ToArray();
        int[] numbers = Enumerable.Range(0, _settings.N).ToArray();
        _code.EncodeShares(blocks, numbers, shares.Select(s => (Memory<byte>)s).ToArray());
        foreach (int share in numbers)
        {
            Place(f, share, shares[share]);
        }
    }

    private ReadOnlyMemory<byte>[] Blocks(byte[] data) =>
        Enumerable.Range(0, _settings.K).Select(i => (ReadOnlyMemory<byte>)data.AsMemory(i * _settings.ShareSize, _settings.ShareSize)).ToArray();

    /// <summary>Puts a share on the live provider closest to the file's index that holds none of its shares.</summary>
    private void Place(int f, int share, byte[] bytes)
    {
        StoredFile file = _files[f];
        int best = -1;
        UInt128 bestDistance = UInt128.MaxValue;
        for (int p = 0; p < _providers.Count; p++)
        {
            Provider provider = _providers[p];
            if (!provider.Alive || Array.IndexOf(file.Holders, p) >= 0)
            {
                continue;
            }

            UInt128 distance = provider.Id ^ file.Index;
            if (distance < bestDistance)
            {
                (best, bestDistance) = (p, distance);
            }
        }

        if (best < 0)
        {
            return; // fewer live providers than shares: the share waits for the next check
        }

        _providers[best].Shares[(f, share)] = bytes;
        file.Holders[share] = best;
    }

    private void Leave(int p)
    {
        Provider provider = _providers[p];
        provider.Alive = false;
        _left++;
        _sharesLost += provider.Shares.Count;
        foreach ((int f, int share) in provider.Shares.Keys)
        {
            StoredFile file = _files[f];
            file.Holders[share] = -1;
            int live = LiveShares(file);
            _minLive = Math.Min(_minLive, live);
            if (live < _settings.K)
            {
                file.Lost = true;
            }
        }

        provider.Shares.Clear();
    }

    private void Join()
    {
        _providers.Add(new Provider(RandomId()));
        _joined++;
    }

    private static int LiveShares(StoredFile file) => file.Holders.Count(h => h >= 0);

    private void Check(int f)
    {
        StoredFile file = _files[f];
        int live = LiveShares(file);
        if (!_settings.Repair || file.Lost || live >= _settings.RepairBelow)
        {
            return;
        }

        // Fetch any k shares, rebuild the data, code the missing shares and place them.
        int[] have = Enumerable.Range(0, _settings.N).Where(s => file.Holders[s] >= 0).Take(_settings.K).ToArray();
        ReadOnlyMemory<byte>[] inputs = have.Select(s => (ReadOnlyMemory<byte>)_providers[file.Holders[s]].Shares[(f, s)]).ToArray();
        var data = new byte[_settings.K * _settings.ShareSize];
        _code.Decode(inputs, have, Enumerable.Range(0, _settings.K).Select(i => (Memory<byte>)data.AsMemory(i * _settings.ShareSize, _settings.ShareSize)).ToArray());
        _bytesDown += (long)_settings.K * _settings.ShareSize;
        int[] missing = Enumerable.Range(0, _settings.N).Where(s => file.Holders[s] < 0).ToArray();
        byte[][] rebuilt = missing.Select(_ => new byte[_settings.ShareSize]).ToArray();
        _code.EncodeShares(Blocks(data), missing, rebuilt.Select(s => (Memory<byte>)s).ToArray());
        for (int i = 0; i < missing.Length; i++)
        {
            Place(f, missing[i], rebuilt[i]);
            if (file.Holders[missing[i]] >= 0)
            {
                _bytesUp += _settings.ShareSize;
                _sharesRebuilt++;
            }
        }

        _repairs++;
    }

    /// <summary>Decodes the file from the first k live shares it has and compares it with what was put.</summary>
    private bool Retrievable(StoredFile file, int f)
    {
        int[] have = Enumerable.Range(0, _settings.N).Where(s => file.Holders[s] >= 0).Take(_settings.K).ToArray();
        if (have.Length < _settings.K)
        {
            return false;
        }

        ReadOnlyMemory<byte>[] inputs = have.Select(s => (ReadOnlyMemory<byte>)_providers[file.Holders[s]].Shares[(f, s)]).ToArray();
        var data = new byte[file.Data.Length];
        _code.Decode(inputs, have, Enumerable.Range(0, _settings.K).Select(i => (Memory<byte>)data.AsMemory(i * _settings.ShareSize, _settings.ShareSize)).ToArray());
        return CryptographicOperations.FixedTimeEquals(data, file.Data);
    }
}
