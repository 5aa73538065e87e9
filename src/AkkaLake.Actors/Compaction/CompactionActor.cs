using Akka.Actor;
using Akka.Event;
using AkkaLake.Core;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Storage;
using AkkaLake.Core.Telemetry;
using static AkkaLake.Actors.Coordinator.CoordinatorProtocol;

namespace AkkaLake.Actors.Compaction;

/// <summary>
/// Keeps file counts low: after every change of the lake (and on a timer) it plans merges, runs one
/// at a time off the actor thread, and asks the coordinator to swap inputs for outputs in one
/// commit. If the inputs changed meanwhile the commit is refused and the merge is planned again.
/// A merge that throws makes the actor fail, and its backoff supervisor restarts it. Outputs no
/// commit published are deleted off the actor thread: after a refused commit, or when it stops.
/// </summary>
public sealed class CompactionActor : ReceiveActor, IWithTimers
{
    public sealed record Check
    {
        public static readonly Check Instance = new();
    }

    private sealed record Merged(CompactionJob Job, string RunId, MergeResult Result, DateTimeOffset StartedAt);

    private sealed record MergeFailed(CompactionJob Job, Exception Error);

    private readonly IActorRef _coordinator;
    private readonly LakeSettings _settings;
    private readonly CompactionPolicy _policy;
    private readonly IFaultPoints _faults;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WriteLimiter _limiter = WriteLimits.For(Context.System);
    private readonly TaskFiles _outputs;
    private LakeManifest? _latest;
    private readonly HashSet<(string Date, string Shard)> _overBudget = [];
    private Activity _activity;

    public CompactionActor(IActorRef coordinator, LakeSettings settings, CompactionPolicy policy, IFaultPoints faults)
    {
        _coordinator = coordinator;
        _settings = settings;
        _policy = policy;
        _faults = faults;
        _outputs = new TaskFiles(_limiter);
        _activity = new Activity("compaction", "waiting for the lake to change", DateTimeOffset.UtcNow);
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinator, LakeSettings settings, CompactionPolicy policy, IFaultPoints faults) =>
        Akka.Actor.Props.Create(() => new CompactionActor(coordinator, settings, policy, faults));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("check", Check.Instance, TimeSpan.FromMinutes(1));
        _coordinator.Tell(GetManifest.Instance);
    }

    /// <summary>A merge under way is cancelled and its outputs, like any no commit published, are deleted; nothing waits.</summary>
    protected override void PostStop() => _outputs.DeleteAll();

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, _activity.Doing, message);

    private void Common()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<LakeChanged>(c => _latest = c.Manifest);
        Receive<ManifestSnapshot>(s => _latest = s.Manifest);
        Receive<Check>(_ => { });
    }

    private void Idle()
    {
        Receive<Activity.Query>(_ => Sender.Tell(_activity));
        Receive<LakeChanged>(c => { _latest = c.Manifest; TryStart(); });
        Receive<ManifestSnapshot>(s => { _latest = s.Manifest; TryStart(); });
        Receive<Check>(_ => _coordinator.Tell(GetManifest.Instance));
    }

    private void BecomeIdle()
    {
        _activity = new Activity("compaction", "waiting for the lake to change", DateTimeOffset.UtcNow);
        Become(Idle);
    }

    private void Busy()
    {
        Common();
        Receive<Merged>(m =>
        {
            _faults.Hit("compaction.before-commit");
            var removes = m.Job.Inputs.Select(f => new FileRemove(m.Job.Date, m.Job.Shard, f.Name)).ToList();
            _coordinator.Tell(new Commit(new LakeCommit(CommitKind.Compaction, m.RunId, [], [.. removes]), m.Result.Outputs, null));
            _activity = _activity with { Doing = $"waiting for the commit of {Describe(m.Job)}" };
            Become(() => Committing(m));
        });
        Receive<MergeFailed>(f =>
        {
            _log.Error(f.Error, "Compaction of {Date} shard {Shard} failed", LakeLayout.DateKey(f.Job.Date), f.Job.Shard);
            throw new IOException($"Compaction of {LakeLayout.DateKey(f.Job.Date)}/{f.Job.Shard} failed.", f.Error);
        });
    }

    private void Committing(Merged merged)
    {
        Common();
        Receive<CommitSucceeded>(c =>
        {
            var job = merged.Job;
            var bytesOut = merged.Result.Outputs.Sum(o => o.Written.Bytes);
            LakeMetrics.CompactionRuns.Add(1);
            LakeMetrics.CompactionBytes.Add(bytesOut);
            LakeMetrics.MergeObserved(job.InputBytes, DateTimeOffset.UtcNow - merged.StartedAt);
            _log.Info("Compacted {Date} shard {Shard} ({Reason}): {Files} files, {BytesIn} bytes -> {Outputs} files, {BytesOut} bytes; {Rows} rows, {Superseded} superseded versions dropped, in {DurationMs} ms; run {RunId}",
                [LakeLayout.DateKey(job.Date), job.Shard, job.Reason, job.Inputs.Count, job.InputBytes, merged.Result.Outputs.Count, bytesOut,
                    merged.Result.RowsOut, merged.Result.SupersededRows, (long)(DateTimeOffset.UtcNow - merged.StartedAt).TotalMilliseconds, merged.RunId]);
            _latest = c.Manifest;
            BecomeIdle();
            TryStart();
        });
        Receive<CommitFailed>(f =>
        {
            var outputs = merged.Result.Outputs.Select(o => o.Written.TmpPath).ToList();
            _ = _limiter.CleanUp(() => outputs.ForEach(AtomicFile.DeleteQuietly));
            _log.Info("Compaction of {Date} shard {Shard} was not committed ({Reason}); it will be planned again",
                LakeLayout.DateKey(merged.Job.Date), merged.Job.Shard, f.Reason);
            BecomeIdle();
            _coordinator.Tell(GetManifest.Instance);
        });
    }

    /// <summary>
    /// Warns once when a shard-day is over the file budget with nothing compaction may merge there
    /// (its files final or at the size target), and again only after it came back under.
    /// </summary>
    private void WarnAboutFileBudget(LakeManifest manifest, IReadOnlyList<CompactionJob> jobs)
    {
        var over = manifest.Metrics.Partitions
            .SelectMany(p => p.Value.Shards.Where(s => s.Value.Files.Count > _policy.MaxFiles).Select(s => (Date: p.Key, Shard: s.Key, s.Value.Files.Count)))
            .Where(o => !jobs.Any(j => LakeLayout.DateKey(j.Date) == o.Date && LakeLayout.ShardKey(j.Shard) == o.Shard))
            .ToList();
        foreach (var (date, shard, count) in over.Where(o => !_overBudget.Contains((o.Date, o.Shard))))
            _log.Warning("Shard-day {Date} shard {Shard} holds {Files} files, over the budget of {MaxFiles}, and compaction has nothing it may merge there (files final, at the size target, or on a cold path that is not configured)",
                date, shard, count, _policy.MaxFiles);
        _overBudget.Clear();
        _overBudget.UnionWith(over.Select(o => (o.Date, o.Shard)));
    }

    private static string Describe(CompactionJob job) => $"{LakeLayout.DateKey(job.Date)} shard {LakeLayout.ShardKey(job.Shard)}";

    private void TryStart()
    {
        if (_latest is null) return;
        var now = DateTimeOffset.UtcNow;
        var policy = CorrectionHorizons.Applied(Context.System, _policy, now);
        var jobs = CompactionPlanner.Plan(_latest, now, policy).Where(j => j.Location == LakeLocation.Hot || _settings.ColdPath is not null).ToList();
        WarnAboutFileBudget(_latest, jobs);
        if (jobs.FirstOrDefault() is not { } job) return;
        var runId = RunId.New(DateTimeOffset.UtcNow);
        var merger = new PartMerger(_settings.Roots, rowGroupRows: _settings.RowGroupRows);
        var target = _policy.TargetFileBytes;
        var started = DateTimeOffset.UtcNow;
        var outputs = _outputs;
        var faults = _faults;
        _limiter.RunAsync($"compacting {Describe(job)} ({job.Location})", () =>
            {
                faults.Hit("compaction.merge");
                var result = merger.Merge(job, runId, target, outputs.Stopped);
                outputs.Keep(result.Outputs.Select(o => o.Written.TmpPath));
                return result;
            }, outputs.Stopped)
            .PipeTo(Self, success: r => new Merged(job, runId, r, started), failure: e => new MergeFailed(job, e));
        _activity = new Activity("compaction", $"merging {Describe(job)} ({job.Reason}): {job.Inputs.Count} files", started);
        Become(Busy);
    }
}
