import Foundation
import Testing
@testable import RAFTKit

/// The contract cases a fuzzing study found broken (issue 18), one test each: non-finite output, outputs that
/// existed before a failed run, devices and standard output as targets, the memory budget, ground truth without
/// a valid pixel, and the minor parser and argument cases.
@Suite("raftflow contract cases")
struct CLIContractTests {
    /// Good frames a.png, b.png in a scratch directory.
    final class Setup {
        let scratch: CLIScratch
        let a: String, b: String
        init() throws {
            scratch = try CLIScratch()
            a = try CLIInputs.writeFrame("a.png", in: scratch)
            b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
        }
        func path(_ name: String) -> String { scratch.path(name) }
    }

    /// Case 1: one finite but extreme weight makes the flow NaN: exit 65 naming the weights, for `-o` and for a
    /// visualisation alone, and nothing written; `info` flags the weights.
    @Test func extremeWeightsAreBadInput() throws {
        let s = try Setup()
        var weights = try WeightsLoader.bundled().stateDict
        var conv = weights["fnet.conv1.weight"]!
        conv.mutablePointer()[0] = 3.4e38
        weights["fnet.conv1.weight"] = conv
        let file = s.path("extreme.safetensors")
        try SafeTensors.write(weights, to: URL(fileURLWithPath: file))

        for outputs in [["-o", s.path("f.flo")], ["--visualization", s.path("v.png")]] {
            let r = try RAFTFlowCLI.run(["flow", s.a, s.b, "--weights", file, "--iterations", "2"] + outputs)
            #expect(r.status == 65, "\(outputs): exit \(r.status), \(r.stderr)")
            #expect(r.stderrLines.count == 1 && r.stderr.contains("extreme.safetensors") && r.stderr.contains("NaN"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: outputs[1]))
        }
        let info = try RAFTFlowCLI.run(["info", file])
        #expect(info.status == 0)
        #expect(info.stdout.contains("EXTREME") && info.stdout.contains("fnet.conv1.weight"), "\(info.stdout)")
        let bundled = try RAFTFlowCLI.run(["info"])
        #expect(!bundled.stdout.contains("EXTREME"), "\(bundled.stdout)")
    }

    /// Case 2: a run that fails while writing leaves every earlier file as it was (here the second output is
    /// `/dev/full`, a device that is always full).
    @Test func failedRunKeepsEarlierOutputs() throws {
        let s = try Setup()
        let keep = s.path("o.flo")
        try Data("earlier result".utf8).write(to: URL(fileURLWithPath: keep))
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let r = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", keep, "--visualization", "/dev/full"])
        #expect(r.status == 73, "exit \(r.status), \(r.stderr)")
        #expect(r.stderr.contains("/dev/full") && r.stderr.contains("No space left"), "\(r.stderr)")
        #expect(try String(contentsOfFile: keep, encoding: .utf8) == "earlier result")
        #expect(try s.scratch.contents(".").filter { $0.hasPrefix(".") } == [], "temporary files left behind")
        #expect(isDevice("/dev/full"))
    }

    /// Case 2, the library's side: a write set whose last rename fails restores what the earlier renames
    /// replaced and removes what they created.
    @Test func writeSetRollsBackToTheEarlierFiles() throws {
        let s = try Setup()
        let existing = s.path("existing.bin"), created = s.path("created.bin")
        try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
        try FileManager.default.createDirectory(atPath: s.path("blocker"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: s.path("blocker/sub"), withIntermediateDirectories: true)
        var set = FileAccess.WriteSet()
        try set.stage(Data("new".utf8), to: existing)
        try set.stage(Data("new".utf8), to: created)
        try set.stage(Data("new".utf8), to: s.path("blocker"))   // renaming a file over a non-empty directory fails
        #expect(throws: FileAccess.Failure.self) { try set.commit() }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old")
        #expect(!FileManager.default.fileExists(atPath: created))
        #expect(try s.scratch.contents(".").sorted() == ["a.png", "b.png", "blocker", "existing.bin"])
    }

    /// Case 3: `-o -` writes the .flo to standard output (the summary goes to stderr); a device target is written,
    /// not replaced by a regular file; a symbolic link to a file stays a link.
    @Test func standardOutputDevicesAndLinks() throws {
        let s = try Setup()
        let r = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutBytes.count == 12 + 2 * 4 * CLIInputs.width * CLIInputs.height)
        #expect(r.stdoutBytes.prefix(4) == Data("PIEH".utf8))
        let file = s.path("f.flo")
        #expect(try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", file]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == r.stdoutBytes)

        let null = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", "/dev/null"])
        #expect(null.status == 0, "\(null.stderr)")
        #expect(isDevice("/dev/null"))

        let target = s.path("target.flo"), link = s.path("link.flo")
        try Data().write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", link]).status == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == r.stdoutBytes)

        let json = try RAFTFlowCLI.run(["flow", s.a, s.b, "-o", "-", "--json"])
        #expect(json.status == 64)
    }

    /// Case 4: `--max-memory` below what the frames need even on demand refuses them with one line and exit 65
    /// before anything is allocated; a budget that fits runs, on demand when all-pairs does not fit.
    @Test func memoryBudget() throws {
        let s = try Setup()
        let refused = try RAFTFlowCLI.run(["flow", s.a, s.b, "-o", s.path("f.flo"), "--max-memory", "8M"])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderrLines.count == 1 && refused.stderr.contains("a.png") && refused.stderr.contains("--max-memory 8 MiB"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.path("f.flo")))

        let ok = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", s.path("f.flo"), "--max-memory", "2G", "-v"])
        #expect(ok.status == 0 && ok.stderr.contains("all-pairs correlation"), "\(ok.stderr)")

        let model = try FlowEstimator.bundled().model
        let allPairs = model.memoryEstimate(height: CLIInputs.height, width: CLIInputs.width, correlation: .allPairs)
        let onDemand = model.memoryEstimate(height: CLIInputs.height, width: CLIInputs.width, correlation: .onDemand)
        #expect(allPairs.totalBytes > onDemand.totalBytes)
        let between = (allPairs.totalBytes + onDemand.totalBytes) / 2
        let tight = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "2", "-o", s.path("g.flo"),
                                         "--max-memory", "\(between)", "-v"])
        #expect(tight.status == 0 && tight.stderr.contains("on-demand correlation"), "\(tight.stderr)")

        for bad in ["0", "-1G", "lots", "2X"] {
            #expect(try RAFTFlowCLI.run(["flow", s.a, s.b, "-o", s.path("h.flo"), "--max-memory", bad]).status == 64, "\(bad)")
        }
    }

    /// Case 5: ground truth without a valid pixel is refused (`evaluate` and `flow --ground-truth`).
    @Test func groundTruthWithoutValidPixels() throws {
        let s = try Setup()
        var empty = CLIInputs.constantFlow(u: 1, v: 0)
        empty.valid = [Float](repeating: 0, count: CLIInputs.width * CLIInputs.height)
        let truth = s.path("gt.png")
        try empty.write(to: URL(fileURLWithPath: truth), format: .kittiPNG)
        let prediction = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 0), "p.flo", in: s.scratch)
        let evaluate = try RAFTFlowCLI.run(["evaluate", "--prediction", prediction, "--ground-truth", truth])
        #expect(evaluate.status == 65 && evaluate.stderr.contains("gt.png") && evaluate.stderr.contains("no valid pixel"),
                "\(evaluate.status) \(evaluate.stderr)")
        let flow = try RAFTFlowCLI.run(["flow", s.a, s.b, "-o", s.path("f.flo"), "--ground-truth", truth])
        #expect(flow.status == 65 && flow.stderr.contains("no valid pixel"), "\(flow.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.path("f.flo")))
    }

    /// Case 6: a `sequence --warm-start` resumed after some pairs were lost (a kill) gives the same bytes as the
    /// uninterrupted run: each pair's 1/8-resolution flow is kept beside the outputs and continues the warm start;
    /// a pair missing one of its files (a kill between renames) is computed again.
    @Test func warmStartResumeIsByteIdentical() throws {
        let s = try Setup()
        let frames = try s.scratch.directory("frames")
        for k in 0..<4 {
            try CLIInputs.writeFrame("frames/f\(k).png", in: s.scratch, dx: Float(2 * k), dy: Float(k))
        }
        let out = s.path("out")
        let arguments = ["sequence", frames, "--output-dir", out, "--warm-start", "--iterations", "3", "--max-magnitude", "10"]
        let first = try RAFTFlowCLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let names = ["f0", "f1", "f2"].flatMap { [$0 + ".flo", $0 + ".png"] }
        func contents() throws -> [Data] { try names.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) } }
        let uninterrupted = try contents()
        #expect(FileManager.default.fileExists(atPath: out + "/.raftflow-warm-start/f1.flo"))

        // Pair 2 lost entirely, pair 1 lost its picture: both are computed again, pair 1 warm-started from pair 0.
        for lost in ["f2.flo", "f2.png", ".raftflow-warm-start/f2.flo", "f1.png"] {
            try FileManager.default.removeItem(atPath: out + "/" + lost)
        }
        let resumed = try RAFTFlowCLI.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("2 pair(s) computed, 1 skipped"), "\(resumed.stdout)")
        #expect(try contents() == uninterrupted)

        // Without the kept state the resumed chain would start cold: the same run without --warm-start differs.
        let cold = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", s.path("cold"), "--iterations", "3", "--max-magnitude", "10"])
        #expect(cold.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.path("cold/f2.flo"))) != uninterrupted[4])
    }

    /// Case 7: a safetensors shape of 2⁶⁴, a header nested 1,000 deep, /dev/null as a frame, a negative
    /// iteration count.
    @Test func minorCases() throws {
        let s = try Setup()
        func safetensors(_ header: String) -> [UInt8] {
            let json = Array(header.utf8)
            return (0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) } + json + [UInt8](repeating: 0, count: 16)
        }
        let huge = try s.scratch.write(safetensors(#"{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,0]}}"#),
                                       to: "huge.safetensors")
        let deep = try s.scratch.write(safetensors(#"{"w":"# + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "}"),
                                       to: "deep.safetensors")
        let hugeInfo = try RAFTFlowCLI.run(["info", huge])
        #expect(hugeInfo.status == 65 && hugeInfo.stderr.contains("invalid shape"), "\(hugeInfo.stderr)")
        let deepInfo = try RAFTFlowCLI.run(["info", deep])
        #expect(deepInfo.status == 65 && deepInfo.stderr.contains("more than 64 levels"), "\(deepInfo.stderr)")

        let null = try RAFTFlowCLI.run(["flow", "/dev/null", s.b, "-o", s.path("f.flo")])
        #expect(null.status == 65 && null.stderr.contains("/dev/null") && null.stderr.contains("device"), "\(null.stderr)")

        let negative = try RAFTFlowCLI.run(["flow", s.a, s.b, "-o", s.path("f.flo"), "--iterations", "-3"])
        #expect(negative.status == 64 && negative.stderr.contains("--iterations must be between 1 and 1000"), "\(negative.stderr)")
    }

    private func isDevice(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR
    }
}

/// The memory estimate bounds the workspace a pass really grows to, from above and within 2×.
@Suite("Memory estimate")
struct MemoryEstimateTests {
    @Test(arguments: [RAFTVariant.small, .basic], [CorrelationMode.allPairs, .onDemand])
    func boundsTheWorkspace(variant: RAFTVariant, correlation: CorrelationMode) throws {
        let model = try RAFT(stateDict: ProceduralWeights.raft(variant, seed: 7))
        for (height, width) in [(136, 200), (300, 260)] {
            let workspace = Workspace()
            let frame = Tensor(shape: [1, 3, height, width], repeating: 100)
            _ = try model(frame, frame, options: RAFTOptions(iterations: 1, correlation: correlation), workspace: workspace)
            let estimate = model.memoryEstimate(height: height, width: width, correlation: correlation)
            #expect(estimate.workspaceBytes >= workspace.bytes, "\(variant) \(correlation) \(width)x\(height): \(estimate.workspaceBytes) < \(workspace.bytes)")
            #expect(estimate.workspaceBytes <= 2 * workspace.bytes + 64 << 20,
                    "\(variant) \(correlation) \(width)x\(height): \(estimate.workspaceBytes) vs \(workspace.bytes)")
        }
    }
}
