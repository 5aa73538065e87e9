using AkkaLake.Core.Storage;

namespace AkkaLake.Tests.Support;

/// <summary>
/// Faults a test scripts per point: a pause (a slow disk or NAS), then a throw (a failed write),
/// as many times as asked; the thread that hits the point is the one that waits or throws.
/// </summary>
public sealed class ScriptedFaults : IFaultPoints
{
    private readonly Dictionary<string, (TimeSpan Pause, int Throws)> _points = [];
    private readonly Dictionary<string, int> _skips = [];
    private readonly Lock _gate = new();

    public ScriptedFaults Pause(string point, TimeSpan pause)
    {
        _points[point] = (pause, _points.GetValueOrDefault(point).Throws);
        return this;
    }

    public ScriptedFaults Throw(string point, int times = 1)
    {
        _points[point] = (_points.GetValueOrDefault(point).Pause, times);
        return this;
    }

    /// <summary>The step at <paramref name="point"/> is left out this many times, as a defect would leave it out.</summary>
    public ScriptedFaults Skip(string point, int times = 1)
    {
        _skips[point] = times;
        return this;
    }

    public bool Skips(string point)
    {
        lock (_gate)
        {
            if (_skips.GetValueOrDefault(point) <= 0) return false;
            _skips[point]--;
            return true;
        }
    }

    public void Hit(string point)
    {
        (TimeSpan Pause, int Throws) script;
        lock (_gate)
        {
            if (!_points.TryGetValue(point, out script)) return;
            if (script.Throws > 0) _points[point] = (script.Pause, script.Throws - 1);
        }
        if (script.Pause > TimeSpan.Zero) Thread.Sleep(script.Pause);
        if (script.Throws > 0) throw new InjectedCrash(point);
    }
}
