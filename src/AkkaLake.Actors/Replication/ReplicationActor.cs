using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaLake.Actors.Coordinator;
using AkkaLake.Actors.Writers;
using AkkaLake.Core;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Source;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using Npgsql;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Replication;

/// <summary>
/// Keeps the lake in step with Postgres. Each cycle takes the manifest from the coordinator,
/// plans the next step (a backfill day, or an incremental batch up to the cursor bound), streams
/// the rows out of a binary COPY through an Akka.Streams graph into shard-day writers with back
/// pressure, flushes them, and asks the coordinator to commit the whole batch at once. The next
/// step is planned only after the commit is answered; during a backfill, the next day's COPY is
/// already read ahead meanwhile, and used if it is the step then planned. Failures abandon the
/// batch and retry with backoff.
/// </summary>
public sealed class ReplicationActor : ReceiveActor, IWithTimers
{
    public sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>From the daemon: the coordinator failed and was restarted, so a commit it was given may never be answered.</summary>
    public sealed record CoordinatorRestarted
    {
        public static readonly CoordinatorRestarted Instance = new();
    }

    /// <summary>Sent to the listener after each cycle (backfill days plus one incremental batch).</summary>
    public sealed record CycleCompleted(bool Succeeded, string? Error, LakeManifest? Manifest);

    /// <param name="HeldBackByLag">Rows inserted within the lag guard of the database's now: the next batch leaves them for a later one.</param>
    /// <param name="DayScan">How days are read, when this step may read days (backfill, rebuild, takeover); null for a plain incremental tick.</param>
    private sealed record Prepared(DatabaseClock Clock, SourceTable Table, DateOnly? NoRowsBefore, long HeldBackByLag, DayScan? DayScan);

    private sealed record Failed(string Stage, Exception Error);

    private sealed record StreamInit
    {
        public static readonly StreamInit Instance = new();
    }

    private sealed record StreamAck
    {
        public static readonly StreamAck Instance = new();
    }

    private sealed record StreamDone
    {
        public static readonly StreamDone Instance = new();
    }

    /// <summary>A writer of the current batch stopped before the batch ended: its rows are lost, so the batch is.</summary>
    private sealed record WriterStopped(ShardDay ShardDay);

    /// <summary>
    /// A writer that throws is stopped, never restarted: a restarted writer would have lost its
    /// buffered rows and could let its batch commit without them. Watching it fails the batch.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private sealed class Batch(ReplicationStep step, string runId, SourceTable table, DateTimeOffset startedAt)
    {
        public ReplicationStep Step { get; } = step;
        public string RunId { get; } = runId;
        public SourceTable Table { get; } = table;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public Dictionary<ShardDay, IActorRef> Writers { get; } = [];
        public Dictionary<ShardDay, long> Buffered { get; } = [];
        public long BufferedTotal { get; set; }
        public int AwaitingSpills { get; set; }
        public IActorRef? StreamSender { get; set; }
        public List<StagedPart> Parts { get; } = [];
        public List<FileRemove> Replaced { get; } = [];
        public long SupersededRows { get; set; }
        public long Unchanged { get; set; }
        public int AwaitingFlushes { get; set; }
        public long Rows { get; set; }
        public long TooOld { get; set; }
        public long NonFinite { get; set; }
        public long NullQualities { get; set; }
        public long? MaxInsertedAtMicros { get; set; }
        public long HeldBackByLag { get; init; }
        public SkippedRows Skipped { get; } = new();
        public UniqueKillSwitch? KillSwitch { get; set; }
        public SourceExport? Export { get; set; }

        /// <summary>What the batch was planned from, to plan the next backfill day before this one is committed.</summary>
        public (LakeManifest Manifest, DatabaseClock Clock)? PlannedFrom { get; init; }

        /// <summary>The manifest the batch's rows are checked against for keys they replace.</summary>
        public required LakeManifest Manifest { get; init; }
    }

    /// <summary>The next backfill day's COPY, started while the current day's parts are written and committed.</summary>
    private sealed record ReadAhead(ReplicationStep.Backfill Step, string? Location, SourceTable Table, SourceExport Export);

    private readonly LakeSettings _settings;
    private readonly IActorRef _coordinator;
    private readonly IActorRef? _listener;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private const int MaxConflictRetries = 3;
    private readonly ReplicationJob _job;
    private Queue<DateOnly>? _manualDays;
    private int _manualDaysTotal;

    // Progress of day-at-a-time work: to the listener after every day, to the log at most every 10 s.
    private readonly Throttle _progressLog = new(TimeSpan.FromSeconds(10));
    private long _dayWorkRows;
    private DateTimeOffset? _dayWorkStarted;
    private int _conflicts;
    private int _failures;
    private int _batches;
    private static readonly TimeSpan CommitAnswerTimeout = TimeSpan.FromMinutes(2);
    private bool _warnedAboutVisibility;
    private bool _warnedClockSetBack;
    private bool _firstBackfillByHand;

    // Read once per backfill. Rows up to its cursor were committed before it began; only rows without
    // inserted_at could arrive later, and a day already scanned would miss those just the same.
    private DateOnly? _noRowsBefore;
    private DayScan? _dayScan;
    private Batch? _batch;
    private ReadAhead? _readAhead;

    private readonly IFaultPoints _faults;

    public ReplicationActor(LakeSettings settings, IActorRef coordinator, IActorRef? listener, ReplicationJob job, IFaultPoints? faults = null)
    {
        _faults = faults ?? FaultPoints.None;
        _settings = settings;
        _coordinator = coordinator;
        _listener = listener;
        _job = job;
        _dataSource = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(settings.DatabaseUrl
            ?? throw new InvalidOperationException("No database configured: set --database-url, CORE_DATABASE_URL, or database_url in setup/config.json.")));
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LakeSettings settings, IActorRef coordinator, IActorRef? listener, ReplicationJob job, IFaultPoints? faults = null) =>
        Akka.Actor.Props.Create(() => new ReplicationActor(settings, coordinator, listener, job, faults));

    protected override void PreStart()
    {
        _log.Info("Replicating from {Database} every {IntervalSeconds} s (lag guard {LagSeconds} s)",
            DatabaseUrl.Describe(_dataSource.ConnectionString), _settings.ReplicationInterval.TotalSeconds, _settings.ReplicationLag.TotalSeconds);
        Self.Tell(Tick.Instance);
    }

    protected override void PostStop()
    {
        _batch?.KillSwitch?.Shutdown();
        DropReadAhead();
        _dataSource.Dispose();
    }

    private void Idle()
    {
        Receive<Tick>(_ => StartStep());
    }

    private void StartStep()
    {
        _coordinator.Tell(GetManifest.Instance);
        Become(Planning);
    }

    private void Planning()
    {
        ManifestSnapshot? snapshot = null;
        Receive<ManifestSnapshot>(s =>
        {
            snapshot = s;
            var dataSource = _dataSource;
            var readNoRowsBefore = _noRowsBefore is null && s.Manifest.Metrics.ComputedThroughTs is null;
            TimeSpan? lagGuard = _job is ReplicationJob.Backfill || s.Manifest.Metrics.ComputedThroughTs is null ? null : _settings.ReplicationLag;
            var readsDays = _job is ReplicationJob.Backfill or ReplicationJob.Rebuild || s.Manifest.Metrics.Backfill is { CompletedAt: null } || s.Manifest.Metrics.ComputedThroughTs is null
                || s.Manifest.Metrics.Takeover is { CompletedAt: null } || s.DaysToRebuild is { Count: > 0 };
            PrepareAsync(dataSource, readNoRowsBefore, lagGuard, readsDays).PipeTo(Self, success: p => p, failure: e => new Failed("reading the database clock", e));
        });
        Receive<Prepared>(p => Plan(snapshot!, p));
        Receive<Failed>(Fail);
        Receive<Tick>(_ => { });
    }

    private static async Task<Prepared> PrepareAsync(NpgsqlDataSource dataSource, bool readNoRowsBefore, TimeSpan? lagGuard, bool readsDays)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var clock = await DatabaseClock.ReadAsync(connection, CancellationToken.None);
        var table = await SourceTable.DescribeAsync(connection, CancellationToken.None);
        var scan = readsDays || readNoRowsBefore ? await DayScan.ChooseAsync(connection, table, CancellationToken.None) : null;
        var noRowsBefore = readNoRowsBefore ? await table.NoRowsBeforeAsync(connection, scan!, CancellationToken.None) : (DateOnly?)null;
        var heldBack = lagGuard is { } lag && lag > TimeSpan.Zero
            ? await table.CountInsertedAfterAsync(connection, clock.Now - lag, CancellationToken.None)
            : 0;
        return new Prepared(clock, table, noRowsBefore, heldBack, scan);
    }

    private void Plan(ManifestSnapshot snapshot, Prepared prepared)
    {
        var manifest = snapshot.Manifest;
        if (!prepared.Clock.CanSeeAllSessions && !_warnedAboutVisibility)
        {
            _warnedAboutVisibility = true;
            _log.Warning("The database role cannot see other sessions' transactions, so a long-running insert could be missed. Grant it pg_read_all_stats.");
        }
        var now = DateTimeOffset.UtcNow;
        _noRowsBefore ??= prepared.NoRowsBefore;
        if (prepared.DayScan is { } scan)
        {
            if (_dayScan is null || _dayScan.Index != scan.Index)
                _log.Info("Reading days from PostgreSQL: {DayScan}", scan.Describe());
            _dayScan = scan;
        }
        if (_job is ReplicationJob.Backfill manual)
        {
            if (manifest.Metrics.ComputedThroughTs is null || _firstBackfillByHand)
                PlanFirstBackfill(manifest, manual, prepared, now);
            else
                PlanManual(manifest, manual, prepared.Table, now);
            return;
        }
        if (_job is ReplicationJob.Rebuild rebuild)
        {
            if (manifest.Metrics.ComputedThroughTs is null)
            {
                _listener?.Tell(new CycleCompleted(false, "The lake's first backfill has not completed yet.", manifest));
                Become(Idle);
                return;
            }
            if (_manualDays is null) ManualDays(rebuild.Days);
            RebuildNextDay(manifest, prepared.Table, now);
            return;
        }
        var step = ReplicationPlanner.Next(manifest, prepared.Clock, _settings.ReplicationLag, _settings.HotRetentionDays, now, _noRowsBefore ?? default);
        if (manifest.Metrics.ComputedThroughTs is { } watermark) WarnIfClockSetBack(prepared.Clock, watermark);
        switch (step)
        {
            case ReplicationStep.UpToDate or ReplicationStep.Incremental when TakeDayToRebuild(snapshot) is { } repair:
                _log.Info("Rebuilding {Date} from PostgreSQL because it differs from it; incremental replication continues right after",
                    LakeLayout.DateKey(repair.Day));
                StartExport(manifest, repair, prepared.Table, now);
                return;
            case ReplicationStep.UpToDate u:
                LogCap(u.Bound, u.Watermark);
                CycleDone(manifest);
                return;
            case ReplicationStep.Incremental i:
                LogCap(i.Bound, i.After);
                var backlog = now - i.After;
                if (backlog > TimeSpan.FromHours(_settings.LateWindowHours))
                    _log.Warning("Replication is {BacklogHours:0.0} h behind (late window {LateWindowHours} h); catching up from {Watermark}",
                        backlog.TotalHours, _settings.LateWindowHours, Timestamps.Format(i.After));
                break;
        }
        StartExport(manifest, step, prepared.Table, now, prepared.Clock, prepared.HeldBackByLag);
    }

    /// <summary>
    /// <c>akkalake backfill</c> on a lake whose first backfill has not completed: that backfill,
    /// from the first day asked for through today, after which incremental replication can continue.
    /// </summary>
    private void PlanFirstBackfill(LakeManifest manifest, ReplicationJob.Backfill job, Prepared prepared, DateTimeOffset now)
    {
        var step = ReplicationPlanner.Next(manifest, prepared.Clock, _settings.ReplicationLag, _settings.HotRetentionDays, now, _noRowsBefore ?? default, job.From);
        if (step is not ReplicationStep.Backfill day)
        {
            CycleDone(manifest);
            return;
        }
        if (!_firstBackfillByHand)
            _log.Info("The lake has no data yet, so this is its first backfill: {From} through {To}, newest day first; 'akkalake run' continues from where it ends",
                day.After.FromDate, day.After.ToDate);
        _firstBackfillByHand = true;
        StartExport(manifest, step, prepared.Table, now, prepared.Clock);
    }

    private void PlanManual(LakeManifest manifest, ReplicationJob.Backfill job, SourceTable table, DateTimeOffset now)
    {
        if (_manualDays is null)
        {
            var (days, refusal) = ManualBackfill.Check(manifest, job.From, job.To, job.Replace);
            if (refusal is not null)
            {
                _listener?.Tell(new CycleCompleted(false, refusal, manifest));
                Become(Idle);
                return;
            }
            ManualDays(days);
        }
        RebuildNextDay(manifest, table, now);
    }

    private void ManualDays(IReadOnlyCollection<DateOnly> days)
    {
        _manualDays = new Queue<DateOnly>(days);
        _manualDaysTotal = days.Count;
    }

    /// <summary>The next of the days asked for by hand, or the end of the job.</summary>
    private void RebuildNextDay(LakeManifest manifest, SourceTable table, DateTimeOffset now)
    {
        var placement = Placement(manifest, now);
        while (_manualDays!.TryDequeue(out var day))
        {
            if (ManualBackfill.StepFor(manifest, day, placement) is { } step)
            {
                StartExport(manifest, step, table, now);
                return;
            }
            _log.Warning("Skipping {Date}: it is older than the hot horizon and no cold path is configured", LakeLayout.DateKey(day));
        }
        CycleDone(manifest);
    }

    /// <summary>The newest day reconciliation asked to rebuild (daemon only), taken off the coordinator's list.</summary>
    private ReplicationStep.Rebuild? TakeDayToRebuild(ManifestSnapshot snapshot)
    {
        if (!_job.Repeats || snapshot.DaysToRebuild is not { Count: > 0 } days) return null;
        var day = days.Max();
        _coordinator.Tell(new RebuildTaken(day));
        return ManualBackfill.StepFor(snapshot.Manifest, day, Placement(snapshot.Manifest, DateTimeOffset.UtcNow));
    }

    /// <summary>A repair that did not commit is asked for again, so it is not lost until the next check.</summary>
    private void AskAgainForRepair(Batch batch)
    {
        if (_job.Repeats && batch.Step is ReplicationStep.Rebuild { TakeoverAfter: null } r)
            _coordinator.Tell(new RebuildDay(r.Day, "its rebuild did not commit"));
    }

    private PartitionPlacement Placement(LakeManifest manifest, DateTimeOffset now) =>
        new(manifest, DateOnly.FromDateTime(now.UtcDateTime), _settings.HotRetentionDays, _settings.ColdPath is not null);

    /// <summary>
    /// A database clock behind the watermark was set back. The watermark holds (it never moves
    /// back), but rows written meanwhile are stamped before it, where incremental batches do not look.
    /// </summary>
    private void WarnIfClockSetBack(DatabaseClock clock, DateTimeOffset watermark)
    {
        var behind = watermark - (clock.Now - _settings.ReplicationLag);
        if (behind <= TimeSpan.FromSeconds(1))
        {
            _warnedClockSetBack = false;
            return;
        }
        if (_warnedClockSetBack) return;
        _warnedClockSetBack = true;
        _log.Warning("The database clock reads {DatabaseNow}, {BehindSeconds:0} s before the watermark {Watermark}: it was set back. The watermark holds until the clock passes it. " +
            "Rows written meanwhile get an inserted_at before the watermark and are not replicated incrementally; reconciliation finds them when it next checks their days " +
            "(today and yesterday hourly, every hot day daily) and rebuilds those days, or run akkalake reconcile now",
            Timestamps.Format(clock.Now), behind.TotalSeconds, Timestamps.Format(watermark));
    }

    private void LogCap(CursorBound bound, DateTimeOffset watermark)
    {
        if (bound.LimitedBy == CursorLimit.OpenTransaction)
            _log.Warning("An open transaction holds the watermark back: it may only advance to {Bound} (lag behind now {LagSeconds:0} s) until that transaction ends",
                Timestamps.Format(bound.Through), (DateTimeOffset.UtcNow - bound.Through).TotalSeconds);
        else if (bound.LimitedBy == CursorLimit.PreparedTransaction)
            _log.Warning("A prepared transaction exists in the source database; the watermark holds at {Watermark} until it is committed or rolled back",
                Timestamps.Format(watermark));
    }

    private void StartExport(LakeManifest manifest, ReplicationStep step, SourceTable table, DateTimeOffset now, DatabaseClock? clock = null, long heldBackByLag = 0)
    {
        var runId = RunId.New(now);
        Func<DateOnly, string?> locationFor = step is ReplicationStep.Rebuild rebuild ? _ => rebuild.Location : Placement(manifest, now).LocationFor;
        SourceWindow window = step switch
        {
            ReplicationStep.Backfill b => b.Window,
            ReplicationStep.Incremental i => i.Window,
            ReplicationStep.Rebuild r => r.Window,
            _ => throw new InvalidOperationException(),
        };
        var export = TakeReadAhead(step, table, locationFor) ?? StartReading(table, window, new RowRouter(manifest.Shards, locationFor));
        var batch = new Batch(step, runId, table, now) { PlannedFrom = clock is null ? null : (manifest, clock), Export = export, Manifest = manifest, HeldBackByLag = heldBackByLag };
        _batch = batch;
        _log.Debug("Run {RunId}: exporting {Window}", runId, window.Describe());
        batch.KillSwitch = Source.From(() => export.ReadAllAsync())
            .ViaMaterialized(KillSwitches.Single<SourceChunk>(), Keep.Right)
            .To(Sink.ActorRefWithAck<SourceChunk>(Self, StreamInit.Instance, StreamAck.Instance, StreamDone.Instance, e => new Failed("exporting rows", e)))
            .Run(Context.System.Materializer());
        Become(Exporting);
    }

    // Chunks are a fraction of the budget, so buffered rows never exceed the budget by more than one chunk.
    private int ChunkRows => Math.Clamp(_settings.MaxBufferedRows / 8, 1024, 65_536);

    private SourceExport StartReading(SourceTable table, SourceWindow window, RowRouter router, int readAhead = 2) =>
        new MetricsSource(_dataSource, table, ChunkRows, _dayScan).Start(window, router, readAhead);

    /// <summary>
    /// A backfill day's COPY is done: while its parts are written and committed (PostgreSQL would
    /// sit idle meanwhile), start the next day's, which the commit cannot change. Up to an eighth of
    /// the row budget is read ahead; the rest waits for the next batch.
    /// </summary>
    private void StartReadAhead(Batch batch)
    {
        if (batch.Step is not ReplicationStep.Backfill day || batch.PlannedFrom is not { } plannedFrom) return;
        var (manifest, clock) = plannedFrom;
        var now = DateTimeOffset.UtcNow;
        if (ReplicationPlanner.BackfillAfter(manifest, day, clock, _settings.ReplicationLag, _settings.HotRetentionDays, now, _noRowsBefore ?? default) is not { } next)
            return;
        var placement = Placement(manifest, now);
        var export = StartReading(batch.Table, next.Window, new RowRouter(manifest.Shards, placement.LocationFor),
            Math.Max(2, _settings.MaxBufferedRows / 8 / ChunkRows));
        _readAhead = new ReadAhead(next, placement.LocationFor(next.Day), batch.Table, export);
    }

    /// <summary>The read-ahead, if it is exactly the step now planned; otherwise it is dropped.</summary>
    private SourceExport? TakeReadAhead(ReplicationStep step, SourceTable table, Func<DateOnly, string?> locationFor)
    {
        if (_readAhead is { } ahead && step is ReplicationStep.Backfill day && day.Window == ahead.Step.Window && table == ahead.Table && locationFor(day.Day) == ahead.Location)
        {
            _readAhead = null;
            return ahead.Export;
        }
        DropReadAhead();
        return null;
    }

    private void DropReadAhead()
    {
        if (_readAhead is { } ahead) _ = ahead.Export.DisposeAsync().AsTask();
        _readAhead = null;
    }

    private void Exporting()
    {
        Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
        Receive<SourceChunk>(chunk =>
        {
            var batch = _batch!;
            batch.StreamSender = Sender;
            Deliver(batch, chunk);
            _faults.Hit("export.after-chunk");
            if (batch.BufferedTotal > _settings.MaxBufferedRows)
                SpillLargest(batch);
            else
                Sender.Tell(StreamAck.Instance);
        });
        Receive<ShardDayWriter.Spilled>(s =>
        {
            var batch = _batch!;
            batch.Buffered[s.ShardDay] -= s.Rows;
            batch.BufferedTotal -= s.Rows;
            if (--batch.AwaitingSpills == 0) batch.StreamSender?.Tell(StreamAck.Instance);
        });
        Receive<StreamDone>(_ =>
        {
            FlushAll();
            StartReadAhead(_batch!);
        });
        Receive<ShardDayWriter.WriteFailed>(WriteFailed);
        Receive<WriterStopped>(WriterFailed);
        Receive<Failed>(Fail);
        Receive<Tick>(_ => { });
    }

    /// <summary>Hands a chunk's rows, routed on the reader thread, to their shard-day writers.</summary>
    private void Deliver(Batch batch, SourceChunk chunk)
    {
        var routed = chunk.Rows;
        batch.TooOld += routed.TooOld;
        batch.NonFinite += chunk.NonFiniteValues;
        batch.NullQualities += chunk.NullQualities;
        batch.Skipped.AddRange(chunk.Skipped);
        if (chunk.MaxInsertedAtMicros is { } m && (batch.MaxInsertedAtMicros is null || m > batch.MaxInsertedAtMicros))
            batch.MaxInsertedAtMicros = m;
        foreach (var (shardDay, rows) in routed.ByShardDay)
        {
            if (!batch.Writers.TryGetValue(shardDay, out var writer))
            {
                var location = routed.Locations[shardDay];
                var root = location == Core.Manifest.Locations.Hot ? _settings.HotPath : _settings.ColdPath!;
                var settings = new ShardDayWriter.Settings(shardDay, location, root,
                    batch.Step is ReplicationStep.Incremental ? PartKind.Incremental : PartKind.Backfill, Metadata(batch), _settings.RowGroupRows,
                    Committed(batch, shardDay, root));
                writer = Context.ActorOf(ShardDayWriter.Props(settings, _faults), $"writer-{_batches}-{LakeLayout.DateKey(shardDay.Date)}-{shardDay.Shard}");
                Context.WatchWith(writer, new WriterStopped(shardDay));
                batch.Writers[shardDay] = writer;
                batch.Buffered[shardDay] = 0;
            }
            writer.Tell(new ShardDayWriter.Append(rows));
            batch.Buffered[shardDay] += rows.Count;
            batch.BufferedTotal += rows.Count;
            batch.Rows += rows.Count;
        }
    }

    /// <summary>
    /// The committed files an incremental batch may hold newer versions of keys of. A backfill day
    /// is new to the lake and a rebuild replaces its day whole, so they have none.
    /// </summary>
    private static IReadOnlyList<CommittedPart> Committed(Batch batch, ShardDay shardDay, string root) =>
        batch.Step is ReplicationStep.Incremental && batch.Manifest.Partition(shardDay.Date) is { } partition &&
        partition.Shards.TryGetValue(LakeLayout.ShardKey(shardDay.Shard), out var shard)
            ? [.. shard.Files.Select(f => new CommittedPart(f, LakeLayout.Resolve(root, LakeLayout.FilePath(shardDay.Date, shardDay.Shard, f.Name))))]
            : [];

    private static PartMetadata Metadata(Batch batch) => batch.Step switch
    {
        ReplicationStep.Backfill b => new PartMetadata(batch.RunId, LakeCommit.BackfillKind, null, b.After.Cursor),
        ReplicationStep.Incremental i => new PartMetadata(batch.RunId, LakeCommit.Replication, i.After, i.Bound.Through),
        ReplicationStep.Rebuild r => new PartMetadata(batch.RunId, LakeCommit.BackfillKind, null, r.Cursor),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Writes the largest buffers out until half the budget is free; the stream waits meanwhile.</summary>
    private void SpillLargest(Batch batch)
    {
        var projected = batch.BufferedTotal;
        foreach (var (shardDay, rows) in batch.Buffered.OrderByDescending(kv => kv.Value))
        {
            if (projected <= _settings.MaxBufferedRows / 2 || rows == 0) break;
            batch.Writers[shardDay].Tell(ShardDayWriter.Spill.Instance);
            batch.AwaitingSpills++;
            projected -= rows;
        }
    }

    private void FlushAll()
    {
        var batch = _batch!;
        batch.AwaitingFlushes = batch.Writers.Count;
        if (batch.AwaitingFlushes == 0)
        {
            RequestCommit(batch);
            return;
        }
        foreach (var writer in batch.Writers.Values) writer.Tell(ShardDayWriter.Flush.Instance);
        Become(Flushing);
    }

    private void Flushing()
    {
        Receive<ShardDayWriter.Flushed>(f =>
        {
            var batch = _batch!;
            batch.Parts.AddRange(f.Parts);
            batch.Parts.AddRange(f.Rewrite.Copies);
            batch.Replaced.AddRange(f.Rewrite.Removes);
            batch.SupersededRows += f.Rewrite.SupersededRows;
            batch.Unchanged += f.Unchanged;
            if (--batch.AwaitingFlushes == 0) RequestCommit(batch);
        });
        Receive<ShardDayWriter.Spilled>(_ => { });
        Receive<ShardDayWriter.WriteFailed>(WriteFailed);
        Receive<WriterStopped>(WriterFailed);
        Receive<Failed>(Fail);
        Receive<Tick>(_ => { });
    }

    private void RequestCommit(Batch batch)
    {
        var report = Report(batch, DateTimeOffset.UtcNow);
        var commit = ReplicationPlanner.CommitFor(batch.Step, batch.RunId);
        _coordinator.Tell(new Commit(commit with { Removes = commit.Removes.AddRange(batch.Replaced) }, batch.Parts, report));
        // A coordinator that fails in the middle of a commit restarts without answering it.
        Context.SetReceiveTimeout(CommitAnswerTimeout);
        Become(Committing);
    }

    private static RunReport Report(Batch batch, DateTimeOffset finishedAt)
    {
        var (kind, start, end) = batch.Step switch
        {
            ReplicationStep.Backfill b => (LakeCommit.BackfillKind, (DateTimeOffset?)null, (DateTimeOffset?)b.After.Cursor),
            ReplicationStep.Incremental i => (LakeCommit.Replication, i.After, i.Bound.Through),
            ReplicationStep.Rebuild r => (LakeCommit.BackfillKind, (DateTimeOffset?)null, (DateTimeOffset?)r.Cursor),
            _ => ("none", null, null),
        };
        return new RunReport(batch.RunId, kind, batch.StartedAt, finishedAt, batch.Rows, batch.Parts.Count, batch.Parts.Sum(p => p.Written.Bytes),
            start, end, batch.MaxInsertedAtMicros is { } m ? Timestamps.FromMicros(m) : null);
    }

    private void Committing()
    {
        Receive<CommitSucceeded>(c =>
        {
            Context.SetReceiveTimeout(null);
            var batch = _batch!;
            LogBatch(batch, c.Manifest);
            RecordBatch(batch, "committed");
            EndBatch(batch);
            _failures = 0;
            _conflicts = 0;
            if (batch.Step is ReplicationStep.Backfill or ReplicationStep.Rebuild)
                StartStep();
            else
                CycleDone(c.Manifest);
        });
        Receive<CommitFailed>(f =>
        {
            Context.SetReceiveTimeout(null);
            if (f.Conflict && ++_conflicts <= MaxConflictRetries)
            {
                Replan(_batch!, f.Reason);
                return;
            }
            Fail(new Failed(f.Conflict ? "committing (the lake changed meanwhile)" : "committing", new IOException(f.Reason)));
        });
        // Either way the batch is planned again from the manifest, so a commit that did land is not written twice.
        Receive<CoordinatorRestarted>(_ =>
        {
            Context.SetReceiveTimeout(null);
            Fail(new Failed("committing", new IOException("the coordinator failed during the commit and was restarted")));
        });
        Receive<ReceiveTimeout>(_ =>
        {
            Context.SetReceiveTimeout(null);
            Fail(new Failed("committing", new TimeoutException($"the coordinator did not answer within {CommitAnswerTimeout.TotalSeconds:0} s")));
        });
        Receive<Tick>(_ => { });
    }

    private void WriteFailed(ShardDayWriter.WriteFailed w)
    {
        if (w.Conflict && ++_conflicts <= MaxConflictRetries)
        {
            _batch?.KillSwitch?.Shutdown();
            Replan(_batch!, w.Error);
            return;
        }
        Fail(new Failed($"writing {w.ShardDay}", new IOException(w.Error)));
    }

    private void WriterFailed(WriterStopped w) =>
        Fail(new Failed($"writing {w.ShardDay}", new IOException("its writer failed and stopped; the batch's rows are written again on the retry")));

    /// <summary>Compaction or retention changed the lake under this batch: it is abandoned and planned again now.</summary>
    private void Replan(Batch batch, string reason)
    {
        _log.Info("Run {RunId} was not committed because the lake changed meanwhile ({Reason}); planning it again", batch.RunId, reason);
        if (batch.Step is ReplicationStep.Rebuild r && _manualDays is not null)
            _manualDays = new Queue<DateOnly>(_manualDays.Prepend(r.Day));
        AskAgainForRepair(batch);
        RecordBatch(batch, "replanned");
        EndBatch(batch);
        StartStep();
    }

    private static void RecordBatch(Batch batch, string outcome)
    {
        LakeMetrics.Batches.Add(1, LakeMetrics.Tag("outcome", outcome));
        if (outcome != "committed") return;
        LakeMetrics.RowsReplicated.Add(batch.Rows);
        LakeMetrics.BytesReplicated.Add(batch.Parts.Sum(p => p.Written.Bytes));
        LakeMetrics.BatchDuration.Record((DateTimeOffset.UtcNow - batch.StartedAt).TotalSeconds);
        foreach (var (reason, rows) in batch.Skipped.ByReason)
            LakeMetrics.SkippedRows.Add(rows, LakeMetrics.Tag("reason", reason));
    }

    /// <summary>How far the day-at-a-time work this batch belongs to has got; null for an incremental batch or a single repair.</summary>
    private DaysProgress? ProgressAfter(Batch batch, LakeManifest manifest)
    {
        if (batch.Step is not (ReplicationStep.Backfill or ReplicationStep.Rebuild)) return null;
        var (done, total) = batch.Step switch
        {
            _ when _manualDays is not null => (_manualDaysTotal - _manualDays.Count, _manualDaysTotal),
            ReplicationStep.Backfill { IsLast: true } b => (DaysIn(b.After), DaysIn(b.After)),
            ReplicationStep.Backfill b => (b.After.DaysDone.Count, DaysIn(b.After)),
            ReplicationStep.Rebuild { TakeoverAfter: { } t } => (t.DaysTotal - t.DaysLeft.Count, t.DaysTotal),
            _ => (0, 0),
        };
        if (total == 0) return null;
        _dayWorkStarted ??= batch.StartedAt;
        _dayWorkRows += batch.Rows;
        return new DaysProgress(done, total, _dayWorkRows, DateTimeOffset.UtcNow - _dayWorkStarted.Value);
    }

    private static int DaysIn(BackfillState state) =>
        LakeLayout.ParseDateKey(state.ToDate).DayNumber - LakeLayout.ParseDateKey(state.FromDate).DayNumber + 1;

    private void LogBatch(Batch batch, LakeManifest manifest)
    {
        var duration = DateTimeOffset.UtcNow - batch.StartedAt;
        var watermark = manifest.Metrics.ComputedThroughTs is { } w ? Timestamps.Format(w) : "none";
        var lag = manifest.Metrics.ComputedThroughTs is { } w2 ? Math.Round((DateTimeOffset.UtcNow - w2).TotalSeconds) : 0;
        object[] figures = [batch.Rows, batch.Parts.Count, batch.Parts.Sum(p => p.Written.Bytes), (long)duration.TotalMilliseconds,
            Math.Round(batch.Rows / Math.Max(duration.TotalSeconds, 0.001)), watermark, lag, batch.RunId];
        const string summary = "{Rows} rows into {Files} files ({Bytes} bytes) in {DurationMs} ms ({RowsPerSecond} rows/s); watermark {Watermark}, {LagSeconds} s behind now; run {RunId}";
        const string soFar = "; {DaysDone} of {DaysTotal} days done, {RowsSoFar} rows so far, about {EtaSeconds} s left";
        var progress = ProgressAfter(batch, manifest);
        if (progress is not null) _listener?.Tell(progress);
        object[] progressFigures = progress is null ? [] : [progress.DaysDone, progress.DaysTotal, progress.Rows, Math.Round(progress.Left?.TotalSeconds ?? 0)];
        // A long backfill or takeover says how it goes every 10 s at most; the file at Debug keeps every day.
        var level = progress is null || progress.Complete || _progressLog.Due(DateTimeOffset.UtcNow) ? LogLevel.InfoLevel : LogLevel.DebugLevel;
        switch (batch.Step)
        {
            case ReplicationStep.Backfill { EmptyDaysBefore: > 0 } b:
                _log.Log(level, "Backfilled {Date}: " + summary, [LakeLayout.DateKey(b.Day), .. figures]);
                _log.Info("The source has no rows older than {Date}: the {EmptyDays} older days of the hot horizon are recorded as empty without scanning them",
                    LakeLayout.DateKey(b.Day), b.EmptyDaysBefore);
                break;
            case ReplicationStep.Backfill b when batch.Rows == 0:
                _log.Debug("Backfilled {Date}: no rows", LakeLayout.DateKey(b.Day));
                break;
            case ReplicationStep.Backfill b when progress is { Complete: false }:
                _log.Log(level, "Backfilled {Date}: " + summary + soFar, [LakeLayout.DateKey(b.Day), .. figures, .. progressFigures]);
                break;
            case ReplicationStep.Backfill b:
                _log.Log(level, "Backfilled {Date}: " + summary, [LakeLayout.DateKey(b.Day), .. figures]);
                break;
            case ReplicationStep.Rebuild { TakeoverAfter: { } t } r:
                _log.Log(level, "Took over {Date}: rebuilt from PostgreSQL, replacing {Replaced} files; {DaysLeft} of {DaysTotal} days left: " + summary,
                    [LakeLayout.DateKey(r.Day), r.Replaces.Count, t.DaysLeft.Count, t.DaysTotal, .. figures]);
                if (t.CompletedAt is not null)
                    _log.Info("Takeover complete: every day of the first implementation's lake is rebuilt; incremental replication continues from {Watermark}", watermark);
                break;
            case ReplicationStep.Rebuild r when progress is { Complete: false }:
                _log.Log(level, "Rebuilt {Date}, replacing {Replaced} files: " + summary + soFar, [LakeLayout.DateKey(r.Day), r.Replaces.Count, .. figures, .. progressFigures]);
                break;
            case ReplicationStep.Rebuild r:
                _log.Log(level, "Rebuilt {Date}, replacing {Replaced} files: " + summary, [LakeLayout.DateKey(r.Day), r.Replaces.Count, .. figures]);
                break;
            case ReplicationStep.Incremental when batch.HeldBackByLag > 0:
                _log.Info("Replicated " + summary + "; {HeldBack} rows inserted in the last {LagGuardSeconds} s wait for the lag guard (CORE_ANALYSIS_REPLICATION_LAG_SECONDS) and go in a later batch",
                    [.. figures, batch.HeldBackByLag, _settings.ReplicationLag.TotalSeconds]);
                break;
            default:
                _log.Info("Replicated " + summary, figures);
                break;
        }
        if (batch.Step is ReplicationStep.Backfill { IsLast: true } last)
            _log.Info("Backfill of {From} to {To} complete: rows inserted up to {Watermark} are in the lake; incremental replication continues from there",
                last.After.FromDate, last.After.ToDate, Timestamps.Format(last.After.Cursor));
        if (batch.Skipped.Total > 0)
            _log.Warning("Skipped {Skipped} rows the lake cannot hold ({Reasons}); e.g. {Examples}",
                batch.Skipped.Total, batch.Skipped.ToString(), string.Join("; ", batch.Skipped.SampleKeys));
        if (batch.TooOld > 0)
            _log.Warning("Skipped {Rows} rows older than the hot horizon ({RetentionDays} days): no cold path is configured, Postgres keeps them",
                batch.TooOld, _settings.HotRetentionDays);
        if (batch.NonFinite > 0)
            _log.Info("Wrote {Rows} rows whose value is NaN or infinite as they are", batch.NonFinite);
        if (batch.SupersededRows > 0 || batch.Unchanged > 0)
            _log.Info("Updated readings: {Superseded} older versions replaced by rewriting {Files} files in the same commit; {Unchanged} readings already in the lake unchanged were not written again; run {RunId}",
                batch.SupersededRows, batch.Replaced.Count, batch.Unchanged, batch.RunId);
        if (batch.NullQualities > 0)
            _log.Info("Wrote {Rows} rows whose quality is NULL with quality 0, as the controller reads them", batch.NullQualities);
    }

    private void CycleDone(LakeManifest manifest)
    {
        _listener?.Tell(new CycleCompleted(true, null, manifest));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, _settings.ReplicationInterval);
    }

    private void Fail(Failed failed)
    {
        var error = failed.Error.Cause();
        var message = $"{failed.Stage}: {error.Message}";
        _failures++;
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, _failures - 1), Math.Max(_settings.ReplicationInterval.TotalSeconds, 60)));
        if (_job.Repeats)
            _log.Error("Replication failed while {Stage}: {Error}. The batch was abandoned and nothing was committed; retrying in {RetrySeconds} s (attempt {Attempt})",
                [failed.Stage, error.Message, delay.TotalSeconds, _failures]);
        else
            _log.Error("Replication failed while {Stage}: {Error}. The batch was abandoned and nothing was committed; run again to retry", failed.Stage, error.Message);
        DropReadAhead();
        if (_batch is { } batch)
        {
            AskAgainForRepair(batch);
            RecordBatch(batch, "failed");
            batch.KillSwitch?.Abort(error);
            _coordinator.Tell(new RecordFailure(Report(batch, DateTimeOffset.UtcNow), message));
            EndBatch(batch);
        }
        else
        {
            var now = DateTimeOffset.UtcNow;
            _coordinator.Tell(new RecordFailure(new RunReport("-", "none", now, now, 0, 0, 0, null, null, null), message));
        }
        _listener?.Tell(new CycleCompleted(false, message, null));
        Become(Idle);
        if (_job.Repeats) Timers.StartSingleTimer("tick", Tick.Instance, delay);
    }

    /// <summary>A batch is over (committed or abandoned): its writers stop, deleting any part still .tmp.</summary>
    private void EndBatch(Batch batch)
    {
        foreach (var writer in batch.Writers.Values)
        {
            Context.Unwatch(writer);
            Context.Stop(writer);
        }
        if (batch.Export is { } export) _ = export.DisposeAsync().AsTask();
        _batch = null;
        _batches++;
    }
}
