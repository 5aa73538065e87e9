using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace AkkaLake.Core.Source;

/// <summary>
/// Decodes PostgreSQL's binary COPY format (header, then per row a field count and
/// length-prefixed big-endian fields, then a -1 trailer) straight from the wire stream. Fields are
/// handed out as spans over one reused buffer, so decoding a row allocates nothing.
/// </summary>
public sealed class BinaryCopyReader(Stream stream)
{
    private static ReadOnlySpan<byte> Signature => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    /// <summary>Far above any field the export selects; a larger length is a damaged stream, not a reason to allocate it.</summary>
    public const int MaxFieldBytes = 16 << 20;

    private byte[] _buffer = new byte[1 << 16];
    private int _position;
    private int _end;

    public void ReadHeader()
    {
        Ensure(Signature.Length + 8);
        if (!_buffer.AsSpan(_position, Signature.Length).SequenceEqual(Signature))
            throw new InvalidDataException("The COPY stream does not start with PostgreSQL's binary signature.");
        _position += Signature.Length + 4;
        var extension = ReadInt32();
        if (extension is < 0 or > MaxFieldBytes) throw new InvalidDataException($"The COPY stream's header extension has an impossible length ({extension}).");
        Ensure(extension);
        _position += extension;
    }

    /// <summary>The next row's field count, or -1 at the end of the data.</summary>
    public int StartRow()
    {
        Ensure(2);
        var fields = BinaryPrimitives.ReadInt16BigEndian(_buffer.AsSpan(_position));
        _position += 2;
        return fields;
    }

    /// <summary>The next field's bytes, valid until the next call; false for NULL.</summary>
    public bool Field(out ReadOnlySpan<byte> bytes)
    {
        var length = ReadInt32();
        if (length < 0)
        {
            bytes = default;
            return false;
        }
        if (length > MaxFieldBytes)
            throw new InvalidDataException($"The COPY stream announces a field of {length} bytes; no field of the export exceeds {MaxFieldBytes}.");
        Ensure(length);
        bytes = _buffer.AsSpan(_position, length);
        _position += length;
        return true;
    }

    public long? Int64()
    {
        if (!Field(out var b)) return null;
        if (b.Length != 8) throw new InvalidDataException($"Expected an 8-byte field, got {b.Length} bytes.");
        return BinaryPrimitives.ReadInt64BigEndian(b);
    }

    public int? Int32()
    {
        if (!Field(out var b)) return null;
        if (b.Length != 4) throw new InvalidDataException($"Expected a 4-byte field, got {b.Length} bytes.");
        return BinaryPrimitives.ReadInt32BigEndian(b);
    }

    public double? Double() => Int64() is { } bits ? BitConverter.Int64BitsToDouble(bits) : null;

    private int ReadInt32()
    {
        Ensure(4);
        var value = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_position));
        _position += 4;
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int count)
    {
        if (_end - _position < count) Refill(count);
    }

    /// <summary>Makes the next <paramref name="count"/> bytes available, moving, growing and refilling the buffer as needed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Refill(int count)
    {
        var pending = _end - _position;
        if (count > _buffer.Length)
        {
            var bigger = new byte[Math.Max(count, _buffer.Length * 2)];
            _buffer.AsSpan(_position, pending).CopyTo(bigger);
            _buffer = bigger;
        }
        else if (pending > 0)
        {
            _buffer.AsSpan(_position, pending).CopyTo(_buffer);
        }
        _position = 0;
        _end = pending;
        while (_end < count)
        {
            var read = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) throw new EndOfStreamException("The COPY stream ended in the middle of a row.");
            _end += read;
        }
    }
}
