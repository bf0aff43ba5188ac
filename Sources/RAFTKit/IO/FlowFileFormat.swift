import Foundation

/// The optical-flow file formats RAFTKit reads and writes.
public enum FlowFileFormat: String, Sendable, CaseIterable {
    /// Middlebury `.flo`: "PIEH" magic, int32 width and height, then float32 (u, v) pairs, little-endian.
    case middlebury = "flo"
    /// KITTI 16-bit RGB PNG: R = 64·u + 32768, G = 64·v + 32768, B = valid.
    case kittiPNG = "png"
    /// Portable float map (FlyingThings3D): `PF`, three float32 channels (u, v, unused), bottom row first.
    case pfm = "pfm"

    /// The format implied by a file extension (`flo`, `png`, `pfm`, any case), or nil.
    public init?(pathExtension: String) {
        self.init(rawValue: pathExtension.lowercased())
    }

    /// The format announced by the first bytes, or nil.
    init?(sniffing data: Data) {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: Array("PIEH".utf8)) { self = .middlebury }
        else if head.count == 8, head == PNGCodec.signature { self = .kittiPNG }
        else if head.starts(with: Array("PF".utf8)) || head.starts(with: Array("Pf".utf8)) { self = .pfm }
        else { return nil }
    }
}

extension FlowField {
    /// Reads a `.flo`, KITTI flow PNG or PFM file. The format is recognised by its magic bytes, or by the
    /// extension when the content announces none (then that format's reader reports what is wrong).
    ///
    /// Every reader validates the header against the file size before allocating, and refuses files whose
    /// flow holds NaN or infinity (``FlowFileError/nonFinite(file:count:)``).
    public static func read(contentsOf url: URL, limits: ImageLimits = .standard) throws(FlowFileError) -> FlowField {
        let data: Data
        do { data = try FileAccess.read(url, maxBytes: limits.maxFileBytes) } catch { throw .unreadable(file: url.path, reason: error.reason) }
        let format = FlowFileFormat(sniffing: data) ?? FlowFileFormat(pathExtension: url.pathExtension)
        guard let format else {
            throw .unknownFormat(file: url.path, detail: ImageFileFormat.describeUnknown(data))
        }
        return try decode(data, format: format, source: url.path, limits: limits)
    }

    /// Decodes flow-file bytes in `format`; `source` names them in errors.
    public static func decode(_ data: Data, format: FlowFileFormat, source: String = "<memory>",
                              limits: ImageLimits = .standard) throws(FlowFileError) -> FlowField {
        switch format {
        case .middlebury: try MiddleburyFlow.decode(data, file: source, limits: limits)
        case .kittiPNG: try KITTIFlow.decode(data, file: source, limits: limits)
        case .pfm: try PortableFloatMap.decode(data, file: source, limits: limits)
        }
    }

    /// The flow encoded in `format`.
    public func encoded(as format: FlowFileFormat, source: String = "<memory>") throws(FlowFileError) -> Data {
        switch format {
        case .middlebury: try MiddleburyFlow.encode(self, file: source)
        case .kittiPNG: try KITTIFlow.encode(self, file: source)
        case .pfm: try PortableFloatMap.encode(self, file: source)
        }
    }

    /// Writes the flow atomically (a temporary file in the same directory, then a rename). `format` nil
    /// picks it from the extension (`.flo`, `.png`, `.pfm`).
    public func write(to url: URL, format: FlowFileFormat? = nil) throws(FlowFileError) {
        guard let format = format ?? FlowFileFormat(pathExtension: url.pathExtension) else {
            throw .unsupported(file: url.path,
                               reason: "cannot tell the flow format from the extension '\(url.pathExtension)'; use .flo, .png or .pfm")
        }
        let data = try encoded(as: format, source: url.path)
        do { try FileAccess.writeAtomically(data, to: url) } catch {
            throw .unwritable(file: url.path, reason: error.reason)
        }
    }
}

/// Little-endian float32 and int32 access used by the flow formats.
extension UnsafeRawPointer {
    func littleEndianFloat(at offset: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }
}
