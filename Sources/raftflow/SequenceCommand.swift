import ArgumentParser
import Foundation
import RAFTKit

struct SequenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequence",
        abstract: "Estimate flow between consecutive frames of a sequence.",
        discussion: """
        Frames are taken in natural order (frame2 before frame10) from a directory or from the files given.
        For frames f0, f1, … it writes <f0>.flo and <f0>.png (flow f0→f1) and so on into --output-dir.
        Pairs whose outputs already exist are skipped unless --overwrite, so an interrupted run resumes.
        All pictures share one colour scale: --max-magnitude, or else the first computed pair's maximum.
        Examples:
          raftflow sequence frames/ --output-dir flows/
          raftflow sequence f1.png f2.png f3.png f4.png --output-dir out --warm-start --max-magnitude 20
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
        if let m = maxMagnitude, !(m > 0 && m.isFinite) { throw ValidationError("--max-magnitude must be a positive, finite number") }
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
                files += names.filter { Self.frameExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted(by: naturalLess).map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        if inputs.count > 1 { files.sort { naturalLess(($0 as NSString).lastPathComponent, ($1 as NSString).lastPathComponent) } }
        guard files.count >= 2 else { throw FlowEstimatorError.sequenceTooShort(count: files.count) }
        return files
    }

    func run() throws {
        try reportingInputErrors {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: outputDir, isDirectory: &isDir), isDir.boolValue else {
                throw OutputError(path: outputDir, reason: "output directory does not exist")
            }
            let files = try frames()
            let estimator = try modelOptions.makeEstimator()
            let clock = ContinuousClock()
            let start = clock.now
            var scale = maxMagnitude
            var previousLowRes: Tensor?
            var computed = 0, skipped = 0
            var cache: (path: String, image: RGBImage)?
            for i in 0..<(files.count - 1) {
                let stem = ((files[i] as NSString).lastPathComponent as NSString).deletingPathExtension
                let floPath = (outputDir as NSString).appendingPathComponent(stem + ".flo")
                let pngPath = (outputDir as NSString).appendingPathComponent(stem + ".png")
                let kittiPath = (outputDir as NSString).appendingPathComponent(stem + "_kitti.png")
                let expected = [floPath, pngPath] + (kitti ? [kittiPath] : [])
                if !overwrite && expected.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                    skipped += 1
                    previousLowRes = nil   // the chain of warm starts restarts after a skipped pair
                    if scale == nil, let existing = try? FlowField.read(contentsOf: URL(fileURLWithPath: floPath)) {
                        scale = max(existing.maxMagnitude, 1e-3)
                    }
                    continue
                }
                let pairStart = clock.now
                let image1 = try cache?.path == files[i] ? cache!.image : RGBImage(contentsOf: URL(fileURLWithPath: files[i]))
                let image2 = try RGBImage(contentsOf: URL(fileURLWithPath: files[i + 1]))
                cache = (files[i + 1], image2)
                guard image1.width == image2.width && image1.height == image2.height else {
                    throw FlowEstimatorError.sizeMismatch(first: files[i], firstSize: (image1.width, image1.height),
                                                          second: files[i + 1], secondSize: (image2.width, image2.height))
                }
                let result = try estimator.estimate(from: image1, to: image2, iterations: modelOptions.iterations,
                                                    padding: modelOptions.padding,
                                                    lowResolutionWarmStart: warmStart ? previousLowRes.map(FlowEstimator.forwardInterpolate) : nil)
                previousLowRes = result.lowResolution
                if scale == nil { scale = max(result.flow.maxMagnitude, 1e-3) }
                try writeFlow(result.flow, to: floPath, format: .middlebury)
                try writeImage(FlowVisualization.colorImage(result.flow, maximumMagnitude: scale), to: pngPath)
                if kitti { try writeFlow(result.flow, to: kittiPath, format: .kittiPNG) }
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
