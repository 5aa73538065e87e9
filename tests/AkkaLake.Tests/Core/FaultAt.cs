using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Tests;

/// <summary>Runs an action when the code under test reaches one named fault point.</summary>
public sealed class FaultAt(string point, Action action) : IFaultPoints
{
    /// <summary>Throws at the point, standing in for the process dying there.</summary>
    public static FaultAt Crash(string point) => new(point, () => throw new IOException("crash at " + point));

    public void Hit(string name)
    {
        if (name == point) action();
    }
}
