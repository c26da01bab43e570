using CriOci.ImageStore;
using CriOci.PodSandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>The real backends behind the CRI services; tests register fakes instead.</summary>
internal static class DaemonComposition
{
    /// <summary>
    /// Images live under &lt;root&gt;/images so the image store owns that whole subtree; pods and
    /// containers share the root and the state directory with the sandbox manager, which picks
    /// its own subdirectories.
    /// </summary>
    public static IServiceCollection AddDaemonBackends(this IServiceCollection services, DaemonOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(provider => SandboxManagerFactory.Create(options.Sandbox, provider.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(provider => ImageServiceFactory.Create(
            options.ImageStore, provider.GetRequiredService<ILoggerFactory>().CreateLogger("CriOci.ImageStore")));
        return services;
    }
}
