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

/// Checks before any work starts that `path`'s directory exists, so a long run never fails at the end.
func checkWritable(_ path: String?) throws {
    guard let path else { return }
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
        throw OutputError(path: path, reason: "directory '\(dir)' does not exist")
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

/// "1.23 s" / "456 ms".
func formatSeconds(_ s: Double) -> String { s >= 1 ? String(format: "%.2f s", s) : String(format: "%.1f ms", s * 1000) }

/// Natural ("human") order: frame2 < frame10.
func naturalLess(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: [.numeric, .caseInsensitive]) == .orderedAscending
}

/// JSON encoding with sorted keys and pretty printing.
func jsonString<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
}
