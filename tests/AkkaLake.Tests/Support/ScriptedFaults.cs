using AkkaLake.Core.Storage;

namespace AkkaLake.Tests.Support;

/// <summary>
/// Faults a test scripts per point: a pause (a slow disk or NAS), then a throw (a failed write),
/// as many times as asked; the thread that hits the point is the one that waits or throws.
/// </summary>
public sealed class ScriptedFaults : IFaultPoints
{
    private readonly Dictionary<string, (TimeSpan Pause, int Throws)> _points = [];
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
