using System.Buffers;
using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Creation;

internal sealed partial class PieceHasher
{
    /// <summary>One hashing thread's state: its buffer, the file it has open, a piece in progress.</summary>
    private sealed partial class Worker : IDisposable
    {
        private readonly PieceHasher _owner;
        private readonly PieceLayout _layout;
        private readonly byte[] _buffer;
        private readonly Sha256Hash[] _blocks;
        private readonly int _blocksPerPiece;
        private IncrementalHash? _sha1;

        public Worker(PieceHasher owner)
        {
            _owner = owner;
            _layout = owner._layout;
            long pieceLength = _layout.PieceLength;
            _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ChunkSize, _owner._piecesPerClaim * pieceLength));
            _blocksPerPiece = (int)(pieceLength / MerkleTree.BlockSize);
            _blocks = _layout.HasV2 ? new Sha256Hash[_blocksPerPiece] : [];
        }

        public void Run(CancellationToken stop)
        {
            long pieceLength = _layout.PieceLength;
            while (!stop.IsCancellationRequested && _owner.TryClaim(out int first, out int end))
            {
                long position = first * pieceLength;
                long runEnd = Math.Min(end * pieceLength, _layout.StreamLength);
                while (position < runEnd && !stop.IsCancellationRequested)
                {
                    // A claim is at most one chunk, unless one piece is bigger: then it is read a chunk at a time.
                    int length = (int)Math.Min(ChunkSize, runEnd - position);
                    Span<byte> chunk = _buffer.AsSpan(0, length);
                    long data = Read(position, chunk);
                    HashChunk(position, chunk);
                    position += length;
                    _owner.AddProgress(data);
                }
            }
        }

        public void Dispose()
        {
            _handle?.Dispose();
            _sha1?.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        /// <summary>Hashes a chunk of the stream starting at <paramref name="position"/>, piece by piece.</summary>
        private void HashChunk(long position, ReadOnlySpan<byte> chunk)
        {
            long pieceLength = _layout.PieceLength;
            long chunkEnd = position + chunk.Length;
            int piece = (int)(position / pieceLength);
            while (true)
            {
                long pieceStart = piece * pieceLength;
                long pieceEnd = Math.Min(pieceStart + pieceLength, _layout.StreamLength);
                long partStart = Math.Max(position, pieceStart);
                long partEnd = Math.Min(chunkEnd, pieceEnd);
                ReadOnlySpan<byte> part = chunk[(int)(partStart - position)..(int)(partEnd - position)];
                bool finishes = partEnd == pieceEnd;
                if (_layout.HasV1)
                {
                    HashV1(piece, part, whole: finishes && partStart == pieceStart, finishes);
                }

                if (_layout.HasV2)
                {
                    HashV2(piece, pieceStart, pieceEnd, (int)(partStart - pieceStart), part, finishes);
                }

                if (partEnd == chunkEnd)
                {
                    return;
                }

                piece++;
            }
        }

        private void HashV1(int piece, ReadOnlySpan<byte> part, bool whole, bool finishes)
        {
            Span<byte> digest = _owner._v1Pieces.AsSpan(piece * Sha1Hash.Length, Sha1Hash.Length);
            if (whole)
            {
                SHA1.HashData(part, digest);
                return;
            }

            // Only pieces bigger than a chunk arrive in parts.
            _sha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            _sha1.AppendData(part);
            if (finishes)
            {
                _sha1.GetHashAndReset(digest);
            }
        }

        /// <summary>
        /// BEP 52: leaves are SHA-256 of 16 KiB blocks (the last one may be short); a piece's layer hash is the
        /// root of its blocks' subtree padded with zero leaves; a file of one piece or less takes as its root the
        /// tree over its own blocks, padded only to the next power of two.
        /// </summary>
        private void HashV2(int piece, long pieceStart, long pieceEnd, int offsetInPiece, ReadOnlySpan<byte> part, bool finishes)
        {
            // In v2 layouts every file starts a piece, so a piece's first byte is always file data.
            int file = _layout.FileAt(pieceStart);
            long fileLength = _layout.Files[file].Length;
            long dataEnd = _layout.StartOf(file) + fileLength;
            long dataInPart = Math.Clamp(dataEnd - (pieceStart + offsetInPiece), 0, part.Length);
            ReadOnlySpan<byte> data = part[..(int)dataInPart];
            int block = offsetInPiece / MerkleTree.BlockSize;
            Span<byte> digest = stackalloc byte[Sha256Hash.Length];
            for (int offset = 0; offset < data.Length; offset += MerkleTree.BlockSize)
            {
                SHA256.HashData(data.Slice(offset, Math.Min(MerkleTree.BlockSize, data.Length - offset)), digest);
                _blocks[block++] = new Sha256Hash(digest);
            }

            if (!finishes)
            {
                return;
            }

            long pieceData = Math.Min(pieceEnd, dataEnd) - pieceStart;
            int blocks = (int)((pieceData + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize);
            Span<Sha256Hash> leaves = _blocks.AsSpan(0, blocks);
            if (fileLength > _layout.PieceLength)
            {
                _owner._pieceLayer[piece] = MerkleTree.ComputeRoot(leaves, 0, _blocksPerPiece);
            }
            else
            {
                _owner._fileRoots[file] = MerkleTree.ComputeRoot(leaves, 0, MerkleTree.LeafCount(blocks));
            }
        }
    }
}
