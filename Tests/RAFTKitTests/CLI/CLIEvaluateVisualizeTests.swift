import Foundation
import Testing
@testable import RAFTKit

/// `raftflow evaluate` and `raftflow visualize` (no network: fast).
@Suite("raftflow evaluate, visualize")
struct CLIEvaluateVisualizeTests {
    static let (w, h) = (24, 16)

    /// Ground truth (2, 1); the prediction is off by 0.5 px in the left half and by 10 px in the right half.
    private func prediction() -> FlowField {
        var p = CLIInputs.constantFlow(u: 2, v: 1, width: Self.w, height: Self.h)
        for y in 0..<Self.h { for x in Self.w / 2..<Self.w { p[x: x, y: y] = (12, 1) } }
        for y in 0..<Self.h { for x in 0..<Self.w / 2 { p[x: x, y: y] = (2.5, 1) } }
        return p
    }

    private var truth: FlowField { CLIInputs.constantFlow(u: 2, v: 1, width: Self.w, height: Self.h) }

    @Test func evaluateFilesTableJSONAndMask() throws {
        let scratch = try CLIScratch()
        let pred = try CLIInputs.writeFlow(prediction(), "pred.flo", in: scratch)
        let gt = try CLIInputs.writeFlow(truth, "gt.pfm", in: scratch)

        let table = try RAFTFlowCLI.run(["evaluate", "--prediction", pred, "--ground-truth", gt])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains("EPE") && lines[1].hasPrefix("pred.flo"), "\(table.stdout)")
        // EPE (0.5 + 10) / 2 = 5.25; 1px 50 %; Fl-all: the 10-px half.
        #expect(lines.last?.contains("5.250") == true, "\(table.stdout)")

        let json = try RAFTFlowCLI.run(["evaluate", "--prediction", pred, "--ground-truth", gt, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try jsonObject(json.stdout)
        let pairs = try #require(object["pairs"] as? [[String: Any]])
        #expect(pairs.count == 1)
        let statistics = try #require(pairs.first?["statistics"] as? [String: Any])
        #expect(statistics["validPixels"] as? Int == Self.w * Self.h)
        #expect(abs((statistics["epe"] as? Double ?? 0) - 5.25) < 1e-6)
        #expect(abs((statistics["accuracy1px"] as? Double ?? 0) - 0.5) < 1e-9)
        #expect(abs((statistics["flAll"] as? Double ?? 0) - 0.5) < 1e-9)
        #expect(object["summary"] is [String: Any])

        // A mask PNG that keeps only the left half: EPE 0.5 over half the pixels.
        var mask = try RGBImage(width: Self.w, height: Self.h)
        for y in 0..<Self.h { for x in 0..<Self.w / 2 { mask[x: x, y: y] = (255, 255, 255) } }
        try mask.write(to: URL(fileURLWithPath: scratch.path("mask.png")))
        let masked = try RAFTFlowCLI.run(["evaluate", "--prediction", pred, "--ground-truth", gt,
                                          "--valid", scratch.path("mask.png"), "--json"])
        #expect(masked.status == 0, "\(masked.stderr)")
        let maskedStatistics = try #require(((try jsonObject(masked.stdout))["pairs"] as? [[String: Any]])?
            .first?["statistics"] as? [String: Any])
        #expect(maskedStatistics["validPixels"] as? Int == Self.w * Self.h / 2)
        #expect(abs((maskedStatistics["epe"] as? Double ?? 0) - 0.5) < 1e-6)
    }

    /// A finite prediction whose error overflows Float has an infinite EPE: the table says inf, and the JSON
    /// stays a valid document (JSON has no infinity; it is written as the string "inf").
    @Test func evaluateInfiniteError() throws {
        let scratch = try CLIScratch()
        let huge = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 3e38, v: -3e38, width: 4, height: 2), "huge.flo",
                                           in: scratch)
        let zero = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 0, v: 0, width: 4, height: 2), "zero.flo", in: scratch)
        let table = try RAFTFlowCLI.run(["evaluate", "--prediction", huge, "--ground-truth", zero])
        #expect(table.status == 0 && table.stdout.contains("inf"), "\(table.stdout) \(table.stderr)")
        let json = try RAFTFlowCLI.run(["evaluate", "--prediction", huge, "--ground-truth", zero, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let statistics = ((try jsonObject(json.stdout))["pairs"] as? [[String: Any]])?.first?["statistics"] as? [String: Any]
        #expect(statistics?["epe"] as? String == "inf", "\(json.stdout)")
        #expect(statistics?["validPixels"] as? Int == 8)
    }

    @Test func evaluateDirectories() throws {
        let scratch = try CLIScratch()
        try scratch.directory("pred")
        try scratch.directory("gt")
        // a: exact; b: the half-wrong prediction against a KITTI PNG; c has no ground truth.
        try CLIInputs.writeFlow(truth, "pred/a.flo", in: scratch)
        try CLIInputs.writeFlow(prediction(), "pred/b.flo", in: scratch)
        try CLIInputs.writeFlow(truth, "pred/c.flo", in: scratch)
        try CLIInputs.writeFlow(truth, "gt/a.flo", in: scratch)
        try CLIInputs.writeFlow(truth, "gt/b.png", in: scratch)
        try scratch.write(Array("not a flow".utf8), to: "gt/readme.txt")

        let r = try RAFTFlowCLI.run(["evaluate", "--prediction", scratch.path("pred"),
                                     "--ground-truth", scratch.path("gt"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try jsonObject(r.stdout)
        let pairs = try #require(object["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["name"] as? String } == ["a", "b"])
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["pairs"] as? Int == 2)
        let perImage = try #require(summary["perImage"] as? [String: Any])
        #expect(abs((perImage["epe"] as? Double ?? 0) - 5.25 / 2) < 1e-6)

        let table = try RAFTFlowCLI.run(["evaluate", "--prediction", scratch.path("pred"),
                                         "--ground-truth", scratch.path("gt")])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("mean over pairs") && table.stdout.contains("pooled pixels"), "\(table.stdout)")
    }

    @Test func visualizeFlowAndLegend() throws {
        let scratch = try CLIScratch()
        let flow = prediction()
        let input = try CLIInputs.writeFlow(flow, "flow.flo", in: scratch)
        let out = try scratch.directory("out")

        let r = try RAFTFlowCLI.run(["visualize", input, "--output", out + "/v.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let picture = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/v.png"))
        #expect(picture == RGBImage(FlowVisualization.colorImage(flow).raster))

        let scaled = try RAFTFlowCLI.run(["visualize", input, "--max-magnitude", "40", "-o", out + "/s.png"])
        #expect(scaled.status == 0, "\(scaled.stderr)")
        #expect(try RGBImage(contentsOf: URL(fileURLWithPath: out + "/s.png"))
                == RGBImage(FlowVisualization.colorImage(flow, maximumMagnitude: 40).raster))

        let beside = try RAFTFlowCLI.run(["visualize", input, "--legend", "--output", out + "/l.png"])
        #expect(beside.status == 0, "\(beside.stderr)")
        let both = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/l.png"))
        #expect(both.width == Self.w + Self.h && both.height == Self.h)

        let legend = try RAFTFlowCLI.run(["visualize", "--legend", "--output", out + "/wheel.png"])
        #expect(legend.status == 0, "\(legend.stderr)")
        let wheel = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/wheel.png"))
        #expect(wheel.width == 256 && wheel.height == 256)
        #expect(try scratch.contents("out") == ["l.png", "s.png", "v.png", "wheel.png"])
    }
}
