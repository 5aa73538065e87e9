using Akka.Actor;
using Akka.Event;
using AkkaLake.Actors.Writers;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Spill;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// One batch's rows from its COPY to <c>.tmp</c> parts ready to commit. It pulls the export's
/// chunks one at a time (the pull is the back pressure); each chunk's rows go to their shard-day
/// writers (children, one per shard-day), buffers past the row budget are spilled as sorted runs
/// to the scratch path, and once the COPY is read every writer flushes its shard-day into its
/// final part. The parent gets <see cref="Exported"/>, then <see cref="Written"/> or
/// <see cref="Failed"/>, and stops this actor when the batch is over, which stops its writers and
/// deletes what is still <c>.tmp</c> and the batch's scratch. A writer that fails or stops fails
/// the batch: nothing it buffered can be committed without it.
/// </summary>
public sealed class BatchWriter : ReceiveActor
{
    /// <param name="Manifest">The manifest the batch was planned from: the files an incremental batch may replace keys of.</param>
    /// <param name="Watchdog">Told of every chunk read and every spill and flush done (<see cref="ReplicationWatchdog"/>).</param>
    public sealed record Job(ReplicationStep Step, string RunId, LakeManifest Manifest, SourceExport Export, IActorRef Watchdog);

    /// <summary>The COPY is read to its end (the parent may start the next day's meanwhile).</summary>
    public sealed record Exported
    {
        public static readonly Exported Instance = new();
    }

    /// <summary>Every writer flushed: the batch's parts, the committed files they replace, and what the rows were.</summary>
    public sealed record Written(IReadOnlyList<StagedPart> Parts, IReadOnlyList<FileRemove> Replaced, BatchTally Tally);

    /// <param name="Conflict">The lake changed under the batch: plan it again rather than back off.</param>
    public sealed record Failed(string Stage, Exception Error, bool Conflict);

    private sealed record StreamDone
    {
        public static readonly StreamDone Instance = new();
    }

    private sealed record WriterStopped(ShardDay ShardDay);

    private readonly Job _job;
    private readonly LakeSettings _settings;
    private readonly IFaultPoints _faults;
    private readonly Dictionary<ShardDay, IActorRef> _writers = [];
    private readonly BufferBudget _budget;
    private readonly BatchTally _tally = new();
    private readonly List<StagedPart> _parts = [];
    private readonly List<FileRemove> _replaced = [];
    private readonly SpillArea _spill;

    public BatchWriter(Job job, LakeSettings settings, IFaultPoints faults)
    {
        _job = job;
        _settings = settings;
        _faults = faults;
        _spill = new SpillArea(settings.TmpPath, settings.HotPath);
        _budget = new BufferBudget(settings.MaxBufferedRows);
        Exporting();
    }

    public static Props Props(Job job, LakeSettings settings, IFaultPoints faults) =>
        Akka.Actor.Props.Create(() => new BatchWriter(job, settings, faults));

    /// <summary>A writer that throws is stopped, never restarted: restarted, it would have lost its buffered rows.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart() => Pull();

    /// <summary>The export stops and the batch's scratch goes, off the actor's thread (its writers delete their own files as they stop).</summary>
    protected override void PostStop()
    {
        _ = _job.Export.DisposeAsync().AsTask();
        var (spill, runId) = (_spill, _job.RunId);
        _ = WriteLimits.For(Context.System).CleanUp(() => spill.DeleteRun(runId));
    }

    private void Pull() => _job.Export.NextAsync().PipeTo(Self,
        success: chunk => chunk is null ? StreamDone.Instance : chunk,
        failure: e => new Failed("exporting rows", e, false));

    private void Exporting()
    {
        var awaitingSpills = 0;
        var pullHeld = false;
        Receive<SourceChunk>(chunk =>
        {
            _job.Watchdog.Tell(ReplicationWatchdog.Progressed.Instance);
            Deliver(chunk);
            _faults.Hit("export.after-chunk");
            if (awaitingSpills == 0) awaitingSpills = SpillIfDue();
            if (_budget.Exceeded) pullHeld = true;
            else Pull();
        });
        Receive<ShardDayWriter.Spilled>(s =>
        {
            _job.Watchdog.Tell(ReplicationWatchdog.Progressed.Instance);
            _budget.Spilled(s.ShardDay, s.Rows);
            if (--awaitingSpills == 0) awaitingSpills = SpillIfDue();
            if (!pullHeld || _budget.Exceeded) return;
            pullHeld = false;
            Pull();
        });
        Receive<StreamDone>(_ =>
        {
            Context.Parent.Tell(Exported.Instance);
            FlushAll();
        });
        ReceiveFailures();
    }

    /// <summary>Asks the writers <see cref="BufferBudget.ToSpill"/> names to write what they hold; how many were asked.</summary>
    private int SpillIfDue()
    {
        if (!_budget.SpillDue) return 0;
        var spills = _budget.ToSpill();
        foreach (var shardDay in spills) _writers[shardDay].Tell(ShardDayWriter.Spill.Instance);
        return spills.Count;
    }

    /// <summary>Hands a chunk's rows, routed on the reader thread, to their shard-day writers.</summary>
    private void Deliver(SourceChunk chunk)
    {
        _tally.Add(chunk);
        foreach (var (shardDay, rows) in chunk.Rows.ByShardDay)
        {
            if (!_writers.TryGetValue(shardDay, out var writer))
            {
                writer = Context.ActorOf(ShardDayWriter.Props(WriterSettings(shardDay, chunk.Rows.Locations[shardDay]), _faults),
                    $"writer-{LakeLayout.DateKey(shardDay.Date)}-{shardDay.Shard}");
                Context.WatchWith(writer, new WriterStopped(shardDay));
                _writers[shardDay] = writer;
            }
            writer.Tell(new ShardDayWriter.Append(rows));
        }
        _budget.Added(chunk.Rows.ByShardDay.Select(r => (r.Key, RoutedRows.RowsIn(r.Value))));
    }

    private ShardDayWriter.Settings WriterSettings(ShardDay shardDay, LakeLocation location)
    {
        var root = _settings.Roots.RootOf(location);
        var (from, to) = _job.Step.CursorRange;
        var committed = Committed(shardDay, root);
        var head = LiveLayout.OpenHead(committed.Select(c => c.File)) is { } open ? committed.Single(c => c.File == open) : null;
        return new ShardDayWriter.Settings(shardDay, location, root, _job.Step.PartKind,
            new PartMetadata(_job.RunId, _job.Step.CommitKind, from, to), _settings.RowGroupRows, CompactionPolicy.Default.TargetFileBytes,
            [.. committed.Where(c => c != head)], _spill.FileFor(_job.RunId, shardDay), head, SliceCuts(shardDay.Date),
            _job.Step is ReplicationStep.Incremental { HoldsCorrections: true });
    }

    /// <summary>A day written whole while still live is cut into the recent zone's slices; replication's parts are small already.</summary>
    private IReadOnlyList<DateTimeOffset> SliceCuts(DateOnly date)
    {
        if (_job.Step is ReplicationStep.Incremental) return [];
        var now = DateTimeOffset.UtcNow;
        return CorrectionHorizons.Applied(Context.System, CompactionPolicy.Default, now).SliceCuts(date, now);
    }

    /// <summary>
    /// The committed files an incremental batch may hold newer versions of keys of, or place
    /// older readings into. A backfill day is new to the lake and a rebuild replaces its day whole,
    /// so they have none.
    /// </summary>
    private IReadOnlyList<CommittedPart> Committed(ShardDay shardDay, string root) =>
        _job.Step is ReplicationStep.Incremental && _job.Manifest.Partition(shardDay.Date) is { } partition &&
        partition.Shards.TryGetValue(LakeLayout.ShardKey(shardDay.Shard), out var shard)
            ? [.. shard.Files.Select(f => new CommittedPart(f, LakeLayout.Resolve(root, LakeLayout.FilePath(shardDay.Date, shardDay.Shard, f.Name))))]
            : [];

    private void FlushAll()
    {
        var awaiting = _writers.Count;
        long rowsInParts = 0;
        if (awaiting == 0)
        {
            Report(rowsInParts);
            return;
        }
        foreach (var writer in _writers.Values) writer.Tell(ShardDayWriter.Flush.Instance);
        Become(() =>
        {
            Receive<ShardDayWriter.Flushed>(f =>
            {
                _job.Watchdog.Tell(ReplicationWatchdog.Progressed.Instance);
                _parts.AddRange(f.Parts);
                _parts.AddRange(f.Rewrite.Copies);
                _replaced.AddRange(f.Rewrite.Removes);
                if (f.AbsorbedHead is { } head) _replaced.Add(new FileRemove(f.ShardDay.Date, f.ShardDay.Shard, head.Name));
                _tally.Flushed(f.Rewrite.SupersededRows, f.Unchanged, f.Rewrite.PlacedRows, f.Held);
                // Held readings count as soon as they are seen, so compaction cuts the files they will be placed into before they are.
                foreach (var oldest in new[] { f.Rewrite.OldestPlaced, f.OldestHeld }.OfType<DateTimeOffset>())
                    CorrectionHorizons.For(Context.System).Observe(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow - oldest);
                rowsInParts += f.Parts.Sum(p => p.Written.Rows) - f.HeadRowsKept;
                if (--awaiting > 0) return;
                Report(rowsInParts);
            });
            Receive<ShardDayWriter.Spilled>(_ => { });
            ReceiveFailures();
        });
    }

    /// <summary>
    /// Every writer flushed: the batch is reported written only if its parts (the rows of heads
    /// they absorbed aside) hold every row it read that the lake did not already hold and that
    /// was not placed into a committed file or held for a later batch (<see cref="CorrectionHold"/>).
    /// </summary>
    private void Report(long rowsInParts)
    {
        if (_tally.Discrepancy(rowsInParts) is { } problem)
        {
            Context.GetLogger().Error("Run {RunId} is not committed: {Problem}. This is a defect; the batch is written again on the retry", _job.RunId, problem);
            FailWith(new Failed("checking the batch's rows", new InvalidDataException(problem), false));
            return;
        }
        Context.Parent.Tell(new Written(_parts, _replaced, _tally));
        Become(Done);
    }

    /// <summary>
    /// Written (or failed) and reported; the parent stops this actor once the commit is answered.
    /// What its writers and the export still send meanwhile is expected and has no use now.
    /// </summary>
    private void Done()
    {
        Receive<SourceChunk>(_ => { });
        Receive<StreamDone>(_ => { });
        Receive<Failed>(_ => { });
        Receive<ShardDayWriter.Spilled>(_ => { });
        Receive<ShardDayWriter.Flushed>(_ => { });
        Receive<ShardDayWriter.WriteFailed>(_ => { });
        Receive<WriterStopped>(_ => { });
    }

    protected override void Unhandled(object message) => Defects.Unhandled(Context.GetLogger(), Self, "writing a batch", message);

    private void ReceiveFailures()
    {
        Receive<ShardDayWriter.WriteFailed>(w => FailWith(new Failed($"writing {w.ShardDay}", new IOException(w.Error), w.Conflict)));
        Receive<WriterStopped>(w => FailWith(new Failed($"writing {w.ShardDay}",
            new IOException("its writer failed and stopped; the batch's rows are written again on the retry"), false)));
        Receive<Failed>(FailWith);
    }

    private void FailWith(Failed failed)
    {
        _ = _job.Export.DisposeAsync().AsTask();
        Context.Parent.Tell(failed);
        Become(Done);
    }
}
