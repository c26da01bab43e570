using System.Text.Json.Serialization;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// Kubernetes' metav1.Status as the error stream carries it from remotecommand v4 on. Properties
/// are in Go's field order, so the JSON reads like kubelet's ({"metadata":{},"status":"Success"}).
/// </summary>
internal sealed record KubeStatus(
    KubeListMeta Metadata,
    string Status,
    string? Message = null,
    string? Reason = null,
    KubeStatusDetails? Details = null,
    int? Code = null)
{
    public const string Success = "Success";
    public const string Failure = "Failure";

    /// <summary>remotecommand's NonZeroExitCodeReason and ExitCodeCauseType.</summary>
    public const string NonZeroExitCodeReason = "NonZeroExitCode";
    public const string ExitCodeCauseType = "ExitCode";

    [JsonIgnore]
    public bool IsSuccess => Status == Success;

    public static KubeStatus Succeeded() => new(new KubeListMeta(), Success);

    public static KubeStatus NonZeroExit(IReadOnlyList<string> command, int exitCode) => new(
        new KubeListMeta(),
        Failure,
        // kubelet wraps the runtime's CodeExitError; containerd words that one this way.
        Message: $"command terminated with non-zero exit code: error executing command [{string.Join(' ', command)}], exit code {exitCode}",
        Reason: NonZeroExitCodeReason,
        Details: new KubeStatusDetails([new KubeStatusCause(ExitCodeCauseType, exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))]));

    /// <summary>apierrors.NewInternalError, which kubelet sends for every other failure.</summary>
    public static KubeStatus InternalError(string message) => new(
        new KubeListMeta(),
        Failure,
        Message: $"Internal error occurred: {message}",
        Reason: "InternalError",
        Details: new KubeStatusDetails([new KubeStatusCause(null, message)]),
        Code: 500);
}

internal sealed record KubeListMeta;

internal sealed record KubeStatusDetails(IReadOnlyList<KubeStatusCause> Causes);

/// <summary>metav1.StatusCause: its Type field is named "reason" in JSON.</summary>
internal sealed record KubeStatusCause([property: JsonPropertyName("reason")] string? Type, string? Message);

/// <summary>A remotecommand v3+ resize message: Go's TerminalSize, whose fields have no JSON tags.</summary>
internal sealed record ResizeMessage(ushort Width, ushort Height);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(KubeStatus))]
[JsonSerializable(typeof(ResizeMessage))]
internal sealed partial class StreamingJsonContext : JsonSerializerContext;
