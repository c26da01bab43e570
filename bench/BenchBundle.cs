namespace CriOci.Bench;

/// <summary>
/// A minimal bundle every runtime accepts: Debian's static busybox as /bin/true, the default
/// mounts and namespaces, and ociVersion 1.0.2 (crun 1.8 refuses newer version strings).
/// </summary>
public static class BenchBundle
{
    public static string Create(string work)
    {
        const string busybox = "/bin/busybox";
        if (!File.Exists(busybox))
        {
            throw new FileNotFoundException("the benchmark bundle needs Debian's busybox-static (/bin/busybox)");
        }
        var bundle = Path.Combine(work, "bundle");
        var bin = Path.Combine(bundle, "rootfs", "bin");
        Directory.CreateDirectory(bin);
        foreach (var directory in new[] { "proc", "dev", "sys", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(bundle, "rootfs", directory));
        }
        File.Copy(busybox, Path.Combine(bin, "busybox"));
        File.CreateSymbolicLink(Path.Combine(bin, "true"), "busybox");
        File.WriteAllText(Path.Combine(bundle, "config.json"), """
            {
              "ociVersion": "1.0.2",
              "process": {
                "user": {"uid": 0, "gid": 0},
                "args": ["/bin/true"],
                "env": ["PATH=/bin"],
                "cwd": "/",
                "capabilities": {
                  "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                  "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                  "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                },
                "noNewPrivileges": true
              },
              "root": {"path": "rootfs"},
              "hostname": "bench",
              "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
              ],
              "linux": {
                "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
              }
            }
            """);
        return bundle;
    }
}
