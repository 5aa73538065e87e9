using AkkaLake.Core.Layout;
using AkkaLake.Core.Parquet;

namespace AkkaLake.Core.Manifest;

/// <summary>A finished <c>.tmp</c> part waiting for its commit to publish it under <see cref="FileName"/>.</summary>
public sealed record StagedPart(DateOnly Date, int Shard, LakeLocation Location, string FileName, WrittenPart Written, PartMetadata Metadata, int Level = 0, long Version = 0)
{
    public string RelativePath => LakeLayout.FilePath(Date, Shard, FileName);

    public Publication ToPublication() => new(Written.TmpPath, Location, RelativePath);

    public FileAdd ToAdd() => new(Date, Shard, Location, new PartFile(
        FileName,
        Written.Rows,
        Written.Bytes,
        Timestamps.FromMicros(Written.MinTsMicros),
        Timestamps.FromMicros(Written.MaxTsMicros),
        Metadata.CursorFrom,
        Metadata.CursorTo,
        0,
        Metadata.RunId,
        Level,
        Version,
        Written.Xxh3));
}
