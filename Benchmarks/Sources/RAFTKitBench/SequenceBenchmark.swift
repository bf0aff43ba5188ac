import Foundation
import RAFTKit

/// End-to-end throughput on a frame sequence (issue #7): PNG frames on disk in, a `.flo` and a colour PNG per pair
/// out, measured three ways on the same frames:
/// - naive: per pair, decode both frames, run the model (both frames through fnet), write the outputs; serially;
/// - reuse: `FlowSequence`, each frame decoded once and through fnet once; still serial;
/// - reuse + overlap: `FlowSequence.estimate(pairs:frame:result:)`, the code path of `raftflow sequence`: the next
///   frame is decoded and the previous pair's outputs written on background threads while a pair is computed.
/// All three reuse one workspace across pairs (so "naive" does not pay allocations the others do not) and run
/// without warm start.
struct SequenceResult: Codable {
    var variant: String, size: String, pairs: Int, iterations: Int
    var naiveSeconds: Double, reuseSeconds: Double, pipelineSeconds: Double
    var naiveFps: Double, reuseFps: Double, pipelineFps: Double
    /// Mean PNG decode time of one frame, and encode + write time of one pair's outputs (from the naive run).
    var decodeMsPerFrame: Double, writeMsPerPair: Double
    /// Mean fnet time per pair in the naive and the reuse run.
    var featureEncoderMsNaive: Double, featureEncoderMsReuse: Double
}

/// A textured frame (sinusoids plus hashed fine detail) moved by (2k, k) px: frame k's content at (x, y) is the
/// texture at (x − 2k, y − k).
func sequenceFrame(_ k: Int, width: Int, height: Int) -> RGBImage {
    var pixels = [Float](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let u = x - 2 * k, v = y - k
            let fu = Float(u), fv = Float(v)
            var hash = UInt32(truncatingIfNeeded: u &* 73_856_093 ^ v &* 19_349_663)
            hash = (hash ^ (hash >> 13)) &* 1_274_126_177
            let detail = Float(hash & 63) - 32
            let base = 3 * (y * width + x)
            pixels[base] = min(max(120 + 60 * sinf(0.05 * fu + 0.02 * fv) + 30 * cosf(0.13 * fv) + detail, 0), 255)
            pixels[base + 1] = min(max(128 + 50 * sinf(0.031 * fu - 0.07 * fv + 2) + detail, 0), 255)
            pixels[base + 2] = min(max(130 + 70 * cosf(0.023 * fu + 0.041 * fv) + 0.5 * detail, 0), 255)
        }
    }
    return try! RGBImage(width: width, height: height, pixels: pixels)   // the size matches by construction
}

func runSequenceBenchmark(variant: RAFTVariant, width: Int, height: Int, frameCount: Int = 9, iterations: Int = 12,
                          repeats: Int) throws -> SequenceResult {
    let fm = FileManager.default
    let root = fm.temporaryDirectory.appendingPathComponent("raftkit-bench-sequence-\(UUID().uuidString)")
    try fm.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: root) }
    let frames = (0..<frameCount).map { root.appendingPathComponent("frame\($0).png") }
    for (k, url) in frames.enumerated() { try sequenceFrame(k, width: width, height: height).write(to: url) }
    let outputs = try ["naive", "reuse", "pipeline"].map { name -> URL in
        let url = root.appendingPathComponent(name)
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
    let pairs = frameCount - 1
    let estimator = FlowEstimator(model: try RAFT(stateDict: ProceduralWeights.raft(variant, seed: 3)))

    /// What raftflow sequence writes per pair (without --kitti): Middlebury .flo and a colour-wheel PNG.
    @Sendable func write(_ i: Int, _ estimate: FlowEstimate, to directory: URL) throws {
        try estimate.flow.write(to: directory.appendingPathComponent("frame\(i).flo"))
        try FlowVisualization.colorImage(estimate.flow, maximumMagnitude: 20).write(to: directory.appendingPathComponent("frame\(i).png"))
    }
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    // Warm-up: one pair (page faults, BLAS thread start-up).
    _ = try estimator.estimate(from: try RGBImage(contentsOf: frames[0]), to: try RGBImage(contentsOf: frames[1]),
                               iterations: 1)

    var naive: [Double] = [], reuse: [Double] = [], pipeline: [Double] = []
    var decode = Duration.zero, written = Duration.zero, fnetNaive = Duration.zero, fnetReuse = Duration.zero
    for _ in 0..<max(repeats, 1) {
        // (a) naive
        let workspace = Workspace()
        decode = .zero; written = .zero; fnetNaive = .zero
        var start = clock.now
        for i in 0..<pairs {
            var t = clock.now
            let a = try RGBImage(contentsOf: frames[i]), b = try RGBImage(contentsOf: frames[i + 1])
            decode += clock.now - t
            let estimate = try estimator.estimate(from: a, to: b, iterations: iterations, workspace: workspace)
            fnetNaive += estimate.timings.featureEncoder
            t = clock.now
            try write(i, estimate, to: outputs[0])
            written += clock.now - t
        }
        naive.append(seconds(clock.now - start))

        // (b) feature reuse, serial
        var sequence = estimator.sequence(iterations: iterations, warmStart: false)
        fnetReuse = .zero
        start = clock.now
        for k in 0..<frameCount {
            if let estimate = try sequence.append(try RGBImage(contentsOf: frames[k])) {
                fnetReuse += estimate.timings.featureEncoder
                try write(k - 1, estimate, to: outputs[1])
            }
        }
        reuse.append(seconds(clock.now - start))

        // (c) feature reuse + decoding and writing overlapped with compute (raftflow sequence's path)
        sequence = estimator.sequence(iterations: iterations, warmStart: false)
        let directory = outputs[2]
        start = clock.now
        try sequence.estimate(pairs: Array(0..<pairs), frame: { k in try RGBImage(contentsOf: frames[k]) },
                              result: { i, estimate in try write(i, estimate, to: directory) })
        pipeline.append(seconds(clock.now - start))
        FileHandle.standardError.write(Data(String(format: "%@ run %d: naive %.2f s, reuse %.2f s, reuse + overlap %.2f s\n",
                                                   variant.rawValue, naive.count, naive.last!, reuse.last!, pipeline.last!).utf8))
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    let (n, r, p) = (median(naive), median(reuse), median(pipeline))
    return SequenceResult(variant: variant.rawValue, size: "\(width)x\(height)", pairs: pairs, iterations: iterations,
                          naiveSeconds: n, reuseSeconds: r, pipelineSeconds: p,
                          naiveFps: Double(pairs) / n, reuseFps: Double(pairs) / r, pipelineFps: Double(pairs) / p,
                          decodeMsPerFrame: seconds(decode) * 1000 / Double(2 * pairs),
                          writeMsPerPair: seconds(written) * 1000 / Double(pairs),
                          featureEncoderMsNaive: seconds(fnetNaive) * 1000 / Double(pairs),
                          featureEncoderMsReuse: seconds(fnetReuse) * 1000 / Double(pairs))
}

func printSequenceTable(_ rows: [SequenceResult]) {
    print("| model | size | pairs | naive fps | reuse fps | reuse + overlap fps | speed-up | fnet ms/pair naive → reuse | decode ms/frame | write ms/pair |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in rows {
        let f = { (x: Double) in String(format: "%.3f", x) }
        print("| \(s.variant) | \(s.size) | \(s.pairs) | \(f(s.naiveFps)) | \(f(s.reuseFps)) | \(f(s.pipelineFps)) | "
              + String(format: "%.2f× (%.2f× reuse only)", s.pipelineFps / s.naiveFps, s.reuseFps / s.naiveFps)
              + " | \(String(format: "%.0f → %.0f", s.featureEncoderMsNaive, s.featureEncoderMsReuse)) | "
              + "\(String(format: "%.1f", s.decodeMsPerFrame)) | \(String(format: "%.1f", s.writeMsPerPair)) |")
    }
}
