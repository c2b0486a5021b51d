// LineOutput: writes each line to fd 1 with one write(2), so a pipe reader (a supervisor, a test) gets it
// when it is printed; Swift's print goes through C stdio, which block-buffers a pipe. One write per line
// also keeps lines printed by concurrent tasks from interleaving.

import Foundation

public enum LineOutput {
    public static func print(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress.map { $0 + done }, $0.count - done) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }
}
