// A vision pipeline's view of RAFTKit: load the bundled model, estimate flow for a sample pair, compare it
// with the ground truth and save a picture. Run from the repository root:
//
//   swift run -c release flow-example [Samples/photo-300x400]
//
import Foundation
import RAFTKit

let folder = CommandLine.arguments.dropFirst().first ?? "Samples/photo-300x400"
func file(_ name: String) -> URL { URL(fileURLWithPath: folder).appendingPathComponent(name) }

do {
    let raft = try FlowEstimator.bundled()
    let frame1 = try RGBImage(contentsOf: file("frame1.png"))
    let frame2 = try RGBImage(contentsOf: file("frame2.png"))
    let truth = try FlowField.read(contentsOf: file("flow.flo"))

    for iterations in [12, 24] {
        let result = try raft.estimate(from: frame1, to: frame2, iterations: iterations)
        let error = try FlowErrorStatistics(prediction: result.flow, groundTruth: truth)
        print(String(format: "%@ (%dx%d), %@, %d iterations: EPE %.3f px, 1px %.1f %%, Fl-all %.1f %%, %.2f s",
                     folder, frame1.width, frame1.height, raft.variant == .basic ? "RAFT" : "RAFT-S", iterations,
                     error.epe, 100 * error.accuracy1px, 100 * error.flAll,
                     Double(result.timings.total.components.attoseconds) * 1e-18 + Double(result.timings.total.components.seconds)))
        if iterations == 12 {
            let zero = try FlowErrorStatistics(prediction: try FlowField(width: truth.width, height: truth.height), groundTruth: truth)
            print(String(format: "  (zero flow would have EPE %.3f px)", zero.epe))
        }
    }
} catch {
    FileHandle.standardError.write(Data("flow-example: \(error)\n".utf8))
    exit(1)
}
