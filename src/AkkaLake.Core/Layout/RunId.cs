namespace AkkaLake.Core.Layout;

/// <summary>Run ids sort by time to the millisecond and are unique per run: <c>20261125T172124123Z-3f9a1c</c>.</summary>
public static class RunId
{
    public static string New(DateTimeOffset now) =>
        $"{now.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid().ToString("N")[..6]}";
}
