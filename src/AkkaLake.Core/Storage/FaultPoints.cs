namespace AkkaLake.Core.Storage;

/// <summary>Named points in crash-sensitive protocols where tests can inject a failure.</summary>
public interface IFaultPoints
{
    void Hit(string point);

    /// <summary>Whether the step at this point is to be left out, as a defect would leave it out, so that a test sees the check that catches it.</summary>
    bool Skips(string point) => false;
}

public static class FaultPoints
{
    public static readonly IFaultPoints None = new NoFaults();

    private sealed class NoFaults : IFaultPoints
    {
        public void Hit(string point) { }
    }
}
