namespace AkkaLake.Core.Replication;

/// <summary>
/// Places re-sent and late readings in batches instead of at every tick. Such a reading replaces
/// its older version by rewriting the committed file that holds it (<see cref="Upserts"/>); at 1 %
/// re-sent readings nearly every tick rewrote a dozen files for a few readings each. A batch that
/// holds corrections writes its new readings as usual but leaves every reading whose time falls in
/// a committed file, and the watermark stays before the readings it left: neither the watermark nor
/// a reader is ever wrong, a reader only sees the older version meanwhile. The batches after it
/// read on from where it stopped. Once the first held reading has waited the hold, one batch
/// reads again from the watermark and holds nothing: every held reading is placed, each file
/// rewritten once for all of them, and the readings written meanwhile are found in the lake
/// unchanged and left. Only two times are kept, in memory: dropped (a failure, a restart, a day
/// to rebuild) the next batch reads again from the watermark, which costs work, never a row.
/// </summary>
public sealed class CorrectionHold(TimeSpan holdFor)
{
    // When the first batch that held readings committed, and how far the batches since have read.
    private DateTimeOffset? _since;
    private DateTimeOffset _readThrough;

    public bool Holding => _since is not null;

    /// <summary>The step to run for <paramref name="step"/>, as planned from the manifest's watermark.</summary>
    public ReplicationStep Plan(ReplicationStep step, DateTimeOffset now)
    {
        if (holdFor <= TimeSpan.Zero) return step;
        if (step is not ReplicationStep.Incremental incremental)
        {
            // A rebuild replaces files holding corrections' older versions, or the clock went back: read again from the watermark.
            Drop();
            return step;
        }
        if (_since is null) return incremental with { HoldsCorrections = true };
        if (now - _since >= holdFor) return incremental;
        return incremental.Bound.Through <= _readThrough
            ? new ReplicationStep.UpToDate(incremental.After, incremental.Bound)
            : incremental with { ReadFrom = _readThrough, HoldsCorrections = true };
    }

    /// <summary>Where a step's commit moves the watermark: nowhere while readings before its bound are held.</summary>
    /// <param name="held">Readings the step's batch left for later.</param>
    public DateTimeOffset? WatermarkAfter(ReplicationStep.Incremental step, long held) =>
        step.HoldsCorrections && (_since is not null || held > 0) ? null : step.Bound.Through;

    /// <summary>The step's commit landed.</summary>
    public void Committed(ReplicationStep step, long held, DateTimeOffset now)
    {
        if (step is not ReplicationStep.Incremental incremental) return;
        if (!incremental.HoldsCorrections)
        {
            Drop();
            return;
        }
        if (_since is null && held == 0) return;
        _since ??= now;
        _readThrough = incremental.Bound.Through;
    }

    public void Drop() => _since = null;
}
