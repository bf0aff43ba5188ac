import ArgumentParser
import Foundation
import RAFTKit
import RAFTKitVideo

struct SequenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequence",
        abstract: "Estimate flow between consecutive frames of a folder, a video or a list of files.",
        discussion: """
        Frames come from a folder (every PNG, JPEG, PPM and PGM file in it, in natural order: frame2 before \
        frame10; formats may be mixed when the sizes match; every other entry is skipped with one warning \
        line), from a video file (anything FFmpeg decodes: .mp4, .mkv, .mov, .avi…), or from the files given. \
        Frames are numbered from 0; the options --start, --frames and --step select some: pairs (s, s+K), \
        (s+K, s+2K)…

        For frames f0, f1, … it writes <f0>.flo and <f0>.png (flow f0→f1) and so on into --output-dir \
        (created when missing; it must not be the frame folder). A video's pairs are named after the index \
        of their first frame: frame_000000.flo, frame_000001.flo…

        Frames are decoded as they are needed, one ahead of the pair being computed, so memory does not grow \
        with the length. Each pair's files are written together and atomically, and pairs whose outputs \
        already exist are skipped unless the option --overwrite is given, so an interrupted run, or one \
        stopped by a damaged frame, resumes where it stopped.

        All pictures share one colour scale: --max-magnitude, or else the first computed pair's maximum. \
        The option --video also writes them as a video, at the input video's frame rate (divided by --step) \
        or --fps.

        Any frame size from 1x1 works (frames under 128 px on a side are padded by repeating their edges, \
        and the flow is cropped back); the option --scale F runs the network at F times the frame size and \
        rescales the flow back.

        Consecutive pairs share the feature maps of their common frame (each frame goes through the \
        feature encoder once), and while a pair is computed the next frame is decoded and the previous \
        pair's files are written on background threads. The summary gives the throughput in frames (pairs) \
        per second.

        Examples:
          raftflow sequence frames/ --output-dir flows/
          raftflow sequence clip.mp4 --output-dir flows/ --video flow.mp4
          raftflow sequence clip.mp4 --output-dir out --start 100 --frames 50 --step 2
          raftflow sequence f1.jpg f2.jpg f3.jpg --output-dir out --warm-start
          raftflow sequence frames/ --output-dir out --max-magnitude 20 --kitti
        """
    )

    @Argument(help: "A folder of frames, a video file, or two or more frame files.", completion: .file())
    var inputs: [String]
    @Option(name: .long, help: "Folder for the outputs (created when missing).")
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
    @Option(name: .long, help: "First frame to use, from 0.")
    var start = 0
    @Option(name: .long, help: "Number of frames to use (default: all from --start).")
    var frames: Int?
    @Option(name: .long, help: "Use every K-th frame.")
    var step = 1
    @Option(name: .long, help: ArgumentHelp("Run the network at F times the frame size (0 < F ≤ 4) and rescale the flow back.", valueName: "F"))
    var scale: Double = 1
    @Option(name: .long, help: ArgumentHelp("Also write the colour-wheel pictures as a video (.mp4, .mkv, .mov, .avi).", valueName: "out.mp4"))
    var video: String?
    @Option(name: .long, help: "Frame rate of --video (default: the input video's, divided by --step; 25 for image files).")
    var fps: Double?
    @Flag(name: .shortAndLong, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        try validateMaxMagnitude(maxMagnitude)
        try validateScale(scale)
        guard start >= 0 else { throw ValidationError("--start must be 0 or more") }
        if let frames, frames < 2 { throw ValidationError("--frames must be at least 2 (one pair)") }
        guard step >= 1 else { throw ValidationError("--step must be at least 1") }
        if let fps, !(fps > 0 && fps <= 1000) { throw ValidationError("--fps must be greater than 0 and at most 1000") }
        if fps != nil && video == nil { throw ValidationError("--fps sets the frame rate of --video; give --video too") }
    }

    func run() throws {
        try reportingInputErrors { try runSequence() }
    }

    private func runSequence() throws {
        let selection = FrameSelection(start: start, count: frames, step: step)
        let source = try FrameSource.open(inputs, selection: selection, warning: { printError("raftflow: warning: \($0)") })
        if case let .video(path, info, indices) = source, !quiet {
            let rate = info.frameRate.map { ", \($0)" } ?? ""
            printError("\(path): \(info.width)x\(info.height)\(rate), \(info.frameCount) frames (\(info.codec)); using \(indices.count)")
        }
        try SequenceJob.createOutputDirectory(outputDir)
        var job = SequenceJob(source: source, outputDir: outputDir, iterations: modelOptions.iterations,
                              padding: modelOptions.padding, warmStart: warmStart, maxMagnitude: maxMagnitude,
                              kitti: kitti, overwrite: overwrite)
        job.scale = scale
        let options = modelOptions
        try job.checkCanWrite(otherInputs: [modelOptions.weights], extraOutputs: [video])
        let estimator = try modelOptions.makeEstimator()
        job.correlation = { width, height, file in
            try options.correlation(for: estimator, width: width, height: height, file: file, sequence: true)
        }
        let result = try job.run(estimator: { estimator },
                                 progress: quiet ? nil : { @Sendable line in printError(line) })
        if let ended = result.videoEnded {
            printError("raftflow: warning: \(ended.path): the video ended after frame \(ended.lastFrame) (\(ended.counted) frames counted); \(result.computed) pair(s) computed")
        }
        var videoNote = ""
        if let video {
            let rate = fps.map { FrameRate(approximating: $0) } ?? job.source.frameRate(step: step)
            let written = try job.writeVideo(to: video, frameRate: rate)
            videoNote = "; \(video): \(written.frames) frames, \(written.codec), \(rate)"
        }
        let fps = result.computed > 0 ? Double(result.computed) / result.seconds : 0
        print("\(result.computed) pair(s) computed, \(result.skipped) skipped, \(formatSeconds(result.seconds)): \(String(format: "%.2f", fps)) fps (pairs/s); colour scale \(String(format: "%.2f", result.scale ?? 0)) px\(videoNote)")
    }
}

/// `--start`, `--frames`, `--step`: which of a source's frames a sequence uses.
struct FrameSelection {
    var start = 0
    /// Frames to use, nil for all from `start`.
    var count: Int?
    var step = 1

    /// The indices selected from `total` frames, in order.
    func indices(of total: Int) -> [Int] {
        guard start < total else { return [] }
        let all = stride(from: start, to: total, by: step)
        return count.map { Array(all.prefix($0)) } ?? Array(all)
    }
}

/// Where a sequence's frames come from.
enum FrameSource {
    /// Image files, in order.
    case files([String])
    /// Frames of a video file: `indices` are the frame numbers used (from 0), increasing.
    case video(path: String, info: VideoInfo, indices: [Int])

    static let imageExtensions: Set<String> = ["png", "ppm", "pgm", "pnm", "jpg", "jpeg"]

    /// The frames of `inputs`: one folder or video, or files and folders.
    /// - Throws: `FlowEstimatorError.missingInput` for an input that does not exist, `.sequenceTooShort` for fewer
    ///   than 2 selected frames, `VideoError` for a video that cannot be opened.
    static func open(_ inputs: [String], selection: FrameSelection = FrameSelection(),
                     warning: (String) -> Void = { _ in }) throws -> FrameSource {
        if inputs.count == 1, let path = inputs.first, isVideo(path) {
            let video = try VideoReader(contentsOf: URL(fileURLWithPath: path))
            let indices = selection.indices(of: video.info.frameCount)
            guard indices.count >= 2 else {
                throw InputError(file: path, reason: "a sequence needs at least 2 frames, found \(indices.count) of the video's \(video.info.frameCount) with --start \(selection.start) --step \(selection.step)")
            }
            return .video(path: path, info: video.info, indices: indices)
        }
        let all = try SequenceJob.frameListing(inputs, warning: warning)
        let chosen = selection.indices(of: all.count).map { all[$0] }
        guard chosen.count >= 2 else { throw FlowEstimatorError.sequenceTooShort(count: chosen.count) }
        return .files(chosen)
    }

    /// Whether `path` is an existing regular file whose first bytes are not an image's (then it is read as a video).
    static func isVideo(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        guard head.count >= 8 else { return false }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47], jpeg: [UInt8] = [0xFF, 0xD8, 0xFF]
        let netpbm = head[0] == UInt8(ascii: "P") && (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(head[1])
        return !(head.starts(with: png) || head.starts(with: jpeg) || netpbm)
    }

    /// Number of frames used.
    var count: Int {
        switch self {
        case let .files(files): files.count
        case let .video(_, _, indices): indices.count
        }
    }

    /// The files the frames are read from.
    var inputPaths: [String] {
        switch self {
        case let .files(files): files
        case let .video(path, _, _): [path]
        }
    }

    /// Frame `k` as progress lines name it: the file name, or "frame N" of a video.
    func name(_ k: Int) -> String {
        switch self {
        case let .files(files): (files[k] as NSString).lastPathComponent
        case let .video(_, _, indices): "frame \(indices[k])"
        }
    }

    /// The output stem of the pair that starts at frame `k`: the file's name without extension, or frame_NNNNNN.
    func stem(_ k: Int) -> String {
        switch self {
        case let .files(files): ((files[k] as NSString).lastPathComponent as NSString).deletingPathExtension
        case let .video(_, _, indices): String(format: "frame_%06d", indices[k])
        }
    }

    /// The file a frame error names.
    func file(_ k: Int) -> String {
        switch self {
        case let .files(files): files[k]
        case let .video(path, _, _): path
        }
    }

    /// The rate of a flow video: the input video's divided by `step`, else 25 frames per second.
    func frameRate(step: Int) -> FrameRate {
        guard case let .video(_, info, _) = self, let rate = info.frameRate else { return FrameRate(numerator: 25) }
        return FrameRate(numerator: rate.numerator, denominator: rate.denominator * step)
    }

    /// A loader of frame `k` for `FlowSequence.estimate`, called in increasing order, one call at a time. A video is
    /// decoded forward from its start (frames between the selected ones are decoded and dropped). Every frame must
    /// have the size of the first frame loaded.
    func loader() throws -> FrameLoader { try FrameLoader(self) }
}

/// Loads the frames of a `FrameSource` in increasing order on the pipeline's loader thread, checking that their sizes
/// match, and remembers the frames' size for the result thread.
///
/// `@unchecked Sendable` is safe: the loader thread calls `load` one call at a time (FlowSequence.estimate's
/// contract), and `size` is read under `lock`.
final class FrameLoader: @unchecked Sendable {
    private let source: FrameSource
    private let video: VideoReader?
    private let lock = NSLock()
    private var first: (name: String, width: Int, height: Int)?

    /// A video that ended before a selected frame.
    struct Ended: Error, CustomStringConvertible {
        var path: String
        var lastFrame: Int
        var counted: Int
        var description: String { "\(path): the video ended after frame \(lastFrame) (\(counted) frames counted)" }
    }

    init(_ source: FrameSource) throws {
        self.source = source
        if case let .video(path, _, _) = source { video = try VideoReader(contentsOf: URL(fileURLWithPath: path)) } else { video = nil }
    }

    /// The size of the frames, once one has been loaded.
    var size: (width: Int, height: Int)? { lock.withLock { first.map { ($0.width, $0.height) } } }

    func load(_ k: Int) throws -> RGBImage {
        let image: RGBImage
        switch source {
        case let .files(files):
            image = try RGBImage(contentsOf: URL(fileURLWithPath: files[k]))
        case let .video(path, info, indices):
            let video = video!
            while video.nextFrameIndex < indices[k] {
                guard try video.skipFrame() else { throw Ended(path: path, lastFrame: video.nextFrameIndex - 1, counted: info.frameCount) }
            }
            guard let frame = try video.nextFrame() else {
                throw Ended(path: path, lastFrame: video.nextFrameIndex - 1, counted: info.frameCount)
            }
            image = frame
        }
        try lock.withLock {
            guard let first else {
                first = (source.file(k), image.width, image.height)
                return
            }
            guard first.width == image.width, first.height == image.height else {
                throw FlowEstimatorError.sizeMismatch(first: first.name, firstSize: (first.width, first.height),
                                                      second: source.file(k), secondSize: (image.width, image.height))
            }
        }
        return image
    }
}

/// The work of `raftflow sequence` on one source of frames, shared with `raftflow batch` (one frame-folder item):
/// flow between consecutive frames, each pair's files named after its first frame and written together and
/// atomically into `outputDir`; pairs whose outputs all exist are skipped unless `overwrite`, so an interrupted
/// run resumes where it stopped.
struct SequenceJob {
    /// The frames, in order (at least 2).
    var source: FrameSource
    var outputDir: String
    var iterations: Int
    var padding: InputPadder.Mode
    var warmStart: Bool
    /// The colour scale shared by all pictures; nil: the first pair's maximum (see `run`).
    var maxMagnitude: Float?
    var kitti: Bool
    var overwrite: Bool
    /// The network runs at `scale` times the frame size; the flow is rescaled to the frames' size.
    var scale: Double = 1
    /// The correlation strategy for the network's frame size, or an error when the frames do not fit in memory
    /// (`ModelOptions.correlation(for:width:height:file:sequence:)`); nil: automatic.
    var correlation: ((_ width: Int, _ height: Int, _ file: String) throws -> CorrelationMode)?

    init(source: FrameSource, outputDir: String, iterations: Int, padding: InputPadder.Mode, warmStart: Bool,
         maxMagnitude: Float?, kitti: Bool, overwrite: Bool) {
        self.source = source
        self.outputDir = outputDir
        self.iterations = iterations
        self.padding = padding
        self.warmStart = warmStart
        self.maxMagnitude = maxMagnitude
        self.kitti = kitti
        self.overwrite = overwrite
    }

    /// A job on image files, in order.
    init(files: [String], outputDir: String, iterations: Int, padding: InputPadder.Mode, warmStart: Bool,
         maxMagnitude: Float?, kitti: Bool, overwrite: Bool) {
        self.init(source: .files(files), outputDir: outputDir, iterations: iterations, padding: padding,
                  warmStart: warmStart, maxMagnitude: maxMagnitude, kitti: kitti, overwrite: overwrite)
    }

    /// What `run` did: pairs computed and skipped, seconds spent, and the colour scale used.
    struct Result {
        var computed: Int
        var skipped: Int
        var seconds: Double
        var scale: Float?
        /// Set when a video had fewer frames than its packets promised: the run stopped there.
        var videoEnded: FrameLoader.Ended?
    }

    /// The image files of `inputs` (folders and files) in natural order, for `raftflow batch`'s folder items
    /// (no warnings, no selection).
    /// - Throws: `FlowEstimatorError.missingInput` for an input that does not exist, `.sequenceTooShort` for
    ///   fewer than 2 frames.
    static func frames(_ inputs: [String]) throws -> [String] {
        let files = try frameListing(inputs)
        guard files.count >= 2 else { throw FlowEstimatorError.sequenceTooShort(count: files.count) }
        return files
    }

    /// The image files of `inputs` in natural order: a folder's entries with an image extension (PNG, JPEG, PPM,
    /// PGM, PNM, any case); every other entry of a folder (hidden files, subfolders, other names) is passed to
    /// `warning` with the reason it is skipped. Files given by name are taken as they are.
    /// - Throws: `FlowEstimatorError.missingInput` for an input that does not exist.
    static func frameListing(_ inputs: [String], warning: (String) -> Void = { _ in }) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw FlowEstimatorError.missingInput(path: input)
            }
            guard isDir.boolValue else {
                files.append(input)
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []
            for name in names.sorted(by: naturalLess) {
                let path = (input as NSString).appendingPathComponent(name)
                var entryIsDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path, isDirectory: &entryIsDir)
                if name.hasPrefix(".") {
                    // .DS_Store, ._frame1.png, an interrupted writer's temporary: not frames.
                    warning("\(path): skipped (hidden file)")
                } else if entryIsDir.boolValue {
                    warning("\(path): skipped (a folder; frames are not looked for in subfolders)")
                } else if FrameSource.imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    files.append(path)
                } else {
                    warning("\(path): skipped (not a .png, .jpg, .jpeg, .ppm, .pgm or .pnm name)")
                }
            }
        }
        if inputs.count > 1 { files.sort { naturalLess(($0 as NSString).lastPathComponent, ($1 as NSString).lastPathComponent) } }
        return files
    }

    /// Creates `path` (and its parents) when missing; throws `OutputError` when it cannot, or is not a folder.
    static func createOutputDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw OutputError(path: path, reason: "it exists and is not a folder") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw OutputError(path: path, reason: "cannot create the output folder: \((error as NSError).localizedDescription)")
        }
    }

    /// Throws `OutputError` unless `path` is an existing directory.
    static func checkOutputDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw OutputError(path: path, reason: "output directory does not exist")
        }
    }

    /// The output paths of the pair that starts at frame `k`.
    func outputPaths(for k: Int) -> (flo: String, png: String, kitti: String?) {
        let base = (outputDir as NSString).appendingPathComponent(source.stem(k))
        return (base + ".flo", base + ".png", kitti ? base + "_kitti.png" : nil)
    }

    /// With `warmStart`, the folder inside `outputDir` that keeps each pair's 1/8-resolution flow (`<stem>.flo`),
    /// the state a resumed run needs to continue the warm start exactly where it stopped.
    static let warmStartFolder = ".raftflow-warm-start"

    /// Pair `k`'s 1/8-resolution flow, kept with `warmStart`; nil without.
    func warmStartPath(for k: Int) -> String? {
        guard warmStart else { return nil }
        return ((outputDir as NSString).appendingPathComponent(Self.warmStartFolder) as NSString)
            .appendingPathComponent(source.stem(k) + ".flo")
    }

    /// Every output path of every pair, in pair order (the warm-start state included).
    var allOutputs: [String] {
        (0..<(source.count - 1)).flatMap { k -> [String] in
            let o = outputPaths(for: k)
            return [o.flo, o.png] + (o.kitti.map { [$0] } ?? []) + (warmStartPath(for: k).map { [$0] } ?? [])
        }
    }

    /// The pairs (index of the first frame) whose outputs are not all there (a pair a kill interrupted between
    /// its files, or, with `warmStart`, one without its kept state), or every pair with `overwrite`.
    var pendingPairs: [Int] {
        (0..<(source.count - 1)).filter { i in
            let o = outputPaths(for: i)
            return overwrite || ![o.flo, o.png, o.kitti, warmStartPath(for: i)].allSatisfy {
                $0.map { FileManager.default.fileExists(atPath: $0) } ?? true
            }
        }
    }

    /// Checks before any work that every output can be created: outputs are named after the first frame of each
    /// pair, so they must not replace a frame (output directory = input directory), one of `otherInputs`, or each
    /// other (frame1.png and frame1.ppm).
    /// With `warmStart`, it creates the folder of the kept warm-start state.
    func checkCanWrite(otherInputs: [String?], extraOutputs: [String?] = []) throws {
        try SequenceJob.checkOutputDirectory(outputDir)
        if warmStart {
            try SequenceJob.createOutputDirectory((outputDir as NSString).appendingPathComponent(Self.warmStartFolder))
        }
        try checkOutputs(allOutputs + extraOutputs, inputs: source.inputPaths + otherInputs)
    }

    /// Computes the pending pairs and writes their files. `estimator` is called once, after the stale
    /// temporaries of earlier killed runs are removed; `progress` gets one line per pair written.
    /// - Throws: `ImageError`/`VideoError`/`FlowEstimatorError` or `InputError` (bad frames: exit 65), `OutputError`
    ///   (73). Frames are decoded as they are needed: a bad frame stops the run there, after the pairs before it
    ///   were written.
    func run(estimator makeEstimator: () throws -> FlowEstimator, progress: (@Sendable (String) -> Void)?) throws -> Result {
        let pairs = 0..<(source.count - 1)
        OutputBatch.removeStaleTemporaries(for: allOutputs)
        let estimator = try makeEstimator()
        let todo = pendingPairs

        // The colour scale: --max-magnitude, else the flow of the first pair in order that has one (an existing
        // output of a pair skipped before the first computed pair, or the first computed pair).
        var scale = maxMagnitude
        let firstComputed = todo.first ?? pairs.upperBound
        for i in pairs where i < firstComputed && scale == nil {
            if let existing = try? FlowField.read(contentsOf: URL(fileURLWithPath: outputPaths(for: i).flo)) {
                scale = max(existing.maxMagnitude, 1e-3)
            }
        }
        guard !todo.isEmpty else { return Result(computed: 0, skipped: pairs.count, seconds: 0, scale: scale) }

        // A pipeline: while pair i is computed here, the next frame is decoded on one background thread and
        // pair i−1's outputs are encoded and written on another (FlowSequence.estimate). Pairs that follow
        // each other share their common frame's features and, with --warm-start, the warm start; a skipped
        // pair restarts both.
        let clock = ContinuousClock()
        let start = clock.now
        let outputs = pairs.map { outputPaths(for: $0) }
        let names = (0..<source.count).map { source.name($0) }
        let state = PipelineState(scale: scale, start: start)
        let loader = try source.loader()
        let networkScale = self.scale
        var mode: CorrelationMode = .automatic(memoryBudget: CorrelationMode.defaultMemoryBudget)
        if let correlation, let first = todo.first {
            var size: (width: Int, height: Int)
            if case let .video(_, info, _) = source { size = (info.width, info.height) } else {
                let image = try RGBImage(contentsOf: URL(fileURLWithPath: source.file(first)))
                size = (image.width, image.height)
            }
            size = (max(1, Int((Double(size.width) * networkScale).rounded())),
                    max(1, Int((Double(size.height) * networkScale).rounded())))
            mode = try correlation(size.width, size.height, source.file(first))
        }
        let sequence = estimator.sequence(iterations: iterations, padding: padding, correlation: mode, warmStart: warmStart)
        let total = todo.count
        let keptFlow = (0..<pairs.count).map { warmStartPath(for: $0) }
        do throws(FlowSequenceError) {
            try sequence.estimate(pairs: todo, frame: { k in
                let image = try loader.load(k)
                guard networkScale != 1 else { return image }
                let size = image.scaledSize(networkScale)
                return image.resized(width: size.width, height: size.height)
            }, previousFlow: { i in
                // The chain after a resume continues from the pair before it, as the uninterrupted run did.
                keptFlow[i].flatMap { try? FlowField.read(contentsOf: URL(fileURLWithPath: $0)) }?.tensor
            }, result: { i, estimate in
                let paths = outputs[i]
                var flow = estimate.flow
                if let size = loader.size { flow = flow.resized(width: size.width, height: size.height) }
                let scale = state.scale(default: max(flow.maxMagnitude, 1e-3))
                // The pair's files are written together: all of them, or none.
                var batch = OutputBatch()
                try batch.add(flow, to: paths.flo, format: .middlebury)
                try batch.add(FlowVisualization.colorImage(flow, maximumMagnitude: scale), to: paths.png)
                if let kittiPath = paths.kitti { try batch.add(flow, to: kittiPath, format: .kittiPNG) }
                if let kept = keptFlow[i] { try batch.add(FlowField(tensor: estimate.lowResolution), to: kept, format: .middlebury) }
                try batch.commit()
                let (seconds, written, elapsed) = state.pairWritten(clock.now)
                let remaining = elapsed / Double(written) * Double(total - written)
                progress?("pair \(i + 1)/\(names.count - 1)  \(names[i]) -> \(names[i + 1])  \(formatSeconds(seconds))  [\(written)/\(total), ETA \(formatDuration(remaining))]")
            })
        } catch {
            if case .loadingFrame = error.stage, let ended = error.underlying as? FrameLoader.Ended {
                return Result(computed: state.written, skipped: pairs.count - todo.count,
                              seconds: (clock.now - start).seconds, scale: state.scale, videoEnded: ended)
            }
            switch error.stage {
            case .estimating: throw InputError(file: source.file(error.pair), reason: "\(error.underlying)")   // e.g. non-finite samples
            case .loadingFrame, .handlingResult: throw error.underlying   // ImageError/VideoError (65), OutputError (73)
            case .invalidPairs: throw error                                // not reached: the pairs are made here
            }
        }
        return Result(computed: state.written, skipped: pairs.count - todo.count, seconds: (clock.now - start).seconds,
                      scale: state.scale)
    }

    /// Writes the colour-wheel pictures of every pair whose picture exists, in order, as a video at `path`
    /// (atomically). Returns the frames written and the encoder used.
    /// - Throws: `OutputError` when the video cannot be written, `ImageError` for an unreadable picture.
    func writeVideo(to path: String, frameRate: FrameRate) throws -> (frames: Int, codec: String) {
        var writer: VideoWriter?
        for k in 0..<(source.count - 1) {
            let picture = outputPaths(for: k).png
            guard FileManager.default.fileExists(atPath: picture) else { continue }
            let image = try RGBImage(contentsOf: URL(fileURLWithPath: picture))
            do {
                if writer == nil {
                    writer = try VideoWriter(url: URL(fileURLWithPath: path), width: image.width, height: image.height,
                                             frameRate: frameRate)
                }
                try writer!.append(image)
            } catch {
                throw OutputError(path: path, reason: "\(error)")
            }
        }
        guard let writer else { throw OutputError(path: path, reason: "no pair has a picture to write") }
        do { try writer.finish() } catch { throw OutputError(path: path, reason: "\(error)") }
        return (writer.frameCount, writer.codec)
    }
}

extension FrameRate {
    /// `value` frames per second as a fraction with denominator 1000 (or 1 for whole numbers).
    init(approximating value: Double) {
        if value == value.rounded() { self.init(numerator: Int(value)) } else {
            self.init(numerator: Int((value * 1000).rounded()), denominator: 1000)
        }
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
    private let start: ContinuousClock.Instant
    private var last: ContinuousClock.Instant

    init(scale: Float?, start: ContinuousClock.Instant) {
        _scale = scale
        self.start = start
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

    /// Counts a written pair; returns the seconds since the previous one was written (or since the start), the
    /// pairs written so far and the seconds since the start.
    func pairWritten(_ now: ContinuousClock.Instant) -> (seconds: Double, written: Int, elapsed: Double) {
        lock.withLock {
            defer { last = now }
            _written += 1
            return ((now - last).seconds, _written, (now - start).seconds)
        }
    }
}
