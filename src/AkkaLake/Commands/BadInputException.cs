namespace AkkaLake.Commands;

/// <summary>What was asked on the command line cannot be done as asked (a malformed date, a day the lake lacks); the message says why. Exit code 3.</summary>
public sealed class BadInputException(string message) : Exception(message);
