namespace AkkaLake.Commands;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Mismatch = 1;
    public const int Failed = 2;
    public const int BadConfiguration = 3;
    public const int LakeBusy = 4;
}
