/// Why a video file could not be read or written. Every case names the file and says what was wrong.
public enum VideoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (missing, a directory, no permission).
    case unreadable(file: String, reason: String)
    /// The content is not a container FFmpeg recognises, or it has no video stream.
    case notAVideo(file: String, reason: String)
    /// The container or a frame is damaged (`frame` is the index of the frame being decoded, when known).
    case corrupt(file: String, frame: Int?, reason: String)
    /// A valid file RAFTKit does not handle: no decoder for its codec, a frame size that changes mid-stream.
    case unsupported(file: String, reason: String)
    /// The frames are larger than the limits (see `ImageLimits`); nothing was decoded.
    case tooLarge(file: String, width: Int, height: Int, reason: String)
    /// The video could not be written (no encoder, unknown container, missing directory, disk full).
    case unwritable(file: String, reason: String)

    /// The file the error concerns.
    public var file: String {
        switch self {
        case let .unreadable(f, _), let .notAVideo(f, _), let .corrupt(f, _, _), let .unsupported(f, _),
             let .tooLarge(f, _, _, _), let .unwritable(f, _): f
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(f, r): "\(f): cannot read video: \(r)"
        case let .notAVideo(f, r): "\(f): not a video file (\(r))"
        case let .corrupt(f, k?, r): "\(f): corrupt video at frame \(k): \(r)"
        case let .corrupt(f, nil, r): "\(f): corrupt video: \(r)"
        case let .unsupported(f, r): "\(f): unsupported video: \(r)"
        case let .tooLarge(f, w, h, r): "\(f): video frames of \(w)x\(h) pixels are too large (\(r))"
        case let .unwritable(f, r): "\(f): cannot write video: \(r)"
        }
    }
}
