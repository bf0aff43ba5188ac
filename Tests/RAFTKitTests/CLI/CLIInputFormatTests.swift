import Foundation
import Testing
@testable import RAFTKit
import RAFTKitVideo

/// Issue 16 at the command line: JPEG frames and pictures, any frame size, --scale, folders of mixed formats with
/// warnings for what is skipped, output folders created, and videos in and out.
@Suite("raftflow inputs: JPEG, sizes, folders, video")
struct CLIInputFormatTests {
    @Test func jpegPairAndJPEGPicture() throws {
        let scratch = try CLIScratch()
        let a = scratch.path("a.jpg"), b = scratch.path("b.jpg")
        try CLIInputs.frame().write(to: URL(fileURLWithPath: a))
        try CLIInputs.frame(dx: 2, dy: 1).write(to: URL(fileURLWithPath: b))
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "4", "--output", scratch.path("f.flo"),
                                     "--visualization", scratch.path("v.jpg")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: a)).prefix(3)) == [0xFF, 0xD8, 0xFF])
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: scratch.path("v.jpg"))).prefix(3)) == [0xFF, 0xD8, 0xFF])
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("f.flo")))
        #expect(flow.width == CLIInputs.width && flow.height == CLIInputs.height && !flow.hasNonFinite)
        // A damaged JPEG: one line, exit 65, nothing written.
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: b))
        try Data(jpeg.prefix(jpeg.count / 2)).write(to: URL(fileURLWithPath: b))
        let bad = try RAFTFlowCLI.run(["flow", a, b, "--output", scratch.path("g.flo")])
        #expect(bad.status == 65 && bad.stderrLines.count == 1 && bad.stderr.contains(b) && bad.stderr.contains("truncated"),
                "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("g.flo")))
    }

    /// Frames below RAFT's 128×128 are padded and the flow cropped back: 47×33 and 1×1 pairs give flows of their size.
    @Test(arguments: [(47, 33), (1, 1), (200, 100)])
    func anySize(width: Int, height: Int) throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch, width: width, height: height)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, width: width, height: height, dx: 1)
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "2", "--output", scratch.path("f.flo")])
        #expect(r.status == 0, "\(r.stderr)")
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("f.flo")))
        #expect(flow.width == width && flow.height == height && !flow.hasNonFinite)
    }

    /// --scale 0.5 on 320×256 frames runs the network at 160×128 and returns a 320×256 flow in full-resolution
    /// pixels: the library's flow of the frames resized to 160×128, resized back (vectors ×2). The frames are the
    /// 160×128 test texture, shifted by 2 px, upsampled ×2, so the flow must also come back as about 4 px (the
    /// bundled model underestimates this smooth texture's shift by 10–20 %; flow left in network pixels would
    /// be about 1.7 px).
    @Test func scale() throws {
        let scratch = try CLIScratch()
        let a = scratch.path("a.png"), b = scratch.path("b.png")
        try CLIInputs.frame().resized(width: 320, height: 256).write(to: URL(fileURLWithPath: a))
        try CLIInputs.frame(dx: 2).resized(width: 320, height: 256).write(to: URL(fileURLWithPath: b))
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "12", "--scale", "0.5", "--output", scratch.path("f.flo"), "-v"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("network at 160x128"), "\(r.stderr)")
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("f.flo")))
        #expect(flow.width == 320 && flow.height == 256)
        // The interior, away from the border.
        var u: Float = 0, v: Float = 0, n: Float = 0
        for y in 48..<208 { for x in 48..<272 { u += flow[x: x, y: y].u; v += flow[x: x, y: y].v; n += 1 } }
        #expect(abs(u / n - 4) < 1 && abs(v / n) < 0.6, "mean flow (\(u / n), \(v / n))")
        let expected = try FlowEstimator.bundled().estimate(
            from: RGBImage(contentsOf: URL(fileURLWithPath: a)).resized(width: 160, height: 128),
            to: RGBImage(contentsOf: URL(fileURLWithPath: b)).resized(width: 160, height: 128), iterations: 12)
            .flow.resized(width: 320, height: 256)
        let worst = zip(flow.uv, expected.uv).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-3, "CLI against library: max \(worst) px")   // thread counts round differently
        let bad = try RAFTFlowCLI.run(["flow", a, b, "--scale", "0", "--output", scratch.path("g.flo")])
        #expect(bad.status == 64 && bad.stderr.contains("--scale"), "\(bad.stderr)")
    }

    /// --progress (the default on a terminal): one line per iteration with the time left, the last with none left.
    @Test func flowProgress() throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 1)
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "3", "--progress", "--output", scratch.path("f.flo")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderrLines
        #expect(lines.count == 3, "\(r.stderr)")
        for (k, line) in lines.enumerated() { #expect(line.hasPrefix("iteration \(k + 1)/3 ") && line.contains("ETA"), "\(line)") }
        #expect(lines.last?.hasSuffix("ETA 0 s") == true, "\(r.stderr)")
        // Without the flag (and with stderr not a terminal), nothing.
        let quiet = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "3", "--output", scratch.path("g.flo")])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    /// A folder of PNG, JPEG and PPM frames in natural order; a hidden file, a subfolder and a text file are skipped
    /// with one warning line each; the missing output folder (two levels) is created.
    @Test func mixedFolderWarningsAndOutputFolder() throws {
        let scratch = try CLIScratch()
        try scratch.directory("frames/sub")
        try CLIInputs.frame(dx: 1).write(to: URL(fileURLWithPath: scratch.path("frames/f1.png")))
        try CLIInputs.frame(dx: 2).write(to: URL(fileURLWithPath: scratch.path("frames/f2.jpg")))
        try CLIInputs.frame(dx: 3).write(to: URL(fileURLWithPath: scratch.path("frames/f10.ppm")))
        try scratch.write([1, 2, 3], to: "frames/.DS_Store")
        try scratch.write(Array("notes".utf8), to: "frames/notes.txt")
        let out = scratch.path("flows/run1")
        let r = try RAFTFlowCLI.run(["sequence", scratch.path("frames"), "--output-dir", out, "--iterations", "2", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderrLines
        #expect(lines.count == 3, "\(r.stderr)")
        for (name, reason) in [(".DS_Store", "hidden"), ("notes.txt", "not a .png"), ("sub", "folder")] {
            #expect(lines.contains { $0.hasPrefix("raftflow: warning: ") && $0.contains("frames/" + name) && $0.contains(reason) },
                    "\(name): \(r.stderr)")
        }
        #expect(try scratch.contents("flows/run1") == ["f1.flo", "f1.png", "f2.flo", "f2.png"])
        #expect(r.stdout.contains("2 pair(s) computed"), "\(r.stdout)")
    }

    /// Writes `count` frames (texture shifted by k px) as PNG files and as a lossless FFV1 video at 10 fps.
    private func clip(_ count: Int, in scratch: CLIScratch) throws -> (video: String, frames: String) {
        let frames = try scratch.directory("png")
        let video = scratch.path("clip.mkv")
        let writer = try VideoWriter(url: URL(fileURLWithPath: video), width: CLIInputs.width, height: CLIInputs.height,
                                     frameRate: FrameRate(numerator: 10), codec: "ffv1")
        for k in 0..<count {
            let frame = RGBImage(CLIInputs.frame(dx: Float(k)).raster)
            try writer.append(frame)
            try frame.write(to: URL(fileURLWithPath: frames + "/f\(k).png"))
        }
        try writer.finish()
        return (video, frames)
    }

    /// The same frames as a video and as PNG files give the same flows, pair by pair; --video writes the pictures as a
    /// video at the input's rate.
    @Test func videoMatchesFramesAndWritesAFlowVideo() throws {
        let scratch = try CLIScratch()
        let (video, frames) = try clip(4, in: scratch)
        let fromVideo = try RAFTFlowCLI.run(["sequence", video, "--output-dir", scratch.path("v"), "--iterations", "2",
                                             "--warm-start", "--video", scratch.path("flow.mp4")])
        #expect(fromVideo.status == 0, "\(fromVideo.stderr)")
        #expect(fromVideo.stderr.contains("\(CLIInputs.width)x\(CLIInputs.height), 10 fps, 4 frames (ffv1)"), "\(fromVideo.stderr)")
        let fromFiles = try RAFTFlowCLI.run(["sequence", frames, "--output-dir", scratch.path("p"), "--iterations", "2",
                                             "--warm-start"])
        #expect(fromFiles.status == 0, "\(fromFiles.stderr)")
        #expect(try scratch.contents("v") == [".raftflow-warm-start", "frame_000000.flo", "frame_000000.png", "frame_000001.flo", "frame_000001.png",
                                              "frame_000002.flo", "frame_000002.png"])
        for k in 0..<3 {
            let a = try Data(contentsOf: URL(fileURLWithPath: scratch.path("v/frame_00000\(k).flo")))
            let b = try Data(contentsOf: URL(fileURLWithPath: scratch.path("p/f\(k).flo")))
            #expect(a == b, "pair \(k)")
        }
        let flowVideo = try VideoReader(contentsOf: URL(fileURLWithPath: scratch.path("flow.mp4")))
        #expect(flowVideo.info.width == CLIInputs.width && flowVideo.info.height == CLIInputs.height)
        #expect(flowVideo.info.frameCount == 3 && flowVideo.info.frameRate == FrameRate(numerator: 10))
        let picture = try RGBImage(contentsOf: URL(fileURLWithPath: scratch.path("v/frame_000001.png")))
        _ = try flowVideo.nextFrame()
        let second = try #require(try flowVideo.nextFrame())
        #expect(VideoTests.meanAbsDifference(second, picture) < 4)
    }

    /// --start, --frames and --step pick frames 1, 3, 5; the pairs are named after their first frame's index, and a
    /// second run resumes (computes nothing).
    @Test func videoSelectionAndResume() throws {
        let scratch = try CLIScratch()
        let (video, _) = try clip(7, in: scratch)
        let arguments = ["sequence", video, "--output-dir", scratch.path("v"), "--iterations", "1",
                         "--start", "1", "--frames", "3", "--step", "2"]
        let first = try RAFTFlowCLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("7 frames (ffv1); using 3"), "\(first.stderr)")
        #expect(first.stderr.contains("frame 1 -> frame 3") && first.stderr.contains("frame 3 -> frame 5"), "\(first.stderr)")
        #expect(try scratch.contents("v") == ["frame_000001.flo", "frame_000001.png", "frame_000003.flo", "frame_000003.png"])
        // Flow of frames 1 → 3: the texture moves by about 2 px.
        let flow = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("v/frame_000001.flo")))
        #expect(flow.width == CLIInputs.width && !flow.hasNonFinite)
        let again = try RAFTFlowCLI.run(arguments)
        #expect(again.status == 0 && again.stdout.contains("0 pair(s) computed, 2 skipped"), "\(again.stdout) \(again.stderr)")
    }

    @Test func badVideosExit65WithOneLine() throws {
        let scratch = try CLIScratch()
        let (video, _) = try clip(3, in: scratch)
        let data = try Data(contentsOf: URL(fileURLWithPath: video))
        try Data(data.prefix(data.count / 3)).write(to: URL(fileURLWithPath: scratch.path("cut.mkv")))
        try Data("not a video, just words that no demuxer claims".utf8).write(to: URL(fileURLWithPath: scratch.path("text.mp4")))
        for name in ["cut.mkv", "text.mp4"] {
            let r = try RAFTFlowCLI.run(["sequence", scratch.path(name), "--output-dir", scratch.path("out"), "--quiet"])
            #expect(r.status == 65, "\(name): \(r.stderr)")
            #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("raftflow: ") && r.stderr.contains(scratch.path(name)),
                    "\(name): \(r.stderr)")
        }
        // `flow` points videos to `sequence`.
        let r = try RAFTFlowCLI.run(["flow", video, video, "--output", scratch.path("f.flo")])
        #expect(r.status == 65 && r.stderr.contains("raftflow sequence"), "\(r.stderr)")
    }
}
