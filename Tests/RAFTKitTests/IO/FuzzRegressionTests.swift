import Foundation
import Testing
@testable import RAFTKit

/// Inputs found by the fuzz targets in `Fuzz/` (Scripts/fuzz), each rebuilt here byte by byte with the error it must
/// now give. The original inputs are kept as seeds in `Tests/FuzzCorpora/<target>/`.
@Suite struct FuzzRegressionTests {
    /// A 16-bit RGB 7×5 IHDR, then an ancillary chunk header declaring `length` bytes, then `following` bytes.
    static func png(chunk type: String, declaring length: UInt32, following: Int) -> [UInt8] {
        let ihdr = PNGBytes.be32(7) + PNGBytes.be32(5) + [16, 2, 0, 0, 0]
        return PNGCodec.signature + PNGBytes.chunk("IHDR", ihdr) + PNGBytes.be32(length) + Array(type.utf8)
            + (0..<following).map { UInt8(truncatingIfNeeded: $0 &* 29) }
    }

    /// fuzz-kitti: a 291-byte file whose tEXt chunk declares 0x5874BDCC bytes (1.48 GB). libpng only warns that the
    /// chunk is over the 8 MiB chunk limit, then allocated and zeroed the declared length before finding the file
    /// truncated (1.8 GB resident, over 25 s under AddressSanitizer). It is refused as corrupt before allocating.
    @Test func chunkLongerThanTheChunkLimitIsCorrupt() {
        for (type, length) in [("tEXt", UInt32(0x5874_BDCC)), ("zTXt", 0x7FFF_FFFF), ("iCCP", 9_000_000)] {
            let bytes = Data(Self.png(chunk: type, declaring: length, following: 250))
            #expect(throws: ImageError.corrupt(file: "big-chunk.png", reason: "\(type): chunk data is too large")) {
                try RasterImage(data: bytes, source: "big-chunk.png")
            }
            #expect(throws: FlowFileError.image(.corrupt(file: "big-chunk.png", reason: "\(type): chunk data is too large"))) {
                try FlowField.decode(bytes, format: .kittiPNG, source: "big-chunk.png")
            }
        }
        // Within the limit, the same cut-off chunk is what it is: a truncated file.
        let small = Data(Self.png(chunk: "tEXt", declaring: 4_000_000, following: 250))
        do {
            _ = try RasterImage(data: small, source: "cut.png")
            Issue.record("a truncated PNG decoded")
        } catch {
            guard case .truncated(file: "cut.png", _) = error else { Issue.record("\(error)"); return }
        }
    }
}
