using AkkaLake.Core.Replication;
using Xunit;

namespace AkkaLake.Core.Tests.Replication;

public class BufferBudgetTests
{
    private static readonly DateOnly Day = new(2026, 11, 26);

    private static ShardDay Shard(int shard, int daysBefore = 0) => new(Day.AddDays(-daysBefore), shard);

    [Fact]
    public void Below_three_quarters_of_the_budget_nothing_is_spilled_and_the_copy_waits_only_past_all_of_it()
    {
        var budget = new BufferBudget(1_000);
        budget.Added([(Shard(0), 400), (Shard(1), 350)]);
        Assert.False(budget.SpillDue);

        budget.Added([(Shard(1), 100)]);
        Assert.True(budget.SpillDue);
        Assert.False(budget.Exceeded);
        budget.Added([(Shard(0), 200)]);
        Assert.True(budget.Exceeded);
    }

    [Fact]
    public void Buffers_fed_as_recently_are_spilled_largest_first_until_three_eighths_of_the_budget_are_left()
    {
        var budget = new BufferBudget(1_000);
        budget.Added([(Shard(0), 300), (Shard(1), 450), (Shard(2), 150)]);

        // 900 buffered: the 450 goes (450 left), then the 300 (150 left, under 375).
        Assert.Equal([Shard(1), Shard(0)], budget.ToSpill());

        budget.Spilled(Shard(1), 450);
        budget.Spilled(Shard(0), 300);
        Assert.Equal(150, budget.Total);
        Assert.False(budget.SpillDue);
    }

    [Fact]
    public void Buffers_no_longer_fed_are_spilled_before_larger_ones_still_growing()
    {
        // A pass in insertion order: yesterday's shard-days are complete, today's still fill.
        var budget = new BufferBudget(1_000);
        budget.Added([(Shard(0, daysBefore: 1), 200), (Shard(1, daysBefore: 1), 300)]);
        budget.Added([(Shard(0), 100), (Shard(1), 100)]);
        budget.Added([(Shard(0), 200), (Shard(1), 150)]);

        Assert.Equal([Shard(1, daysBefore: 1), Shard(0, daysBefore: 1), Shard(0)], budget.ToSpill());
    }

    [Fact]
    public void Every_buffer_of_a_day_older_than_the_newest_goes_even_below_three_eighths_and_fed_by_the_same_chunk()
    {
        // The chunk that ends yesterday also starts today: yesterday is complete all the same.
        var budget = new BufferBudget(1_000);
        budget.Added([(Shard(0, daysBefore: 1), 450), (Shard(1, daysBefore: 1), 300)]);
        budget.Added([(Shard(0, daysBefore: 1), 10), (Shard(1, daysBefore: 1), 10), (Shard(0), 20), (Shard(1), 30)]);

        Assert.Equal([Shard(0, daysBefore: 1), Shard(1, daysBefore: 1)], budget.ToSpill());
    }

    [Fact]
    public void Empty_buffers_are_never_spilled()
    {
        var budget = new BufferBudget(10);
        budget.Added([(Shard(0), 20)]);
        budget.Spilled(Shard(0), 20);
        budget.Added([(Shard(1), 11)]);

        Assert.Equal([Shard(1)], budget.ToSpill());
    }
}
