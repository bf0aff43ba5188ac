import CVideoCodec
import Foundation
import RAFTKit
#if canImport(Glibc)
import Glibc
#endif

/// Writes ``RAFTKit/RGBImage`` frames of one size as a video file through FFmpeg's encoders, one frame at a time.
///
/// The container comes from the file name (.mp4, .mkv, .mov, .avi…). The encoder is libx264 where the system's
/// FFmpeg has it (Debian's does), else mpeg4, or the one named (`"ffv1"` stores RGB losslessly, in .mkv);
/// lossy encoders get YUV 4:2:0 (BT.601, limited range), and an odd side is padded to an even one by a replicated
/// row or column (the file's frames are then one pixel wider or taller). The
/// file appears atomically: frames go to a temporary file next to `url`, renamed over it by ``finish()``, and a
/// writer that is never finished leaves nothing behind.
public final class VideoWriter {
    public let url: URL
    public let width: Int
    public let height: Int
    public let frameRate: FrameRate
    /// The encoder in use (libx264, mpeg4, ffv1…).
    public let codec: String
    /// Frames appended so far.
    public private(set) var frameCount = 0
    private var writer: OpaquePointer?
    private let temporary: URL

    /// Creates the (temporary) file and opens the encoder.
    /// - Throws: ``VideoError/unwritable(file:reason:)``: no such encoder, a name without a known container, a
    ///   missing directory.
    public init(url: URL, width: Int, height: Int, frameRate: FrameRate, codec: String? = nil) throws(VideoError) {
        self.url = url
        self.width = width
        self.height = height
        self.frameRate = frameRate
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
        self.temporary = temporary
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unwritable(file: url.path, reason: "directory \(directory.path) does not exist")
        }
        guard width >= 1, height >= 1 else { throw .unwritable(file: url.path, reason: "empty \(width)x\(height) frames") }
        var handle: OpaquePointer?
        var used = [CChar](repeating: 0, count: 32)
        var message = [CChar](repeating: 0, count: 256)
        let status = used.withUnsafeMutableBufferPointer { usedBuffer in
            message.withUnsafeMutableBufferPointer {
                cvid_writer_open(temporary.path, url.lastPathComponent, UInt32(clamping: width), UInt32(clamping: height),
                                 Int32(clamping: frameRate.numerator), Int32(clamping: frameRate.denominator), codec,
                                 &handle, usedBuffer.baseAddress, $0.baseAddress, $0.count)
            }
        }
        guard status == Int32(CVID_OK.rawValue), let handle else {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(file: url.path, reason: VideoReader.text(message))
        }
        writer = handle
        self.codec = VideoReader.text(used)
    }

    deinit {
        if let writer {
            cvid_writer_abort(writer)
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    /// Encodes the next frame; samples are rounded and clamped to 0…255 (NaN becomes 0).
    public func append(_ frame: RGBImage) throws(VideoError) {
        guard let writer else { throw .unwritable(file: url.path, reason: "the video is already finished") }
        guard frame.width == width, frame.height == height else {
            throw .unwritable(file: url.path, reason: "frame \(frameCount) is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
        }
        let bytes = frame.pixels.map { v -> UInt8 in v > 0 ? (v >= 255 ? 255 : UInt8(v + 0.5)) : 0 }
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { rgb in
            message.withUnsafeMutableBufferPointer { cvid_writer_write(writer, rgb.baseAddress, $0.baseAddress, $0.count) }
        }
        guard status == Int32(CVID_OK.rawValue) else { throw .unwritable(file: url.path, reason: VideoReader.text(message)) }
        frameCount += 1
    }

    /// Flushes the encoder, completes the file and renames it into place.
    public func finish() throws(VideoError) {
        guard let writer else { throw .unwritable(file: url.path, reason: "the video is already finished") }
        self.writer = nil
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { cvid_writer_finish(writer, $0.baseAddress, $0.count) }
        guard status == Int32(CVID_OK.rawValue) else {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(file: url.path, reason: VideoReader.text(message))
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(file: url.path, reason: reason)
        }
    }
}
