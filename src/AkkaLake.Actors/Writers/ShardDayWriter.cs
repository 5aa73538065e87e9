using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Merging;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Spill;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Writers;

/// <summary>
/// Owns one shard-day for one run: keeps the routed buffers it is sent; on Spill sorts them into a
/// run in its scratch file (not the lake: nothing to commit, nothing to flush to disk); on Flush
/// merges its runs with what it still holds into the shard-day's final part (more only past the
/// size target), leaving out rows the lake already holds unchanged and placing readings older than
/// the shard-day's newest file into the committed files that hold or cover them, written anew
/// (<see cref="Upserts"/>). Given the shard-day's open head (its newest replication part, spanning
/// under a minute), it absorbs it: the head's rows go into the new part, which replaces it in the
/// commit, so a shard-day fed every tick gains a file a minute, not a file a tick. All file work runs off
/// the actor thread, in one of the actor system's write slots (<see cref="WriteLimits"/>); stopped, it
/// gives up a spill or merge still waiting for one. Parts stay <c>.tmp</c> until the
/// coordinator's commit publishes them; an abandoned or stopped writer deletes its own and its
/// scratch file. A writer that fails is stopped, not restarted (it would forget its buffers), and
/// its batch fails with it.
/// </summary>
internal sealed class ShardDayWriter : ReceiveActor, IWithStash
{
    /// <param name="Committed">The shard-day's committed files the batch's rows may replace keys of (none for a whole-day rebuild), the head aside.</param>
    /// <param name="ScratchFile">Where its spilled runs go.</param>
    /// <param name="Head">The shard-day's open head, to absorb into the part (<see cref="LiveLayout.OpenHead"/>); null when there is none.</param>
    /// <param name="SliceCuts">Where a whole live day's part is cut into the recent zone's slices (<see cref="CompactionPolicy.SliceCuts"/>).</param>
    /// <param name="HoldsCorrections">Readings whose time falls in committed files are left for a later batch (<see cref="CorrectionHold"/>).</param>
    public sealed record Settings(ShardDay ShardDay, LakeLocation Location, string Root, PartKind Kind, PartMetadata Metadata, int RowGroupRows, long TargetFileBytes,
        IReadOnlyList<CommittedPart> Committed, string ScratchFile, CommittedPart? Head = null, IReadOnlyList<DateTimeOffset>? SliceCuts = null, bool HoldsCorrections = false)
    {
        /// <summary>
        /// Days written whole start at the final compaction level, but for a live day's recent
        /// slices, which compaction still merges as the day goes on.
        /// </summary>
        public int LevelOf(int range) => Kind == PartKind.Incremental || range > 0 ? 0 : PartFile.FinalLevel;
    }

    public sealed record Append(IReadOnlyList<MetricRows> Blocks);

    /// <summary>Spill what is buffered now, to free memory; replies <see cref="Spilled"/>.</summary>
    public sealed record Spill
    {
        public static readonly Spill Instance = new();
    }

    public sealed record Spilled(ShardDay ShardDay, long Rows);

    /// <summary>Write the shard-day's part(s) from its runs and buffers; replies <see cref="Flushed"/>.</summary>
    public sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    /// <summary>
    /// The run's parts, plus the committed files written anew with its older readings and those
    /// files; how many of its rows were left out as unchanged; the head it absorbed, and how many
    /// of the head's rows its parts hold; how many of its rows it left for a later batch, and the oldest of those.
    /// </summary>
    public sealed record Flushed(ShardDay ShardDay, IReadOnlyList<StagedPart> Parts, Rewrite Rewrite, long Unchanged, PartFile? AbsorbedHead = null, long HeadRowsKept = 0,
        long Held = 0, DateTimeOffset? OldestHeld = null);

    /// <param name="Conflict">The lake changed under the batch (a file it checks keys against is gone): plan it again.</param>
    public sealed record WriteFailed(ShardDay ShardDay, string Error, bool Conflict);

    private sealed record RunSpilled(SpilledRun Run, IActorRef ReplyTo);

    private sealed record PartsWritten(IReadOnlyList<StagedPart> Parts, Rewrite? Rewrite, long HeadRowsKept, IActorRef ReplyTo);

    private sealed record WriteError(Exception Error, IActorRef ReplyTo);

    /// <summary>Rows a merge writes out, and a spill sorts, at a time: arrays small enough to die young.</summary>
    private const int MergeBatchRows = 8_192;

    private readonly Settings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<SpilledRun> _runs = [];
    private readonly List<StagedPart> _parts = [];
    // The router's blocks as they came: sorted into one at write time instead of copied row by row into a growing buffer.
    private List<MetricRows> _buffered = [];
    private int _bufferedRows;
    private Rewrite _rewrite = Rewrite.None;
    private long _headRowsKept;
    // Used by one write task at a time (the actor waits for each), never by the actor thread.
    private readonly Upserts _upserts;
    private readonly IFaultPoints _faults;
    private readonly WriteLimiter _limiter = WriteLimits.For(Context.System);
    private readonly TaskFiles _files;

    public ShardDayWriter(Settings settings, IFaultPoints faults)
    {
        _settings = settings;
        _faults = faults;
        _upserts = new Upserts(settings.Committed, holdCorrections: settings.HoldsCorrections);
        _files = new TaskFiles(_limiter);
        Accepting();
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(Settings settings, IFaultPoints faults) => Akka.Actor.Props.Create(() => new ShardDayWriter(settings, faults));

    protected override void Unhandled(object message) => Defects.Unhandled(_log, Self, "writing its shard-day", message);

    private void Accepting()
    {
        Receive<Append>(a =>
        {
            _buffered.AddRange(a.Blocks);
            _bufferedRows += (int)RoutedRows.RowsIn(a.Blocks);
        });
        Receive<Spill>(_ => SpillBuffers());
        Receive<Flush>(_ => FlushAll());
    }

    private (List<MetricRows> Buffers, int Rows) TakeBuffers()
    {
        var taken = (_buffered, _bufferedRows);
        _buffered = [];
        _bufferedRows = 0;
        return taken;
    }

    private void SpillBuffers()
    {
        if (_bufferedRows == 0)
        {
            Sender.Tell(new Spilled(_settings.ShardDay, 0));
            return;
        }
        var (buffers, _) = TakeBuffers();
        var replyTo = Sender;
        var path = _settings.ScratchFile;
        var offset = _runs.Count == 0 ? 0 : _runs[^1].Offset + _runs[^1].Length;
        var files = _files;
        _limiter.RunAsync($"spilling {_settings.ShardDay} to {path}", () =>
        {
            // Written in the sorted order straight from the buffers, never copied whole.
            var run = RunFile.Append(path, offset, SortedRows.Of(buffers).Batches(MergeBatchRows));
            files.Keep([path]);
            return run;
        }, files.Stopped).PipeTo(Self, success: run => new RunSpilled(run, replyTo), failure: e => new WriteError(e, replyTo));
        BecomeStacked(Writing);
    }

    private void FlushAll()
    {
        if (_bufferedRows == 0 && _runs.Count == 0 && !_upserts.HasPlacements)
        {
            Sender.Tell(FlushedNow());
            return;
        }
        var (buffers, _) = TakeBuffers();
        var runs = _runs.ToList();
        var replyTo = Sender;
        var settings = _settings;
        var upserts = _upserts;
        var files = _files;
        var faults = _faults;
        _limiter.RunAsync($"writing {_settings.ShardDay} under {_settings.Root}", () =>
        {
            var (parts, headRowsKept) = WriteParts(settings, upserts, buffers, runs, faults, files.Stopped);
            files.Keep(parts.Select(p => p.Written.TmpPath));
            var rewrite = upserts.HasPlacements
                ? upserts.RewritePlaced(settings.ShardDay, settings.Location, settings.Root, settings.Metadata.RunId, settings.RowGroupRows)
                : null;
            if (rewrite is not null) files.Keep(rewrite.Copies.Select(p => p.Written.TmpPath));
            return new PartsWritten(parts, rewrite, headRowsKept, replyTo);
        }, files.Stopped).PipeTo(Self, success: w => w, failure: e => new WriteError(e, replyTo));
        BecomeStacked(Writing);
    }

    /// <summary>
    /// The shard-day's rows, its runs merged with its buffers (and the head it absorbs, whose rows
    /// the batch's replace), into its final part(s); how many of the head's rows they hold.
    /// </summary>
    private static (List<StagedPart> Parts, long HeadRowsKept) WriteParts(Settings settings, Upserts upserts, List<MetricRows> buffers, List<SpilledRun> runs, IFaultPoints faults, CancellationToken stopped)
    {
        var rest = SortedRows.Of(buffers);
        PartReader? head = null;
        try
        {
            using var output = new SlicedPartWriter(settings.Root, settings.ShardDay, settings.Kind, settings.Metadata, settings.RowGroupRows, settings.TargetFileBytes, settings.SliceCuts ?? []);
            var strings = new SharedStrings();
            var inputRows = SortedMerge.InputBatchRows(runs.Count + (settings.Head is null ? 1 : 2));
            List<MergeInput> inputs = [.. runs.Select(r => new MergeInput(RunFile.Read(r, inputRows, strings), 1)), new MergeInput(rest.Batches(inputRows), 1)];
            var batch = inputs.Count == 1 ? rest.Batches(MergeBatchRows) : SortedMerge.Merge(inputs, MergeBatchRows, newestOnly: true);
            // Holding, only the batch's rows are resolved: the head's are the lake's already, and held they were lost
            // with the head the commit removes. Placing, the head's are resolved too, so a row placed elsewhere leaves the part.
            if (settings.HoldsCorrections) batch = batch.Select(upserts.Resolve);
            var merge = new MergeTally();
            var sorted = batch;
            if (settings.Head is { } absorbed)
            {
                head = new PartReader(absorbed.ReadablePath());
                sorted = SortedMerge.Merge([new MergeInput(batch, 1), new MergeInput(head.ReadBatches(inputRows), 0)], MergeBatchRows, newestOnly: true, merge);
            }
            if (!settings.HoldsCorrections) sorted = sorted.Select(upserts.Resolve);
            foreach (var chunk in sorted)
            {
                stopped.ThrowIfCancellationRequested();
                if (faults.Skips("writer.append")) continue;
                output.Append(chunk);
            }
            var parts = output.Finish().Select(o => new StagedPart(settings.ShardDay.Date, settings.ShardDay.Shard, settings.Location, o.FileName, o.Written, settings.Metadata, settings.LevelOf(o.Range))).ToList();
            return (parts, settings.Head is { } h ? h.File.Rows - merge.Superseded : 0);
        }
        finally
        {
            head?.Dispose();
            if (runs.Count > 0) AtomicFile.DeleteQuietly(settings.ScratchFile);
        }
    }

    private void Writing()
    {
        Receive<RunSpilled>(s =>
        {
            _runs.Add(s.Run);
            // On the actor's thread: a failure here is the writer failing, which must fail its batch.
            _faults.Hit("writer.after-spill");
            s.ReplyTo.Tell(new Spilled(_settings.ShardDay, s.Run.Rows));
            Resume();
        });
        Receive<PartsWritten>(w =>
        {
            _runs.Clear();
            _parts.AddRange(w.Parts);
            foreach (var part in w.Parts)
                _log.Debug("Wrote part {0} for {1}: {2} rows, {3} bytes", part.FileName, _settings.ShardDay, part.Written.Rows, part.Written.Bytes);
            if (w.Rewrite is { } rewrite) _rewrite = rewrite;
            _headRowsKept = w.HeadRowsKept;
            if (w.Parts.Count > 0) _faults.Hit("writer.after-part");
            w.ReplyTo.Tell(FlushedNow());
            Resume();
        });
        Receive<WriteError>(f =>
        {
            var error = f.Error.Cause();
            if (error is not ManifestConflictException)
                _log.Error(error, "Could not write {0}", _settings.ShardDay);
            f.ReplyTo.Tell(new WriteFailed(_settings.ShardDay, error.Message, error is ManifestConflictException));
            Resume();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Resume()
    {
        UnbecomeStacked();
        Stash.UnstashAll();
    }

    private Flushed FlushedNow() => new(_settings.ShardDay, _parts.ToList(), _rewrite, _upserts.Unchanged, _parts.Count > 0 ? _settings.Head?.File : null, _headRowsKept, _upserts.Held, _upserts.OldestHeld);

    /// <summary>Parts never committed are still <c>.tmp</c> and go, with the scratch file; a write still under way deletes its own.</summary>
    protected override void PostStop() => _files.DeleteAll();
}
