using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Spill;

/// <summary>
/// Sorted runs of rows in a scratch file, appended one after another (a shard-day writer's file
/// holds all its runs). Scratch, not the lake: never flushed to disk, deleted once merged, and a
/// crash leaves nothing a reader or the manifest knows of. The encoding is for speed, not size:
/// per sensor its id once and a row count, then per row the ts as a varint delta, the value's 8
/// bytes, a byte of null flags, the small ints as varints and the source as an index into the
/// run's own list of sources. A byte before each sensor says whether one follows (1) or the run ends (0).
/// A run is read back only whole and as written: its rows, its length and the XXH64 of its bytes
/// must match what <see cref="Append"/> recorded, or reading it throws.
/// </summary>
public static class RunFile
{
    private const byte HasQuality = 1, HasSamples = 2, HasSource = 4;
    private const byte SensorFollows = 1, RunEnds = 0;

    /// <summary>
    /// Appends sorted rows, given in batches, as one run at <paramref name="offset"/>, the end of
    /// <paramref name="path"/> as its writer left it (0: a new file). A file of another length was
    /// changed by someone else, and is refused. A sensor whose rows span two batches is two blocks.
    /// </summary>
    public static SpilledRun Append(string path, long offset, IEnumerable<MetricRows> sortedBatches)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        if (stream.Length != offset)
            throw new InvalidDataException($"The scratch file {path} holds {stream.Length:N0} bytes where its writer left {offset:N0}: something else changed it.");
        stream.Position = offset;
        var output = new Output(stream);
        var sources = new Dictionary<string, int>(StringComparer.Ordinal);
        long rows = 0;
        foreach (var sorted in sortedBatches)
        {
            AppendBlocks(output, sources, sorted);
            rows += sorted.Count;
        }
        output.Byte(RunEnds);
        output.Flush();
        return new SpilledRun(path, offset, stream.Position - offset, rows, output.Checksum);
    }

    private static void AppendBlocks(Output output, Dictionary<string, int> sources, MetricRows sorted)
    {
        var ids = sorted.SensorIds;
        for (var start = 0; start < sorted.Count;)
        {
            var id = ids[start];
            var end = start + 1;
            while (end < sorted.Count && string.Equals(ids[end], id, StringComparison.Ordinal)) end++;
            output.Byte(SensorFollows);
            output.Text(id);
            output.VarUInt((ulong)(end - start));
            var previous = 0L;
            for (var i = start; i < end; i++)
            {
                var ts = sorted.TsMicros[i];
                output.VarInt(ts - previous);
                previous = ts;
                output.Double(sorted.Values[i]);
                var quality = sorted.Quality[i];
                var samples = sorted.Samples[i];
                var source = sorted.Source[i];
                output.Byte((byte)((quality is null ? 0 : HasQuality) | (samples is null ? 0 : HasSamples) | (source is null ? 0 : HasSource)));
                if (quality is { } q) output.VarInt(q);
                if (samples is { } s) output.VarInt(s);
                if (source is not null)
                {
                    if (sources.TryGetValue(source, out var index))
                        output.VarUInt((ulong)index + 1);
                    else
                    {
                        sources[source] = sources.Count;
                        output.VarUInt(0);
                        output.Text(source);
                    }
                }
            }
            start = end;
        }
    }

    /// <summary>
    /// The run's rows in order, in batches of at most <paramref name="batchRows"/>. The batch is
    /// reused: it is valid until the next one is asked for.
    /// </summary>
    public static IEnumerable<MetricRows> Read(SpilledRun run, int batchRows, SharedStrings strings)
    {
        using var stream = new FileStream(run.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        stream.Position = run.Offset;
        var input = new Input(stream, run.Length);
        var sources = new List<string>();
        var batch = new MetricRows(batchRows);
        long read = 0;
        while (input.Byte() is var marker && marker != RunEnds)
        {
            if (marker != SensorFollows) throw input.Damaged();
            var id = input.Text(strings);
            var count = (long)input.VarUInt();
            var previous = 0L;
            for (long k = 0; k < count; k++)
            {
                var ts = previous + input.VarInt();
                previous = ts;
                var value = input.Double();
                var flags = input.Byte();
                int? quality = (flags & HasQuality) != 0 ? (int)input.VarInt() : null;
                int? samples = (flags & HasSamples) != 0 ? (int)input.VarInt() : null;
                string? source = null;
                if ((flags & HasSource) != 0)
                {
                    var index = (int)input.VarUInt();
                    if (index == 0) sources.Add(source = input.Text(strings));
                    else source = index <= sources.Count ? sources[index - 1] : throw input.Damaged();
                }
                batch.Add(id, ts, value, quality, samples, source);
                read++;
                if (batch.Count < batchRows) continue;
                yield return batch;
                batch.Clear();
            }
        }
        input.CheckEnd(run, read);
        if (batch.Count > 0) yield return batch;
    }

    private sealed class Output(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private readonly XxHash64 _hash = new();
        private int _length;

        public ulong Checksum => _hash.GetCurrentHashAsUInt64();

        public void Byte(byte b)
        {
            Ensure(1);
            _buffer[_length++] = b;
        }

        public void Double(double d)
        {
            Ensure(8);
            BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), d);
            _length += 8;
        }

        public void VarInt(long v) => VarUInt((ulong)((v << 1) ^ (v >> 63)));

        public void VarUInt(ulong v)
        {
            Ensure(10);
            while (v >= 0x80)
            {
                _buffer[_length++] = (byte)(v | 0x80);
                v >>= 7;
            }
            _buffer[_length++] = (byte)v;
        }

        /// <summary>Length-prefixed UTF-8.</summary>
        public void Text(string s)
        {
            var bytes = Encoding.UTF8.GetByteCount(s);
            VarUInt((ulong)bytes);
            Ensure(bytes);
            if (bytes > _buffer.Length)
            {
                var text = Encoding.UTF8.GetBytes(s);
                _hash.Append(text);
                stream.Write(text);
                return;
            }
            _length += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_length));
        }

        public void Flush()
        {
            _hash.Append(_buffer.AsSpan(0, _length));
            stream.Write(_buffer, 0, _length);
            _length = 0;
        }

        private void Ensure(int bytes)
        {
            if (_length + bytes > _buffer.Length) Flush();
        }
    }

    private sealed class Input(Stream stream, long length)
    {
        private readonly XxHash64 _hash = new();
        private byte[] _buffer = new byte[1 << 15];
        private int _position;
        private int _end;
        private long _left = length;

        public byte Byte()
        {
            Ensure(1);
            return _buffer[_position++];
        }

        public double Double()
        {
            Ensure(8);
            var d = BinaryPrimitives.ReadDoubleLittleEndian(_buffer.AsSpan(_position));
            _position += 8;
            return d;
        }

        public long VarInt()
        {
            var u = VarUInt();
            return (long)(u >> 1) ^ -(long)(u & 1);
        }

        public ulong VarUInt()
        {
            ulong v = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var b = Byte();
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw Damaged();
        }

        public string Text(SharedStrings strings)
        {
            var bytes = (int)VarUInt();
            Ensure(bytes);
            var text = strings.Get(_buffer.AsSpan(_position, bytes));
            _position += bytes;
            return text;
        }

        public InvalidDataException Damaged() => new("A spilled run in the scratch directory is damaged.");

        /// <summary>The run ended at its end marker: every byte of it read, as many rows as written, the same bytes.</summary>
        public void CheckEnd(SpilledRun run, long rows)
        {
            if (_left != 0 || _position != _end || rows != run.Rows || _hash.GetCurrentHashAsUInt64() != run.Checksum)
                throw new InvalidDataException(
                    $"A spilled run in {run.Path} is not what was written: {rows:N0} rows read of {run.Rows:N0}, {_left + _end - _position:N0} bytes left over, or other bytes.");
        }

        private void Ensure(int count)
        {
            if (_end - _position >= count) return;
            var pending = _end - _position;
            if (count > pending + _left) throw Damaged();
            if (count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(count, _buffer.Length * 2));
            _buffer.AsSpan(_position, pending).CopyTo(_buffer);
            _position = 0;
            _end = pending;
            while (_end < count)
            {
                var read = stream.Read(_buffer, _end, (int)Math.Min(_buffer.Length - _end, _left));
                if (read == 0) throw Damaged();
                _hash.Append(_buffer.AsSpan(_end, read));
                _end += read;
                _left -= read;
            }
        }
    }
}
