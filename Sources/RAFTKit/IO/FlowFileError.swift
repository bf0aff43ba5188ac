/// Why a flow file could not be read or written. Every case names the file.
public enum FlowFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// Neither the content nor the extension identifies a .flo, KITTI PNG or PFM flow file.
    case unknownFormat(file: String, detail: String)
    /// A `.flo` file without the 202021.25 ("PIEH") magic, or a PFM without a `PF`/`Pf` header.
    case badMagic(file: String, detail: String)
    /// The header is damaged or declares impossible dimensions (zero, negative, beyond the limits).
    case invalidHeader(file: String, reason: String)
    /// The file holds another number of bytes than its header declares (truncated or with extra data).
    case sizeMismatch(file: String, expectedBytes: Int, actualBytes: Int)
    /// The flow holds NaN or infinite values (reading such a file, or writing such a flow, is refused).
    case nonFinite(file: String, count: Int)
    /// A well-formed file that is not a flow RAFTKit handles (an 8-bit PNG, a one-channel PFM…).
    case unsupported(file: String, reason: String)
    /// The PNG container of a KITTI flow file could not be decoded.
    case image(ImageError)
    /// The flow could not be written (missing directory, no permission, disk full).
    case unwritable(file: String, reason: String)
    /// A flow built in memory from inconsistent parts (a negative size, a component or validity count that does
    /// not match the size, a tensor of the wrong shape).
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(f, r): "\(f): cannot read flow: \(r)"
        case let .unknownFormat(f, d): "\(f): not a flow file (.flo, KITTI 16-bit PNG or PFM): \(d)"
        case let .badMagic(f, d): "\(f): bad magic number: \(d)"
        case let .invalidHeader(f, r): "\(f): invalid flow header: \(r)"
        case let .sizeMismatch(f, e, a):
            a < e ? "\(f): truncated flow file: the header declares \(e) bytes, the file has \(a)"
                  : "\(f): flow file has \(a - e) bytes more than the \(e) its header declares"
        case let .nonFinite(f, n): "\(f): flow contains \(n) NaN or infinite value(s)"
        case let .unsupported(f, r): "\(f): unsupported flow file: \(r)"
        case let .image(e): e.description
        case let .unwritable(f, r): "\(f): cannot write flow: \(r)"
        case let .invalidArgument(name, r): "invalid flow \(name): \(r)"
        }
    }
}
