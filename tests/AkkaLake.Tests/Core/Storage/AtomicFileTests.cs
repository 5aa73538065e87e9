using AkkaLake.Core.Layout;
using AkkaLake.Core.Storage;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Storage;

public class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Write_replaces_the_whole_file_and_leaves_no_tmp_behind()
    {
        var path = _dir.Combine("_state", "manifest.json");
        AtomicFile.WriteAllBytes(path, "first"u8.ToArray());
        AtomicFile.Write(path, stream => stream.Write("second"u8));
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Combine("_state")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Publish_refuses_to_overwrite_an_existing_part()
    {
        var final = _dir.Combine("part-a.parquet");
        File.WriteAllText(final, "committed");
        File.WriteAllText(final + ".tmp", "new");
        Assert.Throws<IOException>(() => AtomicFile.Publish(final + ".tmp", final));
        Assert.Equal("committed", File.ReadAllText(final));
    }

    [Fact]
    public void A_leftover_tmp_part_is_not_a_part_and_is_not_read_by_a_glob()
    {
        var shardDir = _dir.Combine(LakeLayout.ShardDirectory(new DateOnly(2026, 1, 1), 0).Split('/'));
        Directory.CreateDirectory(shardDir);
        var finished = Path.Combine(shardDir, "part-R-0000.parquet");
        LakeDuckDb.Scalar($"COPY (SELECT 'a' AS sensor_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS ts, 1.0::DOUBLE AS value, NULL::INTEGER AS quality, NULL::INTEGER AS samples, NULL::VARCHAR AS source) TO '{finished}' (FORMAT parquet)");
        File.Copy(finished, Path.Combine(shardDir, "part-R-0001.parquet.tmp"));
        Assert.False(LakeLayout.IsPartFileName("part-R-0001.parquet.tmp"));
        Assert.Single(LakeDuckDb.ReadGlob(_dir.Path));
    }

    [Fact]
    public void CopyAcross_verifies_before_renaming_and_discards_a_bad_copy()
    {
        var source = _dir.Combine("a.bin");
        File.WriteAllBytes(source, new byte[100_000]);
        var destination = _dir.Combine("cold", "a.bin");
        AtomicFile.CopyAcross(source, destination);
        Assert.Equal(100_000, new FileInfo(destination).Length);

        var refused = _dir.Combine("cold", "b.bin");
        Assert.Throws<InvalidDataException>(() => AtomicFile.CopyAcross(source, refused, _ => throw new InvalidDataException("bad footer")));
        Assert.False(File.Exists(refused));
        Assert.True(File.Exists(source));
    }
}
