using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Merging;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Spill;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Spill;

public class SpillTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static MetricRow[] All(MetricRows rows) => [.. Enumerable.Range(0, rows.Count).Select(i => rows[i])];

    private static MetricRows Rows(IEnumerable<MetricRow> rows)
    {
        var buffer = new MetricRows();
        foreach (var r in rows) buffer.Add(r.SensorId, r.TsMicros, r.Value, r.Quality, r.Samples, r.Source);
        return buffer;
    }

    private static MetricRow[] Random(int seed, int count)
    {
        var random = new Random(seed);
        string[] ids = ["b", "a", "\uFB01x", "😀y", "a\u00e9", "A", "ab", "z", new string('q', 300)];
        string?[] sources = [null, "lora", "modbus", "", "ünï"];
        return [.. Enumerable.Range(0, count).Select(i => new MetricRow(ids[random.Next(ids.Length)], random.NextInt64(-1L << 50, 1L << 50),
            random.Next(10) == 0 ? double.NaN : random.NextDouble() * 1e6 - 5e5,
            random.Next(3) == 0 ? null : random.Next(int.MinValue, int.MaxValue), random.Next(2) == 0 ? null : random.Next(-5, 5), sources[random.Next(sources.Length)]))];
    }

    private static MetricRow[] Sorted(IEnumerable<MetricRow> rows) => All(MetricRows.Sorted([Rows(rows)]));

    [Fact]
    public void Runs_appended_to_one_scratch_file_read_back_each_as_it_was_written()
    {
        var path = _dir.Combine("spill", "2026-11-20-03.run");
        var first = Sorted(Random(1, 5_000));
        var second = Sorted(Random(2, 3));
        // The first run comes in batches, one sensor's rows split between two of them.
        var a = RunFile.Append(path, 0, [Rows(first.Take(2_500)), Rows(first.Skip(2_500))]);
        var b = RunFile.Append(path, a.Length, [Rows(second)]);

        Assert.Equal((0L, 5_000L, 3L), (a.Offset, a.Rows, b.Rows));
        Assert.Equal(a.Length, b.Offset);
        var strings = new SharedStrings();
        Assert.Equal(first, RunFile.Read(a, 512, strings).SelectMany(All));
        Assert.Equal(second, RunFile.Read(b, 512, strings).SelectMany(All));
        // A batch is reused between reads: each is at most the batch size.
        Assert.All(RunFile.Read(a, 512, strings), batch => Assert.InRange(batch.Count, 1, 512));
    }

    [Fact]
    public void A_run_cut_short_is_reported_as_damaged_not_read_as_fewer_rows()
    {
        var path = _dir.Combine("cut.run");
        var run = RunFile.Append(path, 0, [Rows(Sorted(Random(3, 100)))]);
        Assert.Throws<InvalidDataException>(() => RunFile.Read(run with { Length = run.Length - 5 }, 64, new SharedStrings()).SelectMany(All).ToList());
    }

    [Fact]
    public void A_run_whose_file_was_deleted_and_written_again_is_refused_not_read_as_other_rows()
    {
        var path = _dir.Combine("again.run");
        var first = RunFile.Append(path, 0, [Rows(Sorted(Random(5, 1_000)))]);
        // Someone clears the scratch; the writer's next run starts a new file where the first one lay.
        File.Delete(path);
        Assert.Throws<InvalidDataException>(() => RunFile.Append(path, first.Length, [Rows(Sorted(Random(6, 1_000)))]));
        RunFile.Append(path, 0, [Rows(Sorted(Random(6, 1_000)))]);

        Assert.Throws<InvalidDataException>(() => RunFile.Read(first, 64, new SharedStrings()).SelectMany(All).ToList());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_run_with_a_byte_changed_or_rows_missing_is_refused(int damage)
    {
        var path = _dir.Combine($"damaged-{damage}.run");
        var run = RunFile.Append(path, 0, [Rows(Sorted(Random(7, 500)))]);
        if (damage == 0)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            file.Position = run.Length / 2;
            var b = file.ReadByte();
            file.Position = run.Length / 2;
            file.WriteByte((byte)(b ^ 0x10));
        }
        var recorded = damage == 1 ? run with { Rows = run.Rows + 1 } : run;
        Assert.Throws<InvalidDataException>(() => RunFile.Read(recorded, 64, new SharedStrings()).SelectMany(All).ToList());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 40)]
    public void A_merge_of_sorted_runs_and_rows_in_memory_equals_sorting_them_all(int seed, int runs)
    {
        var random = new Random(seed);
        var inputs = Enumerable.Range(0, runs + 1).Select(i => Sorted(Random(seed * 100 + i, random.Next(0, 3_000)))).ToList();
        var path = _dir.Combine($"merge-{seed}.run");
        var spilled = new List<SpilledRun>();
        foreach (var rows in inputs.Take(runs))
            spilled.Add(RunFile.Append(path, spilled.Count == 0 ? 0 : spilled[^1].Offset + spilled[^1].Length, [Rows(rows)]));
        var strings = new SharedStrings();
        MergeInput[] sources = [.. spilled.Select(r => new MergeInput(RunFile.Read(r, 100, strings))), new MergeInput([Rows(inputs[^1])])];

        var merged = SortedMerge.Merge(sources, 1_000).SelectMany(All).ToList();

        Assert.Equal(Sorted(inputs.SelectMany(r => r)).Select(r => (r.SensorId, r.TsMicros)), merged.Select(r => (r.SensorId, r.TsMicros)));
        Assert.Equal(inputs.SelectMany(r => r).Order(RowOrder).ToList(), merged.Order(RowOrder).ToList());
    }

    [Fact]
    public void Runs_holding_different_sensors_merge_as_whole_blocks_in_sensor_order()
    {
        // A table stored sensor by sensor: each run holds a few sensors' complete days.
        var runs = Enumerable.Range(0, 10).Select(r => Rows(Enumerable.Range(0, 3)
            .SelectMany(s => Enumerable.Range(0, 1_000).Select(t => new MetricRow($"sensor-{(9 - r) * 3 + s:D2}", t, t, 0, null, null))))).ToList();
        var merged = SortedMerge.Merge([.. runs.Select(r => new MergeInput([r]))], 4_096).SelectMany(All).ToList();

        Assert.Equal(30_000, merged.Count);
        Assert.True(Rows(merged).IsSorted());
    }

    [Fact]
    public void Row_groups_end_between_sensors_whatever_the_chunks_a_part_is_written_in()
    {
        var rows = new MetricRows();
        for (var sensor = 0; sensor < 200; sensor++)
            for (var i = 0; i < 1000; i++)
                rows.Add($"s-{sensor:D3}", i, i, 0, null, null);
        var tmp = _dir.Combine("part.parquet.tmp");
        using (var writer = new PartWriter(tmp, new PartMetadata("R1", CommitKind.Backfill, null, null), 1_000_000))
        {
            for (var start = 0; start < rows.Count; start += 7_777)
            {
                var chunk = new MetricRows();
                chunk.AddRange(rows, start, Math.Min(7_777, rows.Count - start));
                writer.Append(chunk);
            }
            writer.Finish();
        }

        using var reader = new ParquetSharp.ParquetFileReader(tmp);
        var groups = Enumerable.Range(0, reader.FileMetaData.NumRowGroups).Select(g => reader.RowGroup(g).MetaData.NumRows).ToList();
        Assert.Equal([132_000L, 68_000L], groups);
        using var back = new PartReader(tmp);
        Assert.Equal(All(rows), All(back.ReadAll()));
    }

    [Fact]
    public void A_rolling_writer_starts_a_new_part_past_its_size_target_and_deletes_its_parts_when_it_fails()
    {
        var rows = Rows(Sorted(Random(4, 20_000)));
        var shardDay = new ShardDay(new DateOnly(2026, 11, 20), 3);
        var metadata = new PartMetadata("R9", CommitKind.Backfill, null, null);
        IReadOnlyList<(string FileName, WrittenPart Written)> parts;
        using (var writer = new RollingPartWriter(_dir.Path, shardDay, PartKind.Backfill, metadata, 1_000, targetBytes: 1))
        {
            for (var start = 0; start < rows.Count; start += 5_000)
            {
                var chunk = new MetricRows();
                chunk.AddRange(rows, start, 5_000);
                writer.Append(chunk);
            }
            parts = writer.Finish();
        }
        Assert.True(parts.Count > 1);
        Assert.Equal(["backfill-R9-0000.parquet", "backfill-R9-0001.parquet"], parts.Take(2).Select(p => p.FileName));
        Assert.Equal(rows.Count, parts.Sum(p => p.Written.Rows));
        Assert.All(parts, p => Assert.True(File.Exists(p.Written.TmpPath)));

        string[] left;
        // Disposed without Finish, as when the merge feeding it throws.
        using (var failing = new RollingPartWriter(_dir.Combine("failed"), shardDay, PartKind.Backfill, metadata, 1_000, targetBytes: 1))
        {
            for (var start = 0; start < 15_000; start += 5_000)
            {
                var chunk = new MetricRows();
                chunk.AddRange(rows, start, 5_000);
                failing.Append(chunk);
            }
            left = Directory.GetFiles(_dir.Combine("failed"), "*", SearchOption.AllDirectories);
        }
        Assert.Equal(3, left.Length);
        Assert.Empty(Directory.GetFiles(_dir.Combine("failed"), "*", SearchOption.AllDirectories));
    }

    private static readonly IComparer<MetricRow> RowOrder = Comparer<MetricRow>.Create((x, y) =>
    {
        var c = MetricRows.CompareKeys(x.SensorId, x.TsMicros, y.SensorId, y.TsMicros);
        return c != 0 ? c : BitConverter.DoubleToInt64Bits(x.Value).CompareTo(BitConverter.DoubleToInt64Bits(y.Value));
    });
}
