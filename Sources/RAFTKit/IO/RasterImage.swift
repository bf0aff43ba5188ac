import Foundation

/// An image with exact integer samples, as stored in a PNG, PPM or PGM file (or as decoded from a JPEG):
/// rows top to bottom, channels interleaved (`samples[(y·width + x)·channels + c]`).
///
/// This is the lossless level below ``RGBImage``: 16-bit data such as KITTI flow PNGs keeps every bit.
/// `channels` is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA); `bitDepth` is 8 (samples 0…255) or 16
/// (0…65535). Palette PNGs are read as RGB or RGBA and 1/2/4-bit gray as 8-bit gray. JPEGs are read as 8-bit
/// gray or RGB (CMYK converted) with their EXIF orientation applied.
public struct RasterImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    /// `height × width × channels` samples, each at most ``maxSample``.
    public var samples: [UInt16]

    /// A raster from its samples.
    /// - Throws: ``ImageError/invalidArgument(name:reason:)`` for a negative size, a channel count outside 1…4, a
    ///   bit depth other than 8 or 16, a sample count other than `width × height × channels`, or a sample above
    ///   ``maxSample``.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) throws(ImageError) {
        guard width >= 0, height >= 0 else { throw .invalidArgument(name: "size", reason: "negative size \(width)x\(height)") }
        guard (1...4).contains(channels) else { throw .invalidArgument(name: "channels", reason: "a raster has 1 to 4 channels, not \(channels)") }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw .invalidArgument(name: "bit depth", reason: "a raster has 8 or 16 bits per sample, not \(bitDepth)")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, samples.count == pixels &* channels else {
            throw .invalidArgument(name: "samples", reason: "a \(width)x\(height)x\(channels) raster needs width × height × channels samples, got \(samples.count)")
        }
        if bitDepth == 8, let i = samples.firstIndex(where: { $0 > 255 }) {
            throw .invalidArgument(name: "samples", reason: "sample \(i) is \(samples[i]), above 255 for 8 bits")
        }
        self.init(unchecked: width, height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    /// A raster whose parts the caller has checked.
    package init(unchecked width: Int, _ height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// The largest sample value: 255 or 65535.
    public var maxSample: Int { (1 << bitDepth) - 1 }

    /// Sample `channel` of pixel (`x`, `y`).
    public subscript(x x: Int, y y: Int, channel channel: Int) -> UInt16 {
        get { samples[(y * width + x) * channels + channel] }
        set { samples[(y * width + x) * channels + channel] = newValue }
    }

    /// Reads a PNG, JPEG, PPM (P6) or PGM (P5) file, chosen by its first bytes, not by its name.
    public init(contentsOf url: URL, limits: ImageLimits = .standard) throws(ImageError) {
        let data: Data
        do { data = try FileAccess.read(url, maxBytes: limits.maxFileBytes) } catch { throw .unreadable(file: url.path, reason: error.reason) }
        try self.init(data: data, source: url.path, limits: limits)
    }

    /// Decodes PNG, JPEG, PPM or PGM bytes; `source` names them in errors.
    public init(data: Data, source: String = "<memory>", limits: ImageLimits = .standard) throws(ImageError) {
        guard let format = ImageFileFormat(sniffing: data) else {
            throw .notAnImage(file: source, detail: ImageFileFormat.describeUnknown(data))
        }
        switch format {
        case .png: self = try PNGCodec.decode(data, file: source, limits: limits)
        case .jpeg: self = try JPEGCodec.decode(data, file: source, limits: limits)
        case .netpbm: self = try NetPBM.decode(data, file: source, limits: limits)
        }
    }

    /// The encoded bytes in `format` (PNG: any channel count; PNM: 1 channel as P5, 3 as P6; JPEG: gray or RGB at
    /// quality 95, alpha dropped, 16-bit rounded to 8).
    public func encoded(as format: ImageFileFormat = .png, source: String = "<memory>") throws(ImageError) -> Data {
        switch format {
        case .png: try PNGCodec.encode(self, file: source)
        case .jpeg: try JPEGCodec.encode(self, file: source)
        case .netpbm: try NetPBM.encode(self, file: source)
        }
    }

    /// Writes the raster atomically (temporary file, then rename). `format` nil picks it from the
    /// extension: `.ppm`, `.pgm`, `.pnm` write binary PNM, `.jpg`, `.jpeg` JPEG, anything else PNG.
    public func write(to url: URL, format: ImageFileFormat? = nil) throws(ImageError) {
        let data = try encoded(as: format ?? ImageFileFormat(pathExtension: url.pathExtension), source: url.path)
        do { try FileAccess.writeAtomically(data, to: url) } catch {
            throw .unwritable(file: url.path, reason: error.reason)
        }
    }
}

/// The image file formats RAFTKit reads and writes.
public enum ImageFileFormat: Sendable, Equatable {
    /// PNG, 8 or 16 bits, any colour type (palette and low bit depths are read, not written).
    case png
    /// JPEG (libjpeg-turbo): baseline and progressive, gray, YCbCr, RGB, CMYK/YCCK read; baseline written.
    case jpeg
    /// Binary netpbm: PGM (P5, one channel) and PPM (P6, three channels), maxval up to 65535.
    case netpbm

    /// `.ppm`, `.pgm`, `.pnm` mean ``netpbm``, `.jpg`, `.jpeg` ``jpeg``; anything else ``png``.
    public init(pathExtension: String) {
        let ext = pathExtension.lowercased()
        self = ["ppm", "pgm", "pnm"].contains(ext) ? .netpbm : ["jpg", "jpeg"].contains(ext) ? .jpeg : .png
    }

    /// The format announced by the first bytes, or nil.
    init?(sniffing data: Data) {
        let head = [UInt8](data.prefix(8))
        if !head.isEmpty, head == Array(PNGCodec.signature.prefix(head.count)) { self = .png; return }
        if head.count >= 2, head[0] == 0xFF, head[1] == 0xD8, head.count == 2 || head[2] == 0xFF { self = .jpeg; return }
        if head.count >= 2, head[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(head[1]) {
            self = .netpbm
            return
        }
        return nil
    }

    /// A short description of unrecognised content for error messages.
    static func describeUnknown(_ data: Data) -> String {
        if data.isEmpty { return "the file is empty" }
        let head = [UInt8](data.prefix(4))
        if head.starts(with: Array("GIF8".utf8)) { return "it is a GIF; convert it to PNG" }
        if head.starts(with: Array("BM".utf8)) { return "it looks like a BMP; convert it to PNG" }
        if head.starts(with: Array("PIEH".utf8)) { return "it is a Middlebury .flo flow file" }
        if data.count >= 8, Array(data.dropFirst(4).prefix(4)) == Array("ftyp".utf8) {
            return "it is an MP4/QuickTime video; `raftflow sequence` reads videos"
        }
        if head == [0x1A, 0x45, 0xDF, 0xA3] { return "it is a Matroska/WebM video; `raftflow sequence` reads videos" }
        let hex = head.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return "it starts with bytes \(hex.joined(separator: " "))"
    }
}
