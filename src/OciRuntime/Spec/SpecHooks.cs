namespace CriOci.OciRuntime.Spec;

/// <summary>The part of config.json a hook is run with (<see cref="RuntimeSpecReader.ReadHooks"/>).</summary>
internal sealed record SpecHooks(HooksSpec? Hooks, IReadOnlyDictionary<string, string>? Annotations);
