// UserHome: the directory servers put `logs/` and default stores under: $HOME when set (so an operator or a
// test can give each process its own), else the account's home from the password database. Foundation's
// homeDirectoryForCurrentUser reads only the latter on Linux, so every broker on a machine shared one log.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

public func userHomeDirectory() -> String {
    if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
    if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
    return "/"
}
