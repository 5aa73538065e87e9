using AkkaLake.Core.Storage;

namespace AkkaLake.Hosting;

/// <summary>
/// Fault injection for crash tests, switched on only by the environment variable
/// AKKALAKE_FAULTS (never by configuration files): <c>point=crash</c> aborts the process at that
/// point as a power cut would, <c>point=pause:MS</c> sleeps there, <c>point=throw</c> throws
/// there every time (a fault that persists, like a full disk), <c>point=throw:once</c> only the
/// first time the point is reached in the process. Several are separated by commas,
/// e.g. <c>commit.after-rename=crash,writer.after-part=throw</c>.
/// </summary>
public sealed class EnvironmentFaults : IFaultPoints
{
    public const string Variable = "AKKALAKE_FAULTS";

    private readonly Dictionary<string, string> _actions;
    private readonly HashSet<string> _thrown = [];

    private EnvironmentFaults(Dictionary<string, string> actions) => _actions = actions;

    public static IFaultPoints FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value)) return FaultPoints.None;
        var actions = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(a => a.Split('=', 2))
            .ToDictionary(a => a[0], a => a.Length == 2 ? a[1] : "crash", StringComparer.Ordinal);
        return new EnvironmentFaults(actions);
    }

    public void Hit(string point)
    {
        if (!_actions.TryGetValue(point, out var action)) return;
        if (action.StartsWith("pause:", StringComparison.Ordinal) && int.TryParse(action[6..], out var ms))
            Thread.Sleep(ms);
        else if (action == "throw")
            throw new InjectedFaultException(point);
        else if (action == "throw:once")
        {
            lock (_thrown)
                if (!_thrown.Add(point)) return;
            throw new InjectedFaultException(point);
        }
        else
            Environment.FailFast($"AkkaLake fault injection: crash at {point} ({Variable}).");
    }
}

/// <summary>The exception of <c>point=throw</c>.</summary>
public sealed class InjectedFaultException(string point) : Exception($"injected fault at {point}");
