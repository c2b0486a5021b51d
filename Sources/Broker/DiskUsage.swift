// DiskUsage: used fraction of the file system holding a path (runtime-info key `commitLogDiskRatio`,
// shown by `mqadmin clusterList`). Called from AdminBrokerProcessor's per-request task.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum DiskUsage {
    /// 0.0 ... 1.0, or -1 when the file system cannot be read.
    static func usedRatio(path: String) -> Double {
        var s = statvfs()
        guard statvfs(path, &s) == 0, s.f_blocks > 0 else { return -1 }
        let total = Double(s.f_blocks)
        return (total - Double(s.f_bavail)) / total
    }
}
