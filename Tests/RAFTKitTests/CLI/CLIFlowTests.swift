import Foundation
import Testing
@testable import RAFTKit

/// `raftflow flow`, `info`, `--help` and `--version`, run as a built executable.
@Suite("raftflow flow, info, help")
struct CLIFlowTests {
    /// Frames shifted by (2, 1) px, ground truth (2, 1).
    private func pair(in scratch: CLIScratch) throws -> (String, String, String) {
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
        let gt = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 2, v: 1), "gt.flo", in: scratch)
        return (a, b, gt)
    }

    @Test func pairWritesEveryOutput() throws {
        let scratch = try CLIScratch()
        let (a, b, gt) = try pair(in: scratch)
        let out = try scratch.directory("out")
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "2",
                                     "--output", out + "/flow.flo", "--visualization", out + "/flow.png",
                                     "--kitti-output", out + "/kitti.png", "--composite", out + "/composite.png",
                                     "--ground-truth", gt])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try scratch.contents("out") == ["composite.png", "flow.flo", "flow.png", "kitti.png"])

        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: out + "/flow.flo"))
        #expect(flow.width == CLIInputs.width && flow.height == CLIInputs.height)
        #expect(!flow.hasNonFinite)
        // KITTI PNGs quantise to 1/64 px.
        let kitti = try FlowField.read(contentsOf: URL(fileURLWithPath: out + "/kitti.png"))
        #expect(kitti.width == flow.width && kitti.height == flow.height)
        #expect(zip(kitti.uv, flow.uv).allSatisfy { abs($0 - $1) <= 1.0 / 64 })
        let picture = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/flow.png"))
        #expect(picture.width == flow.width && picture.height == flow.height)
        #expect(picture == RGBImage(FlowVisualization.colorImage(flow).raster))
        // frame 1 | flow | error map.
        let composite = try RGBImage(contentsOf: URL(fileURLWithPath: out + "/composite.png"))
        #expect(composite.width == 3 * CLIInputs.width && composite.height == CLIInputs.height)

        // One summary line with the metrics against the ground truth.
        #expect(r.stdout.split(separator: "\n").count == 1)
        #expect(r.stdout.contains("EPE"), "\(r.stdout)")
        #expect(r.stdout.contains("160x128"), "\(r.stdout)")
        let statistics = try FlowErrorStatistics(prediction: flow, groundTruth: CLIInputs.constantFlow(u: 2, v: 1))
        #expect(r.stdout.contains(String(format: "EPE %.3f px", statistics.epe)), "\(r.stdout)")
    }

    @Test func jsonAndVerbose() throws {
        let scratch = try CLIScratch()
        let (a, b, gt) = try pair(in: scratch)
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "2", "--output", scratch.path("f.flo"),
                                     "--ground-truth", gt, "--json", "--verbose"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try jsonObject(r.stdout)
        #expect(json["width"] as? Int == CLIInputs.width)
        #expect(json["height"] as? Int == CLIInputs.height)
        #expect(json["model"] as? String == "small")
        #expect(json["iterations"] as? Int == 2)
        let metrics = try #require(json["metrics"] as? [String: Any])
        let epe = try #require(metrics["epe"] as? Double)
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("f.flo")))
        let expected = try FlowErrorStatistics(prediction: flow, groundTruth: CLIInputs.constantFlow(u: 2, v: 1)).epe
        #expect(abs(epe - expected) < 1e-9)
        // Per-stage timing and peak memory go to stderr, leaving stdout pure JSON.
        for stage in ["weights", "decode", "network total", "encode", "peak memory (RSS)"] {
            #expect(r.stderr.contains(stage), "missing '\(stage)' in: \(r.stderr)")
        }
        #expect(r.stderrLines.count >= 6, "\(r.stderr)")
        let peak = try #require(r.stderr.split(separator: "\n").first { $0.hasPrefix("peak memory") })
        let mib = peak.split(separator: " ").compactMap { Int($0) }.first ?? 0
        #expect(mib > 1 && mib < 4096, "\(peak)")
    }

    @Test func warmStartAndExplicitWeights() throws {
        let scratch = try CLIScratch()
        let (a, b, _) = try pair(in: scratch)
        let warm = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 2, v: 1), "warm.pfm", in: scratch)
        let cold = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "1", "-o", scratch.path("cold.flo")])
        let warmed = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "1", "-o", scratch.path("warm.flo"),
                                          "--warm-start", warm])
        #expect(cold.status == 0 && warmed.status == 0, "\(cold.stderr) \(warmed.stderr)")
        let c = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("cold.flo")))
        let w = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("warm.flo")))
        #expect(c != w, "the warm start changed nothing")

        // A float16 official checkpoint of RAFT-small, with the architecture stated.
        let weights = Fixtures.url("checkpoint_small_official_f16.pth").path
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "1", "--weights", weights, "--model", "small",
                                     "--padding", "kitti", "--threads", "1", "--visualization", scratch.path("v.png")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.path("v.png")))
    }

    @Test func infoOnBundledModelAndFixture() throws {
        let bundled = try RAFTFlowCLI.run(["info"])
        #expect(bundled.status == 0, "\(bundled.stderr)")
        #expect(bundled.stdout.contains("small"), "\(bundled.stdout)")
        #expect(bundled.stdout.contains("raft-small-default.safetensors"), "\(bundled.stdout)")

        let bundledJSON = try jsonObject(try RAFTFlowCLI.run(["info", "--json"]).stdout)
        #expect(bundledJSON["model"] as? String == "small")
        #expect(bundledJSON["format"] as? String == "safetensors")
        #expect((bundledJSON["parameters"] as? Int ?? 0) > 900_000)

        let fixture = Fixtures.url("checkpoint_small_official_f16.pth").path
        let text = try RAFTFlowCLI.run(["info", fixture])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("F16"), "\(text.stdout)")
        let json = try RAFTFlowCLI.run(["info", "--json", fixture])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try jsonObject(json.stdout)
        #expect(object["file"] as? String == fixture)
        #expect(object["model"] as? String == "small")
        #expect(object["parameters"] as? Int == bundledJSON["parameters"] as? Int)
        #expect(object["dataTypes"] as? [String] == ["F16"])
        #expect(object["keyScheme"] as? String == "official")
    }

    @Test(arguments: [[], ["flow"], ["sequence"], ["warp"], ["visualize"], ["evaluate"], ["info"]])
    func helpMentionsAnExample(subcommand: [String]) throws {
        let r = try RAFTFlowCLI.run(subcommand + ["--help"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Example"), "no example in: \(r.stdout)")
        #expect(r.stdout.contains("raftflow \(subcommand.first ?? "flow") "), "no example command line in: \(r.stdout)")
        #expect(r.stdout.contains("USAGE: raftflow"))
        // Example command lines fit an 80-column terminal: none is wrapped into a line that starts
        // with one of its options.
        for line in r.stdout.split(separator: "\n") {
            #expect(!line.hasPrefix("-"), "an example or paragraph was wrapped badly: \(line)")
        }
        let viaHelp = try RAFTFlowCLI.run(["help"] + subcommand)
        #expect(viaHelp.status == 0 && viaHelp.stdout == r.stdout)
    }

    @Test func version() throws {
        let r = try RAFTFlowCLI.run(["--version"])
        #expect(r.status == 0)
        let version = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil },
                "\(r.stdout)")
    }
}
