using CriOci.Core;
using CriOci.ImageStore.Registry.Configuration;

namespace CriOci.ImageStore.Tests.Registry.Configuration;

public sealed class TomlSubsetTests
{
    [Fact]
    public void Parse_ContainerdHostsExample_ReadsTablesInFileOrder()
    {
        // Arrange: containerd docs/hosts.md, with comments, dotted keys and a multi-line array.
        const string text = """
            server = "https://registry-1.docker.io"   # upstream
            capabilities = ["pull", "resolve",]

            [host."https://mirror-b.example:5000"]
              capabilities = ["pull"]
              skip_verify = true
              ca = '/etc/certs/b.pem'
              client = [
                ["/etc/certs/client.cert", "/etc/certs/client.key"],  # pair
                ["both.pem", ""],
              ]
              header.x-custom = "a \"quoted\" \u00e9"

            [host."http://mirror-a.local"]
              override_path = false
              retries = -3
              inline = { a = 1, b = "two" }
            """;

        // Act
        var document = TomlSubset.Parse(text, "hosts.toml");

        // Assert
        Assert.Equal("https://registry-1.docker.io", document["server"]);
        Assert.Equal(new List<object> { "pull", "resolve" }, document["capabilities"]);
        var hosts = (OrderedDictionary<string, object>)document["host"];
        Assert.Equal(["https://mirror-b.example:5000", "http://mirror-a.local"], hosts.Keys);
        var b = (OrderedDictionary<string, object>)hosts["https://mirror-b.example:5000"];
        Assert.Equal(true, b["skip_verify"]);
        Assert.Equal("/etc/certs/b.pem", b["ca"]);
        var client = (List<object>)b["client"];
        Assert.Equal(new List<object> { "both.pem", "" }, client[1]);
        Assert.Equal("a \"quoted\" é", ((OrderedDictionary<string, object>)b["header"])["x-custom"]);
        var a = (OrderedDictionary<string, object>)hosts["http://mirror-a.local"];
        Assert.Equal(false, a["override_path"]);
        Assert.Equal(-3L, a["retries"]);
        Assert.Equal("two", ((OrderedDictionary<string, object>)a["inline"])["b"]);
    }

    public static TheoryData<string, string> InvalidDocuments => new()
    {
        { "a = 1\na = 2", "hosts.toml:2: key \"a\" is defined twice" },
        { "[t]\n[t]", "hosts.toml:2: table [t] is defined twice" },
        { "\n\nserver = https://x", "hosts.toml:3: unsupported value \"https://x\" (strings must be quoted)" },
        { "s = \"open", "hosts.toml:1: unterminated string" },
        { "[[host]]", "hosts.toml:1: arrays of tables ([[...]]) are not supported" },
        { "s = \"\"\"x\"\"\"", "hosts.toml:1: multi-line strings are not supported" },
        { "a = 1 b = 2", "hosts.toml:1: unexpected \"b\" after the value" },
        { "a = [1 2]", "hosts.toml:1: expected ',' or ']' in array" },
        { "a = 1\na.b = 2", "hosts.toml:2: \"a.b\": \"a\" is already a value, not a table" },
        { "a = 1.5", "hosts.toml:1: unsupported value \"1.5\" (strings must be quoted)" },
    };

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public void Parse_UnsupportedOrInvalid_ThrowsNamingFileAndLine(string text, string message)
    {
        // Act
        var error = Assert.Throws<InvalidArgumentException>(() => TomlSubset.Parse(text, "hosts.toml"));

        // Assert
        Assert.Equal(message, error.Message);
    }
}
