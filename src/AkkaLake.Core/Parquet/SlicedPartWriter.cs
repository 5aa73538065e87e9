using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Parquet;

/// <summary>
/// Writes sorted rows of one shard-day cut at <paramref name="cuts"/> (ascending times): one
/// <see cref="RollingPartWriter"/> per time range, a single one without cuts; rows keep their
/// order in each. Each output says which range it holds (0 before the first cut).
/// </summary>
public sealed class SlicedPartWriter : IDisposable
{
    private const int NamesPerRange = 100;
    private readonly long[] _cuts;
    private readonly RollingPartWriter[] _writers;

    public SlicedPartWriter(string root, ShardDay shardDay, PartKind kind, PartMetadata metadata, int rowGroupRows, long targetFileBytes, IReadOnlyList<DateTimeOffset> cuts)
    {
        _cuts = [.. cuts.Select(Timestamps.ToMicros)];
        _writers = [.. Enumerable.Range(0, _cuts.Length + 1).Select(i =>
            new RollingPartWriter(root, shardDay, kind, metadata, rowGroupRows, targetFileBytes, i * NamesPerRange))];
    }

    public void Append(MetricRows sorted)
    {
        if (_cuts.Length == 0)
        {
            _writers[0].Append(sorted);
            return;
        }
        var ranges = new MetricRows?[_writers.Length];
        for (var i = 0; i < sorted.Count; i++)
        {
            var at = Array.BinarySearch(_cuts, sorted.TsMicros[i]);
            var range = at >= 0 ? at + 1 : ~at;
            (ranges[range] ??= new MetricRows(sorted.Count)).AddFrom(sorted, i);
        }
        for (var r = 0; r < ranges.Length; r++)
            if (ranges[r] is { } rows) _writers[r].Append(rows);
    }

    /// <summary>The parts written, each finished and flushed to disk, with the range each holds.</summary>
    public IReadOnlyList<(string FileName, WrittenPart Written, int Range)> Finish() =>
        [.. _writers.SelectMany((w, range) => w.Finish().Select(o => (o.FileName, o.Written, range)))];

    public void Dispose()
    {
        foreach (var writer in _writers) writer.Dispose();
    }
}
