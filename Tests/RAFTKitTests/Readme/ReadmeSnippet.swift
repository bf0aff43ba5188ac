// The library snippet of README.md ("Using the library"), verbatim between the two marker lines:
// ReadmeSnippetTests checks that the README holds exactly this text and runs it, so the README's example compiles.
// README snippet begins
import Foundation
import RAFTKit

/// Flow, backward flow, occlusion mask and warped frame for two image files, written into `directory`.
func estimateFlow(from path1: String, to path2: String, into directory: URL) throws {
    let raft = try FlowEstimator.bundled()   // or FlowEstimator(contentsOf: URL(fileURLWithPath: "raft-things.pth"))
    let frame1 = try RGBImage(contentsOf: URL(fileURLWithPath: path1))
    let frame2 = try RGBImage(contentsOf: URL(fileURLWithPath: path2))
    let result = try raft.estimate(from: frame1, to: frame2, iterations: 12, bidirectional: true)
    try result.flow.write(to: directory.appendingPathComponent("flow.flo"))
    try result.backward?.write(to: directory.appendingPathComponent("backward.flo"))
    try FlowVisualization.colorImage(result.flow).write(to: directory.appendingPathComponent("flow.png"))
    try result.occlusion?.write(to: directory.appendingPathComponent("occlusion.png"))  // white: occluded

    let warped = try FlowWarp.warp(frame2, with: result.flow)   // frame 2 seen from frame 1's pixels
    try warped.image.write(to: directory.appendingPathComponent("warped.png"))
    try warped.valid.write(to: directory.appendingPathComponent("valid.png"))
}

/// The same in a task: `task.cancel()` stops it before its next iteration (it throws `CancellationError`).
func estimateInTask(_ frame1: RGBImage, _ frame2: RGBImage) async throws -> FlowField {
    let raft = try FlowEstimator.bundled()
    let result = try await raft.estimate(from: frame1, to: frame2, progress: { progress in
        print("\(Int(100 * progress.fractionCompleted)) %")
    })
    return result.flow
}
// README snippet ends
