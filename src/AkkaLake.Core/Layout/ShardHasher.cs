using System.IO.Hashing;
using System.Text;

namespace AkkaLake.Core.Layout;

/// <summary>
/// The lake contract's shard function: XXH3-64 of the UTF-8 bytes of sensor_id, seed 0, modulo
/// the shard count. Readers compute it to prune shards, so it must never change.
/// </summary>
public static class ShardHasher
{
    public static ulong Hash(string sensorId)
    {
        var max = Encoding.UTF8.GetMaxByteCount(sensorId.Length);
        if (max <= 1024)
        {
            Span<byte> buffer = stackalloc byte[max];
            var n = Encoding.UTF8.GetBytes(sensorId, buffer);
            return XxHash3.HashToUInt64(buffer[..n], seed: 0);
        }
        return XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(sensorId), seed: 0);
    }

    public static int Shard(string sensorId, int shards) => (int)(Hash(sensorId) % (ulong)shards);
}
