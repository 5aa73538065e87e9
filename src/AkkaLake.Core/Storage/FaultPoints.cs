namespace AkkaLake.Core.Storage;

/// <summary>Named points in crash-sensitive protocols where tests can inject a failure.</summary>
public interface IFaultPoints
{
    void Hit(string point);
}

public static class FaultPoints
{
    public static readonly IFaultPoints None = new NoFaults();

    private sealed class NoFaults : IFaultPoints
    {
        public void Hit(string point) { }
    }
}
