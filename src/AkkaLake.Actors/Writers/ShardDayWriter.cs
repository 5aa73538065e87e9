using Akka.Actor;
using Akka.Event;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;
using AkkaLake.Core.Storage;

namespace AkkaLake.Actors.Writers;

/// <summary>
/// Owns one shard-day for one run: keeps the routed buffers it is sent, and on Spill or Flush sorts their rows into one and
/// writes a <c>.tmp</c> part (flushed to disk) off the actor thread, leaving out rows the lake
/// already holds unchanged; on Flush it also rewrites the committed files holding older versions
/// of the run's keys (<see cref="Upserts"/>). Parts stay <c>.tmp</c> until the coordinator's
/// commit publishes them; an abandoned or stopped writer deletes its own. A writer that fails is
/// stopped, not restarted (it would forget its buffers), and its batch fails with it.
/// </summary>
internal sealed class ShardDayWriter : ReceiveActor, IWithStash
{
    /// <param name="Committed">The shard-day's committed files the batch's rows may replace keys of (none for a whole-day rebuild).</param>
    public sealed record Settings(ShardDay ShardDay, LakeLocation Location, string Root, PartKind Kind, PartMetadata Metadata, int RowGroupRows, IReadOnlyList<CommittedPart> Committed)
    {
        /// <summary>Backfilled days are written whole, so their parts start at the final compaction level.</summary>
        public int Level => Kind == PartKind.Incremental ? 0 : PartFile.FinalLevel;
    }

    public sealed record Append(MetricRows Rows);

    /// <summary>Write what is buffered now, to free memory; replies <see cref="Spilled"/>.</summary>
    public sealed record Spill
    {
        public static readonly Spill Instance = new();
    }

    public sealed record Spilled(ShardDay ShardDay, long Rows);

    /// <summary>Write what is buffered and report every part of this run; replies <see cref="Flushed"/>.</summary>
    public sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    /// <summary>The run's parts, plus the rewritten copies of committed files whose keys it replaces and those files.</summary>
    public sealed record Flushed(ShardDay ShardDay, IReadOnlyList<StagedPart> Parts, Rewrite Rewrite, long Unchanged);

    /// <param name="Conflict">The lake changed under the batch (a file it checks keys against is gone): plan it again.</param>
    public sealed record WriteFailed(ShardDay ShardDay, string Error, bool Conflict);

    private sealed record PartWritten(StagedPart? Part, Rewrite? Rewrite, IActorRef ReplyTo, bool IsFlush, long Rows);

    private sealed record PartFailed(Exception Error, IActorRef ReplyTo);

    private readonly Settings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<StagedPart> _parts = [];
    // The router's buffers as they came: sorted into one at write time instead of copied row by row into a growing buffer.
    private List<MetricRows> _buffered = [];
    private int _bufferedRows;
    private int _sequence;
    private string? _writingTmp;
    private Rewrite _rewrite = Rewrite.None;
    // Used by one write task at a time (the actor waits for each), never by the actor thread.
    private readonly Upserts _upserts;

    private readonly IFaultPoints _faults;

    public ShardDayWriter(Settings settings, IFaultPoints faults)
    {
        _settings = settings;
        _faults = faults;
        _upserts = new Upserts(settings.Committed);
        Accepting();
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(Settings settings, IFaultPoints faults) => Akka.Actor.Props.Create(() => new ShardDayWriter(settings, faults));

    private void Accepting()
    {
        Receive<Append>(a =>
        {
            _buffered.Add(a.Rows);
            _bufferedRows += a.Rows.Count;
        });
        Receive<Spill>(_ => Write(isFlush: false));
        Receive<Flush>(_ => Write(isFlush: true));
    }

    private void Write(bool isFlush)
    {
        if (_bufferedRows == 0 && !(isFlush && _upserts.HasSuperseded))
        {
            Sender.Tell(isFlush ? FlushedNow() : new Spilled(_settings.ShardDay, 0));
            return;
        }
        var buffered = _buffered;
        var count = _bufferedRows;
        _buffered = [];
        _bufferedRows = 0;
        var fileName = LakeLayout.FileName(_settings.Kind, _settings.Metadata.RunId, _sequence++);
        var relative = LakeLayout.FilePath(_settings.ShardDay.Date, _settings.ShardDay.Shard, fileName);
        var tmp = LakeLayout.Resolve(_settings.Root, relative) + AtomicFile.TmpSuffix;
        _writingTmp = tmp;
        var replyTo = Sender;
        var settings = _settings;
        var faults = _faults;
        var upserts = _upserts;
        Task.Run(() =>
        {
            StagedPart? part = null;
            if (buffered.Count > 0)
            {
                var rows = MetricRows.Sorted(buffered, pooled: true);
                try
                {
                    var fresh = upserts.Resolve(rows);
                    if (fresh.Count > 0)
                    {
                        var written = PartWriter.Write(tmp, fresh, settings.Metadata, settings.RowGroupRows);
                        part = new StagedPart(settings.ShardDay.Date, settings.ShardDay.Shard, settings.Location, fileName, written, settings.Metadata, settings.Level);
                    }
                }
                finally
                {
                    rows.ReturnToPool();
                }
            }
            var rewrite = isFlush && upserts.HasSuperseded
                ? upserts.RewriteSuperseded(settings.ShardDay, settings.Location, settings.Root, settings.Metadata.RunId, settings.RowGroupRows)
                : null;
            return new PartWritten(part, rewrite, replyTo, isFlush, count);
        }).PipeTo(Self, success: w => w, failure: e => new PartFailed(e, replyTo));
        BecomeStacked(Writing);
    }

    private void Writing()
    {
        Receive<PartWritten>(w =>
        {
            _writingTmp = null;
            if (w.Part is { } part)
            {
                _parts.Add(part);
                _log.Debug("Wrote part {0} for {1}: {2} rows, {3} bytes", part.FileName, _settings.ShardDay, part.Written.Rows, part.Written.Bytes);
                // On the actor's thread: a failure here is the writer failing, which must fail its batch.
                _faults.Hit("writer.after-part");
            }
            if (w.Rewrite is { } rewrite) _rewrite = rewrite;
            w.ReplyTo.Tell(w.IsFlush ? FlushedNow() : new Spilled(_settings.ShardDay, w.Rows));
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        Receive<PartFailed>(f =>
        {
            var error = f.Error.Cause();
            if (error is not ManifestConflictException)
                _log.Error(error, "Could not write a part for {0}", _settings.ShardDay);
            f.ReplyTo.Tell(new WriteFailed(_settings.ShardDay, error.Message, error is ManifestConflictException));
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private Flushed FlushedNow() => new(_settings.ShardDay, _parts.ToList(), _rewrite, _upserts.Unchanged);

    /// <summary>Parts never committed are still <c>.tmp</c>; committed ones were renamed, so this deletes only leftovers.</summary>
    protected override void PostStop()
    {
        foreach (var tmp in _parts.Concat(_rewrite.Copies).Select(p => p.Written.TmpPath).Append(_writingTmp))
            if (tmp is not null) AtomicFile.DeleteQuietly(tmp);
    }
}
