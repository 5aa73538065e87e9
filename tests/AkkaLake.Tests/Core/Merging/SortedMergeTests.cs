using AkkaLake.Core.Merging;
using AkkaLake.Core.Parquet;
using Xunit;

namespace AkkaLake.Core.Tests.Merging;

public class SortedMergeTests
{
    private static MetricRows Rows(params (string Id, long Ts, double Value)[] rows)
    {
        var buffer = new MetricRows();
        foreach (var (id, ts, value) in rows) buffer.Add(id, ts, value, 0, null, null);
        return buffer;
    }

    private static List<(string, long, double)> All(IEnumerable<MetricRows> chunks) =>
        [.. chunks.SelectMany(c => Enumerable.Range(0, c.Count).Select(i => (c.SensorIds[i], c.TsMicros[i], c.Values[i])))];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1_000)]
    public void Of_equal_keys_the_newest_version_is_kept_whatever_the_order_of_the_inputs_and_the_chunk_size(int chunkRows)
    {
        MergeInput[] inputs =
        [
            new([Rows(("a", 1, 10), ("a", 2, 10), ("b", 1, 10))], Version: 3),
            new([Rows(("a", 2, 50)), Rows(("b", 1, 50), ("c", 9, 50))], Version: 7),
            new([Rows(("a", 0, 1), ("a", 2, 1), ("b", 1, 1))], Version: 1),
        ];
        foreach (var order in new[] { inputs, inputs.Reverse().ToArray() })
        {
            var tally = new MergeTally();
            var merged = All(SortedMerge.Merge(order, chunkRows, newestOnly: true, tally));
            Assert.Equal([("a", 0, 1.0), ("a", 1, 10.0), ("a", 2, 50.0), ("b", 1, 50.0), ("c", 9, 50.0)], merged);
            Assert.Equal((9L, 4L), (tally.RowsIn, tally.Superseded));
        }
    }

    [Fact]
    public void Without_versions_every_row_is_kept_and_none_counts_as_superseded()
    {
        var tally = new MergeTally();
        var merged = All(SortedMerge.Merge([new MergeInput([Rows(("a", 1, 1), ("b", 1, 1))]), new MergeInput([Rows(("a", 1, 2))])], 10, tally: tally));
        Assert.Equal(3, merged.Count);
        Assert.Equal((3L, 0L), (tally.RowsIn, tally.Superseded));
    }

    [Theory]
    [InlineData(1, 65_536)]
    [InlineData(10, 13_107)]
    [InlineData(128, 1_024)]
    [InlineData(1_000, 1_024)]
    public void Inputs_are_read_in_batches_that_together_hold_the_budget_and_never_fewer_than_1024_rows(int inputs, int batchRows) =>
        Assert.Equal(batchRows, SortedMerge.InputBatchRows(inputs));
}
