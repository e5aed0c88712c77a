using Microsoft.Win32.SafeHandles;

namespace PeerNet.Creation;

internal sealed partial class PieceHasher
{
    private sealed partial class Worker
    {
        private SafeFileHandle? _handle;
        private int _handleFile = -1;

        /// <summary>
        /// Fills <paramref name="destination"/> with the stream from <paramref name="position"/>: file data read
        /// in place, pads as zeros. Returns how many bytes were file data (the progress made).
        /// </summary>
        private long Read(long position, Span<byte> destination)
        {
            SourceFile[] files = _layout.Files;
            int file = _layout.FileAt(position);
            long data = 0;
            while (!destination.IsEmpty)
            {
                if (file >= files.Length)
                {
                    throw new InvalidOperationException("Read past the end of the piece stream.");
                }

                long start = _layout.StartOf(file);
                long length = files[file].Length;
                long offset = position - start;
                int count;
                if (offset < length)
                {
                    count = (int)Math.Min(length - offset, destination.Length);
                    ReadFile(file, offset, destination[..count]);
                    data += count;
                }
                else
                {
                    count = (int)Math.Min(start + length + _layout.Pads[file] - position, destination.Length);
                    destination[..count].Clear();
                }

                destination = destination[count..];
                position += count;
                if (position >= start + length + _layout.Pads[file])
                {
                    file++;
                }
            }

            return data;
        }

        private void ReadFile(int file, long offset, Span<byte> destination)
        {
            SafeFileHandle handle = HandleFor(file);
            while (!destination.IsEmpty)
            {
                int read = RandomAccess.Read(handle, destination, offset);
                if (read == 0)
                {
                    SourceFile source = _layout.Files[file];
                    throw new IOException($"'{source.FullPath}' changed while it was being hashed: it is now shorter than {source.Length:N0} bytes.");
                }

                destination = destination[read..];
                offset += read;
            }
        }

        private SafeFileHandle HandleFor(int file)
        {
            if (_handleFile == file && _handle is not null)
            {
                return _handle;
            }

            _handle?.Dispose();
            _handle = null;
            _handleFile = -1;
            string path = _layout.Files[file].FullPath;
            try
            {
                _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new IOException($"Cannot read '{path}': {ex.Message}", ex);
            }

            _handleFile = file;
            return _handle;
        }
    }
}
