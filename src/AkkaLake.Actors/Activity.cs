namespace AkkaLake.Actors;

/// <summary>
/// What an actor is doing, and since when: answered at once in every mode, whatever file or
/// database work is under way, so a status page or a test can always ask.
/// </summary>
public sealed record Activity(string Actor, string Doing, DateTimeOffset Since)
{
    public sealed record Query
    {
        public static readonly Query Instance = new();
    }
}
