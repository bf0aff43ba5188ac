import ArgumentParser
import Foundation
import RAFTKit

struct SequenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequence",
        abstract: "Estimate flow between consecutive frames of a sequence.",
        discussion: """
        Frames are taken in natural order (frame2 before frame10) from a directory or from the files \
        given. For frames f0, f1, … it writes <f0>.flo and <f0>.png (flow f0→f1) and so on into \
        --output-dir, which must not be the frame directory.

        Every frame is checked before the first pair is computed. Each pair's files are written together \
        and atomically, and pairs whose outputs already exist are skipped unless --overwrite, so an \
        interrupted run resumes where it stopped.

        All pictures share one colour scale: --max-magnitude, or else the first computed pair's maximum.

        Consecutive pairs share the feature maps of their common frame (each frame goes through the \
        feature encoder once), and while a pair is computed the next frame is decoded and the previous \
        pair's files are written on background threads. The summary gives the throughput in frames (pairs) \
        per second.

        Examples:
          raftflow sequence frames/ --output-dir flows/
          raftflow sequence f1.png f2.png f3.png --output-dir out --warm-start
          raftflow sequence frames/ --output-dir out --max-magnitude 20 --kitti
        """
    )

    @Argument(help: "A directory of frames, or two or more frame files.", completion: .file())
    var inputs: [String]
    @Option(name: .long, help: "Directory for the outputs (must exist).")
    var outputDir: String
    @OptionGroup var modelOptions: ModelOptions
    @Flag(name: .long, help: "Initialise each pair from the previous pair's forward-interpolated flow (RAFT's video mode).")
    var warmStart = false
    @Option(name: .long, help: "Flow magnitude (pixels) at full colour saturation, shared by all pictures.")
    var maxMagnitude: Float?
    @Flag(name: .long, help: "Also write KITTI 16-bit flow PNGs (<frame>_kitti.png).")
    var kitti = false
    @Flag(name: .long, help: "Recompute pairs whose outputs exist.")
    var overwrite = false
    @Flag(name: .shortAndLong, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        try validateMaxMagnitude(maxMagnitude)
    }

    func run() throws {
        try reportingInputErrors { try runSequence() }
    }

    private func runSequence() throws {
        try SequenceJob.checkOutputDirectory(outputDir)
        let job = SequenceJob(files: try SequenceJob.frames(inputs), outputDir: outputDir,
                              iterations: modelOptions.iterations, padding: modelOptions.padding, warmStart: warmStart,
                              maxMagnitude: maxMagnitude, kitti: kitti, overwrite: overwrite)
        try job.checkCanWrite(otherInputs: [modelOptions.weights])
        let result = try job.run(estimator: { try modelOptions.makeEstimator() },
                                 progress: quiet ? nil : { @Sendable line in printError(line) })
        let fps = result.computed > 0 ? Double(result.computed) / result.seconds : 0
        print("\(result.computed) pair(s) computed, \(result.skipped) skipped, \(formatSeconds(result.seconds)): \(String(format: "%.2f", fps)) fps (pairs/s); colour scale \(String(format: "%.2f", result.scale ?? 0)) px")
    }
}

/// The work of `raftflow sequence` on one list of frames, shared with `raftflow batch` (one frame-folder item):
/// flow between consecutive frames, each pair's files named after its first frame and written together and
/// atomically into `outputDir`; pairs whose outputs all exist are skipped unless `overwrite`, so an interrupted
/// run resumes where it stopped.
struct SequenceJob {
    /// The frames, in order (at least 2).
    var files: [String]
    var outputDir: String
    var iterations: Int
    var padding: InputPadder.Mode
    var warmStart: Bool
    /// The colour scale shared by all pictures; nil: the first pair's maximum (see `run`).
    var maxMagnitude: Float?
    var kitti: Bool
    var overwrite: Bool

    /// What `run` did: pairs computed and skipped, seconds spent, and the colour scale used.
    struct Result {
        var computed: Int
        var skipped: Int
        var seconds: Double
        var scale: Float?
    }

    static let frameExtensions: Set<String> = ["png", "ppm", "pgm"]

    /// The frame files of `inputs` (directories and files), in natural order.
    /// - Throws: `FlowEstimatorError.missingInput` for an input that does not exist, `.sequenceTooShort` for
    ///   fewer than 2 frames.
    static func frames(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw FlowEstimatorError.missingInput(path: input)
            }
            if isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []
                // Hidden files (.DS_Store, ._frame1.png, an interrupted writer's temporary) are not frames.
                files += names.filter { !$0.hasPrefix(".") && frameExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted(by: naturalLess).map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        if inputs.count > 1 { files.sort { naturalLess(($0 as NSString).lastPathComponent, ($1 as NSString).lastPathComponent) } }
        guard files.count >= 2 else { throw FlowEstimatorError.sequenceTooShort(count: files.count) }
        return files
    }

    /// Throws `OutputError` unless `path` is an existing directory.
    static func checkOutputDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw OutputError(path: path, reason: "output directory does not exist")
        }
    }

    /// The output paths of the pair that starts at `frame`.
    func outputPaths(for frame: String) -> (flo: String, png: String, kitti: String?) {
        let stem = ((frame as NSString).lastPathComponent as NSString).deletingPathExtension
        let base = (outputDir as NSString).appendingPathComponent(stem)
        return (base + ".flo", base + ".png", kitti ? base + "_kitti.png" : nil)
    }

    /// Every output path of every pair, in pair order.
    var allOutputs: [String] {
        files.dropLast().flatMap { frame -> [String] in
            let o = outputPaths(for: frame)
            return [o.flo, o.png] + (o.kitti.map { [$0] } ?? [])
        }
    }

    /// The pairs (index of the first frame) whose outputs are not all there, or every pair with `overwrite`.
    var pendingPairs: [Int] {
        (0..<(files.count - 1)).filter { i in
            let o = outputPaths(for: files[i])
            return overwrite || ![o.flo, o.png, o.kitti].allSatisfy { $0.map { FileManager.default.fileExists(atPath: $0) } ?? true }
        }
    }

    /// Checks before any work that every output can be created: outputs are named after the first frame of each
    /// pair, so they must not replace a frame (output directory = input directory), one of `otherInputs`, or each
    /// other (frame1.png and frame1.ppm).
    func checkCanWrite(otherInputs: [String?]) throws {
        try SequenceJob.checkOutputDirectory(outputDir)
        try checkOutputs(allOutputs, inputs: files + otherInputs)
    }

    /// Computes the pending pairs and writes their files. `estimator` is called once, after the stale
    /// temporaries of earlier killed runs are removed; `progress` gets one line per pair written.
    /// - Throws: `ImageError`/`FlowEstimatorError` or `InputError` (bad frames: exit 65), `OutputError` (73).
    ///   Every frame that will be used is decoded and size-checked before the first pair is computed, so a bad
    ///   frame fails at once and leaves nothing written.
    func run(estimator makeEstimator: () throws -> FlowEstimator, progress: (@Sendable (String) -> Void)?) throws -> Result {
        let pairs = 0..<(files.count - 1)
        OutputBatch.removeStaleTemporaries(for: allOutputs)
        let estimator = try makeEstimator()
        let todo = Set(pendingPairs)
        // Every frame that will be used is decoded and size-checked before the first pair is computed,
        // so a bad frame near the end fails at once and leaves nothing written.
        var sizes: [Int: (width: Int, height: Int)] = [:]
        for i in todo.sorted() {
            for k in [i, i + 1] where sizes[k] == nil {
                let image = try RGBImage(contentsOf: URL(fileURLWithPath: files[k]))
                sizes[k] = (image.width, image.height)
            }
            let (a, b) = (sizes[i]!, sizes[i + 1]!)
            guard a == b else {
                throw FlowEstimatorError.sizeMismatch(first: files[i], firstSize: a, second: files[i + 1], secondSize: b)
            }
        }

        // The colour scale: --max-magnitude, else the flow of the first pair in order that has one (an existing
        // output of a pair skipped before the first computed pair, or the first computed pair).
        var scale = maxMagnitude
        let firstComputed = todo.min() ?? pairs.upperBound
        for i in pairs where i < firstComputed && scale == nil {
            if let existing = try? FlowField.read(contentsOf: URL(fileURLWithPath: outputPaths(for: files[i]).flo)) {
                scale = max(existing.maxMagnitude, 1e-3)
            }
        }

        // A pipeline: while pair i is computed here, the next frame is decoded on one background thread and
        // pair i−1's outputs are encoded and written on another (FlowSequence.estimate). Pairs that follow
        // each other share their common frame's features and, with --warm-start, the warm start; a skipped
        // pair restarts both.
        let clock = ContinuousClock()
        let start = clock.now
        let outputs = pairs.map { outputPaths(for: files[$0]) }
        let names = files.map { ($0 as NSString).lastPathComponent }
        let state = PipelineState(scale: scale, start: start)
        let frameURLs = files.map { URL(fileURLWithPath: $0) }
        let sequence = estimator.sequence(iterations: iterations, padding: padding, warmStart: warmStart)
        do throws(FlowSequenceError) {
            try sequence.estimate(pairs: todo.sorted(), frame: { k in
                try RGBImage(contentsOf: frameURLs[k])
            }, result: { i, estimate in
                let paths = outputs[i]
                let scale = state.scale(default: max(estimate.flow.maxMagnitude, 1e-3))
                // The pair's files are written together: all of them, or none.
                var batch = OutputBatch()
                try batch.add(estimate.flow, to: paths.flo, format: .middlebury)
                try batch.add(FlowVisualization.colorImage(estimate.flow, maximumMagnitude: scale), to: paths.png)
                if let kittiPath = paths.kitti { try batch.add(estimate.flow, to: kittiPath, format: .kittiPNG) }
                try batch.commit()
                let seconds = state.pairWritten(clock.now)
                progress?("pair \(i + 1)/\(names.count - 1)  \(names[i]) -> \(names[i + 1])  \(formatSeconds(seconds))")
            })
        } catch {
            switch error.stage {
            case .estimating: throw InputError(file: files[error.pair], reason: "\(error.underlying)")   // e.g. frames too small
            case .loadingFrame, .handlingResult: throw error.underlying   // ImageError (65), OutputError (73)
            case .invalidPairs: throw error                                // not reached: the pairs are made here
            }
        }
        return Result(computed: state.written, skipped: pairs.count - todo.count, seconds: (clock.now - start).seconds,
                      scale: state.scale)
    }
}

/// What the output thread of `raftflow sequence` shares with the main thread: the colour scale (fixed by the first
/// pair written when no other is known), the number of pairs written and when the last one finished.
///
/// `@unchecked Sendable` is safe: every access to the mutable fields holds `lock`.
private final class PipelineState: @unchecked Sendable {
    private let lock = NSLock()
    private var _scale: Float?
    private var _written = 0
    private var last: ContinuousClock.Instant

    init(scale: Float?, start: ContinuousClock.Instant) {
        _scale = scale
        last = start
    }

    var scale: Float? { lock.withLock { _scale } }
    var written: Int { lock.withLock { _written } }

    /// The scale, set to `value` if there is none yet.
    func scale(default value: Float) -> Float {
        lock.withLock {
            if _scale == nil { _scale = value }
            return _scale!
        }
    }

    /// Counts a written pair; returns the seconds since the previous one was written (or since the start).
    func pairWritten(_ now: ContinuousClock.Instant) -> Double {
        lock.withLock {
            defer { last = now; _written += 1 }
            return (now - last).seconds
        }
    }
}
