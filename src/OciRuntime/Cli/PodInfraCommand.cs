using System.Globalization;
using CriOci.OciRuntime.Infra;

namespace CriOci.OciRuntime.Cli;

/// <summary>`pod-infra --sync-fd N --pod DIR [--netns P] [--ipcns P] [--utsns P] [--userns P]` or `pod-infra --detached --pod DIR`: internal, see <see cref="PodInfra"/>.</summary>
internal static class PodInfraCommand
{
    public static int Run(CliArguments args, string self)
    {
        if (args.Switch("detached"))
        {
            return PodInfraReaper.Run();
        }
        var syncFd = int.Parse(args.Flag("sync-fd") ?? throw new CliException("pod-infra needs --sync-fd"), CultureInfo.InvariantCulture);
        return PodInfra.Detach(self, new PodInfraNamespaces(args.Flag("netns"), args.Flag("ipcns"), args.Flag("utsns"),
            args.Flag("pod") ?? throw new CliException("pod-infra needs --pod"), args.Flag("userns")), syncFd);
    }
}
