import CVideoCodec
import Foundation
import RAFTKit

/// A frame rate as the container stores it: `numerator / denominator` frames per second (30000/1001 for NTSC).
public struct FrameRate: Sendable, Hashable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(numerator: Int, denominator: Int = 1) {
        precondition(numerator > 0 && denominator > 0, "a frame rate is positive, not \(numerator)/\(denominator)")
        self.numerator = numerator
        self.denominator = denominator
    }

    public var framesPerSecond: Double { Double(numerator) / Double(denominator) }
    public var description: String { String(format: "%.3g fps", framesPerSecond) }
}

/// What a video file holds, read from its header and a demux pass over its packets (no decoding).
public struct VideoInfo: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// The average frame rate, nil when the container does not say.
    public var frameRate: FrameRate?
    /// Frames in the file, counted as the video stream's packets (for the codecs of ordinary video files, one
    /// packet per frame; the decoder may yield fewer when the file is damaged).
    public var frameCount: Int
    /// FFmpeg's name of the decoder (h264, mpeg4, ffv1…).
    public var codec: String

    public init(width: Int, height: Int, frameRate: FrameRate?, frameCount: Int, codec: String) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.frameCount = frameCount
        self.codec = codec
    }
}

/// Reads a video file frame by frame, in presentation order, as ``RAFTKit/RGBImage``s (8-bit samples on the
/// 0…255 scale; YUV converted with the stream's matrix and range, BT.601 when untagged). One decoded frame is
/// held at a time, so memory does not grow with the length. Use it on one thread at a time.
///
/// ```swift
/// let video = try VideoReader(contentsOf: URL(fileURLWithPath: "clip.mp4"))
/// while let frame = try video.nextFrame() { … }
/// ```
public final class VideoReader {
    public let url: URL
    public let info: VideoInfo
    /// The index (from 0) of the frame that ``nextFrame()`` returns next.
    public private(set) var nextFrameIndex = 0
    private let reader: OpaquePointer

    /// Opens `url` and reads its header; frames larger than `limits` are refused here, before any decoding.
    /// - Throws: ``VideoError``: unreadable, not a video, unsupported codec, too large.
    public init(contentsOf url: URL, limits: ImageLimits = .standard) throws(VideoError) {
        self.url = url
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .unreadable(file: url.path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: url.path, reason: "is a directory") }
        var handle: OpaquePointer?
        var cInfo = cvid_info()
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer {
            cvid_reader_open(url.path, &handle, &cInfo, $0.baseAddress, $0.count)
        }
        guard status == Int32(CVID_OK.rawValue), let handle else {
            throw Self.error(status, file: url.path, frame: nil, message: message)
        }
        let codec = withUnsafeBytes(of: cInfo.codec) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let rate = cInfo.frame_rate_num > 0 && cInfo.frame_rate_den > 0
            ? FrameRate(numerator: Int(cInfo.frame_rate_num), denominator: Int(cInfo.frame_rate_den)) : nil
        info = VideoInfo(width: Int(cInfo.width), height: Int(cInfo.height), frameRate: rate,
                         frameCount: max(0, Int(cInfo.frame_count)), codec: codec)
        if let violation = limits.violation(width: info.width, height: info.height) {
            cvid_reader_close(handle)
            throw .tooLarge(file: url.path, width: info.width, height: info.height, reason: violation)
        }
        reader = handle
    }

    deinit { cvid_reader_close(reader) }

    /// The next frame, or nil after the last one.
    /// - Throws: ``VideoError/corrupt(file:frame:reason:)`` for damaged data, ``VideoError/unsupported(file:reason:)``
    ///   when the frame size changes.
    public func nextFrame() throws(VideoError) -> RGBImage? {
        let (w, h) = (info.width, info.height)
        var bytes = [UInt8](repeating: 0, count: w * h * 3)
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeMutableBufferPointer { rgb in
            message.withUnsafeMutableBufferPointer { cvid_reader_next(reader, rgb.baseAddress, $0.baseAddress, $0.count) }
        }
        if status == Int32(CVID_END.rawValue) { return nil }
        guard status == Int32(CVID_OK.rawValue) else {
            throw Self.error(status, file: url.path, frame: nextFrameIndex, message: message)
        }
        nextFrameIndex += 1
        return RGBImage(unchecked: w, h, bytes.map(Float.init))
    }

    /// Decodes and drops the next frame (no colour conversion); false after the last one.
    public func skipFrame() throws(VideoError) -> Bool {
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { cvid_reader_next(reader, nil, $0.baseAddress, $0.count) }
        if status == Int32(CVID_END.rawValue) { return false }
        guard status == Int32(CVID_OK.rawValue) else {
            throw Self.error(status, file: url.path, frame: nextFrameIndex, message: message)
        }
        nextFrameIndex += 1
        return true
    }

    static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func error(_ status: Int32, file: String, frame: Int?, message: [CChar]) -> VideoError {
        let reason = text(message)
        switch cvid_status(rawValue: UInt32(status)) {
        case CVID_NOT_VIDEO: return .notAVideo(file: file, reason: reason)
        case CVID_UNSUPPORTED: return .unsupported(file: file, reason: reason)
        case CVID_NO_MEMORY: return .unsupported(file: file, reason: "out of memory: \(reason)")
        case CVID_IO: return .unreadable(file: file, reason: reason)
        default: return .corrupt(file: file, frame: frame, reason: reason)
        }
    }
}
