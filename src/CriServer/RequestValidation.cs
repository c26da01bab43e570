using CriOci.Core;

namespace CriOci.CriServer;

/// <summary>
/// Checks shared by the handlers. Messages name the field by its api.proto path
/// ("config.metadata.name"), so a crictl user can see which part of their JSON is wrong.
/// </summary>
internal static class RequestValidation
{
    public static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new InvalidArgumentException($"{field} is required") : value;

    public static T Required<T>(T? message, string field) where T : class =>
        message ?? throw new InvalidArgumentException($"{field} is required");

    public static IReadOnlyList<T> RequiredItems<T>(IReadOnlyList<T> items, string field) =>
        items.Count == 0 ? throw new InvalidArgumentException($"{field} is required") : items;

    /// <summary>CRI timeouts are whole seconds; zero means "no limit" or "at once", never negative.</summary>
    public static TimeSpan Seconds(long seconds, string field) =>
        seconds < 0 ? throw new InvalidArgumentException($"{field} must not be negative, got {seconds}") : TimeSpan.FromSeconds(seconds);
}
