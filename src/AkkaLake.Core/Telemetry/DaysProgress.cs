namespace AkkaLake.Core.Telemetry;

/// <summary>How far work done a day at a time has got: a backfill, a takeover, days rebuilt by hand.</summary>
/// <param name="Rows">Rows written by this process so far (a backfill resumed after a restart counts from the restart).</param>
/// <param name="Elapsed">Time since the work started, for the time left at the rate so far.</param>
public sealed record DaysProgress(int DaysDone, int DaysTotal, long Rows, TimeSpan Elapsed)
{
    public bool Complete => DaysDone >= DaysTotal;

    /// <summary>The time left if the remaining days go as fast as the done ones; null before the first.</summary>
    public TimeSpan? Left => DaysDone == 0 ? null : Elapsed / DaysDone * Math.Max(DaysTotal - DaysDone, 0);
}
