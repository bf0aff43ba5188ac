import Foundation
import Testing
@testable import RAFTKit

/// Runs the built `raftflow` executable as a child process and collects what it prints.
///
/// The binary is looked up, in order: `$RAFTFLOW_BINARY`; the build directory that holds this test bundle
/// (so `swift test -c release` uses the release binary that `Scripts/test` builds first); then
/// `.build/{release,debug}/raftflow` under the package root. A missing or stale binary is a test failure
/// with a message that says how to build it, never a silent skip.
enum RAFTFlowCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Standard output as bytes (binary outputs such as `-o -`).
        var stdoutBytes = Data()
        /// The non-empty lines on stderr.
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The package root (three levels above this file: Tests/RAFTKitTests/CLI/).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let located: Swift.Result<URL, Failure> = locate()

    /// The `raftflow` executable, or an error explaining how to build it.
    static func binary() throws -> URL { try located.get() }

    private static func locate() -> Swift.Result<URL, Failure> {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["RAFTFLOW_BINARY"], !explicit.isEmpty {
            candidates.append(URL(fileURLWithPath: explicit))   // an explicit choice: no fallback
        } else {
            // The test bundle's resource bundle sits in the build products directory, next to the executables.
            candidates.append(Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("raftflow"))
            candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("raftflow"))
            for configuration in ["release", "debug"] {
                candidates.append(packageRoot.appendingPathComponent(".build/\(configuration)/raftflow"))
            }
        }
        guard let binary = candidates.first(where: { fm.isExecutableFile(atPath: $0.path) }) else {
            return .failure(Failure(description: """
                the raftflow executable was not found (looked at \(candidates.map(\.path).joined(separator: ", "))). \
                Build it first: swift build -c release --product raftflow (Scripts/test does this), \
                or set RAFTFLOW_BINARY.
                """))
        }
        // A binary older than the sources it is built from would test old code.
        if let built = modificationDate(binary) {
            let sources = ["Sources/raftflow", "Sources/RAFTKit"].map { packageRoot.appendingPathComponent($0) }
            for directory in sources {
                guard let files = fm.enumerator(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])
                else { continue }
                for case let file as URL in files where file.pathExtension == "swift" {
                    if let date = modificationDate(file), date > built.addingTimeInterval(1) {
                        return .failure(Failure(description: """
                            \(binary.path) is older than \(file.path); rebuild it: \
                            swift build -c release --product raftflow
                            """))
                    }
                }
            }
        }
        return .success(binary)
    }

    private static func modificationDate(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    /// Runs `raftflow arguments…` in `directory` with one OpenBLAS thread (tests run in parallel), and
    /// kills it after `timeout` seconds.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil, timeout: Double = 120) throws -> Result {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment["COLUMNS"] = "80"
        process.environment = environment
        // Files instead of pipes: nothing can block on a full pipe buffer.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("raftflow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: capture) }
        let outURL = capture.appendingPathComponent("stdout"), errURL = capture.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw Failure(description: "raftflow \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdoutBytes = try Data(contentsOf: outURL)
        let result = Result(status: process.terminationStatus, stdout: String(decoding: stdoutBytes, as: UTF8.self),
                            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), stdoutBytes: stdoutBytes)
        if process.terminationReason == .uncaughtSignal {
            Issue.record("raftflow \(arguments.joined(separator: " ")) crashed with signal \(result.status); stderr: \(result.stderr)")
        }
        return result
    }
}

/// A scratch directory for one test, removed when the value is deinitialised.
final class CLIScratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("raftflow-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the scratch directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Creates (if needed) and returns the subdirectory `name`.
    @discardableResult
    func directory(_ name: String) throws -> String {
        try FileManager.default.createDirectory(at: url.appendingPathComponent(name), withIntermediateDirectories: true)
        return path(name)
    }

    /// Writes raw bytes to `name`.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        try Data(bytes).write(to: url.appendingPathComponent(name))
        return path(name)
    }

    /// The entries of directory `name` (hidden ones included), sorted.
    func contents(_ name: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(name)).sorted()
    }
}

/// Small synthetic inputs, generated in the test so no binary fixtures are needed.
enum CLIInputs {
    /// RAFT-small needs at least 128×128 after padding; 160×128 keeps a pair at a few tens of ms.
    static let width = 160, height = 128

    /// A smooth texture (a few sinusoids), sampled at (x − dx, y − dy): frame `k` of a sequence shifted by
    /// (dx, dy) per frame moves by exactly that flow.
    static func frame(width: Int = width, height: Int = height, dx: Float = 0, dy: Float = 0) -> RGBImage {
        var image = RGBImage.filled(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let u = Float(x) - dx, v = Float(y) - dy
                let r = 128 + 60 * sin(0.21 * u + 0.05 * v) + 40 * cos(0.11 * v - 0.07 * u + 1)
                let g = 128 + 50 * sin(0.13 * u + 0.17 * v + 2) + 30 * sin(0.31 * v)
                let b = 128 + 70 * cos(0.09 * u - 0.23 * v + 0.5)
                image[x: x, y: y] = (r, g, b)
            }
        }
        return image
    }

    /// Writes frame `dx, dy` as a PNG into `scratch` and returns its path.
    @discardableResult
    static func writeFrame(_ name: String, in scratch: CLIScratch, width: Int = width, height: Int = height,
                           dx: Float = 0, dy: Float = 0) throws -> String {
        let path = scratch.path(name)
        try frame(width: width, height: height, dx: dx, dy: dy).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A constant flow (u, v) everywhere.
    static func constantFlow(u: Float, v: Float, width: Int = width, height: Int = height) -> FlowField {
        FlowField(unchecked: width, height, uv: (0..<width * height).flatMap { _ in [u, v] })
    }

    /// Writes `flow` into `scratch` (format from the extension) and returns its path.
    @discardableResult
    static func writeFlow(_ flow: FlowField, _ name: String, in scratch: CLIScratch) throws -> String {
        let path = scratch.path(name)
        try flow.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A Middlebury `.flo` written byte by byte, so it may hold anything (NaN, a wrong size…).
    static func rawFlo(magic: [UInt8] = Array("PIEH".utf8), width: Int32, height: Int32, values: [Float]) -> [UInt8] {
        var bytes = magic
        withUnsafeBytes(of: width.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: height.littleEndian) { bytes += $0 }
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    /// The PNG bytes of a small frame.
    static func pngBytes(width: Int = width, height: Int = height) throws -> [UInt8] {
        [UInt8](try frame(width: width, height: height).raster.encoded(as: .png))
    }
}

/// Parses stdout as a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let object = value as? [String: Any] else {
        throw RAFTFlowCLI.Failure(description: "expected a JSON object, got: \(text)")
    }
    return object
}
