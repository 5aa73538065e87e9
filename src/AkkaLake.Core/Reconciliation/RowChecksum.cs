namespace AkkaLake.Core.Reconciliation;

/// <summary>
/// A per-row hash PostgreSQL and the lake compute alike, so that only per-sensor sums cross the
/// wire: ts in microseconds, the value's IEEE bits and quality (NULL as 0), folded modulo a prime
/// below 2^31 (every product fits a bigint) and squared so that rows cannot trade fields and
/// keep the sum. <see cref="Sql"/> is the same arithmetic as <see cref="Of"/>; a test pins them together.
/// </summary>
public static class RowChecksum
{
    public const long Prime = 2_147_483_629;
    private const long Mix = 1_000_003;

    public static long Of(long tsMicros, double value, int quality)
    {
        var h = (Mod(tsMicros) * Mix + Mod(BitConverter.DoubleToInt64Bits(value))) % Prime;
        h = (h * Mix + Mod(quality)) % Prime;
        return h * h % Prime;
    }

    private static long Mod(long x) => (x % Prime + Prime) % Prime;

    /// <summary>The hash of a row of the source table, in SQL (any PostgreSQL version, any session time zone).</summary>
    public static string Sql(string ts = "ts", string value = "value", string quality = "quality")
    {
        var utc = $"({ts} AT TIME ZONE 'UTC')";
        var micros = $"(extract(epoch FROM date_trunc('minute', {utc}))::bigint * 1000000 + extract(microseconds FROM {utc})::bigint)";
        var bits = $"('x' || encode(float8send({value}::float8), 'hex'))::bit(64)::bigint";
        string Mod(string x) => $"(({x}) % {Prime} + {Prime}) % {Prime}";
        var h1 = $"(({Mod(micros)}) * {Mix} + {Mod(bits)}) % {Prime}";
        var h2 = $"(({h1}) * {Mix} + {Mod($"coalesce({quality}, 0)::bigint")}) % {Prime}";
        return $"(({h2}) * ({h2}) % {Prime})";
    }
}

/// <summary>A sensor's rows on one day: how many, and the sum of their <see cref="RowChecksum"/>s.</summary>
public readonly record struct SensorDigest(long Rows, long Sum)
{
    public SensorDigest Add(long rowChecksum) => new(Rows + 1, Sum + rowChecksum);
}
