// UserHome: the directory servers put `logs/` and default stores under: $HOME when set (so an operator or a
// test can give each process its own), else the account's home. Foundation's homeDirectoryForCurrentUser
// reads only the account database on Linux, so every broker on a machine shared one broker.log.

import Foundation

public func userHomeDirectory() -> String {
    if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty { return home }
    return FileManager.default.homeDirectoryForCurrentUser.path
}
