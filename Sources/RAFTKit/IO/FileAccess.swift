import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes shared by the image and flow readers and writers.
package enum FileAccess {
    /// A failed file operation; callers wrap the reason in their own typed error.
    package struct Failure: Error { package var reason: String }

    /// The bytes of the file at `url`, read into memory (not mapped: a file truncated by another process
    /// while mapped would crash the reader with SIGBUS).
    /// Files larger than `maxBytes` are refused before they are read.
    package static func read(_ url: URL, maxBytes: Int = .max) throws(Failure) -> Data {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure(reason: "is a directory")
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

    /// Writes `data` to a temporary file next to `url` and renames it over `url`, so a failure never
    /// leaves a half-written file behind and readers see either the old or the new content.
    package static func writeAtomically(_ data: Data, to url: URL) throws(Failure) {
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw Failure(reason: "directory \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do { try data.write(to: temporary) } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw Failure(reason: (error as NSError).localizedDescription)
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw Failure(reason: reason)
        }
    }
}
