namespace CriOci.OciRuntime.Tests.Support;

/// <summary>Tests that start real containers run one at a time: the machine has few cores.</summary>
[CollectionDefinition(Name)]
public sealed class ContainerCollection
{
    public const string Name = "Containers";
}
