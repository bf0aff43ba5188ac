import ArgumentParser
import Foundation
import RAFTKit

/// Exit codes beyond swift-argument-parser's 0 (success) and 64 (usage).
enum ExitStatus {
    /// EX_DATAERR: an input file is unreadable, corrupt, mismatched or non-finite.
    static let badInput = ExitCode(65)
    /// EX_CANTCREAT: an output file cannot be written.
    static let cannotCreate = ExitCode(73)
}

/// Prints one line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs `body`, turning RAFTKit's input errors into one clear line on stderr and exit code 65, and
/// output errors into exit code 73. Anything else propagates to ArgumentParser.
func reportingInputErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as OutputError {
        printError("raftflow: \(error)")
        throw ExitStatus.cannotCreate
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        printError("raftflow: \(error)")
        throw ExitStatus.badInput
    }
}

/// An output that cannot be written.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write '\(path)': \(reason)" }
}

/// A problem with an input file that RAFTKit's own errors cannot name (the library sees images, not paths).
struct InputError: Error, CustomStringConvertible {
    var file: String
    var reason: String
    var description: String { "\(file): \(reason)" }
}

/// The path with `.`/`..` and symbolic links resolved, for comparing two names of one file.
func canonicalPath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
}

/// Checks before any work starts that every output can be created, so a long run never fails at the end:
/// its directory exists, it is not an existing directory, not one of the `inputs`, and not named twice.
func checkOutputs(_ outputs: [String?], inputs: [String?] = []) throws {
    let inputPaths = Set(inputs.compactMap { $0 }.map(canonicalPath))
    var seen: Set<String> = []
    for case let path? in outputs {
        guard path != "-" else {
            guard seen.insert("-").inserted else { throw OutputError(path: path, reason: "only one output can go to standard output") }
            continue
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
            throw OutputError(path: path, reason: "directory '\(dir)' does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw OutputError(path: path, reason: "it is a directory")
        }
        let canonical = canonicalPath(path)
        if inputPaths.contains(canonical) { throw OutputError(path: path, reason: "it is also an input; refusing to overwrite it") }
        guard seen.insert(canonical).inserted else { throw OutputError(path: path, reason: "it is named for two outputs") }
    }
}

/// Outputs encoded in memory first, then written together, all or none (`FileAccess.WriteSet`): regular files
/// through temporary files renamed over their targets, so a failed command leaves none of its outputs behind
/// and every file that existed before it as it was; `-` is standard output; a device or FIFO (`/dev/null`) is
/// opened and written, not replaced.
struct OutputBatch {
    private var files: [(path: String, data: Data)] = []

    /// Adds a flow file in `format`.
    mutating func add(_ flow: FlowField, to path: String, format: FlowFileFormat) throws {
        do { files.append((path, try flow.encoded(as: format, source: path))) } catch {
            throw OutputError(path: path, reason: "\(error)")
        }
    }

    /// Adds an 8-bit RGB PNG (binary PPM for a `.ppm`/`.pnm` name, JPEG for `.jpg`/`.jpeg`, as `RGBImage.write` does).
    mutating func add(_ image: RGBImage, to path: String) throws {
        let format = ImageFileFormat(pathExtension: (path as NSString).pathExtension)
        do { files.append((path, try image.raster.encoded(as: format, source: path))) } catch {
            throw OutputError(path: path, reason: "\(error)")
        }
    }

    /// Adds a mask as an 8-bit gray PNG (255 where set).
    mutating func add(_ mask: PixelMask, to path: String) throws {
        do { files.append((path, try mask.raster.encoded(as: .png, source: path))) } catch {
            throw OutputError(path: path, reason: "\(error)")
        }
    }

    /// Removes the temporary files that a writer killed between write and rename (Ctrl-C, out of memory)
    /// left next to `paths`: `FileAccess.WriteSet` names them `.<name>.<number>.tmp` (and its backups of
    /// replaced files `.<name>.<number>.bak`).
    static func removeStaleTemporaries(for paths: [String]) {
        let fm = FileManager.default
        for (directory, group) in Dictionary(grouping: paths, by: { ($0 as NSString).deletingLastPathComponent }) {
            let names = Set(group.map { ($0 as NSString).lastPathComponent })
            let dir = directory.isEmpty ? "." : directory
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            where entry.hasPrefix(".") && (entry.hasSuffix(".tmp") || entry.hasSuffix(".bak")) {
                let parts = entry.dropFirst().dropLast(4)
                guard let dot = parts.lastIndex(of: "."), parts[parts.index(after: dot)...].allSatisfy(\.isNumber),
                      names.contains(String(parts[..<dot])) else { continue }
                try? fm.removeItem(atPath: (dir as NSString).appendingPathComponent(entry))
            }
        }
    }

    /// Writes every file, or none.
    func commit() throws {
        var set = FileAccess.WriteSet()
        for file in files {
            do { try set.stage(file.data, to: file.path) } catch {
                throw OutputError(path: file.path, reason: error.reason)
            }
        }
        do { try set.commit() } catch {
            throw OutputError(path: error.path ?? files[0].path, reason: error.reason)
        }
    }
}

/// Validates a `--max-magnitude` value.
func validateMaxMagnitude(_ value: Float?) throws {
    if let value, !(value > 0 && value.isFinite) {
        throw ValidationError("--max-magnitude must be a positive finite number of pixels")
    }
}

/// Validates a `--scale` value: the network runs at `scale` times the frame size.
func validateScale(_ value: Double) throws {
    guard value > 0 && value <= 4 && value.isFinite else {
        throw ValidationError("--scale must be a number greater than 0 and at most 4")
    }
}

/// Peak resident memory of this process (VmHWM), in bytes; 0 where /proc is unavailable.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

/// This process's page faults and CPU time so far (`getrusage`).
struct ProcessUsage {
    var minorFaults: Int
    var systemSeconds: Double
    var userSeconds: Double

    static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return ProcessUsage(minorFaults: usage.ru_minflt, systemSeconds: seconds(usage.ru_stime), userSeconds: seconds(usage.ru_utime))
    }
}

/// "45 s" / "12 min 05 s" / "2 h 03 min", for estimates of the time left.
func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    if t < 60 { return "\(t) s" }
    if t < 3600 { return String(format: "%d min %02d s", t / 60, t % 60) }
    return String(format: "%d h %02d min", t / 3600, (t % 3600) / 60)
}

/// "1.23 s" / "456 ms".
func formatSeconds(_ s: Double) -> String { s >= 1 ? String(format: "%.2f s", s) : String(format: "%.1f ms", s * 1000) }

/// Natural ("human") order: frame2 < frame10.
func naturalLess(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: [.numeric, .caseInsensitive]) == .orderedAscending
}

/// JSON encoding with sorted keys and pretty printing. Non-finite numbers (an infinite EPE from a prediction
/// whose error overflows Float) are written as the strings "inf", "-inf" and "nan", which JSON has no
/// numbers for; JSONEncoder would otherwise refuse the whole document.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
