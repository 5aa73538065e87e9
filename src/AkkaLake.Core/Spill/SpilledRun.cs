namespace AkkaLake.Core.Spill;

/// <summary>One sorted run a shard-day writer spilled: where it lies in its scratch file, how many rows it holds, and the XXH64 of its bytes.</summary>
public sealed record SpilledRun(string Path, long Offset, long Length, long Rows, ulong Checksum);
