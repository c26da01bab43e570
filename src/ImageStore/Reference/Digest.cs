using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using CriOci.Core;

namespace CriOci.ImageStore.Reference;

/// <summary>
/// A content digest "algorithm:hex". Only the algorithms OCI image-spec registers for
/// content (sha256, sha512) are accepted, with lowercase hex of the exact length, as
/// go-digest validates them: a digest names a file path, so nothing loose gets through.
/// </summary>
internal readonly record struct Digest(string Algorithm, string Hex)
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    public override string ToString() => $"{Algorithm}:{Hex}";

    public static Digest Parse(string value) =>
        TryParse(value, out var digest)
            ? digest
            : throw new InvalidArgumentException($"invalid digest \"{value}\": want sha256:<64 hex> or sha512:<128 hex>");

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null)
        {
            return false;
        }
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }
        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        var expectedLength = algorithm switch
        {
            Sha256 => 64,
            Sha512 => 128,
            _ => -1,
        };
        if (hex.Length != expectedLength || !IsLowerHex(hex))
        {
            return false;
        }
        digest = new Digest(algorithm, hex);
        return true;
    }

    public static Digest FromSha256Bytes(ReadOnlySpan<byte> hash) =>
        new(Sha256, Convert.ToHexStringLower(hash));

    public static Digest ComputeSha256(ReadOnlySpan<byte> content) =>
        FromSha256Bytes(SHA256.HashData(content));

    public IncrementalHash CreateHash() => Algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new InvalidOperationException($"unsupported digest algorithm {Algorithm}"),
    };

    public Digest Compute(ReadOnlySpan<byte> content)
    {
        using var hash = CreateHash();
        hash.AppendData(content);
        return new Digest(Algorithm, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    public static bool IsLowerHex(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }
        return true;
    }
}
