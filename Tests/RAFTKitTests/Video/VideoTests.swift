import Foundation
import Testing
@testable import RAFTKit
import RAFTKitVideo

/// Video files through FFmpeg (RAFTKitVideo): videos made here with the library's own writer, read back frame by
/// frame. FFV1 stores planar RGB losslessly, so its frames must come back exactly; libx264 is lossy (YUV 4:2:0).
@Suite("Video")
struct VideoTests {
    /// Frame `k` of a test clip: a texture moved by k px, on odd sides (the 4:2:0 encoders pad them).
    static func frame(_ k: Int, width: Int = 47, height: Int = 33) -> RGBImage {
        RGBImage(CLIInputs.frame(width: width, height: height, dx: Float(k)).raster)
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ frames: [RGBImage], to url: URL, codec: String?, rate: FrameRate = FrameRate(numerator: 12))
        throws -> VideoWriter {
        let writer = try VideoWriter(url: url, width: frames[0].width, height: frames[0].height, frameRate: rate, codec: codec)
        for frame in frames { try writer.append(frame) }
        try writer.finish()
        return writer
    }

    static func meanAbsDifference(_ a: RGBImage, _ b: RGBImage) -> Float {
        zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count)
    }

    @Test func losslessRoundTripIsFrameExact() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("clip.mkv")
        let frames = (0..<7).map { Self.frame($0) }
        let writer = try Self.write(frames, to: url, codec: "ffv1")
        #expect(writer.codec == "ffv1" && writer.frameCount == 7)
        // Written atomically: only the final file is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["clip.mkv"])

        let video = try VideoReader(contentsOf: url)
        #expect(video.info == VideoInfo(width: 47, height: 33, frameRate: FrameRate(numerator: 12), frameCount: 7, codec: "ffv1"))
        var decoded: [RGBImage] = []
        while let frame = try video.nextFrame() { decoded.append(frame) }
        #expect(decoded.count == 7)
        for (k, frame) in decoded.enumerated() { #expect(frame == frames[k], "frame \(k)") }
        #expect(try video.nextFrame() == nil)
    }

    @Test func skippingKeepsTheFrameIndex() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("clip.mkv")
        let frames = (0..<5).map { Self.frame($0) }
        _ = try Self.write(frames, to: url, codec: "ffv1")
        let video = try VideoReader(contentsOf: url)
        #expect(try video.skipFrame() && video.skipFrame())
        #expect(video.nextFrameIndex == 2)
        #expect(try video.nextFrame() == frames[2])
        #expect(try video.skipFrame() && video.skipFrame())
        #expect(try !video.skipFrame())
        #expect(video.nextFrameIndex == 5)
    }

    /// The default encoder (libx264 in Debian's FFmpeg, else mpeg4) at 25 fps: the right number of frames, each
    /// closest to its own source frame. 4:2:0 needs even sides: 65×49 frames are stored as 66×50, the last column
    /// and row repeated.
    @Test func lossyRoundTripKeepsFramesInOrder() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("clip.mp4")
        let frames = (0..<10).map { Self.frame(3 * $0, width: 65, height: 49) }
        let writer = try Self.write(frames, to: url, codec: nil, rate: FrameRate(numerator: 25))
        #expect(["libx264", "mpeg4"].contains(writer.codec))
        let video = try VideoReader(contentsOf: url)
        #expect(video.info.width == 66 && video.info.height == 50 && video.info.frameCount == 10)
        #expect(video.info.frameRate == FrameRate(numerator: 25))
        var k = 0
        while let padded = try video.nextFrame() {
            var frame = try RGBImage(width: 65, height: 49)
            for y in 0..<49 { for x in 0..<65 { frame[x: x, y: y] = padded[x: x, y: y] } }
            let own = Self.meanAbsDifference(frame, frames[k])
            #expect(own < 4, "frame \(k): \(own)")
            for other in [k - 1, k + 1] where frames.indices.contains(other) {
                #expect(own < Self.meanAbsDifference(frame, frames[other]), "frame \(k) is closer to frame \(other)")
            }
            k += 1
        }
        #expect(k == 10)
    }

    @Test func badFilesAreTypedErrors() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.mp4")
        #expect(throws: VideoError.unreadable(file: missing.path, reason: "no such file")) { try VideoReader(contentsOf: missing) }
        #expect(throws: VideoError.unreadable(file: directory.path, reason: "is a directory")) { try VideoReader(contentsOf: directory) }
        let text = directory.appendingPathComponent("text.mp4")
        try Data("this is not a video, only some text that FFmpeg will not recognise".utf8).write(to: text)
        do {
            _ = try VideoReader(contentsOf: text)
            Issue.record("a text file opened as a video")
        } catch {
            guard case .notAVideo(let file, _) = error else { Issue.record("\(error)"); return }
            #expect(file == text.path && error.description.hasPrefix("\(text.path): not a video file"))
        }
        // Too large for the limits: refused before decoding.
        let small = directory.appendingPathComponent("small.mkv")
        _ = try Self.write([Self.frame(0), Self.frame(1)], to: small, codec: "ffv1")
        #expect(throws: VideoError.self) {
            try VideoReader(contentsOf: small, limits: ImageLimits(maxWidth: 32, maxHeight: 32, maxPixels: 1024))
        }
    }

    @Test func writerRefusesWhatItCannotWrite() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rate = FrameRate(numerator: 25)
        let nowhere = directory.appendingPathComponent("nowhere/flow.mp4")
        #expect(throws: VideoError.self) { try VideoWriter(url: nowhere, width: 8, height: 8, frameRate: rate) }
        let unknown = directory.appendingPathComponent("flow.notacontainer")
        #expect(throws: VideoError.self) { try VideoWriter(url: unknown, width: 8, height: 8, frameRate: rate) }
        let mp4 = directory.appendingPathComponent("flow.mp4")
        #expect(throws: VideoError.self) { try VideoWriter(url: mp4, width: 8, height: 8, frameRate: rate, codec: "no-such-codec") }
        do {
            let writer = try VideoWriter(url: mp4, width: 8, height: 8, frameRate: rate)
            #expect(throws: VideoError.self) { try writer.append(RGBImage(width: 9, height: 8)) }
            try writer.append(RGBImage(width: 8, height: 8))
        }
        // An unfinished writer leaves nothing behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
    }
}
