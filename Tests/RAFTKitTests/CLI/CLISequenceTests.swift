import Foundation
import Testing
@testable import RAFTKit

/// `raftflow sequence`: natural order, resumable runs, --overwrite, --warm-start.
@Suite("raftflow sequence")
struct CLISequenceTests {
    /// Four frames whose names sort differently in natural and in byte order: frame1, frame2, frame3,
    /// frame10. Frame k is the texture moved by k px to the right, so a pair (k → m) has flow (m − k, 0).
    private func frames(in scratch: CLIScratch) throws -> String {
        let dir = try scratch.directory("frames")
        for k in [1, 2, 3, 10] {
            try CLIInputs.writeFrame("frames/frame\(k).png", in: scratch, dx: Float(k))
        }
        return dir
    }

    private func modificationDate(_ path: String) throws -> Date {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    @Test func naturalOrderResumeAndOverwrite() throws {
        let scratch = try CLIScratch()
        let frames = try frames(in: scratch)
        let out = try scratch.directory("out")
        let first = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", out, "--iterations", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        // Pairs 1→2, 2→3, 3→10: byte order would have paired frame1 with frame10.
        #expect(try scratch.contents("out") == ["frame1.flo", "frame1.png", "frame2.flo", "frame2.png",
                                                "frame3.flo", "frame3.png"])
        #expect(first.stdout.contains("3 pair(s) computed, 0 skipped"), "\(first.stdout)")
        let progress = first.stderrLines
        #expect(progress.count == 3, "\(first.stderr)")
        if progress.count == 3 {
            #expect(progress[0].contains("frame1.png -> frame2.png"))
            #expect(progress[1].contains("frame2.png -> frame3.png"))
            #expect(progress[2].contains("frame3.png -> frame10.png"))
        }
        for stem in ["frame1", "frame2", "frame3"] {
            let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: out + "/\(stem).flo"))
            #expect(flow.width == CLIInputs.width && flow.height == CLIInputs.height && !flow.hasNonFinite)
            let picture = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/\(stem).png"))
            #expect(picture.width == CLIInputs.width && picture.height == CLIInputs.height)
        }

        // A second run finds every output and computes nothing.
        let dates = try ["frame1", "frame2", "frame3"].map { try modificationDate(out + "/\($0).flo") }
        let second = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", out, "--iterations", "2"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("0 pair(s) computed, 3 skipped"), "\(second.stdout)")
        #expect(try ["frame1", "frame2", "frame3"].map { try modificationDate(out + "/\($0).flo") } == dates)

        // An interrupted run (one output missing, the killed writer's temporary file left) resumes with just
        // that pair and removes the temporary file.
        try FileManager.default.removeItem(atPath: out + "/frame2.png")
        try scratch.write([1, 2, 3], to: "out/.frame2.png.3735928559.tmp")
        try scratch.write([1, 2, 3], to: "out/.unrelated.png.12.tmp")
        let resumed = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", out, "--iterations", "2", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("1 pair(s) computed, 2 skipped"), "\(resumed.stdout)")
        #expect(resumed.stderr.isEmpty, "--quiet printed: \(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/frame2.png"))
        #expect(!FileManager.default.fileExists(atPath: out + "/.frame2.png.3735928559.tmp"))
        try FileManager.default.removeItem(atPath: out + "/.unrelated.png.12.tmp")   // not ours: kept

        // --overwrite recomputes everything, with the same result.
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/frame3.flo"))
        let again = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", out, "--iterations", "2", "--overwrite"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("3 pair(s) computed, 0 skipped"), "\(again.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/frame3.flo")) == before)
        let left = try scratch.contents("out")
        #expect(left.count == 6, "temporary files left: \(left)")
    }

    @Test func warmStartKittiAndFileArguments() throws {
        let scratch = try CLIScratch()
        let frames = try frames(in: scratch)
        let cold = try scratch.directory("cold"), warm = try scratch.directory("warm")
        // Files given in any order are sorted naturally too.
        let files = [10, 3, 1, 2].map { frames + "/frame\($0).png" }
        let c = try RAFTFlowCLI.run(["sequence"] + files + ["--output-dir", cold, "--iterations", "2"])
        let w = try RAFTFlowCLI.run(["sequence"] + files + ["--output-dir", warm, "--iterations", "2",
                                                            "--warm-start", "--kitti", "--max-magnitude", "8"])
        #expect(c.status == 0 && w.status == 0, "\(c.stderr) \(w.stderr)")
        #expect(try scratch.contents("warm") == [".raftflow-warm-start", "frame1.flo", "frame1.png", "frame1_kitti.png",
                                                 "frame2.flo", "frame2.png", "frame2_kitti.png",
                                                 "frame3.flo", "frame3.png", "frame3_kitti.png"])
        #expect(w.stdout.contains("colour scale 8.00 px"), "\(w.stdout)")
        func flow(_ dir: String, _ stem: String) throws -> FlowField {
            try FlowField.read(contentsOf: URL(fileURLWithPath: dir + "/\(stem).flo"))
        }
        // The first pair has nothing to start from; later pairs start from the previous pair's flow.
        #expect(try flow(cold, "frame1") == flow(warm, "frame1"))
        #expect(try flow(cold, "frame2") != flow(warm, "frame2"))
        #expect(try flow(cold, "frame3") != flow(warm, "frame3"))
        let kitti = try FlowField.read(contentsOf: URL(fileURLWithPath: warm + "/frame3_kitti.png"))
        #expect(zip(kitti.uv, try flow(warm, "frame3").uv).allSatisfy { abs($0 - $1) <= 1.0 / 64 })
    }

    /// The pipeline (shared features, decoding and writing on background threads) writes exactly what `flow` writes
    /// for each pair on its own; with --warm-start, what FlowSequence computes in process.
    @Test func pipelineMatchesPairwiseFlow() throws {
        let scratch = try CLIScratch()
        try scratch.directory("frames")
        let frames = try (0..<5).map { k in try CLIInputs.writeFrame("frames/f\(k).png", in: scratch, dx: 1.5 * Float(k), dy: Float(k % 2)) }
        let out = try scratch.directory("out"), pairwise = try scratch.directory("pairwise"), warm = try scratch.directory("warm")
        let common = ["--iterations", "2", "--max-magnitude", "8"]
        let run = try RAFTFlowCLI.run(["sequence", scratch.path("frames"), "--output-dir", out, "--kitti"] + common)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("4 pair(s) computed, 0 skipped") && run.stdout.contains("fps"), "\(run.stdout)")
        #expect(run.stderrLines.count == 4 && run.stderrLines.last?.contains("f3.png -> f4.png") == true, "\(run.stderr)")
        #expect(try scratch.contents("out") == (0..<4).flatMap { ["f\($0).flo", "f\($0).png", "f\($0)_kitti.png"] })
        for k in 0..<4 {
            let single = try RAFTFlowCLI.run(["flow", frames[k], frames[k + 1], "--output", pairwise + "/f\(k).flo",
                                              "--visualization", pairwise + "/f\(k).png",
                                              "--kitti-output", pairwise + "/f\(k)_kitti.png"] + common)
            #expect(single.status == 0, "\(single.stderr)")
            for name in ["f\(k).flo", "f\(k).png", "f\(k)_kitti.png"] {
                #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
                        == Data(contentsOf: URL(fileURLWithPath: pairwise + "/" + name)), "\(name) differs from `flow`")
            }
        }

        // --warm-start: the library's FlowSequence on the same frames (this process may use other BLAS threads,
        // so within a tolerance).
        let w = try RAFTFlowCLI.run(["sequence", scratch.path("frames"), "--output-dir", warm, "--warm-start"] + common)
        #expect(w.status == 0, "\(w.stderr)")
        let sequence = try FlowEstimator.bundled().sequence(iterations: 2, warmStart: true)
        for (k, path) in frames.enumerated() {
            guard let estimate = try sequence.append(try RGBImage(contentsOf: URL(fileURLWithPath: path))) else { continue }
            let written = try FlowField.read(contentsOf: URL(fileURLWithPath: warm + "/f\(k - 1).flo"))
            let difference = zip(written.uv, estimate.flow.uv).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= 1e-3, "pair \(k - 1): max |Δ| \(difference) px")
        }
    }
}
