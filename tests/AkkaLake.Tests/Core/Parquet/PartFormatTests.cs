using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Parquet;

public class PartFormatTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly DateTime Day = new(2026, 11, 20, 0, 0, 0, DateTimeKind.Utc);

    private static MetricRows SampleRows()
    {
        var rows = new MetricRows();
        // Deliberately out of order, with nulls, NaN, infinities and non-ASCII ids.
        rows.Add("s-b", Timestamps.ToMicros(Day.AddSeconds(30)), 2.5, 0, null, null);
        rows.Add("s-a", Timestamps.ToMicros(Day.AddSeconds(30)), double.NaN, null, 3, "modbus");
        rows.Add("s-a", Timestamps.ToMicros(Day.AddSeconds(0).AddTicks(10)), -1.25, 7, 1, "modbus");
        rows.Add("\uFB01-ligature", Timestamps.ToMicros(Day), double.PositiveInfinity, 1, null, null);
        rows.Add("😀-emoji", Timestamps.ToMicros(Day), double.NegativeInfinity, null, null, "x");
        return rows;
    }

    private string WritePart(MetricRows rows, int rowGroupRows = 1000)
    {
        var final = _dir.Combine(LakeLayout.FileName(PartKind.Incremental, "R1", 0));
        rows.Sort();
        var written = PartWriter.Write(final + ".tmp", rows, new PartMetadata("R1", CommitKind.Replication, null, DateTimeOffset.UnixEpoch), rowGroupRows);
        Assert.Equal(rows.Count, written.Rows);
        File.Move(written.TmpPath, final);
        return final;
    }

    [Fact]
    public void The_footer_names_its_writer_as_parquet_mr_parses_it_and_pages_carry_checksums()
    {
        var path = WritePart(SampleRows());
        using var reader = new ParquetSharp.ParquetFileReader(path);
        // parquet-mr's VersionParser: "<application> version <semver> (build <hash>)".
        Assert.Matches(@"^akkalake version \d+\.\d+\.\d+ \(build [0-9a-zA-Z]+\)$", reader.FileMetaData.CreatedBy);

        var bytes = File.ReadAllBytes(path);
        bytes[8] ^= 0x40; // inside the first column's first data page
        File.WriteAllBytes(path, bytes);
        Assert.ThrowsAny<ParquetSharp.ParquetException>(() =>
        {
            using var damaged = new PartReader(path);
            damaged.ReadAll();
        });
    }

    [Fact]
    public void Row_groups_end_between_sensors_and_say_how_their_rows_are_sorted()
    {
        var rows = new MetricRows();
        for (var sensor = 0; sensor < 200; sensor++)
            for (var i = 0; i < 1000; i++)
                rows.Add($"s-{sensor:D2}", i, i, 0, null, null);
        var path = WritePart(rows, rowGroupRows: 1_000_000);

        using var reader = new ParquetSharp.ParquetFileReader(path);
        var groups = Enumerable.Range(0, reader.FileMetaData.NumRowGroups).Select(reader.RowGroup).ToList();
        // 131,072 rows then the next boundary: 132 sensors, then the last 68.
        Assert.Equal([132_000L, 68_000L], groups.Select(g => g.MetaData.NumRows));
        Assert.All(groups, g => Assert.Equal([0, 1], g.MetaData.SortingColumns().Select(c => c.ColumnIndex)));
        using var back = new PartReader(path);
        Assert.Equal(rows.Count, back.ReadAll().Count);
        foreach (var g in groups) g.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ts_is_dictionary_encoded_where_readings_share_instants_and_delta_encoded_where_each_is_its_own(bool aligned)
    {
        var rows = new MetricRows();
        for (var sensor = 0; sensor < 30; sensor++)
            for (var i = 0; i < 1000; i++)
                rows.Add($"s-{sensor:D2}", i * 60_000_000L + (aligned ? 0 : sensor * 1_009_000L + i % 401), i, 0, null, null);
        // The first row group decides: here it holds every sensor.
        var path = WritePart(rows, rowGroupRows: 1_000_000);

        using var reader = new ParquetSharp.ParquetFileReader(path);
        using var group = reader.RowGroup(0);
        var ts = group.MetaData.GetColumnChunkMetaData(1);
        Assert.Equal(aligned, ts.Encodings.Contains(ParquetSharp.Encoding.RleDictionary));
        Assert.Equal(!aligned, ts.Encodings.Contains(ParquetSharp.Encoding.DeltaBinaryPacked));
        Assert.Contains(ParquetSharp.Encoding.ByteStreamSplit, group.MetaData.GetColumnChunkMetaData(2).Encodings);
        using var back = new PartReader(path);
        Assert.Equal(rows.TsMicros.ToArray().Order(), back.ReadAll().TsMicros.ToArray().Order());
    }

    [Theory]
    [InlineData(1, 500_000, 200_000, new long[] { 200_000, 200_000, 100_000 })]
    [InlineData(1, 500_000, 1_000_000, new long[] { 500_000 })]
    [InlineData(2, 200_000, 1_000_000, new long[] { 200_000, 200_000 })]
    public void A_row_group_never_passes_its_row_cap_even_inside_one_sensor_and_takes_a_sensor_whole_past_the_aligned_size(int sensors, int readingsEach, int cap, long[] groups)
    {
        var rows = new MetricRows();
        for (var sensor = 0; sensor < sensors; sensor++)
            for (var i = 0; i < readingsEach; i++)
                rows.Add($"s-{sensor}", i, i, 0, null, null);
        var path = WritePart(rows, rowGroupRows: cap);

        using var reader = new ParquetSharp.ParquetFileReader(path);
        Assert.Equal(groups, Enumerable.Range(0, reader.FileMetaData.NumRowGroups).Select(g => reader.RowGroup(g).MetaData.NumRows));
    }

    [Fact]
    public void Sort_orders_by_sensor_id_in_utf8_byte_order_then_ts()
    {
        var rows = SampleRows();
        rows.Sort();
        // U+FB01 is a 3-byte UTF-8 sequence and sorts before the 4-byte emoji, unlike UTF-16 order.
        Assert.Equal(["s-a", "s-a", "s-b", "\uFB01-ligature", "😀-emoji"], rows.SensorIds.ToArray());
        Assert.True(rows.TsMicros[0] < rows.TsMicros[1]);
        Assert.True(string.CompareOrdinal("😀", "\uFB01") < 0, "UTF-16 order differs, which is why Utf8Order exists");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Sort_agrees_with_a_plain_comparison_sort_on_shuffled_rows(int seed)
    {
        var random = new Random(seed);
        string[] ids = ["b", "a", "\uFB01x", "😀y", "a\u00e9", "A", "ab", "", "z"];
        var rows = new MetricRows();
        for (var i = 0; i < 5000; i++)
            rows.Add(ids[random.Next(ids.Length)], random.Next(0, 50), i, null, null, null);
        var expected = Enumerable.Range(0, rows.Count).Select(i => rows[i])
            .Order(Comparer<MetricRow>.Create((x, y) => MetricRows.CompareKeys(x.SensorId, x.TsMicros, y.SensorId, y.TsMicros)))
            .Select(r => (r.SensorId, r.TsMicros)).ToList();
        rows.Sort();
        Assert.True(rows.IsSorted());
        Assert.Equal(expected, Enumerable.Range(0, rows.Count).Select(i => (rows[i].SensorId, rows[i].TsMicros)).ToList());
        Assert.Equal(Enumerable.Range(0, 5000).Select(v => (double)v).Order(), rows.Values.ToArray().Order());
    }

    [Fact]
    public void Sorted_gathers_several_buffers_into_one_sorted_buffer_with_every_row()
    {
        var random = new Random(7);
        string[] ids = ["b", "a", "\uFB01x", "😀y", "A", ""];
        // Buffers as the router sends them: each in arrival order, one sensor's rows spread across buffers.
        var buffers = Enumerable.Range(0, 5).Select(_ => new MetricRows(4)).ToList();
        for (var i = 0; i < 3000; i++)
            buffers[random.Next(buffers.Count)].Add(ids[random.Next(ids.Length)], random.Next(0, 100), i, i % 3 == 0 ? null : i, null, i % 2 == 0 ? "lora" : null);
        var all = buffers.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => b[i])).ToList();

        var sorted = MetricRows.Sorted(buffers);

        Assert.True(sorted.IsSorted());
        Assert.Equal(all.Count, sorted.Count);
        Assert.Equal(all.OrderBy(r => r.Value), Enumerable.Range(0, sorted.Count).Select(i => sorted[i]).OrderBy(r => r.Value));
    }

    [Fact]
    public void A_part_round_trips_through_ParquetSharp_with_every_value_and_its_metadata()
    {
        var rows = SampleRows();
        var path = WritePart(rows, rowGroupRows: 2);
        using var reader = new PartReader(path);
        Assert.Equal(3, reader.RowGroupCount);
        Assert.Equal("R1", reader.Metadata!.RunId);
        Assert.Equal(DateTimeOffset.UnixEpoch, reader.Metadata.CursorTo);
        Assert.Null(reader.Metadata.CursorFrom);
        var back = reader.ReadAll();
        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
            Assert.Equal(rows[i], back[i]);
    }

    [Fact]
    public void DuckDB_reads_a_part_with_the_contract_types_in_sorted_order()
    {
        var rows = SampleRows();
        var path = WritePart(rows);
        Assert.Equal(
            [("sensor_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("value", "DOUBLE"), ("quality", "INTEGER"), ("samples", "INTEGER"), ("source", "VARCHAR")],
            LakeDuckDb.DescribeFile(path));
        var back = LakeDuckDb.ReadFile(path);
        Assert.Equal(rows.SensorIds.ToArray(), back.Select(r => r.SensorId).ToArray());
        Assert.Equal(rows.TsMicros.ToArray(), back.Select(r => Timestamps.ToMicros(r.Ts)).ToArray());
        Assert.Equal(rows.Values.ToArray(), back.Select(r => r.Value).ToArray());
        Assert.Equal(rows.Quality.ToArray(), back.Select(r => r.Quality).ToArray());
        Assert.Equal(rows.Samples.ToArray(), back.Select(r => r.Samples).ToArray());
        Assert.Equal(rows.Source.ToArray(), back.Select(r => r.Source).ToArray());
        // DuckDB's own ordering agrees that the file is sorted.
        Assert.Equal(0L, LakeDuckDb.Scalar($"""
            SELECT count(*) FROM (SELECT sensor_id, ts, lag(sensor_id) OVER () AS ps, lag(ts) OVER () AS pt
            FROM read_parquet('{path}')) WHERE ps > sensor_id OR (ps = sensor_id AND pt > ts)
            """));
    }

    [Fact]
    public void Parts_use_zstd_dictionary_ids_delta_timestamps_split_values_and_statistics()
    {
        var path = WritePart(SampleRows());
        Assert.Equal("ZSTD", LakeDuckDb.Scalar($"SELECT DISTINCT compression FROM parquet_metadata('{path}')"));
        Assert.Equal("s-a", LakeDuckDb.Scalar($"SELECT stats_min_value FROM parquet_metadata('{path}') WHERE path_in_schema = 'sensor_id'"));
        Assert.Contains("RLE_DICTIONARY", (string)LakeDuckDb.Scalar($"SELECT encodings FROM parquet_metadata('{path}') WHERE path_in_schema = 'sensor_id'")!);
        Assert.Contains("DELTA_BINARY_PACKED", (string)LakeDuckDb.Scalar($"SELECT encodings FROM parquet_metadata('{path}') WHERE path_in_schema = 'ts'")!);
        Assert.Contains("BYTE_STREAM_SPLIT", (string)LakeDuckDb.Scalar($"SELECT encodings FROM parquet_metadata('{path}') WHERE path_in_schema = 'value'")!);
    }

    [Fact]
    public void Unsorted_rows_are_refused_by_the_writer()
    {
        var rows = new MetricRows();
        rows.Add("b", 1, 0, null, null, null);
        rows.Add("a", 1, 0, null, null, null);
        using var writer = new PartWriter(_dir.Combine("x.parquet.tmp"), new PartMetadata("R", CommitKind.Replication, null, null), 100);
        Assert.Throws<InvalidOperationException>(() => writer.Append(rows));
    }

    [Fact]
    public void Appending_in_chunks_keeps_the_file_sorted_across_chunks()
    {
        var tmp = _dir.Combine("chunks.parquet.tmp");
        using (var writer = new PartWriter(tmp, new PartMetadata("R", CommitKind.Replication, null, null), 100))
        {
            var first = new MetricRows();
            first.Add("a", 1, 0, null, null, null);
            first.Add("b", 1, 0, null, null, null);
            writer.Append(first);
            var earlier = new MetricRows();
            earlier.Add("a", 5, 0, null, null, null);
            Assert.Throws<InvalidOperationException>(() => writer.Append(earlier));
            var later = new MetricRows();
            later.Add("c", 0, 0, null, null, null);
            writer.Append(later);
            var part = writer.Finish();
            Assert.Equal(3, part.Rows);
            Assert.Equal(0, part.MinTsMicros);
            Assert.Equal(new FileInfo(tmp).Length, part.Bytes);
        }
        using var reader = new PartReader(tmp);
        Assert.Equal(["a", "b", "c"], reader.ReadAll().SensorIds.ToArray());
    }

    [Fact]
    public void A_file_that_is_not_a_part_is_refused_with_its_columns_named()
    {
        var path = _dir.Combine("other.parquet");
        LakeDuckDb.Scalar($"COPY (SELECT 1 AS x) TO '{path}' (FORMAT parquet)");
        var e = Assert.Throws<InvalidDataException>(() => new PartReader(path));
        Assert.Contains("columns are [x]", e.Message);
    }
}
