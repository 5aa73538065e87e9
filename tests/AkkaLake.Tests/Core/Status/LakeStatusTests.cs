using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;
using AkkaLake.Core.Status;
using Xunit;

namespace AkkaLake.Core.Tests.Status;

public class LakeStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static LakeManifest Lake(DateTimeOffset? watermark)
    {
        var m = LakeManifest.Create(4, Now);
        return m with { Datasets = m.Datasets.SetItem(LakeLayout.Dataset, m.Metrics with { ComputedThroughTs = watermark }) };
    }

    private static StatusInputs Inputs(LakeManifest? manifest = null, ReplicationState? replication = null, int? pid = 42, IReadOnlyList<LoggedProblem>? problems = null) =>
        new(manifest ?? Lake(Now.AddMinutes(-2)), null, replication ?? new ReplicationState { LastRunStatus = ReplicationState.Ok, LastRunAt = Now }, pid, null, problems ?? [], 48, null);

    [Fact]
    public void A_running_daemon_with_a_recent_watermark_and_a_good_last_run_is_healthy()
    {
        var status = LakeStatus.Judge(Inputs(), Now);
        Assert.Equal(Health.Healthy, status.Health);
        Assert.Empty(status.Reasons);
        Assert.Equal(120, status.LagSeconds);
    }

    [Fact]
    public void No_daemon_or_no_lake_is_down()
    {
        Assert.Equal(Health.Down, LakeStatus.Judge(Inputs(pid: null), Now).Health);
        var noLake = LakeStatus.Judge(Inputs() with { Manifest = null }, Now);
        Assert.Equal(Health.Down, noLake.Health);
        Assert.Contains(noLake.Reasons, r => r.Contains("no lake here yet", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_run_a_watermark_past_the_late_window_or_logged_errors_degrade_it()
    {
        var failed = LakeStatus.Judge(Inputs(replication: new ReplicationState { LastRunStatus = ReplicationState.Failed, LastRunError = "boom" }), Now);
        Assert.Equal(Health.Degraded, failed.Health);
        Assert.Contains(failed.Reasons, r => r.Contains("boom", StringComparison.Ordinal));
        Assert.Equal(Health.Degraded, LakeStatus.Judge(Inputs(Lake(Now.AddHours(-49))), Now).Health);
        Assert.Equal(Health.Healthy, LakeStatus.Judge(Inputs(problems: [new LoggedProblem(Now, "Warning", "slow")]), Now).Health);
        Assert.Equal(Health.Degraded, LakeStatus.Judge(Inputs(problems: [new LoggedProblem(Now, "Error", "broken")]), Now).Health);
    }

    [Fact]
    public void A_daemon_whose_replication_is_down_is_down_with_the_reason()
    {
        var status = LakeStatus.Judge(Inputs() with { ReplicationDown = "the replication actor failed (boom)" }, Now);
        Assert.Equal(Health.Down, status.Health);
        Assert.Contains("replication is down: the replication actor failed (boom)", status.Reasons);
    }
}
