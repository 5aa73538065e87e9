using AkkaLake.Core.Storage;

namespace AkkaLake.Tests.Support;

/// <summary>
/// Faults a test scripts per point: a pause (a slow disk or NAS), a hold until the test lets go
/// (work that takes as long as the test needs), then a throw (a failed write), as many times as
/// asked; the thread that hits the point is the one that waits or throws.
/// </summary>
public sealed class ScriptedFaults : IFaultPoints
{
    /// <summary>Work held at a point: <see cref="Reached"/> once a thread waits there, until <see cref="Release"/>.</summary>
    public sealed class Gate
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _open = new();

        public Task Reached => _reached.Task;

        public bool IsOpen => _open.IsSet;

        public void Release() => _open.Set();

        internal void Pass()
        {
            _reached.TrySetResult();
            // A safety net, not a bound: a test that forgets to release fails instead of hanging.
            if (!_open.Wait(TimeSpan.FromMinutes(2))) throw new TimeoutException("a held fault point was never released");
        }
    }

    private readonly Dictionary<string, (TimeSpan Pause, int Throws)> _points = [];
    private readonly Dictionary<string, Gate> _gates = [];
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

    /// <summary>Holds every thread that reaches <paramref name="point"/> until the gate returned is released.</summary>
    public Gate Hold(string point)
    {
        var gate = new Gate();
        _gates[point] = gate;
        return gate;
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
        Gate? held;
        lock (_gate)
        {
            held = _gates.GetValueOrDefault(point);
            if (!_points.TryGetValue(point, out script)) script = default;
            else if (script.Throws > 0) _points[point] = (script.Pause, script.Throws - 1);
        }
        held?.Pass();
        if (script.Pause > TimeSpan.Zero) Thread.Sleep(script.Pause);
        if (script.Throws > 0) throw new InjectedCrash(point);
    }
}
