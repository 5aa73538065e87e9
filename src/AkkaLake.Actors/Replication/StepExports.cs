using Akka.Streams;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using Npgsql;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// Starts the COPY of each step, and keeps at most one read ahead: while a backfill day's parts
/// are written and committed (PostgreSQL would sit idle meanwhile), the next day's, which that
/// commit cannot change. It is used if it is exactly the step planned next, else dropped.
/// </summary>
internal sealed class StepExports(NpgsqlDataSource dataSource, LakeSettings settings, IMaterializer materializer)
{
    private sealed record ReadAhead(ReplicationStep.Backfill Step, LakeLocation? Location, SourceTable Table, SourceExport Export);

    private ReadAhead? _readAhead;

    /// <summary>How days are read from the source table, once known.</summary>
    public DayScan? DayScan { get; set; }

    // Chunks are a fraction of the budget, so buffered rows exceed it by one chunk at most, and the read ahead holds 3/8 of it at most.
    private int ChunkRows => Math.Clamp(settings.MaxBufferedRows / 8, 1024, 65_536);

    public SourceExport Start(ReplicationStep step, SourceTable table, LakeManifest manifest, Func<DateOnly, LakeLocation?> locationFor)
    {
        if (_readAhead is { } ahead && step is ReplicationStep.Backfill day && day.Window == ahead.Step.Window && table == ahead.Table && locationFor(day.Day) == ahead.Location)
        {
            _readAhead = null;
            return ahead.Export;
        }
        Drop();
        return Read(table, step.ExportWindow, new RowRouter(manifest.Shards, locationFor));
    }

    /// <summary>After a backfill day's COPY: the next day's, <see cref="SourceExport.ChunksAhead"/> chunks ahead; the rest waits for its batch.</summary>
    public void ReadAheadAfter(ReplicationBatch batch, DateOnly noRowsBefore)
    {
        if (batch.Step is not ReplicationStep.Backfill day || batch.PlannedWith is not { } clock) return;
        var now = DateTimeOffset.UtcNow;
        if (ReplicationPlanner.BackfillAfter(batch.Manifest, day, clock, settings.ReplicationLag, settings.HotRetentionDays, now, noRowsBefore) is not { } next)
            return;
        var placement = JobPlanner.Placement(batch.Manifest, settings, now);
        var export = Read(batch.Table, next.Window, new RowRouter(batch.Manifest.Shards, placement.LocationFor));
        _readAhead = new ReadAhead(next, placement.LocationFor(next.Day), batch.Table, export);
    }

    public void Drop()
    {
        if (_readAhead is { } ahead) _ = ahead.Export.DisposeAsync().AsTask();
        _readAhead = null;
    }

    private SourceExport Read(SourceTable table, SourceWindow window, RowRouter router)
    {
        var source = new MetricsSource(dataSource, table, ChunkRows, DayScan);
        // A pass over the whole table reads it in pieces, several at once; a day is one read.
        return window is SourceWindow.BackfillDays { IsOneDay: false }
            ? SourceExport.Start(() => source.OpenPieces(window, router, settings.BackfillStreams), materializer)
            : SourceExport.Start(() => source.Open(window, router), materializer);
    }
}
