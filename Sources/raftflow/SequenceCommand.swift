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

    static let frameExtensions: Set<String> = ["png", "ppm", "pgm"]

    /// The frame files, in natural order.
    func frames() throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw FlowEstimatorError.missingInput(path: input)
            }
            if isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []
                // Hidden files (.DS_Store, ._frame1.png, an interrupted writer's temporary) are not frames.
                files += names.filter { !$0.hasPrefix(".") && Self.frameExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted(by: naturalLess).map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        if inputs.count > 1 { files.sort { naturalLess(($0 as NSString).lastPathComponent, ($1 as NSString).lastPathComponent) } }
        guard files.count >= 2 else { throw FlowEstimatorError.sequenceTooShort(count: files.count) }
        return files
    }

    /// The output paths of the pair that starts at `frame`.
    func outputPaths(for frame: String) -> (flo: String, png: String, kitti: String?) {
        let stem = ((frame as NSString).lastPathComponent as NSString).deletingPathExtension
        let base = (outputDir as NSString).appendingPathComponent(stem)
        return (base + ".flo", base + ".png", kitti ? base + "_kitti.png" : nil)
    }

    func run() throws {
        try reportingInputErrors {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: outputDir, isDirectory: &isDir), isDir.boolValue else {
                throw OutputError(path: outputDir, reason: "output directory does not exist")
            }
            let files = try frames()
            let pairs = 0..<(files.count - 1)
            // Outputs are named after the first frame of each pair: they must not replace a frame (output
            // directory = input directory) or each other (frame1.png and frame1.ppm).
            try checkOutputs(pairs.flatMap { i -> [String?] in
                let o = outputPaths(for: files[i])
                return [o.flo, o.png, o.kitti]
            }, inputs: files + [modelOptions.weights])
            OutputBatch.removeStaleTemporaries(for: pairs.flatMap { i -> [String] in
                let o = outputPaths(for: files[i])
                return [o.flo, o.png] + (o.kitti.map { [$0] } ?? [])
            })
            let estimator = try modelOptions.makeEstimator()
            let todo = Set(pairs.filter { i in
                let o = outputPaths(for: files[i])
                return overwrite || ![o.flo, o.png, o.kitti].allSatisfy { $0.map { FileManager.default.fileExists(atPath: $0) } ?? true }
            })
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

            let clock = ContinuousClock()
            let start = clock.now
            var scale = maxMagnitude
            var previousLowRes: Tensor?
            var computed = 0, skipped = 0
            var cache: (path: String, image: RGBImage)?
            for i in pairs {
                let paths = outputPaths(for: files[i])
                guard todo.contains(i) else {
                    skipped += 1
                    previousLowRes = nil   // the chain of warm starts restarts after a skipped pair
                    if scale == nil, let existing = try? FlowField.read(contentsOf: URL(fileURLWithPath: paths.flo)) {
                        scale = max(existing.maxMagnitude, 1e-3)
                    }
                    continue
                }
                let pairStart = clock.now
                let image1 = try cache?.path == files[i] ? cache!.image : RGBImage(contentsOf: URL(fileURLWithPath: files[i]))
                let image2 = try RGBImage(contentsOf: URL(fileURLWithPath: files[i + 1]))
                cache = (files[i + 1], image2)
                let result: FlowEstimate
                do {
                    result = try estimator.estimate(from: image1, to: image2, iterations: modelOptions.iterations,
                                                    padding: modelOptions.padding,
                                                    lowResolutionWarmStart: warmStart ? previousLowRes.map(FlowEstimator.forwardInterpolate) : nil)
                } catch {
                    throw InputError(file: files[i], reason: "\(error)")   // e.g. frames too small for RAFT
                }
                previousLowRes = result.lowResolution
                if scale == nil { scale = max(result.flow.maxMagnitude, 1e-3) }
                // The pair's files are written together: all of them, or none.
                var outputs = OutputBatch()
                try outputs.add(result.flow, to: paths.flo, format: .middlebury)
                try outputs.add(FlowVisualization.colorImage(result.flow, maximumMagnitude: scale), to: paths.png)
                if let kittiPath = paths.kitti { try outputs.add(result.flow, to: kittiPath, format: .kittiPNG) }
                try outputs.commit()
                computed += 1
                if !quiet {
                    printError("pair \(i + 1)/\(files.count - 1)  \((files[i] as NSString).lastPathComponent) -> \((files[i + 1] as NSString).lastPathComponent)  \(formatSeconds((clock.now - pairStart).seconds))")
                }
            }
            let total = (clock.now - start).seconds
            let fps = computed > 0 ? Double(computed) / total : 0
            print("\(computed) pair(s) computed, \(skipped) skipped, \(formatSeconds(total)) (\(String(format: "%.2f", fps)) pairs/s); colour scale \(String(format: "%.2f", scale ?? 0)) px")
        }
    }
}
