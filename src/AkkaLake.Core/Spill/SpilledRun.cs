namespace AkkaLake.Core.Spill;

/// <summary>One sorted run a shard-day writer spilled: where it lies in its scratch file, and how many rows it holds.</summary>
public sealed record SpilledRun(string Path, long Offset, long Length, long Rows);
