using System.Buffers.Binary;
using System.Text;
using AkkaLake.Core.Source;
using Xunit;

namespace AkkaLake.Core.Tests.Source;

public class BinaryCopyReaderTests
{
    private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    /// <summary>A COPY stream as PostgreSQL sends it: header (with an extension area), rows of (text, int8, float8, int4), trailer.</summary>
    private static byte[] Copy(IEnumerable<(string? Text, long? Int64, double? Double, int? Int32)> rows, int extension = 0)
    {
        var bytes = new List<byte>(Signature);
        void Int32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); bytes.AddRange(b); }
        void Field(byte[]? value) { Int32(value?.Length ?? -1); if (value is not null) bytes.AddRange(value); }
        Int32(0);
        Int32(extension);
        bytes.AddRange(new byte[extension]);
        foreach (var (text, int64, dbl, int32) in rows)
        {
            bytes.AddRange([0, 4]);
            Field(text is null ? null : Encoding.UTF8.GetBytes(text));
            Field(int64 is { } l ? BigEndian(BitConverter.GetBytes(l)) : null);
            Field(dbl is { } d ? BigEndian(BitConverter.GetBytes(d)) : null);
            Field(int32 is { } i ? BigEndian(BitConverter.GetBytes(i)) : null);
        }
        bytes.AddRange([0xFF, 0xFF]);
        return [.. bytes];
    }

    private static byte[] BigEndian(byte[] little) => BitConverter.IsLittleEndian ? [.. little.Reverse()] : little;

    private static List<(string?, long?, double?, int?)> ReadAll(Stream stream)
    {
        var reader = new BinaryCopyReader(stream);
        reader.ReadHeader();
        var rows = new List<(string?, long?, double?, int?)>();
        while (reader.StartRow() is var fields && fields != -1)
        {
            Assert.Equal(4, fields);
            var text = reader.Field(out var b) ? Encoding.UTF8.GetString(b) : null;
            rows.Add((text, reader.Int64(), reader.Double(), reader.Int32()));
        }
        return rows;
    }

    /// <summary>Hands out at most one byte per read, so every field straddles a refill.</summary>
    private sealed class Trickle(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }

    [Fact]
    public void Reads_values_and_nulls_of_every_field_type_even_one_byte_at_a_time()
    {
        var rows = new List<(string?, long?, double?, int?)>
        {
            ("sensor-0001", 815_000_000_000L, 21.5, 3),
            (null, null, null, null),
            ("", long.MaxValue, double.NaN, int.MinValue),
            ("sé🌱/..\"\n", long.MinValue, double.NegativeInfinity, -1),
        };
        Assert.Equal(rows, ReadAll(new MemoryStream(Copy(rows, extension: 5))));
        Assert.Equal(rows, ReadAll(new Trickle(Copy(rows))));
    }

    [Fact]
    public void A_field_larger_than_the_buffer_is_read_whole()
    {
        var big = new string('x', 300_000);
        var rows = new List<(string?, long?, double?, int?)> { (big, 1, 2, 3), ("after", 4, 5, 6) };
        Assert.Equal(rows, ReadAll(new MemoryStream(Copy(rows))));
    }

    [Fact]
    public void A_stream_that_is_not_binary_copy_or_ends_mid_row_is_an_error()
    {
        Assert.Throws<InvalidDataException>(() => new BinaryCopyReader(new MemoryStream(Encoding.ASCII.GetBytes("sensor-1\t2026-11-25\t1.0\n" + new string(' ', 40)))).ReadHeader());
        var cut = Copy([("sensor-0001", 1, 2, 3)]);
        Assert.Throws<EndOfStreamException>(() => ReadAll(new MemoryStream(cut[..^10])));
    }
}
