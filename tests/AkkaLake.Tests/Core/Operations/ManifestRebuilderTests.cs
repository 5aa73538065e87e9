using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Operations;
using AkkaLake.Core.Parquet;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Operations;

public class ManifestRebuilderTests : IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 24);
    private static readonly DateTimeOffset W0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset W1 = W0.AddMinutes(10);
    private readonly TempDirectory _dir = new();
    private LakeRoots Roots => new(_dir.Combine("hot"), null);

    public void Dispose() => _dir.Dispose();

    private void Part(string name, CommitKind kind, string runId, DateTimeOffset cursorTo, params string[] inputs)
    {
        var rows = new MetricRows();
        rows.Add("s", LakeLayout.StartMicros(Day), 1, null, null, null);
        var path = Roots.Resolve(LakeLocation.Hot, LakeLayout.FilePath(Day, 0, name));
        File.Move(PartWriter.Write(path + ".tmp", rows, new PartMetadata(runId, kind, null, cursorTo, inputs.Length > 0 ? inputs : null), 100).TmpPath, path);
    }

    private IEnumerable<string> Kept() => new ManifestRebuilder(Roots).Rebuild(1, W1).Manifest.Files().Select(f => f.File.Name).Order();

    [Fact]
    public void A_rebuilt_day_supersedes_everything_its_cursor_covers_even_when_its_run_id_sorts_first()
    {
        Part("backfill-A-0000.parquet", CommitKind.Backfill, "20261125T100000000Z-aaaaaa", W0);
        Part("part-B-0000.parquet", CommitKind.Replication, "20261125T100500000Z-bbbbbb", W1);
        // A compaction and a rebuild in the same millisecond, the rebuild's id sorting first.
        Part("compact-D-0000.parquet", CommitKind.Compaction, "20261125T101000000Z-ffffff", W1, "backfill-A-0000.parquet", "part-B-0000.parquet");
        Part("backfill-C-0000.parquet", CommitKind.Backfill, "20261125T101000000Z-000000", W1);
        Assert.Equal(["backfill-C-0000.parquet"], Kept());
    }

    [Fact]
    public void Of_two_rebuilds_of_the_same_day_and_cursor_exactly_one_is_kept()
    {
        Part("backfill-A-0000.parquet", CommitKind.Backfill, "20261125T100000000Z-aaaaaa", W1);
        Part("backfill-B-0000.parquet", CommitKind.Backfill, "20261125T100100000Z-bbbbbb", W1);
        Assert.Equal(["backfill-B-0000.parquet"], Kept());
    }

    [Fact]
    public void Incremental_files_past_a_backfill_cursor_are_kept_and_the_watermark_is_the_newest_cursor()
    {
        Part("backfill-A-0000.parquet", CommitKind.Backfill, "20261125T100000000Z-aaaaaa", W0);
        Part("part-B-0000.parquet", CommitKind.Replication, "20261125T100500000Z-bbbbbb", W1);
        Assert.Equal(["backfill-A-0000.parquet", "part-B-0000.parquet"], Kept());
        Assert.Equal(W1, new ManifestRebuilder(Roots).Rebuild(1, W1).Report.Watermark);
    }
}
