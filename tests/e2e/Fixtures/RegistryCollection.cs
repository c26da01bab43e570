using CriOci.TestSupport;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// Test classes marked <c>[Collection(RegistryCollection.Name)]</c> share one <see cref="RegistryFixture"/>
/// (one registry process, images pushed once) for the whole run. xunit requires collection
/// definitions to live in the test assembly, which is why this is here and not in TestSupport.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "Registry";
}
