import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let posixWrite = Glibc.write
private let posixRead = Glibc.read
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
private let posixRead = Darwin.read
#endif

/// Whole-file reads and atomic writes shared by the image and flow readers and writers.
package enum FileAccess {
    /// A failed file operation; callers wrap the reason in their own typed error.
    package struct Failure: Error {
        package var reason: String
        /// The output that failed, where one of several did.
        package var path: String? = nil
    }

    /// The bytes of the file at `url`, read into memory (not mapped: a file truncated by another process
    /// while mapped would crash the reader with SIGBUS).
    /// Files larger than `maxBytes` are refused before they are read.
    package static func read(_ url: URL, maxBytes: Int = .max) throws(Failure) -> Data {
        var info = stat()
        if stat(url.path, &info) == 0 { try check(info, maxBytes: maxBytes) }
        do { return try Data(contentsOf: url) } catch {
            if !FileManager.default.fileExists(atPath: url.path) { throw Failure(reason: "no such file") }
            throw Failure(reason: (error as NSError).localizedDescription)
        }
    }

    private static func tooLarge(_ size: Int64, _ maxBytes: Int) -> Failure {
        Failure(reason: "the file has \(size) bytes, more than the \(maxBytes) that any image or flow within the size limits needs")
    }

    /// Refuses directories, devices and files of more than `maxBytes`, from their `stat`.
    private static func check(_ info: stat, maxBytes: Int) throws(Failure) {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: throw Failure(reason: "is a directory")
        case S_IFCHR, S_IFBLK: throw Failure(reason: "is a device, not a file")
        default: break
        }
        guard Int64(info.st_size) <= Int64(maxBytes) else { throw tooLarge(Int64(info.st_size), maxBytes) }
    }

    /// The bytes of the file at `url` as an array, read with `read(2)` straight into the array's storage: one copy
    /// from the page cache, where `[UInt8](read(url))` makes two (model weights are tens of megabytes). Same
    /// checks and failure reasons as ``read(_:maxBytes:)``; a file that grows while it is read is read to its end.
    package static func bytes(_ url: URL, maxBytes: Int = .max) throws(Failure) -> [UInt8] {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            throw Failure(reason: code == ENOENT ? "no such file" : String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        try check(info, maxBytes: maxBytes)
        let expected = Int(info.st_size)
        var failure: Int32 = 0
        // Up to the size fstat reported (plus one byte, to notice growth), then any rest in chunks.
        var bytes = [UInt8](unsafeUninitializedCapacity: expected + 1) { buffer, count in
            count = 0
            while count < buffer.count {
                let n = posixRead(fd, buffer.baseAddress! + count, buffer.count - count)
                if n > 0 { count += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno }
                break
            }
        }
        if failure == 0 && bytes.count == expected + 1 {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    bytes.append(contentsOf: chunk[..<n])
                    if bytes.count > maxBytes { throw tooLarge(Int64(bytes.count), maxBytes) }
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno }
                break
            }
        }
        if failure != 0 { throw Failure(reason: String(cString: strerror(failure))) }
        return bytes
    }

    /// Writes `data` to `url` as one ``WriteSet``: see there for what "atomic" means for regular files, devices
    /// and `-` (standard output).
    package static func writeAtomically(_ data: Data, to url: URL) throws(Failure) {
        var set = WriteSet()
        try set.stage(data, to: url.path)
        try set.commit()
    }

    /// Where one output goes.
    package enum Target: Equatable {
        /// `-`: the process's standard output.
        case standardOutput
        /// An existing file that is not a regular file (a character device such as `/dev/null`, a FIFO),
        /// symbolic links followed: opened and written in place, never renamed over.
        case device(path: String)
        /// A regular file, new or existing, symbolic links resolved (the link stays a link): written to a
        /// temporary file in its directory and renamed over it.
        case file(path: String)

        package init(_ path: String) {
            if path == "-" { self = .standardOutput; return }
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFDIR {
                self = .device(path: path)
                return
            }
            self = .file(path: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
        }
    }

    /// Outputs written all or none. ``stage(_:to:)`` writes each regular file's bytes to a temporary file
    /// next to it (a full disk fails here, before any output is touched); ``commit()`` then writes devices and
    /// standard output and renames the temporaries over their targets. If a rename fails, the targets already
    /// renamed get their previous content back (kept as hard links until the commit succeeds) or, when the run
    /// created them, are removed: a failed set never deletes or damages a file that existed before it.
    package struct WriteSet {
        private struct Staged {
            var path: String
            var target: Target
            var temporary: String?
            var data: Data?
        }
        private var staged: [Staged] = []

        package init() {}

        /// Stages `data` for `path` (`-` for standard output).
        package mutating func stage(_ data: Data, to path: String) throws(Failure) {
            let target = Target(path)
            switch target {
            case .standardOutput, .device:
                staged.append(Staged(path: path, target: target, temporary: nil, data: data))
            case let .file(resolved):
                let directory = (resolved as NSString).deletingLastPathComponent
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory),
                      isDirectory.boolValue else {
                    discard()
                    throw Failure(reason: "directory \(directory) does not exist")
                }
                let temporary = (directory as NSString).appendingPathComponent(
                    ".\((resolved as NSString).lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
                do throws(Failure) {
                    try FileAccess.write(data, toNew: temporary)
                } catch {
                    discard()
                    throw error
                }
                staged.append(Staged(path: path, target: target, temporary: temporary, data: nil))
            }
        }

        /// Removes every temporary file staged so far.
        package mutating func discard() {
            for case let temporary? in staged.map(\.temporary) { unlink(temporary) }
            staged.removeAll()
        }

        /// Writes the devices and standard output, then renames every temporary over its target; on failure,
        /// restores what it replaced (see the type's documentation) and throws.
        package mutating func commit() throws(Failure) {
            for item in staged {
                guard let data = item.data else { continue }
                do throws(Failure) {
                    if case let .device(path) = item.target {
                        let fd = open(path, O_WRONLY | O_CLOEXEC)
                        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
                        defer { close(fd) }
                        try FileAccess.write(data, to: fd)
                    } else {
                        try FileAccess.write(data, to: STDOUT_FILENO)
                    }
                } catch {
                    discard()
                    throw Failure(reason: error.reason, path: item.path)
                }
            }
            var renamed: [(target: String, backup: String?)] = []
            for item in staged {
                guard case let .file(target) = item.target, let temporary = item.temporary else { continue }
                var backup: String? = (target as NSString).deletingLastPathComponent + "/."
                    + (target as NSString).lastPathComponent + ".\(UInt32.random(in: 0...UInt32.max)).bak"
                if access(target, F_OK) != 0 || link(target, backup!) != 0 { backup = nil }
                if rename(temporary, target) != 0 {
                    let reason = String(cString: strerror(errno))
                    if let backup { unlink(backup) }
                    for done in renamed.reversed() {
                        if let previous = done.backup { rename(previous, done.target) } else { unlink(done.target) }
                    }
                    discard()
                    throw Failure(reason: reason, path: item.path)
                }
                renamed.append((target, backup))
            }
            for case let backup? in renamed.map(\.backup) { unlink(backup) }
            staged.removeAll()
        }
    }

    /// Creates `path` (which must not exist) and writes `data` to it.
    private static func write(_ data: Data, toNew path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        do throws(Failure) {
            try write(data, to: fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        if close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw Failure(reason: reason)
        }
    }

    /// Writes all of `data` to the open descriptor `fd`, retrying short writes and interruptions.
    private static func write(_ data: Data, to fd: Int32) throws(Failure) {
        var failure: Int32 = 0
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard var next = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let n = posixWrite(fd, next, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                next += n
                left -= n
            }
        }
        if failure != 0 { throw Failure(reason: String(cString: strerror(failure))) }
    }
}
