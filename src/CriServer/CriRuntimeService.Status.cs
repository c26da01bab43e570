using System.Text.Json;
using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// Pod networking (CNI) is not implemented yet, so NetworkReady is reported false, as the
    /// truth: kubelet then schedules only hostNetwork pods here. The reason string is the one
    /// containerd and CRI-O use, which kubelet shows in the node's Ready condition.
    /// </summary>
    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
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
                        Status = false,
                        Reason = "NetworkPluginNotReady",
                        Message = "CNI is not configured yet: crioci does not set up pod networking in this version",
                    },
                },
            },
        };
        if (request.Verbose)
        {
            // api.proto: verbose info is free-form, each value a JSON string; "config" as in containerd.
            response.Info["config"] = JsonSerializer.Serialize(options, CriJsonContext.Default.DaemonOptions);
        }
        return Task.FromResult(response);
    }
}
