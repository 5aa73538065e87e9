using System.Globalization;

namespace AkkaLake.Core;

/// <summary>RFC 3339 timestamps in UTC with microseconds, the precision of Postgres timestamptz.</summary>
public static class Timestamps
{
    private const string Format_ = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format_, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static long ToMicros(DateTimeOffset value) => (value.UtcTicks - EpochTicks) / 10;

    public static long ToMicros(DateTime utc) => (utc.Ticks - EpochTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => new(EpochTicks + micros * 10, TimeSpan.Zero);

    /// <summary>Truncates to whole microseconds, so values round-trip through Postgres unchanged.</summary>
    public static DateTimeOffset TruncateToMicros(DateTimeOffset value) => FromMicros(ToMicros(value));
}
