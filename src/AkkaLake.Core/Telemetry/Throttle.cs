namespace AkkaLake.Core.Telemetry;

/// <summary>Says yes at most once per interval: the first time, then once the interval has passed since the last yes.</summary>
public sealed class Throttle(TimeSpan interval)
{
    private DateTimeOffset? _last;

    public bool Due(DateTimeOffset now)
    {
        if (_last is { } last && now - last < interval) return false;
        _last = now;
        return true;
    }
}
