using System.Buffers;
using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Storage;

internal sealed partial class PieceVerifier
{
    // One incremental SHA-1 per hashing thread, reset after each piece: no allocation per piece.
    [ThreadStatic]
    private static IncrementalHash? _threadSha1;

    /// <summary>Accumulates one piece's hashes as its bytes arrive in block-aligned chunks.</summary>
    private ref struct PieceHasher
    {
        private readonly PieceVerifier _verifier;
        private readonly int _piece;
        private readonly bool _hasV2;
        private readonly bool _v2Known;
        private readonly Sha256Hash _v2Target;
        private readonly int _width;
        private readonly int _v2Length;
        private Sha256Hash[]? _leaves;
        private int _blocks;
        private Sha1Hash? _v1OneShot;
        private bool _v1Incremental;

        public PieceHasher(PieceVerifier verifier, int piece)
        {
            _verifier = verifier;
            _piece = piece;
            _hasV2 = verifier.TryGetV2Target(piece, out _v2Target, out _width, out _v2Known);
            if (_hasV2)
            {
                _v2Length = verifier.Map.GetV2DataLength(piece);
                _leaves = ArrayPool<Sha256Hash>.Shared.Rent(_width);
            }
        }

        /// <summary>SHA-1 of a whole in-memory piece.</summary>
        public void HashV1OneShot(ReadOnlySpan<byte> piece)
        {
            if (_verifier.HasV1)
            {
                _v1OneShot = Sha1Hash.Compute(piece);
            }
        }

        /// <summary>Feeds the next chunk of a piece read in pieces to SHA-1.</summary>
        public void AppendV1(ReadOnlySpan<byte> chunk)
        {
            if (_verifier.HasV1)
            {
                (_threadSha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1)).AppendData(chunk);
                _v1Incremental = true;
            }
        }

        /// <summary>Hashes the 16 KiB blocks of v2 file data in <paramref name="chunk"/>, which starts <paramref name="offset"/> bytes into the piece.</summary>
        public void Append(ReadOnlySpan<byte> chunk, int offset)
        {
            if (!_hasV2 || !_v2Known || offset >= _v2Length)
            {
                return;
            }

            int end = Math.Min(offset + chunk.Length, _v2Length);
            for (int start = offset; start < end; start += MerkleTree.BlockSize)
            {
                int n = Math.Min(MerkleTree.BlockSize, end - start);
                _leaves![_blocks++] = Sha256Hash.Compute(chunk.Slice(start - offset, n));
            }
        }

        public readonly PieceCheckResult Finish(ReadOnlySpan<Sha256Hash> expectedBlocks)
        {
            bool? v1 = null;
            if (_verifier.HasV1)
            {
                Sha1Hash actual = _v1OneShot ?? FinishIncremental();
                v1 = actual == _verifier.Map.Metainfo.GetPieceHashV1(_piece);
            }

            bool? v2 = null;
            Sha256Hash[]? blockHashes = null;
            IReadOnlyList<int> badBlocks = [];
            bool rejected = false;
            if (_hasV2 && _v2Known)
            {
                ReadOnlySpan<Sha256Hash> leaves = _leaves.AsSpan(0, _blocks);
                v2 = RootOf(leaves, _width) == _v2Target;
                if (v2 == false || v1 == false)
                {
                    blockHashes = leaves.ToArray();
                }

                if (v2 == false && !expectedBlocks.IsEmpty)
                {
                    // Leaf hashes from a peer are trusted only once they hash up to the piece's trusted node.
                    rejected = (expectedBlocks.Length != _blocks && expectedBlocks.Length != _width) || RootOf(expectedBlocks, _width) != _v2Target;
                    if (!rejected)
                    {
                        badBlocks = FindBadBlocks(leaves, expectedBlocks[.._blocks]);
                    }
                }
            }

            PieceVerdict verdict = v1 == false || v2 == false ? PieceVerdict.Bad
                : v1 == true || v2 == true ? PieceVerdict.Good
                : PieceVerdict.Unknown;
            return new PieceCheckResult
            {
                Piece = _piece,
                Verdict = verdict,
                V1Match = v1,
                V2Match = v2,
                BlockHashes = blockHashes,
                BadBlocks = badBlocks,
                BlockHashesRejected = rejected,
            };
        }

        public void Dispose()
        {
            if (_leaves is not null)
            {
                ArrayPool<Sha256Hash>.Shared.Return(_leaves);
                _leaves = null;
            }

            if (_v1Incremental)
            {
                // Leave the thread's hasher clean for its next piece even if this one was abandoned midway.
                _threadSha1!.GetHashAndReset(stackalloc byte[Sha1Hash.Length]);
                _v1Incremental = false;
            }
        }

        private readonly Sha1Hash FinishIncremental()
        {
            if (!_v1Incremental)
            {
                // Nothing was read (an empty range): the hash of no bytes.
                return Sha1Hash.Compute([]);
            }

            Span<byte> digest = stackalloc byte[Sha1Hash.Length];
            _threadSha1!.GetCurrentHash(digest);
            return new Sha1Hash(digest);
        }

        private static Sha256Hash RootOf(ReadOnlySpan<Sha256Hash> leaves, int width)
        {
            Sha256Hash[] scratch = ArrayPool<Sha256Hash>.Shared.Rent(Math.Max(leaves.Length, 1));
            try
            {
                Span<Sha256Hash> nodes = scratch.AsSpan(0, leaves.Length);
                leaves.CopyTo(nodes);
                return MerkleTree.ComputeRoot(nodes, 0, width);
            }
            finally
            {
                ArrayPool<Sha256Hash>.Shared.Return(scratch);
            }
        }
    }
}
