using AkkaLake.Core.Layout;
using Xunit;

namespace AkkaLake.Core.Tests.Layout;

public class ShardHasherTests
{
    // Expected values from xxhsum -H3 (the reference xxHash implementation), not from our code.
    [Theory]
    [InlineData("", 0x2D06800538D394C2UL)]
    [InlineData("a", 0xE6C632B61E964E1FUL)]
    [InlineData("sensor-001", 0x2CE33352EB54FA60UL)]
    [InlineData("greenhouse/temp:01", 0x2BAAA1B62484F142UL)]
    [InlineData("température-β", 0x2EDA730EE4D2B82DUL)]
    [InlineData("🌡️-sensor", 0x3896C53979F7F477UL)]
    public void Hash_is_xxh3_64_of_the_utf8_bytes_with_seed_zero(string sensorId, ulong expected) =>
        Assert.Equal(expected, ShardHasher.Hash(sensorId));

    [Fact]
    public void Hash_of_a_long_sensor_id_takes_the_heap_path_and_still_matches_the_reference()
    {
        var id = string.Join("-", Enumerable.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 7));
        Assert.Equal(0x65727E1350B27D37UL, ShardHasher.Hash(id));
        var veryLong = new string('é', 5000);
        Assert.Equal(ShardHasher.Hash(veryLong), ShardHasher.Hash(new string('é', 5000)));
    }

    [Fact]
    public void Shard_is_the_hash_modulo_the_shard_count()
    {
        Assert.Equal((int)(0xE6C632B61E964E1FUL % 16), ShardHasher.Shard("a", 16));
        Assert.Equal(0, ShardHasher.Shard("anything", 1));
        for (var i = 0; i < 1000; i++)
            Assert.InRange(ShardHasher.Shard($"s{i}", 7), 0, 6);
    }
}
