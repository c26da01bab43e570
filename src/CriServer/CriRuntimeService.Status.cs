using System.Text.Json;
using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// NetworkReady comes from CNI: true when a network config is loadable and its plugins exist
    /// (the built-in default network counts). When false, kubelet schedules only hostNetwork pods
    /// here, and shows the reason (the one containerd and CRI-O use) in the node's Ready condition.
    /// </summary>
    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var network = await sandboxes.NetworkStatusAsync(context.CancellationToken);
        var response = new StatusResponse
        {
            Status = new RuntimeStatus
            {
                Conditions =
                {
                    new RuntimeCondition { Type = "RuntimeReady", Status = true },
                    new RuntimeCondition
                    {
                        Type = "NetworkReady",
                        Status = network.Ready,
                        Reason = network.Reason,
                        Message = network.Message,
                    },
                },
            },
        };
        // kubelet admits pods per RuntimeClass by these features (user namespaces, rro mounts).
        foreach (var handler in sandboxes.RuntimeHandlers)
        {
            response.RuntimeHandlers.Add(new RuntimeHandler
            {
                Name = handler.Name,
                Features = new RuntimeHandlerFeatures
                {
                    RecursiveReadOnlyMounts = handler.Features.RecursiveReadOnlyMounts,
                    UserNamespaces = handler.Features.UserNamespaces,
                },
            });
        }
        if (request.Verbose)
        {
            // api.proto: verbose info is free-form, each value a JSON string; "config" as in containerd.
            response.Info["config"] = JsonSerializer.Serialize(options, CriJsonContext.Default.DaemonOptions);
        }
        return response;
    }
}
