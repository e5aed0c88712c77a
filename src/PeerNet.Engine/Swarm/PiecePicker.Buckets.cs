using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PiecePicker
{
    /// <summary>
    /// The pieces nobody is downloading yet that we want, filed by (priority, availability). Each bucket is an
    /// array kept in random order — a piece enters at a random position, as in an inside-out Fisher–Yates shuffle,
    /// and leaves by swap-with-last — so the first piece of a bucket is a uniformly random pick among equals, and
    /// every move is O(1). Availability here excludes have-all peers, which add the same to every piece and so
    /// never change the order. Per priority a bitfield marks the pieces <em>not</em> filed at that priority, so
    /// <see cref="Bitfield.FirstSetExcept"/> finds a peer's pickable pieces 64 at a time.
    /// </summary>
    private sealed class Buckets
    {
        private readonly int[] _level;
        private readonly int[] _pos;
        private readonly int[] _key;
        private readonly Bucket[][] _buckets = new Bucket[MaxPriority + 1][];
        private readonly int[] _levelCount = new int[MaxPriority + 1];
        private readonly Bitfield?[] _absent = new Bitfield?[MaxPriority + 1];
        private readonly Random _random;

        public Buckets(int pieceCount, Random random)
        {
            _level = new int[pieceCount];
            _pos = new int[pieceCount];
            _key = new int[pieceCount];
            _random = random;
            for (int l = 0; l <= MaxPriority; l++)
            {
                _buckets[l] = [];
            }
        }

        /// <summary>Pieces filed.</summary>
        public int Count { get; private set; }

        public bool Contains(int piece) => _level[piece] != 0;

        public int LevelCount(int level) => _levelCount[level];

        /// <summary>Number of availability buckets at <paramref name="level"/> (the highest availability + 1, or more).</summary>
        public int BucketCount(int level) => _buckets[level].Length;

        public ReadOnlySpan<int> Bucket(int level, int availability)
        {
            Bucket[] row = _buckets[level];
            return availability < row.Length ? row[availability].Items.AsSpan(0, row[availability].Count) : [];
        }

        /// <summary>Set bits are the pieces not filed at <paramref name="level"/>; null when none is.</summary>
        public Bitfield? Absent(int level) => _absent[level];

        public void Insert(int piece, int level, int availability)
        {
            Bucket bucket = GetBucket(level, availability);
            if (bucket.Count == bucket.Items.Length)
            {
                Array.Resize(ref bucket.Items, bucket.Items.Length * 2);
            }

            int[] items = bucket.Items;
            int j = _random.Next(bucket.Count + 1);
            if (j != bucket.Count)
            {
                int moved = items[j];
                items[bucket.Count] = moved;
                _pos[moved] = bucket.Count;
            }

            items[j] = piece;
            _pos[piece] = j;
            bucket.Count++;
            _level[piece] = level;
            _key[piece] = availability;
            _levelCount[level]++;
            Count++;
            Bitfield absent = _absent[level] ??= NewAbsent(_level.Length);
            absent.Clear(piece);
        }

        public void Remove(int piece)
        {
            int level = _level[piece];
            Bucket bucket = _buckets[level][_key[piece]];
            int i = _pos[piece];
            int last = bucket.Items[--bucket.Count];
            bucket.Items[i] = last;
            _pos[last] = i;
            _level[piece] = 0;
            _levelCount[level]--;
            Count--;
            _absent[level]!.Set(piece);
        }

        public void Move(int piece, int level, int availability)
        {
            Remove(piece);
            Insert(piece, level, availability);
        }

        public void MoveAvailability(int piece, int availability) => Move(piece, _level[piece], availability);

        private static Bitfield NewAbsent(int length)
        {
            var b = new Bitfield(length);
            b.SetAll();
            return b;
        }

        private Bucket GetBucket(int level, int availability)
        {
            Bucket[] row = _buckets[level];
            if (availability >= row.Length)
            {
                int old = row.Length;
                Array.Resize(ref row, Math.Max(availability + 1, old * 2));
                for (int a = old; a < row.Length; a++)
                {
                    row[a] = new Bucket();
                }

                _buckets[level] = row;
            }

            return row[availability];
        }
    }

    private sealed class Bucket
    {
        public int[] Items = new int[4];
        public int Count;
    }
}
