using AkkaLake.Core.Replication;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class BufferBudgetTests
{
    private static readonly DateOnly Day = new(2026, 11, 26);

    [Fact]
    public void Within_the_budget_nothing_is_spilled()
    {
        var budget = new BufferBudget(1_000);
        budget.Added(new ShardDay(Day, 0), 600);
        budget.Added(new ShardDay(Day, 1), 400);

        Assert.False(budget.Exceeded);
        Assert.Equal(1_000, budget.Total);
    }

    [Fact]
    public void Past_the_budget_the_largest_buffers_are_spilled_until_half_of_it_is_free()
    {
        var budget = new BufferBudget(1_000);
        budget.Added(new ShardDay(Day, 0), 300);
        budget.Added(new ShardDay(Day, 1), 500);
        budget.Added(new ShardDay(Day, 2), 150);
        budget.Added(new ShardDay(Day, 0), 100);

        Assert.True(budget.Exceeded);
        // 1,050 buffered: the 500 goes (550 left), then the 400 (150 left, under 500).
        Assert.Equal([new ShardDay(Day, 1), new ShardDay(Day, 0)], budget.ToSpill());

        budget.Spilled(new ShardDay(Day, 1), 500);
        budget.Spilled(new ShardDay(Day, 0), 400);
        Assert.Equal(150, budget.Total);
        Assert.False(budget.Exceeded);
    }

    [Fact]
    public void Empty_buffers_are_never_spilled()
    {
        var budget = new BufferBudget(10);
        budget.Added(new ShardDay(Day, 0), 20);
        budget.Spilled(new ShardDay(Day, 0), 20);
        budget.Added(new ShardDay(Day, 1), 11);

        Assert.Equal([new ShardDay(Day, 1)], budget.ToSpill());
    }
}
