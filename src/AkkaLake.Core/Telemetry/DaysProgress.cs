namespace AkkaLake.Core.Telemetry;

/// <summary>How far work done a day at a time has got: a backfill, a takeover, days rebuilt by hand.</summary>
/// <param name="Rows">Rows written by this process so far (a backfill resumed after a restart counts from the restart).</param>
/// <param name="Elapsed">Time since the work started, for the time left at the rate so far.</param>
/// <param name="DaysRead">Days this process has read so far (days known to be empty are recorded without a read).</param>
/// <param name="DaysToRead">Days left that may hold rows, so must be read.</param>
public sealed record DaysProgress(int DaysDone, int DaysTotal, long Rows, TimeSpan Elapsed, int DaysRead, int DaysToRead)
{
    public bool Complete => DaysDone >= DaysTotal;

    /// <summary>The time left if the days still to read go as fast as the ones read; null before the first.</summary>
    public TimeSpan? Left => Complete ? TimeSpan.Zero : DaysRead == 0 ? null : Elapsed / DaysRead * DaysToRead;
}
