import ArgumentParser
import Foundation
import RAFTKit

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Compare predicted flow with ground truth: EPE, 1/3/5-px accuracy, Fl-all.",
        discussion: """
        Pixels count where the ground truth is valid (KITTI's third channel ≥ 0.5, finite values) and, \
        with --valid, where the mask PNG is non-zero. In the directory form, predictions and ground truth \
        are matched by file name stem; the table lists each pair, then the mean over pairs (KITTI-style) \
        and the pooled-pixel figures.

        Examples:
          raftflow evaluate --prediction flow.flo --ground-truth gt.flo
          raftflow evaluate --prediction flow.flo --ground-truth gt.png --valid mask.png
          raftflow evaluate --prediction pred/ --ground-truth gt/ --json
        """
    )

    @Option(name: .long, help: "Predicted flow file, or a directory of them.")
    var prediction: String
    @Option(name: .long, help: "Ground-truth flow file, or a directory of them.")
    var groundTruth: String
    @Option(name: .long, help: "Optional mask PNG (non-zero = evaluate), single-file form only.")
    var valid: String?
    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    static let flowExtensions: Set<String> = ["flo", "png", "pfm"]

    func run() throws {
        try reportingInputErrors {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prediction, isDirectory: &isDir) else {
                throw FlowEstimatorError.missingInput(path: prediction)
            }
            var pairs: [(name: String, prediction: String, truth: String)] = []
            if isDir.boolValue {
                if valid != nil { throw ValidationError("--valid works with single files, not with directories") }
                var truthIsDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: groundTruth, isDirectory: &truthIsDir) else {
                    throw FlowEstimatorError.missingInput(path: groundTruth)
                }
                guard truthIsDir.boolValue else {
                    throw InputError(file: groundTruth, reason: "is a file, but --prediction '\(prediction)' is a directory")
                }
                let truthFiles = try FileManager.default.contentsOfDirectory(atPath: groundTruth)
                let truthByStem = Dictionary(truthFiles.filter { Self.flowExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .map { (($0 as NSString).deletingPathExtension, $0) }, uniquingKeysWith: { a, _ in a })
                for name in try FileManager.default.contentsOfDirectory(atPath: prediction).sorted(by: naturalLess)
                where Self.flowExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    let stem = (name as NSString).deletingPathExtension
                    if let t = truthByStem[stem] {
                        pairs.append((stem, (prediction as NSString).appendingPathComponent(name), (groundTruth as NSString).appendingPathComponent(t)))
                    }
                }
                guard !pairs.isEmpty else { throw FlowEstimatorError.noMatchingFiles(predictions: prediction, groundTruth: groundTruth) }
            } else {
                pairs = [((prediction as NSString).lastPathComponent, prediction, groundTruth)]
            }
            var aggregate = FlowMetricsAccumulator()
            var rows: [EvaluationRow] = []
            for pair in pairs {
                let p = try FlowField.read(contentsOf: URL(fileURLWithPath: pair.prediction))
                var g = try FlowField.read(contentsOf: URL(fileURLWithPath: pair.truth))
                guard p.width == g.width && p.height == g.height else {
                    throw FlowEstimatorError.sizeMismatch(first: pair.truth, firstSize: (g.width, g.height),
                                                          second: pair.prediction, secondSize: (p.width, p.height))
                }
                if let valid, !isDir.boolValue {
                    let m = try RGBImage(contentsOf: URL(fileURLWithPath: valid))
                    guard m.width == g.width && m.height == g.height else {
                        throw FlowEstimatorError.sizeMismatch(first: pair.truth, firstSize: (g.width, g.height),
                                                              second: valid, secondSize: (m.width, m.height))
                    }
                    // Evaluate where the mask is non-zero and the ground truth itself is valid.
                    let existing = g.valid
                    g.valid = (0..<(m.width * m.height)).map { i in
                        m.pixels[3 * i] > 0 && (existing.map { $0[i] >= 0.5 } ?? true) ? 1 : 0
                    }
                }
                let statistics = try FlowErrorStatistics(prediction: p, groundTruth: g)
                guard statistics.validPixels > 0 else {
                    throw InputError(file: pair.truth, reason: valid == nil || isDir.boolValue
                                     ? "the ground truth has no valid pixel: there is nothing to evaluate"
                                     : "no pixel is valid in both the ground truth and the mask '\(valid!)': there is nothing to evaluate")
                }
                aggregate.add(statistics)
                rows.append(EvaluationRow(name: pair.name, statistics: statistics))
            }
            let summary = aggregate.summary
            if json { print(try jsonString(EvaluationReport(pairs: rows, summary: summary))); return }
            func line(_ name: String, _ m: FlowErrorMeans, pixels: Int) -> String {
                name.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(format: "%9.3f %8.2f %8.2f %8.2f %8.2f %10d", m.epe, 100 * m.accuracy1px, 100 * m.accuracy3px,
                             100 * m.accuracy5px, 100 * m.flAll, pixels)
            }
            print("pair".padding(toLength: 24, withPad: " ", startingAt: 0) + "      EPE    1px %    3px %    5px %   Fl-all     pixels")
            for r in rows { print(line(r.name, r.statistics.means, pixels: r.statistics.validPixels)) }
            if rows.count > 1 {
                print(line("mean over pairs", summary.perImage, pixels: summary.validPixels))
                print(line("pooled pixels", summary.pooled, pixels: summary.validPixels))
            }
        }
    }
}

struct EvaluationRow: Encodable { var name: String; var statistics: FlowErrorStatistics }
struct EvaluationReport: Encodable { var pairs: [EvaluationRow]; var summary: FlowMetricsSummary }
