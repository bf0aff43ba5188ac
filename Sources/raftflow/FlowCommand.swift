import ArgumentParser
import Foundation
import RAFTKit

struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Estimate the optical flow from FRAME1 to FRAME2.",
        discussion: """
        Examples:
          raftflow flow a.png b.png --output flow.flo --visualization flow.png
          raftflow flow a.png b.png --weights raft-things.pth --iterations 24 --kitti-output flow_kitti.png
          raftflow flow a.png b.png --visualization v.png --ground-truth gt.flo --composite c.png --verbose
        Frames: PNG (8/16-bit gray, RGB, RGBA, palette), binary PPM/PGM. Outputs are written atomically.
        """
    )

    @Argument(help: "First frame (PNG, PPM or PGM).", completion: .file())
    var frame1: String
    @Argument(help: "Second frame, same size as the first.", completion: .file())
    var frame2: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Initial flow at full resolution (.flo, KITTI .png or .pfm), e.g. the previous pair's.", valueName: "flow"))
    var warmStart: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Flow output, Middlebury .flo.", valueName: "out.flo"))
    var output: String?
    @Option(name: .long, help: ArgumentHelp("Colour-wheel visualisation PNG.", valueName: "out.png"))
    var visualization: String?
    @Option(name: .long, help: ArgumentHelp("Flow as a KITTI 16-bit PNG.", valueName: "out.png"))
    var kittiOutput: String?
    @Option(name: .long, help: ArgumentHelp("Side-by-side PNG: frame 1 | flow (| error with --ground-truth).", valueName: "out.png"))
    var composite: String?
    @Option(name: .long, help: ArgumentHelp("Ground-truth flow: prints EPE, 1/3/5-px accuracy and Fl-all.", valueName: "flow"))
    var groundTruth: String?
    @Option(name: .long, help: "Flow magnitude (pixels) that maps to full colour saturation (default: the flow's maximum).")
    var maxMagnitude: Float?
    @Flag(name: .shortAndLong, help: "Per-stage timing and peak memory on stderr.")
    var verbose = false
    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    func validate() throws {
        if output == nil && visualization == nil && kittiOutput == nil && composite == nil {
            throw ValidationError("nothing to write: give --output, --visualization, --kitti-output or --composite")
        }
        if let m = maxMagnitude, !(m > 0 && m.isFinite) { throw ValidationError("--max-magnitude must be a positive, finite number") }
    }

    func run() throws {
        try reportingInputErrors {
            for path in [output, visualization, kittiOutput, composite] { try checkWritable(path) }
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
            let warm = try warmStart.map { try FlowField.read(contentsOf: URL(fileURLWithPath: $0)) }
            let truth = try groundTruth.map { try FlowField.read(contentsOf: URL(fileURLWithPath: $0)) }
            let decodeTime = (clock.now - t1).seconds

            let result = try estimator.estimate(from: image1, to: image2, iterations: modelOptions.iterations,
                                                padding: modelOptions.padding, warmStart: warm)
            let t2 = clock.now
            let flowImage = FlowVisualization.colorImage(result.flow, maximumMagnitude: maxMagnitude)
            if let output { try writeFlow(result.flow, to: output, format: .middlebury) }
            if let kittiOutput { try writeFlow(result.flow, to: kittiOutput, format: .kittiPNG) }
            if let visualization { try writeImage(flowImage, to: visualization) }
            var metrics: FlowErrorStatistics?
            if let truth {
                guard truth.width == result.flow.width && truth.height == result.flow.height else {
                    throw FlowEstimatorError.sizeMismatch(first: frame1, firstSize: (image1.width, image1.height),
                                                          second: groundTruth!, secondSize: (truth.width, truth.height))
                }
                metrics = try FlowErrorStatistics(prediction: result.flow, groundTruth: truth)
            }
            if let composite {
                var panels = [image1, flowImage]
                if let truth { panels.append(FlowVisualization.errorImage(result.flow, groundTruth: truth)) }
                try writeImage(FlowVisualization.sideBySide(panels), to: composite)
            }
            let encodeTime = (clock.now - t2).seconds

            if verbose {
                printError("weights             \(formatSeconds(loadTime))  (\(estimator.description))")
                printError("decode              \(formatSeconds(decodeTime))  (\(image1.width)x\(image1.height))")
                for (stage, duration) in result.timings.stages where stage != "total" {
                    printError("\(stage.padding(toLength: 19, withPad: " ", startingAt: 0)) \(formatSeconds(duration.seconds))")
                }
                printError("network total       \(formatSeconds(result.timings.total.seconds))")
                printError("encode              \(formatSeconds(encodeTime))")
                printError("peak memory (RSS)   \(peakResidentBytes() / 1_048_576) MiB")
            }
            if json {
                let summary = FlowSummary(frame1: frame1, frame2: frame2, width: image1.width, height: image1.height,
                                          model: estimator.variant.rawValue, iterations: modelOptions.iterations,
                                          maxMagnitude: result.flow.maxMagnitude, metrics: metrics,
                                          seconds: result.timings.total.seconds)
                print(jsonString(summary))
            } else {
                var line = "\(frame1) -> \(frame2): \(image1.width)x\(image1.height), RAFT-\(estimator.variant.rawValue), \(modelOptions.iterations) iterations, max |flow| \(String(format: "%.2f", result.flow.maxMagnitude)) px, \(formatSeconds(result.timings.total.seconds))"
                if let metrics { line += String(format: ", EPE %.3f px, 1px %.1f%%, Fl-all %.2f%%", metrics.epe, 100 * metrics.accuracy1px, 100 * metrics.flAll) }
                print(line)
            }
        }
    }
}

struct FlowSummary: Encodable {
    var frame1: String, frame2: String, width: Int, height: Int, model: String, iterations: Int
    var maxMagnitude: Float
    var metrics: FlowErrorStatistics?
    var seconds: Double
}

/// Writes a flow file atomically, reporting failures as output errors.
func writeFlow(_ flow: FlowField, to path: String, format: FlowFileFormat) throws {
    do { try flow.write(to: URL(fileURLWithPath: path), format: format) } catch {
        throw OutputError(path: path, reason: "\(error)")
    }
}

/// Writes an 8-bit PNG atomically, reporting failures as output errors.
func writeImage(_ image: RGBImage, to path: String) throws {
    do { try image.write(to: URL(fileURLWithPath: path)) } catch {
        throw OutputError(path: path, reason: "\(error)")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
