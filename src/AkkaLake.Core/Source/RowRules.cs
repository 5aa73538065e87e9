namespace AkkaLake.Core.Source;

/// <summary>
/// What the lake accepts (the README states the same rules): a row needs a sensor_id of 1 to
/// <see cref="MaxSensorIdLength"/> characters, a ts from 0001-01-01 to 9999-12-31 UTC and a
/// non-null value. NaN and infinite values are valid doubles and are written as they are.
/// </summary>
public static class RowRules
{
    public const int MaxSensorIdLength = 256;
    public const string MissingSensorId = "sensor_id null or empty";
    public const string LongSensorId = "sensor_id longer than 256 characters";
    public const string BadTs = "ts null or outside 0001-01-01..9999-12-31";
    public const string MissingValue = "value null";

    // Postgres timestamps are microseconds since 2000-01-01; these are the lake's limits in that unit.
    public const long PostgresEpochUnixMicros = 946_684_800_000_000L;
    public static readonly long MinTsMicros = Timestamps.ToMicros(DateTime.MinValue);
    public static readonly long MaxTsMicros = Timestamps.ToMicros(DateTime.MaxValue);

    public static string? SensorIdProblem(string? sensorId) => sensorId switch
    {
        null or "" => MissingSensorId,
        { Length: > MaxSensorIdLength } => LongSensorId,
        _ => null,
    };

    public static bool TsInRange(long unixMicros) => unixMicros >= MinTsMicros && unixMicros <= MaxTsMicros;
}
