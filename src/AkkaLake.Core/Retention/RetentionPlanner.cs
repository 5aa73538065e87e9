using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Retention;

/// <summary>What retention should do next.</summary>
public abstract record RetentionAction(DateOnly Date, string Reason)
{
    public sealed record MoveToCold(DateOnly Date, string Reason) : RetentionAction(Date, Reason);

    public sealed record Expire(DateOnly Date, string Reason) : RetentionAction(Date, Reason);
}

/// <summary>The retention decision and the hot budget, as plain data.</summary>
public sealed record RetentionPlan(IReadOnlyList<RetentionAction> Actions, long HotBytes, long? HotMaxBytes, bool OverBudget);

/// <summary>
/// Partitions dated before today - retention days move to cold when a cold path is set, or
/// expire otherwise. Past an optional hot byte budget, the oldest hot partitions move to cold
/// early; with no cold path the budget only warns: data inside the horizon is never deleted for it.
/// </summary>
public static class RetentionPlanner
{
    public static RetentionPlan Plan(LakeManifest manifest, DateOnly today, int retentionDays, bool hasColdPath, long? hotMaxBytes)
    {
        var horizon = today.AddDays(-retentionDays);
        var hot = manifest.Metrics.Partitions
            .Where(p => p.Value.Location == LakeLocation.Hot)
            .Select(p => (Date: LakeLayout.ParseDateKey(p.Key), p.Value.Bytes))
            .OrderBy(p => p.Date)
            .ToList();
        var actions = new List<RetentionAction>();
        var hotBytes = hot.Sum(p => p.Bytes);
        var remaining = hotBytes;
        foreach (var (date, bytes) in hot.Where(p => p.Date < horizon))
        {
            actions.Add(hasColdPath
                ? new RetentionAction.MoveToCold(date, $"older than {retentionDays} days")
                : new RetentionAction.Expire(date, $"older than {retentionDays} days and no cold path is set"));
            remaining -= bytes;
        }
        if (hotMaxBytes is { } budget && hasColdPath)
        {
            // Keep today's partition hot whatever the budget: it is being written.
            foreach (var (date, bytes) in hot.Where(p => p.Date >= horizon && p.Date < today))
            {
                if (remaining <= budget) break;
                actions.Add(new RetentionAction.MoveToCold(date, $"hot usage is over the {budget}-byte budget"));
                remaining -= bytes;
            }
        }
        return new RetentionPlan(actions, hotBytes, hotMaxBytes, hotMaxBytes is { } max && remaining > max);
    }
}
