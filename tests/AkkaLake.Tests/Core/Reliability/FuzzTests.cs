using System.Buffers.Binary;
using System.Text;
using AkkaLake.Core.Compaction;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Operations;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Source;
using AkkaLake.Core.State;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Reliability;

/// <summary>
/// Damaged input, as a disk, a person or a network can produce it, fed to every reader: each is
/// refused with an error that names what is wrong, or read for what it says; none crashes, and
/// nothing it was given is overwritten. Seeds are fixed, so a failure reproduces.
/// </summary>
public class FuzzTests
{
    private const int Cases = 400;
    private static readonly DateOnly Day = LakeFixture.Today;

    /// <summary>Truncations, flipped bytes, inserted garbage and pure noise, in turn.</summary>
    private static IEnumerable<byte[]> Damaged(byte[] good, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < Cases; i++)
        {
            switch (i % 4)
            {
                case 0:
                    yield return good[..random.Next(good.Length)];
                    break;
                case 1:
                    var flipped = (byte[])good.Clone();
                    for (var n = random.Next(1, 9); n > 0; n--) flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                    yield return flipped;
                    break;
                case 2:
                    var at = random.Next(good.Length);
                    var garbage = new byte[random.Next(1, 64)];
                    random.NextBytes(garbage);
                    yield return [.. good[..at], .. garbage, .. good[at..]];
                    break;
                default:
                    var noise = new byte[random.Next(0, 512)];
                    random.NextBytes(noise);
                    yield return noise;
                    break;
            }
        }
    }

    private static LakeFixture LakeWithTwoParts()
    {
        var lake = new LakeFixture();
        lake.Tick(Day, [("sensor-a", 1_000_000, 1.5), ("sensor-b", 2_000_000, 2.5)]);
        lake.Tick(Day, [("sensor-c", 3_000_000, 3.5)]);
        return lake;
    }

    [Fact]
    public void Damaged_manifests_are_refused_naming_the_file_and_left_as_they_are()
    {
        using var lake = LakeWithTwoParts();
        var good = File.ReadAllBytes(lake.Store.FilePath);
        var settings = LakeSettingsParser.Parse(new Dictionary<string, string?> { ["hot-path"] = lake.Roots.Hot, ["cold-path"] = lake.Roots.Cold, ["shards"] = "1" });
        var (parsed, refused) = (0, 0);
        foreach (var bad in Damaged(good, seed: 1))
        {
            File.WriteAllBytes(lake.Store.FilePath, bad);
            LakeManifest manifest;
            try
            {
                manifest = lake.Store.Load()!;
            }
            catch (ManifestUnreadableException e)
            {
                refused++;
                Assert.Contains(lake.Store.FilePath, e.Message);
                Assert.Contains("left untouched", e.Message);
                Assert.Throws<ManifestUnreadableException>(() => LakeInspector.Inspect(settings));
                Assert.Equal(bad, File.ReadAllBytes(lake.Store.FilePath));
                continue;
            }
            // A flipped digit or letter can still be a manifest: the readers take it at its word.
            parsed++;
            new LakeVerifier(lake.Roots).Verify(manifest);
            LakeInspector.Describe(settings, manifest, null);
            RecoverOnACopy(lake, manifest);
        }
        Assert.True(refused > Cases / 2, $"{refused} refused, {parsed} parsed");
    }

    /// <summary>Recovery writes, so it runs on a copy of the lake: it may refuse a manifest that does not describe the lake, never delete the lake's parts for it.</summary>
    private static void RecoverOnACopy(LakeFixture lake, LakeManifest manifest)
    {
        using var copy = new TempDirectory();
        CopyDirectory(Path.GetDirectoryName(lake.Roots.Hot)!, copy.Path);
        var roots = new AkkaLake.Core.Layout.LakeRoots(copy.Combine("hot"), copy.Combine("cold"));
        var store = new ManifestStore(copy.Combine("hot", "_state"));
        var parts = Directory.GetFiles(copy.Combine("hot", "metrics"), "*.parquet", SearchOption.AllDirectories);
        try
        {
            new LakeRecovery(store, roots).Recover(manifest, LakeFixture.T0.AddDays(1));
        }
        catch (ManifestUnreadableException e)
        {
            Assert.Contains("Nothing was deleted", e.Message);
        }
        Assert.All(parts, p => Assert.True(File.Exists(p), $"recovery deleted {p} for a manifest that does not describe the lake"));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    [Fact]
    public void Damaged_replication_state_reads_as_unknown_and_is_left_as_it_is()
    {
        using var dir = new TempDirectory();
        var store = new ReplicationStateStore(dir.Path);
        store.Save(new ReplicationState { LastInsertedAt = LakeFixture.T0, ComputedThroughTs = LakeFixture.T0, LastRunStatus = "ok", LastRunRowCount = 42 });
        var good = File.ReadAllBytes(store.FilePath);
        foreach (var bad in Damaged(good, seed: 2))
        {
            File.WriteAllBytes(store.FilePath, bad);
            store.Load();
            Assert.Equal(bad, File.ReadAllBytes(store.FilePath));
        }
    }

    [Fact]
    public void Damaged_part_files_are_reported_unreadable_or_wrong_never_crash_a_reader()
    {
        using var lake = LakeWithTwoParts();
        var file = lake.Manifest.Files().First();
        var path = lake.Roots.Resolve(file.Location, file.RelativePath);
        var good = File.ReadAllBytes(path);
        var verifier = new LakeVerifier(lake.Roots);
        foreach (var bad in Damaged(good, seed: 3))
        {
            File.WriteAllBytes(path, bad);
            var problems = verifier.Verify(lake.Manifest).Problems;
            if (!bad.AsSpan().SequenceEqual(good))
                Assert.True(problems.Any(p => p.Path == file.RelativePath || p.Kind == VerifyProblem.WrongSize),
                    $"undetected: {bad.Length} bytes, differing at {string.Join(",", Enumerable.Range(0, bad.Length).Where(i => i >= good.Length || bad[i] != good[i]).Take(10))} of {good.Length}");
            try
            {
                using var reader = new PartReader(path);
                reader.ReadAll();
            }
            catch (Exception e) when (e is ParquetSharp.ParquetException or InvalidDataException or IOException)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
        }
    }

    private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    /// <summary>A COPY stream of the export's seven columns, as PostgreSQL sends it.</summary>
    private static byte[] CopyStream(int rows)
    {
        var bytes = new List<byte>(Signature);
        void Int16(short v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, v); bytes.AddRange(b); }
        void Int32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); bytes.AddRange(b); }
        void Int64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); bytes.AddRange(b); }
        Int32(0);
        Int32(0);
        for (var i = 0; i < rows; i++)
        {
            Int16(7);
            var id = Encoding.UTF8.GetBytes($"sensor-{i:D4}");
            Int32(id.Length); bytes.AddRange(id);
            Int32(8); Int64(800_000_000_000_000L + i);
            Int32(8); Int64(BitConverter.DoubleToInt64Bits(i * 0.5));
            Int32(4); Int32(i % 3);
            Int32(-1);
            Int32(-1);
            Int32(8); Int64(800_000_000_000_000L + i);
        }
        Int16(-1);
        return [.. bytes];
    }

    [Fact]
    public void Damaged_COPY_streams_end_in_a_clear_error_without_reading_past_what_was_sent()
    {
        var good = CopyStream(50);
        foreach (var bad in Damaged(good, seed: 4))
        {
            try
            {
                var reader = new BinaryCopyReader(new MemoryStream(bad));
                reader.ReadHeader();
                int fields;
                while ((fields = reader.StartRow()) != -1)
                {
                    if (fields != 7) throw new InvalidDataException($"rows of {fields} fields");
                    reader.Field(out _);
                    reader.Int64();
                    reader.Double();
                    reader.Int32();
                    reader.Int32();
                    reader.Field(out _);
                    reader.Int64();
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
        }
    }
}
