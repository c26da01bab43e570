using System.Diagnostics;
using System.Globalization;
using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Tests.Linux;

public sealed class ProcStatTests
{
    /// <summary>Field 22 of /proc/PID/stat, located through the known comm rather than ProcStat's parser.</summary>
    private static ulong ExpectedStartTime(int pid)
    {
        var comm = File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        var text = File.ReadAllText($"/proc/{pid}/stat");
        var prefix = $"{pid} ({comm}) ";
        Assert.StartsWith(prefix, text);
        var fields = text[prefix.Length..].Split(' ');
        return ulong.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void StartTime_ThisProcess_MatchesField22()
    {
        var pid = Environment.ProcessId;

        var start = ProcStat.StartTime(pid);

        Assert.Equal(ExpectedStartTime(pid), start);
        Assert.True(start > 0);
    }

    [Fact]
    public void StateLetter_ThisProcess_IsRunningOrSleeping()
    {
        var state = ProcStat.StateLetter(Environment.ProcessId);

        Assert.Contains(state!.Value, "RS");
    }

    [Fact]
    public void IsSameLiveProcess_ThisProcessAndItsStartTime_IsTrue()
    {
        var pid = Environment.ProcessId;
        var start = ProcStat.StartTime(pid)!.Value;

        Assert.True(ProcStat.IsSameLiveProcess(pid, start));
        Assert.False(ProcStat.IsSameLiveProcess(pid, start + 1));
        Assert.False(ProcStat.IsSameLiveProcess(0, start));
    }

    [Fact]
    public void StartTime_PidThatCannotExist_ReturnsNull()
    {
        // pid_max is at most 2^22 on Linux.
        const int impossible = int.MaxValue;

        Assert.Null(ProcStat.StartTime(impossible));
        Assert.Null(ProcStat.StateLetter(impossible));
        Assert.False(ProcStat.IsSameLiveProcess(impossible, 1));
    }

    [Fact]
    public void StartTime_CommandNameWithParenthesesAndSpaces_ParsesFieldsAfterTheLastParenthesis()
    {
        // The kernel's comm is the executable's base name: make it ") (" hostile.
        var directory = Directory.CreateTempSubdirectory("crioci-procstat-").FullName;
        var hostile = Path.Combine(directory, "a) b) c");
        File.CreateSymbolicLink(hostile, "/bin/sleep");
        using var child = Process.Start(new ProcessStartInfo(hostile, "30") { UseShellExecute = false })!;
        try
        {
            var start = ProcStat.StartTime(child.Id);
            var state = ProcStat.StateLetter(child.Id);

            Assert.Equal("a) b) c", File.ReadAllText($"/proc/{child.Id}/comm").TrimEnd('\n'));
            Assert.Equal(ExpectedStartTime(child.Id), start);
            Assert.True(start >= ProcStat.StartTime(Environment.ProcessId));
            Assert.Contains(state!.Value, "RS");
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void IsSameLiveProcess_ExitedChild_IsFalse()
    {
        using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        var start = ProcStat.StartTime(child.Id)!.Value;
        var liveBefore = ProcStat.IsSameLiveProcess(child.Id, start);

        child.Kill();
        child.WaitForExit();

        Assert.True(liveBefore);
        Assert.False(ProcStat.IsSameLiveProcess(child.Id, start));
    }
}
