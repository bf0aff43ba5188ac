import ArgumentParser
import Foundation
import RAFTKit

struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Estimate the optical flow from FRAME1 to FRAME2.",
        discussion: """
        Frames: PNG (8/16-bit gray, RGB, RGBA, palette), JPEG (baseline, progressive, gray, CMYK; EXIF \
        orientation applied), binary PPM/PGM. Every input is checked before the network runs; the outputs \
        are written together and atomically, so a failed run leaves none. Pictures are PNG, or JPEG when \
        the name ends in .jpg or .jpeg.

        Any frame size from 1x1 works: RAFT needs at least 128x128, so smaller frames are padded by \
        repeating their edge pixels and the flow is cropped back. --scale F runs the network on frames \
        resized by F (bilinear) and resizes the flow back to the frames' size, its vectors multiplied by \
        1/F: --scale 0.5 computes on a quarter of the pixels, at some cost in detail.

        Examples:
          raftflow flow a.png b.png --output flow.flo --visualization flow.png
          raftflow flow a.jpg b.jpg --output flow.flo --visualization flow.jpg
          raftflow flow big1.jpg big2.jpg --output flow.flo --scale 0.5
          raftflow flow a.png b.png --weights raft-things.pth --kitti-output k.png
          raftflow flow a.png b.png --composite c.png --ground-truth gt.flo -v
          raftflow flow a.png b.png -o f.flo --backward-output b.flo
          raftflow flow a.png b.png --occlusion-mask occ.png

        With --backward-output or --occlusion-mask, the flow from FRAME2 back to FRAME1 is estimated too (each frame \
        through the feature encoder once). The occlusion mask is white where a pixel of FRAME1 is occluded in \
        FRAME2 or leaves it: the forward-backward check |F + B(x+F)|^2 > a1 (|F|^2 + |B(x+F)|^2) + a2, with B(x+F) \
        sampled bilinearly (Sundaram et al. 2010, as in UnFlow).
        """
    )

    @Argument(help: "First frame (PNG, JPEG, PPM or PGM), any size.", completion: .file())
    var frame1: String
    @Argument(help: "Second frame, same size as the first.", completion: .file())
    var frame2: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Initial flow at full resolution (.flo, KITTI .png or .pfm), e.g. the previous pair's.", valueName: "flow"))
    var warmStart: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Flow output, Middlebury .flo ('-': standard output).", valueName: "out.flo"))
    var output: String?
    @Option(name: .long, help: ArgumentHelp("Colour-wheel visualisation (PNG, or JPEG for a .jpg name).", valueName: "out.png"))
    var visualization: String?
    @Option(name: .long, help: ArgumentHelp("Flow as a KITTI 16-bit PNG.", valueName: "out.png"))
    var kittiOutput: String?
    @Option(name: .long, help: ArgumentHelp("Side-by-side picture: frame 1 | flow (| error with --ground-truth).", valueName: "out.png"))
    var composite: String?
    @Option(name: .long, help: ArgumentHelp("Ground-truth flow: prints EPE, 1/3/5-px accuracy and Fl-all.", valueName: "flow"))
    var groundTruth: String?
    @Option(name: .long, help: ArgumentHelp("Backward flow FRAME2 -> FRAME1, Middlebury .flo.", valueName: "out.flo"))
    var backwardOutput: String?
    @Option(name: .long, help: ArgumentHelp("Occlusion mask of FRAME1 (8-bit gray PNG, 255 = occluded) from the forward-backward check.", valueName: "out.png"))
    var occlusionMask: String?
    @Option(name: .long, help: "Occlusion check: tolerance relative to the squared flow magnitudes (a1).")
    var occlusionAlpha1: Float = FlowOcclusion.defaultAlpha1
    @Option(name: .long, help: "Occlusion check: absolute tolerance in px^2 (a2).")
    var occlusionAlpha2: Float = FlowOcclusion.defaultAlpha2
    @Option(name: .long, help: "Flow magnitude (pixels) that maps to full colour saturation (default: the flow's maximum).")
    var maxMagnitude: Float?
    @Option(name: .long, help: ArgumentHelp("Run the network at F times the frame size (0 < F ≤ 4) and rescale the flow back.", valueName: "F"))
    var scale: Double = 1
    @Flag(name: .long, help: "One line per refinement iteration on stderr, with an estimate of the time left (the default when stderr is a terminal).")
    var progress = false
    @Flag(name: .shortAndLong, help: "Per-stage timing and peak memory on stderr.")
    var verbose = false
    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    /// Every output named.
    var outputPaths: [String?] { [output, visualization, kittiOutput, composite, backwardOutput, occlusionMask] }
    /// Whether the backward flow is needed.
    var bidirectional: Bool { backwardOutput != nil || occlusionMask != nil }

    func validate() throws {
        if output == nil && visualization == nil && kittiOutput == nil && composite == nil && backwardOutput == nil
            && occlusionMask == nil {
            throw ValidationError("nothing to write: give --output, --visualization, --kitti-output, --composite, --backward-output or --occlusion-mask")
        }
        for (name, value) in [("--occlusion-alpha1", occlusionAlpha1), ("--occlusion-alpha2", occlusionAlpha2)]
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a finite, non-negative number")
        }
        try validateMaxMagnitude(maxMagnitude)
        try validateScale(scale)
        if json && outputPaths.contains("-") {
            throw ValidationError("--json and an output on standard output ('-') cannot share it")
        }
    }

    func run() throws {
        try reportingInputErrors {
            try checkOutputs(outputPaths,
                             inputs: [frame1, frame2, warmStart, groundTruth, modelOptions.weights])
            let clock = ContinuousClock()
            let t0 = clock.now
            let estimator = try modelOptions.makeEstimator()
            let loadTime = (clock.now - t0).seconds
            let t1 = clock.now
            let image1 = try RGBImage(contentsOf: URL(fileURLWithPath: frame1))
            let image2 = try RGBImage(contentsOf: URL(fileURLWithPath: frame2))
            guard image1.width == image2.width && image1.height == image2.height else {
                throw FlowEstimatorError.sizeMismatch(first: frame1, firstSize: (image1.width, image1.height),
                                                      second: frame2, secondSize: (image2.width, image2.height))
            }
            // Every input is checked before the network runs and before anything is written.
            func read(_ path: String?) throws -> FlowField? {
                guard let path else { return nil }
                let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: path))
                guard flow.width == image1.width && flow.height == image1.height else {
                    throw FlowEstimatorError.sizeMismatch(first: frame1, firstSize: (image1.width, image1.height),
                                                          second: path, secondSize: (flow.width, flow.height))
                }
                return flow
            }
            let warm = try read(warmStart)
            let truth = try read(groundTruth)
            if let valid = truth?.valid, let groundTruth, !valid.contains(where: { $0 >= 0.5 }) {
                throw InputError(file: groundTruth, reason: "the ground truth has no valid pixel: there is nothing to evaluate")
            }
            let decodeTime = (clock.now - t1).seconds

            var result: FlowEstimate
            let network = image1.scaledSize(scale)
            let correlation = try modelOptions.correlation(for: estimator, width: network.width, height: network.height, file: frame1)
            // Large frames take seconds per iteration: report each one, and the time left at the rate so far.
            let started = clock.now, iterations = modelOptions.iterations
            let onIteration: ((RAFTIteration) -> Void)? = progress || isatty(STDERR_FILENO) != 0 ? { step in
                let elapsed = (clock.now - started).seconds
                let left = elapsed / Double(step.index) * Double(iterations - step.index)
                printError("iteration \(step.index)/\(iterations)  \(formatSeconds(elapsed))  ETA \(formatDuration(left))")
            } : nil
            do {
                result = try estimator.estimate(from: image1.resized(width: network.width, height: network.height),
                                                to: image2.resized(width: network.width, height: network.height),
                                                iterations: iterations, padding: modelOptions.padding,
                                                warmStart: warm?.resized(width: network.width, height: network.height),
                                                correlation: correlation, bidirectional: bidirectional,
                                                onIteration: onIteration)
            } catch {
                if case FlowEstimatorError.nonFiniteFlow = error { throw error }   // names the weights, not the frames
                throw InputError(file: frame1, reason: "\(error)")   // e.g. non-finite samples
            }
            result.flow = result.flow.resized(width: image1.width, height: image1.height)
            result.backward = result.backward?.resized(width: image1.width, height: image1.height)
            let t2 = clock.now
            // The colour picture only where one is written.
            let flowImage = visualization != nil || composite != nil
                ? FlowVisualization.colorImage(result.flow, maximumMagnitude: maxMagnitude) : nil
            let metrics = try truth.map { try FlowErrorStatistics(prediction: result.flow, groundTruth: $0) }
            var occlusion: PixelMask?
            if bidirectional, let backward = result.backward {
                occlusion = try FlowOcclusion.forwardBackward(forward: result.flow, backward: backward,
                                                              alpha1: occlusionAlpha1, alpha2: occlusionAlpha2)
            }
            var outputs = OutputBatch()
            if let output { try outputs.add(result.flow, to: output, format: .middlebury) }
            if let backwardOutput, let backward = result.backward { try outputs.add(backward, to: backwardOutput, format: .middlebury) }
            if let occlusionMask, let occlusion { try outputs.add(occlusion, to: occlusionMask) }
            if let kittiOutput { try outputs.add(result.flow, to: kittiOutput, format: .kittiPNG) }
            if let visualization, let flowImage { try outputs.add(flowImage, to: visualization) }
            if let composite, let flowImage {
                var panels = [image1, flowImage]
                if let truth { panels.append(try FlowVisualization.errorImage(result.flow, groundTruth: truth)) }
                try outputs.add(FlowVisualization.sideBySide(panels), to: composite)
            }
            try outputs.commit()
            let encodeTime = (clock.now - t2).seconds

            if verbose {
                printError("weights             \(formatSeconds(loadTime))  (\(estimator.description))")
                printError("decode              \(formatSeconds(decodeTime))  (\(image1.width)x\(image1.height)\(scale == 1 ? "" : ", network at \(network.width)x\(network.height)"))")
                for (stage, duration) in result.timings.stages where stage != "total" {
                    printError("\(stage.padding(toLength: 19, withPad: " ", startingAt: 0)) \(formatSeconds(duration.seconds))")
                }
                printError("network total       \(formatSeconds(result.timings.total.seconds))  (\(correlation == .onDemand ? "on-demand" : "all-pairs") correlation)")
                printError("encode              \(formatSeconds(encodeTime))")
                printError("peak memory (RSS)   \(peakResidentBytes() / 1_048_576) MiB")
                let usage = ProcessUsage.now()
                printError("process             \(usage.minorFaults) minor page faults, \(formatSeconds(usage.systemSeconds)) kernel, \(formatSeconds(usage.userSeconds)) user CPU")
            }
            if json {
                let summary = FlowSummary(frame1: frame1, frame2: frame2, width: image1.width, height: image1.height,
                                          model: estimator.variant.rawValue, iterations: modelOptions.iterations,
                                          maxMagnitude: result.flow.maxMagnitude, metrics: metrics,
                                          occludedFraction: occlusion?.fraction, seconds: result.timings.total.seconds)
                print(try jsonString(summary))
            } else {
                var line = "\(frame1) -> \(frame2): \(image1.width)x\(image1.height), RAFT-\(estimator.variant.rawValue), \(modelOptions.iterations) iterations, max |flow| \(String(format: "%.2f", result.flow.maxMagnitude)) px, \(formatSeconds(result.timings.total.seconds))"
                if let metrics { line += String(format: ", EPE %.3f px, 1px %.1f%%, Fl-all %.2f%%", metrics.epe, 100 * metrics.accuracy1px, 100 * metrics.flAll) }
                if let occlusion { line += String(format: ", occluded %.1f%%", 100 * occlusion.fraction) }
                // With an output on standard output (`-o -`), the summary goes to standard error.
                if outputPaths.contains("-") { printError(line) } else { print(line) }
            }
        }
    }
}

struct FlowSummary: Encodable {
    var frame1: String, frame2: String, width: Int, height: Int, model: String, iterations: Int
    var maxMagnitude: Float
    var metrics: FlowErrorStatistics?
    /// With --backward-output or --occlusion-mask: the fraction of FRAME1's pixels that are occluded.
    var occludedFraction: Double?
    var seconds: Double
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
