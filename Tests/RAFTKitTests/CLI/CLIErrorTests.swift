import Foundation
import Testing
@testable import RAFTKit

/// Bad inputs: each gives its documented exit code (64 usage, 65 bad input data, 73 cannot create output),
/// one line on stderr naming the file and the problem, and writes nothing at the output path (no partial
/// or temporary file in the output directory).
@Suite("raftflow bad inputs")
struct CLIErrorTests {
    /// A scratch directory with good frames a.png and b.png, an empty output directory `out`, and helpers.
    final class Setup {
        let scratch: CLIScratch
        let a: String, b: String, out: String
        init() throws {
            scratch = try CLIScratch()
            a = try CLIInputs.writeFrame("a.png", in: scratch)
            b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
            out = try scratch.directory("out")
        }

        /// The usual outputs of `flow`, all inside `out`.
        var outputs: [String] {
            ["--output", out + "/f.flo", "--visualization", out + "/v.png", "--kitti-output", out + "/k.png",
             "--composite", out + "/c.png"]
        }

        /// Runs raftflow and checks the exit status, a single `raftflow: …` line on stderr mentioning every
        /// string in `mentions`, nothing on stdout, and an empty output directory.
        @discardableResult
        func expectFailure(_ arguments: [String], status: Int32, mentions: [String],
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> RAFTFlowCLI.Result {
            let r = try RAFTFlowCLI.run(arguments)
            let command = "raftflow " + arguments.joined(separator: " ")
            #expect(r.status == status, "\(command): exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
            if status == 64 {
                #expect(r.stderr.hasPrefix("Error: "), "\(command): \(r.stderr)", sourceLocation: sourceLocation)
            } else {
                #expect(r.stderrLines.count == 1, "\(command): expected one line, got: \(r.stderr)",
                        sourceLocation: sourceLocation)
                #expect(r.stderr.hasPrefix("raftflow: "), "\(command): \(r.stderr)", sourceLocation: sourceLocation)
            }
            for mention in mentions {
                #expect(r.stderr.contains(mention), "\(command): '\(mention)' not in: \(r.stderr)",
                        sourceLocation: sourceLocation)
            }
            #expect(r.stdout.isEmpty, "\(command) printed on stdout: \(r.stdout)", sourceLocation: sourceLocation)
            let left = try scratch.contents("out")
            #expect(left == [], "\(command) left files behind: \(left)", sourceLocation: sourceLocation)
            return r
        }

        func write(_ bytes: [UInt8], _ name: String) throws -> String { try scratch.write(bytes, to: name) }
        func path(_ name: String) -> String { scratch.path(name) }
    }

    // MARK: Frames

    @Test func badFrames() throws {
        let s = try Setup()
        let png = try CLIInputs.pngBytes()

        // A damaged IDAT (CRC mismatch).
        var corrupt = png
        let idat = try #require(PNGBytes.chunks(png).first { $0.type == "IDAT" })
        corrupt[idat.offset + 8 + idat.length / 2] ^= 0x5A
        let corruptPath = try s.write(corrupt, "corrupt.png")
        try s.expectFailure(["flow", corruptPath, s.b] + s.outputs, status: 65, mentions: [corruptPath, "corrupt"])

        let truncated = try s.write(Array(png.prefix(png.count / 2)), "truncated.png")
        try s.expectFailure(["flow", s.a, truncated] + s.outputs, status: 65, mentions: [truncated, "truncated"])

        let text = try s.write(Array("just some text, not an image\n".utf8), "text.png")
        try s.expectFailure(["flow", text, s.b] + s.outputs, status: 65, mentions: [text, "not a PNG"])

        let empty = try s.write([], "empty.png")
        try s.expectFailure(["flow", s.a, empty] + s.outputs, status: 65, mentions: [empty, "empty"])

        let missing = s.path("missing.png")
        try s.expectFailure(["flow", s.a, missing] + s.outputs, status: 65, mentions: [missing, "no such file"])

        // Without read permission (root reads anything, so only as another user).
        if getuid() != 0 {
            let locked = try CLIInputs.writeFrame("locked.png", in: s.scratch)
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked)
            try s.expectFailure(["flow", locked, s.b] + s.outputs, status: 65, mentions: [locked, "cannot read"])
        }

        let directory = try s.scratch.directory("adirectory.png")
        try s.expectFailure(["flow", directory, s.b] + s.outputs, status: 65, mentions: [directory, "directory"])

        let other = try CLIInputs.writeFrame("other.png", in: s.scratch, width: 176, height: 136)
        try s.expectFailure(["flow", s.a, other] + s.outputs, status: 65, mentions: [s.a, other, "176x136", "same size"])

        // Sizes read width x height, as in every other message.
        let wide = try CLIInputs.writeFrame("wide.png", in: s.scratch, width: 300, height: 60)
        try s.expectFailure(["flow", s.a, wide] + s.outputs, status: 65, mentions: [wide, "300x60", "same size"])
    }

    // MARK: Flow files

    @Test func badFlowFiles() throws {
        let s = try Setup()
        let (w, h) = (Int32(CLIInputs.width), Int32(CLIInputs.height))
        let count = CLIInputs.width * CLIInputs.height * 2
        let good = [Float](repeating: 0.5, count: count)

        let badMagic = try s.write(CLIInputs.rawFlo(magic: Array("PIEG".utf8), width: w, height: h, values: good), "magic.flo")
        try s.expectFailure(["flow", s.a, s.b, "--warm-start", badMagic] + s.outputs, status: 65,
                            mentions: [badMagic, "magic"])

        let short = try s.write(CLIInputs.rawFlo(width: w, height: h, values: Array(good.prefix(count / 2))), "short.flo")
        try s.expectFailure(["flow", s.a, s.b, "--ground-truth", short] + s.outputs, status: 65,
                            mentions: [short, "truncated"])
        let long = try s.write(CLIInputs.rawFlo(width: w, height: h, values: good + [1, 2]), "long.flo")
        try s.expectFailure(["flow", s.a, s.b, "--warm-start", long] + s.outputs, status: 65,
                            mentions: [long, "bytes more"])

        var withNaN = good
        withNaN[1234] = .nan
        let nan = try s.write(CLIInputs.rawFlo(width: w, height: h, values: withNaN), "nan.flo")
        try s.expectFailure(["flow", s.a, s.b, "--warm-start", nan] + s.outputs, status: 65, mentions: [nan, "NaN"])
        try s.expectFailure(["flow", s.a, s.b, "--ground-truth", nan] + s.outputs, status: 65, mentions: [nan, "NaN"])

        // Flows of another size than the frames: refused before anything is written.
        let small = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 0, width: 32, height: 16), "small.flo",
                                            in: s.scratch)
        try s.expectFailure(["flow", s.a, s.b, "--warm-start", small] + s.outputs, status: 65,
                            mentions: [small, "32x16", "same size"])
        try s.expectFailure(["flow", s.a, s.b, "--ground-truth", small] + s.outputs, status: 65,
                            mentions: [small, "32x16", "same size"])

        // visualize and evaluate read the same files.
        try s.expectFailure(["visualize", badMagic, "--output", s.out + "/v.png"], status: 65, mentions: [badMagic, "magic"])
        try s.expectFailure(["visualize", nan, "--legend", "--output", s.out + "/v.png"], status: 65, mentions: [nan, "NaN"])
        let goodFlow = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 0), "good.flo", in: s.scratch)
        try s.expectFailure(["evaluate", "--prediction", nan, "--ground-truth", goodFlow], status: 65, mentions: [nan, "NaN"])
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", short], status: 65,
                            mentions: [short, "truncated"])
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", small], status: 65,
                            mentions: [small, goodFlow, "same size"])
        try s.expectFailure(["evaluate", "--prediction", s.path("nothing.flo"), "--ground-truth", goodFlow], status: 65,
                            mentions: [s.path("nothing.flo"), "no such file"])
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", s.path("nothing.flo")], status: 65,
                            mentions: [s.path("nothing.flo"), "no such file"])
        // A KITTI flow PNG must be 16-bit: an 8-bit frame is not a flow.
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", s.a], status: 65, mentions: [s.a])

        // Masks: corrupt, and of the wrong size.
        let mask = try s.write(Array("GIF89a....".utf8), "mask.png")
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", goodFlow, "--valid", mask],
                            status: 65, mentions: [mask, "GIF"])
        let smallMask = try CLIInputs.writeFrame("smallmask.png", in: s.scratch, width: 8, height: 8)
        try s.expectFailure(["evaluate", "--prediction", goodFlow, "--ground-truth", goodFlow, "--valid", smallMask],
                            status: 65, mentions: [smallMask, "8x8", "same size"])

        // Directory form: a missing ground-truth directory, and no matching names.
        try s.scratch.directory("preds")
        try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 0), "preds/x.flo", in: s.scratch)
        try s.expectFailure(["evaluate", "--prediction", s.path("preds"), "--ground-truth", s.path("nogt")], status: 65,
                            mentions: [s.path("nogt"), "no such file"])
        try s.expectFailure(["evaluate", "--prediction", s.path("preds"), "--ground-truth", s.out], status: 65,
                            mentions: [s.path("preds"), s.out])
    }

    // MARK: Weights

    @Test func badWeights() throws {
        let s = try Setup()
        let small = Fixtures.url("checkpoint_small_official_f16.pth").path
        try s.expectFailure(["flow", s.a, s.b, "--model", "basic"] + s.outputs, status: 65,
                            mentions: ["raft-small-default.safetensors", "basic", "small"])
        try s.expectFailure(["flow", s.a, s.b, "--weights", small, "--model", "basic"] + s.outputs, status: 65,
                            mentions: [small, "basic", "small"])
        try s.expectFailure(["sequence", s.a, s.b, "--output-dir", s.out, "--weights", small, "--model", "basic"],
                            status: 65, mentions: [small, "basic"])

        let garbage = try s.write((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }, "garbage.pth")
        try s.expectFailure(["flow", s.a, s.b, "--weights", garbage] + s.outputs, status: 65, mentions: [garbage])
        try s.expectFailure(["info", garbage], status: 65, mentions: [garbage])

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: small)))
        let truncated = try s.write(Array(bytes.prefix(bytes.count / 3)), "truncated.pth")
        try s.expectFailure(["flow", s.a, s.b, "--weights", truncated] + s.outputs, status: 65, mentions: [truncated])
        let safetensors = try s.write(Array(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#.utf8),
                                      "broken.safetensors")
        try s.expectFailure(["info", "--json", safetensors], status: 65, mentions: [safetensors])
        try s.expectFailure(["info", s.path("none.pth")], status: 65, mentions: [s.path("none.pth")])
        // A pickle that would run code is refused, not executed.
        let malicious = Fixtures.url("checkpoint_malicious.pth").path
        try s.expectFailure(["flow", s.a, s.b, "--weights", malicious] + s.outputs, status: 65, mentions: [malicious])
    }

    // MARK: Outputs

    @Test func unwritableOutputs() throws {
        let s = try Setup()
        let nowhere = s.path("nowhere")
        try s.expectFailure(["flow", s.a, s.b, "--output", s.out + "/f.flo", "--visualization", nowhere + "/v.png"],
                            status: 73, mentions: [nowhere, "does not exist"])
        // A missing output folder is created, but not below a file.
        try s.expectFailure(["sequence", s.a, s.b, "--output-dir", s.a + "/flows"], status: 73,
                            mentions: [s.a + "/flows", "cannot create the output folder"])
        try s.expectFailure(["visualize", "--legend", "--output", nowhere + "/w.png"], status: 73, mentions: [nowhere])
        // An output path that is a directory cannot be replaced: the temporary file is removed again.
        let taken = try s.scratch.directory("out/taken.flo")
        let r = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "1", "--output", taken,
                                     "--visualization", s.out + "/v.png"])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderrLines.count == 1 && r.stderr.contains(taken), "\(r.stderr)")
        let left = try s.scratch.contents("out")
        #expect(left == ["taken.flo"], "\(left)")
        #expect(try s.scratch.contents("out/taken.flo") == [])
        // The same when the directory is named for a later output: the earlier ones are not left behind.
        let r2 = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "1", "--output", s.out + "/f.flo",
                                      "--kitti-output", s.out + "/k.png", "--visualization", taken])
        #expect(r2.status == 73, "\(r2.stderr)")
        #expect(r2.stderrLines.count == 1 && r2.stderr.contains(taken), "\(r2.stderr)")
        let left2 = try s.scratch.contents("out")
        #expect(left2 == ["taken.flo"], "\(left2)")
        // An output that is also an input is refused rather than overwritten.
        let gt = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 2, v: 1), "out/gt.flo", in: s.scratch)
        let r3 = try RAFTFlowCLI.run(["flow", s.a, s.b, "--iterations", "1", "--ground-truth", gt, "--output", gt])
        #expect(r3.status == 73 && r3.stderr.contains(gt), "\(r3.stderr)")
        #expect(try FlowField.read(contentsOf: URL(fileURLWithPath: gt)) == CLIInputs.constantFlow(u: 2, v: 1))
    }

    // MARK: Sequences

    @Test func badSequences() throws {
        let s = try Setup()
        let frames = try s.scratch.directory("frames")
        for k in 1...4 { try CLIInputs.writeFrame("frames/f\(k).png", in: s.scratch, dx: Float(k)) }
        let sequence = ["sequence", frames, "--output-dir", s.out, "--iterations", "1"]

        // Frames are decoded as they are needed: a bad third frame stops the run at pair 2 (f2 → f3), with one line,
        // after pair 1 was written; nothing after it is.
        let third = frames + "/f3.png"
        let png = try Data(contentsOf: URL(fileURLWithPath: third))
        try Data(png.prefix(png.count - 40)).write(to: URL(fileURLWithPath: third))
        func expectStopsAtThirdFrame(_ mention: String) throws {
            let r = try RAFTFlowCLI.run(sequence + ["--quiet", "--overwrite"])
            #expect(r.status == 65, "\(r.stderr)")
            #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("raftflow: ") && r.stderr.contains(third)
                    && r.stderr.contains(mention), "\(r.stderr)")
            #expect(try s.scratch.contents("out") == ["f1.flo", "f1.png"])
            for name in try s.scratch.contents("out") { try FileManager.default.removeItem(atPath: s.out + "/" + name) }
        }
        try expectStopsAtThirdFrame("truncated")
        try CLIInputs.writeFrame("frames/f3.png", in: s.scratch, width: 176, height: 136)
        try expectStopsAtThirdFrame("same size")
        try CLIInputs.writeFrame("frames/f3.png", in: s.scratch, dx: 3)

        try s.expectFailure(["sequence", s.a, "--output-dir", s.out], status: 65, mentions: ["at least 2 frames"])
        let empty = try s.scratch.directory("empty")
        try s.expectFailure(["sequence", empty, "--output-dir", s.out], status: 65, mentions: ["at least 2 frames"])
        try s.expectFailure(["sequence", s.path("nope"), "--output-dir", s.out], status: 65,
                            mentions: [s.path("nope"), "no such file"])

        // Writing the outputs next to the frames would replace frame k's PNG with its visualisation.
        let before = try FileManager.default.contentsOfDirectory(atPath: frames).sorted()
        let r = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", frames, "--iterations", "1"])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderrLines.count == 1 && r.stderr.contains(frames + "/f1.png"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: frames).sorted() == before)
        #expect(try RGBImage(contentsOf: URL(fileURLWithPath: frames + "/f1.png")) == RGBImage(CLIInputs.frame(dx: 1).raster))
    }

    // MARK: Usage

    @Test func usageErrors() throws {
        let s = try Setup()
        let flo = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 0), "f.flo", in: s.scratch)
        try s.scratch.directory("flows")
        let cases: [[String]] = [
            ["frobnicate"],
            ["flow"],
            ["flow", s.a],
            ["flow", s.a, s.b],                                         // nothing to write
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--bogus"],
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--iterations", "0"],
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--iterations", "many"],
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--threads", "0"],
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--model", "huge"],
            ["flow", s.a, s.b, "-o", s.out + "/f.flo", "--padding", "zero"],
            ["flow", s.a, s.b, "--visualization", s.out + "/v.png", "--max-magnitude", "-1"],
            ["flow", s.a, s.b, "--visualization", s.out + "/v.png", "--max-magnitude", "inf"],
            ["flow", s.a, s.b, "--visualization", s.out + "/v.png", "--max-magnitude", "nan"],
            ["sequence", s.a, s.b],
            ["sequence", "--output-dir", s.out],
            ["sequence", s.a, s.b, "--output-dir", s.out, "--iterations", "0"],
            ["visualize", "--output", s.out + "/v.png"],
            ["visualize", flo],
            ["visualize", flo, "--output", s.out + "/v.png", "--max-magnitude", "inf"],
            ["evaluate", "--prediction", flo],
            ["evaluate", "--ground-truth", flo],
            ["evaluate", "--prediction", s.path("flows"), "--ground-truth", s.path("flows"), "--valid", s.a],
            ["info", "--bogus"],
            ["info", "a.pth", "b.pth"],
        ]
        for arguments in cases {
            try s.expectFailure(arguments, status: 64, mentions: [])
        }
    }
}
