using System.Diagnostics;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

/// <summary>
/// The generated default profile, compiled by the real apparmor_parser with -Q (compile, do
/// not load): this needs the parser (Debian package apparmor) but no AppArmor in the kernel.
/// </summary>
public sealed class AppArmorDefaultProfileTests
{
    private const string Parser = "/usr/sbin/apparmor_parser";

    private static async Task<(int ExitCode, string Errors)> CompileAsync(string profileText)
    {
        if (!File.Exists(Parser))
        {
            throw new InvalidOperationException($"Missing test prerequisite: {Parser} not found. Install the Debian package 'apparmor' (scripts/install-test-deps.sh installs it).");
        }
        var start = new ProcessStartInfo(Parser) { ArgumentList = { "-Q", "-K" }, RedirectStandardInput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(profileText);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, await errors);
    }

    [Fact]
    public async Task Generate_CompilesWithApparmorParser()
    {
        var (exitCode, errors) = await CompileAsync(AppArmorDefaultProfile.Generate());

        Assert.True(exitCode == 0, errors);
    }

    /// <summary>The control: the parser does reject a broken profile, so the test above can fail.</summary>
    [Fact]
    public async Task Generate_RuleBroken_ParserRejectsIt()
    {
        var (exitCode, errors) = await CompileAsync(AppArmorDefaultProfile.Generate().Replace("deny mount,", "deny mount", StringComparison.Ordinal));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("syntax error", errors);
    }

    [Fact]
    public void Generate_NamesTheProfileAndConfinesSignalsAndPtraceToIt()
    {
        var text = AppArmorDefaultProfile.Generate("test-profile");

        Assert.Contains("profile test-profile flags=(attach_disconnected,mediate_deleted) {", text);
        Assert.Contains("signal (send,receive) peer=test-profile,", text);
        Assert.Contains("signal (receive) peer=unconfined,", text);
        Assert.Contains("ptrace (trace,read,tracedby,readby) peer=test-profile,", text);
        Assert.DoesNotContain("crioci-default", text);
    }

    [Theory]
    [InlineData("deny mount,")]
    [InlineData("deny @{PROC}/sysrq-trigger rwklx,")]
    [InlineData("deny @{PROC}/kcore rwklx,")]
    [InlineData("deny /sys/firmware/** rwklx,")]
    [InlineData("deny /sys/kernel/security/** rwklx,")]
    [InlineData("deny /sys/fs/cg[^r]*/** wklx,")]
    [InlineData("deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,")]
    public void Generate_HasContainerdsDenyRules(string rule)
    {
        Assert.Contains("  " + rule + "\n", AppArmorDefaultProfile.Generate());
    }
}
