using AkkaLake.Core.Storage;

namespace AkkaLake.Tests.Support;

public sealed class InjectedCrash(string point) : Exception($"injected crash at {point}");

/// <summary>
/// Throws at one named point, standing in for the process dying there; with <paramref name="once"/>
/// only the first time, as <c>AKKALAKE_FAULTS=point=throw:once</c> does.
/// </summary>
public sealed class ThrowingFaults(string point, bool once = false) : IFaultPoints
{
    private int _thrown;

    public void Hit(string name)
    {
        if (name != point) return;
        if (once && Interlocked.Exchange(ref _thrown, 1) == 1) return;
        throw new InjectedCrash(name);
    }
}
