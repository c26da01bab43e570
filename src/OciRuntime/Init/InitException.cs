namespace CriOci.OciRuntime.Init;

/// <summary>A container cannot be set up as its config.json asks; the message says which part.</summary>
public sealed class InitException(string message, Exception? inner = null) : Exception(message, inner);
