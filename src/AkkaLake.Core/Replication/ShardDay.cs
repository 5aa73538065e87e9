using AkkaLake.Core.Layout;

namespace AkkaLake.Core.Replication;

/// <summary>One shard of one date: the unit a writer owns and a part file lives in.</summary>
public readonly record struct ShardDay(DateOnly Date, int Shard)
{
    public override string ToString() => $"{LakeLayout.DateKey(Date)}/shard={LakeLayout.ShardKey(Shard)}";
}
