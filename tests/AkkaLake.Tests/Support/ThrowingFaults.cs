using AkkaLake.Core.Storage;

namespace AkkaLake.Tests.Support;

public sealed class InjectedCrash(string point) : Exception($"injected crash at {point}");

/// <summary>Throws at one named point, standing in for the process dying there.</summary>
public sealed class ThrowingFaults(string point) : IFaultPoints
{
    public void Hit(string name)
    {
        if (name == point) throw new InjectedCrash(name);
    }
}
