namespace AkkaLake.Commands;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Mismatch = 1;
    public const int Failed = 2;
    /// <summary>Bad settings or input: a malformed value, an argument that does not parse, SQL that is not one SELECT.</summary>
    public const int BadInput = 3;
    public const int LakeBusy = 4;

    /// <summary>A daemon run that did not succeed: 4 when another writer holds the lake, 2 otherwise.</summary>
    public static int Of(Actors.Daemon.DaemonOutcome outcome) => outcome.Succeeded ? Ok : outcome.LakeInUse ? LakeBusy : Failed;
}
