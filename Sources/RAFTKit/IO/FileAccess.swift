import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
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
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure(reason: "is a directory")
        }
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFCHR || info.st_mode & S_IFMT == S_IFBLK {
            throw Failure(reason: "is a device, not a file")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber,
           size.int64Value > Int64(maxBytes) {
            throw Failure(reason: "the file has \(size.int64Value) bytes, more than the \(maxBytes) that any image or flow within the size limits needs")
        }
        do { return try Data(contentsOf: url) } catch {
            if !FileManager.default.fileExists(atPath: url.path) { throw Failure(reason: "no such file") }
            throw Failure(reason: (error as NSError).localizedDescription)
        }
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
