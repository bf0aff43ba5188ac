import Foundation
import Testing
@testable import RAFTKit

/// JPEG through libjpeg-turbo: the library's own encoder for baseline RGB and gray, Pillow-made fixtures
/// (Scripts/fixtures/jpeg.py) for progressive, EXIF-oriented and Adobe CMYK files, and damaged data made here.
@Suite("JPEG")
struct JPEGTests {
    /// A smooth RGB pattern (JPEG keeps smooth content within a few levels).
    static func pattern(width: Int = 40, height: Int = 30, channels: Int = 3) -> RasterImage {
        var samples: [UInt16] = []
        for y in 0..<height {
            for x in 0..<width {
                let rgb = [4 * x + 20, 6 * y + 10, 200 - 2 * x - 3 * y]
                samples += rgb.prefix(channels).map { UInt16(max(0, min(255, $0))) }
            }
        }
        return try! RasterImage(width: width, height: height, channels: channels, bitDepth: 8, samples: samples)
    }

    static func meanAbsDifference(_ a: RasterImage, _ b: RasterImage) -> Double {
        precondition(a.samples.count == b.samples.count)
        return zip(a.samples, b.samples).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.samples.count)
    }

    static func encoded(_ raster: RasterImage = pattern()) throws -> Data { try raster.encoded(as: .jpeg) }

    @Test func baselineRGBRoundTrip() throws {
        let source = Self.pattern()
        let data = try Self.encoded(source)
        #expect(Array(data.prefix(3)) == [0xFF, 0xD8, 0xFF])
        let decoded = try RasterImage(data: data)
        #expect(decoded.width == 40 && decoded.height == 30 && decoded.channels == 3 && decoded.bitDepth == 8)
        #expect(Self.meanAbsDifference(decoded, source) < 2.5)
    }

    @Test func grayscaleStaysOneChannelAndIsReplicatedInRGBImage() throws {
        let source = Self.pattern(channels: 1)
        let decoded = try RasterImage(data: try Self.encoded(source))
        #expect(decoded.channels == 1)
        #expect(Self.meanAbsDifference(decoded, source) < 1.5)
        let rgb = try RGBImage(data: try Self.encoded(source))
        #expect(rgb.pixels[3 * 17] == rgb.pixels[3 * 17 + 1] && rgb.pixels[3 * 17] == rgb.pixels[3 * 17 + 2])
    }

    @Test func progressiveFixtureMatchesItsSource() throws {
        let source = try RasterImage(contentsOf: Fixtures.url("io/jpeg_source.png"))
        let decoded = try RasterImage(contentsOf: Fixtures.url("io/jpeg_progressive.jpg"))
        #expect(decoded.width == 32 && decoded.height == 24 && decoded.channels == 3)
        #expect(Self.meanAbsDifference(decoded, source) < 2.5)
    }

    /// Orientation 6: the stored 32×24 image is shown rotated 90° clockwise, 24×32; shown (x, y) is stored
    /// (y, 23 − x).
    @Test func exifOrientationIsApplied() throws {
        let source = try RasterImage(contentsOf: Fixtures.url("io/jpeg_source.png"))
        let decoded = try RasterImage(contentsOf: Fixtures.url("io/jpeg_exif6.jpg"))
        #expect(decoded.width == 24 && decoded.height == 32)
        var total = 0.0
        for y in 0..<32 {
            for x in 0..<24 {
                for c in 0..<3 { total += abs(Double(decoded[x: x, y: y, channel: c]) - Double(source[x: y, y: 23 - x, channel: c])) }
            }
        }
        #expect(total / Double(24 * 32 * 3) < 2.5)
    }

    /// Every EXIF orientation on a 3×2 raster with distinct samples, against the definitions written out.
    @Test func orientationTransforms() throws {
        let r = try RasterImage(width: 3, height: 2, channels: 1, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6])
        //  1 2 3
        //  4 5 6
        let expected: [Int: (Int, Int, [UInt16])] = [
            1: (3, 2, [1, 2, 3, 4, 5, 6]),
            2: (3, 2, [3, 2, 1, 6, 5, 4]),       // mirrored left-right
            3: (3, 2, [6, 5, 4, 3, 2, 1]),       // rotated 180°
            4: (3, 2, [4, 5, 6, 1, 2, 3]),       // mirrored top-bottom
            5: (2, 3, [1, 4, 2, 5, 3, 6]),       // transposed
            6: (2, 3, [4, 1, 5, 2, 6, 3]),       // rotated 90° clockwise
            7: (2, 3, [6, 3, 5, 2, 4, 1]),       // transversed
            8: (2, 3, [3, 6, 2, 5, 1, 4]),       // rotated 90° counter-clockwise
        ]
        for (orientation, (w, h, samples)) in expected {
            let o = r.oriented(exif: orientation)
            #expect(o.width == w && o.height == h && o.samples == samples, "orientation \(orientation)")
        }
        #expect(r.oriented(exif: 0) == r && r.oriented(exif: 9) == r)
    }

    /// Pillow's Adobe CMYK (inverted samples): quadrants red, green, blue and 50 % grey (K = 128).
    @Test func cmykBecomesRGB() throws {
        let decoded = try RasterImage(contentsOf: Fixtures.url("io/jpeg_cmyk.jpg"))
        #expect(decoded.width == 16 && decoded.height == 16 && decoded.channels == 3)
        let expected: [(x: Int, y: Int, rgb: [Int])] = [(3, 3, [255, 0, 0]), (12, 3, [0, 255, 0]), (3, 12, [0, 0, 255]),
                                                         (12, 12, [127, 127, 127])]
        for (x, y, rgb) in expected {
            for c in 0..<3 {
                #expect(abs(Int(decoded[x: x, y: y, channel: c]) - rgb[c]) <= 8, "(\(x), \(y)) channel \(c)")
            }
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let data = try Self.encoded()
        for length in [2, 100, data.count / 2, data.count - 2] {
            #expect(throws: ImageError.self) { try RasterImage(data: data.prefix(length), source: "cut.jpg") }
            do {
                _ = try RasterImage(data: data.prefix(length), source: "cut.jpg")
            } catch {
                guard case .truncated(let file, _) = error else {
                    Issue.record("\(length) bytes: expected truncated, got \(error)")
                    continue
                }
                #expect(file == "cut.jpg")
            }
        }
    }

    @Test func corruptFilesAreRefused() throws {
        let data = try Self.encoded()
        let bytes = [UInt8](data)
        // A bogus length on the first quantisation table (DQT, FF DB).
        var header = bytes
        let dqt = (0..<header.count - 1).first { header[$0] == 0xFF && header[$0 + 1] == 0xDB }!
        header[dqt + 2] = 0
        header[dqt + 3] = 1
        // A marker in the middle of the entropy-coded data.
        var scan = bytes
        let sos = (0..<scan.count - 1).first { scan[$0] == 0xFF && scan[$0 + 1] == 0xDA }!
        let middle = (sos + scan.count) / 2
        scan[middle] = 0xFF
        scan[middle + 1] = 0xC4
        for (name, damaged) in [("header", header), ("scan", scan)] {
            do {
                let image = try RasterImage(data: Data(damaged), source: "\(name).jpg")
                Issue.record("\(name): decoded a damaged file as \(image.width)x\(image.height)")
            } catch {
                guard case .corrupt(let file, let reason) = error else { Issue.record("\(name): \(error)"); continue }
                #expect(file == "\(name).jpg" && !reason.isEmpty)
                #expect(error.description.hasPrefix("\(name).jpg: corrupt image: "))
            }
        }
    }

    @Test func limitsAreCheckedBeforeDecoding() throws {
        let data = try Self.encoded()
        #expect(throws: ImageError.tooLarge(file: "big.jpg", width: 40, height: 30,
                                            reason: "40x30 exceeds the limits (32 x 32, 1024 pixels)")) {
            try RasterImage(data: data, source: "big.jpg", limits: ImageLimits(maxWidth: 32, maxHeight: 32, maxPixels: 1024))
        }
    }

    /// A `.jpg` name writes JPEG bytes (it used to get PNG bytes); `.png` keeps PNG.
    @Test func writingByExtension() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = RGBImage(Self.pattern())
        for name in ["a.jpg", "b.JPEG"] {
            let url = directory.appendingPathComponent(name)
            try image.write(to: url)
            #expect(Array(try Data(contentsOf: url).prefix(3)) == [0xFF, 0xD8, 0xFF], "\(name)")
            let back = try RGBImage(contentsOf: url)
            #expect(Self.meanAbsDifference(back.raster, image.raster) < 2.5)
        }
        let png = directory.appendingPathComponent("c.png")
        try image.write(to: png)
        #expect(Array(try Data(contentsOf: png).prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        #expect(ImageFileFormat(pathExtension: "JPG") == .jpeg && ImageFileFormat(pathExtension: "png") == .png)
    }

    @Test func videosAndUnknownContentAreNamed() {
        #expect(throws: ImageError.notAnImage(file: "x.mp4", detail: "it is an MP4/QuickTime video; `raftflow sequence` reads videos")) {
            try RasterImage(data: Data([0, 0, 0, 0x1C, 0x66, 0x74, 0x79, 0x70]), source: "x.mp4")
        }
        #expect(throws: ImageError.notAnImage(file: "x.bin", detail: "it starts with bytes 00 00 00 1c")) {
            try RasterImage(data: Data([0, 0, 0, 0x1C, 0x66, 0x74, 0x79, 0x71]), source: "x.bin")
        }
        #expect(ImageError.notAnImage(file: "x", detail: "d").description == "x: not a PNG, JPEG, PPM or PGM image (d)")
    }
}
