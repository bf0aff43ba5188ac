/// Why an image file could not be read or written. Every case names the file (or `<memory>` for bytes
/// decoded without a path) and says what was wrong.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (missing, a directory, no permission).
    case unreadable(file: String, reason: String)
    /// The content is not a PNG, JPEG, PPM or PGM file.
    case notAnImage(file: String, detail: String)
    /// The data ends before the image is complete.
    case truncated(file: String, detail: String)
    /// The file is damaged: a bad chunk or CRC, an invalid zlib stream, an inconsistent header.
    case corrupt(file: String, reason: String)
    /// The header declares more pixels than the decoder accepts (see ``ImageLimits``); nothing was allocated.
    case tooLarge(file: String, width: Int, height: Int, reason: String)
    /// A valid file of a kind RAFTKit does not handle (ASCII PNM, 12-bit JPEG, an unusual channel count…).
    case unsupported(file: String, reason: String)
    /// The image could not be written (missing directory, no permission, disk full).
    case unwritable(file: String, reason: String)
    /// An image built in memory from inconsistent parts (a negative size, a sample count that does not match
    /// the size, an unsupported channel count or bit depth); `file` is `<memory>`.
    case invalidArgument(name: String, reason: String)

    /// The file the error concerns.
    public var file: String {
        switch self {
        case let .unreadable(f, _), let .notAnImage(f, _), let .truncated(f, _), let .corrupt(f, _),
             let .tooLarge(f, _, _, _), let .unsupported(f, _), let .unwritable(f, _): f
        case .invalidArgument: "<memory>"
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(f, r): "\(f): cannot read image: \(r)"
        case let .notAnImage(f, d): "\(f): not a PNG, JPEG, PPM or PGM image (\(d))"
        case let .truncated(f, d): "\(f): truncated image: \(d)"
        case let .corrupt(f, r): "\(f): corrupt image: \(r)"
        case let .tooLarge(f, w, h, r): "\(f): image of \(w)x\(h) pixels is too large (\(r))"
        case let .unsupported(f, r): "\(f): unsupported image: \(r)"
        case let .unwritable(f, r): "\(f): cannot write image: \(r)"
        case let .invalidArgument(name, r): "invalid image \(name): \(r)"
        }
    }
}

/// Upper bounds checked against an image header before any pixel memory is allocated, so a crafted or
/// damaged header that claims 200000×200000 pixels is refused instead of exhausting memory.
public struct ImageLimits: Sendable, Equatable {
    public var maxWidth: Int
    public var maxHeight: Int
    /// Largest width × height.
    public var maxPixels: Int

    public init(maxWidth: Int, maxHeight: Int, maxPixels: Int) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPixels = maxPixels
    }

    /// 32768 pixels per side and 2²⁶ (67 M) pixels in all: far above any optical-flow benchmark
    /// (HD1K is 2560×1080) while an RGB float copy stays below 1 GB.
    public static let standard = ImageLimits(maxWidth: 1 << 15, maxHeight: 1 << 15, maxPixels: 1 << 26)

    /// The largest file worth reading: 16 bytes per pixel (PFM flow needs 12, raw 16-bit RGBA 8) plus 1 MiB.
    var maxFileBytes: Int { maxPixels.multipliedReportingOverflow(by: 16).overflow ? .max : maxPixels * 16 + (1 << 20) }

    /// The reason a `width`×`height` header is refused, or nil when it fits.
    package func violation(width: Int, height: Int) -> String? {
        if width > maxWidth { return "width exceeds the limit of \(maxWidth)" }
        if height > maxHeight { return "height exceeds the limit of \(maxHeight)" }
        if width.multipliedReportingOverflow(by: height).overflow || width * height > maxPixels {
            return "more than \(maxPixels) pixels"
        }
        return nil
    }
}
