import Foundation
import Testing
@testable import RAFTKit

@Suite("Image IO")
struct ImageIOTests {
    static let expected = try! Fixtures.load("io/expected.safetensors")

    /// Every PNG fixture (built byte by byte by Scripts/fixtures/io.py, checked with OpenCV there) decodes to
    /// its exact stored samples: all colour types, 1/4/8/16 bits, palettes with tRNS, Adam7, the Sub filter,
    /// and gAMA/sRGB/cHRM chunks that must not change any value.
    @Test(arguments: [
        ("gray8", 1, 8), ("gray16", 1, 16), ("gray4", 1, 8), ("gray1", 1, 8), ("graya8", 2, 8), ("graya16", 2, 16),
        ("rgb8", 3, 8), ("rgb16", 3, 16), ("rgba8", 4, 8), ("rgba16", 4, 16), ("rgb8_interlaced", 3, 8),
        ("rgb16_interlaced", 3, 16), ("gray8_interlaced", 1, 8), ("rgb16_gamma_srgb", 3, 16),
        ("gray16_gamma", 1, 16), ("rgb8_gamma", 3, 8), ("palette8", 3, 8), ("palette4_trns", 4, 8),
    ])
    func pngFixturesDecodeExactly(name: String, channels: Int, bitDepth: Int) throws {
        let raster = try RasterImage(contentsOf: Fixtures.url("io/\(name).png"))
        let reference = try Self.expected.require(name)
        #expect(raster.channels == channels)
        #expect(raster.bitDepth == bitDepth)
        #expect([raster.height, raster.width, raster.channels] == reference.shape)
        #expect(raster.samples.map(Int.init) == reference.integerValues)
    }

    @Test func rgbImageReplicatesGrayDropsAlphaAndScales16Bit() throws {
        let gray = try RGBImage(contentsOf: Fixtures.url("io/gray8.png"))
        let g = try Self.expected.require("gray8").scalars
        #expect(gray.width == 5 && gray.height == 4)
        for i in 0..<g.count { #expect(gray.pixels[3 * i] == g[i] && gray.pixels[3 * i + 1] == g[i] && gray.pixels[3 * i + 2] == g[i]) }

        let rgba = try RGBImage(contentsOf: Fixtures.url("io/rgba8.png"))
        let r = try Self.expected.require("rgba8").scalars
        for i in 0..<rgba.width * rgba.height {
            #expect(Array(rgba.pixels[3 * i..<3 * i + 3]) == Array(r[4 * i..<4 * i + 3]))
        }

        let rgb16 = try RGBImage(contentsOf: Fixtures.url("io/rgb16.png"))
        let s = try Self.expected.require("rgb16").scalars
        for i in 0..<s.count { #expect(abs(rgb16.pixels[i] - s[i] * 255 / 65535) <= 1e-4) }
        #expect(rgb16.pixels.first == 0 && rgb16.pixels.last == 255)
    }

    @Test func pngRoundTripsAreExact() throws {
        var rng = SeededGenerator(seed: 7)
        for channels in 1...4 {
            for bitDepth in [8, 16] {
                for interlaced in [false, true] {
                    let (w, h) = (9, 6)
                    let samples = (0..<w * h * channels).map { _ in UInt16.random(in: 0...UInt16((1 << bitDepth) - 1), using: &rng) }
                    let raster = try RasterImage(width: w, height: h, channels: channels, bitDepth: bitDepth, samples: samples)
                    let data = try PNGCodec.encode(raster, file: "mem", interlaced: interlaced)
                    #expect(try RasterImage(data: data) == raster, "channels \(channels), \(bitDepth) bit, interlaced \(interlaced)")
                }
            }
        }
    }

    /// 16-bit samples survive sRGB, gAMA 1/2.2 and cHRM chunks inserted (with valid CRCs) into a file we wrote:
    /// libpng's simplified API would turn 32768 into 14264 here.
    @Test func gammaChunksDoNotChange16BitSamples() throws {
        let samples: [UInt16] = [0, 1, 255, 256, 14264, 32768, 40000, 65534, 65535, 12345, 54321, 32767]
        let raster = try RasterImage(width: 4, height: 1, channels: 3, bitDepth: 16, samples: samples)
        let plain = [UInt8](try PNGCodec.encode(raster, file: "mem"))
        let tagged = PNGBytes.inserting([
            PNGBytes.chunk("gAMA", PNGBytes.be32(45455)),
            PNGBytes.chunk("sRGB", [0]),
            PNGBytes.chunk("cHRM", [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000].flatMap { PNGBytes.be32($0) }),
        ], into: plain)
        #expect(PNGBytes.chunks(tagged).map(\.type) == ["IHDR", "gAMA", "sRGB", "cHRM", "IDAT", "IEND"])
        #expect(try RasterImage(data: Data(tagged)).samples == samples)
    }

    @Test func rgbImageWriteRoundsClampsAndIsAtomic() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try RGBImage(width: 3, height: 1, pixels: [-5, 0.4, 0.5, 1.49, 254.6, 300, .nan, 128, 127.5])
        let url = dir.appendingPathComponent("out.png")
        try image.write(to: url)
        try image.write(to: url)   // replaces the existing file
        let back = try RasterImage(contentsOf: url)
        #expect(back.bitDepth == 8 && back.channels == 3)
        #expect(back.samples == [0, 0, 1, 1, 255, 255, 0, 128, 128])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.png"])

        let ppm = dir.appendingPathComponent("out.ppm")
        try image.write(to: ppm)
        #expect(try Data(contentsOf: ppm).starts(with: Array("P6\n3 1\n255\n".utf8)))
        #expect(try RasterImage(contentsOf: ppm) == back)

        let missing = dir.appendingPathComponent("no/such/dir/x.png")
        #expect(throws: ImageError.self) { try image.write(to: missing) }
        do { try image.write(to: missing) } catch { if case .unwritable(let f, _) = error { #expect(f == missing.path) } else { Issue.record("\(error)") } }
    }

    @Test func tensorConversionRoundTrips() throws {
        var rng = SeededGenerator(seed: 3)
        let image = try RGBImage(width: 5, height: 3, pixels: (0..<45).map { _ in Float.random(in: 0...255, using: &rng) })
        let t = image.tensor
        #expect(t.shape == [1, 3, 3, 5])
        #expect(t[0, 1, 2, 4] == image[x: 4, y: 2].g)
        #expect(try RGBImage(tensor: t) == image)
        let batch = try Tensor.concatenateChannels([t, t]).reshaped([2, 3, 3, 5])
        #expect(try RGBImage(tensor: batch, batchIndex: 1) == image)
    }

    // MARK: Errors: never a crash, always the right case

    static let smallPNG: [UInt8] = {
        let raster = RasterImage(unchecked: 6, 5, channels: 3, bitDepth: 16,
                                 samples: (0..<90).map { UInt16($0 * 700) })
        return [UInt8](try! PNGCodec.encode(raster, file: "mem", compressionLevel: 0))
    }()

    @Test func nonImageEmptyAndTruncatedJPEG() {
        func error(_ bytes: [UInt8]) -> ImageError? {
            do { _ = try RasterImage(data: Data(bytes), source: "x.png"); return nil } catch { return error }
        }
        guard case .notAnImage(let f, let detail)? = error(Array("hello, world".utf8)) else { Issue.record("text"); return }
        #expect(f == "x.png" && detail.contains("68 65 6c 6c"))
        guard case .notAnImage(_, let empty)? = error([]) else { Issue.record("empty"); return }
        #expect(empty.contains("empty"))
        // A JPEG start without the rest is read as a JPEG (JPEGTests covers decoding).
        guard case .truncated(_, let jpeg)? = error([0xFF, 0xD8, 0xFF, 0xE0, 0, 0]) else { Issue.record("jpeg"); return }
        #expect(jpeg.contains("JPEG"))
        #expect(error(Self.smallPNG) == nil)
    }

    /// Every prefix of a valid PNG is reported as truncated (none crashes, none decodes).
    @Test func everyTruncationIsReported() {
        for length in 1..<Self.smallPNG.count {
            do {
                _ = try RasterImage(data: Data(Self.smallPNG.prefix(length)), source: "cut.png")
                Issue.record("prefix of \(length) bytes decoded")
            } catch {
                guard case .truncated(let file, _) = error else { Issue.record("prefix \(length): \(error)"); continue }
                #expect(file == "cut.png")
            }
        }
    }

    /// Flipping any single byte after the signature never crashes; damage in IHDR or IDAT is `corrupt`.
    @Test func corruptedBytesAreReported() {
        let chunks = PNGBytes.chunks(Self.smallPNG)
        let idat = chunks.first { $0.type == "IDAT" }!
        for position in 8..<Self.smallPNG.count {
            var bytes = Self.smallPNG
            bytes[position] ^= 0x5A
            let result = Result { () throws(ImageError) in try RasterImage(data: Data(bytes)) }
            if position < 33 {   // IHDR: length, type, data, CRC
                guard case .failure(let error) = result else { Issue.record("IHDR byte \(position) decoded"); continue }
                if position >= 16 && position < 29 { #expect(error == .corrupt(file: "<memory>", reason: "IHDR: CRC error")) }
            }
            if position >= idat.offset + 8 && position < idat.offset + 8 + idat.length {
                // libpng reports the zlib check ("incorrect data check") or the chunk CRC, whichever fails first.
                guard case .failure(.corrupt) = result else { Issue.record("IDAT byte \(position): \(result)"); continue }
            }
        }
        // Damaged zlib data with a recomputed (valid) CRC: the inflate check fails.
        var bytes = Self.smallPNG
        let start = idat.offset + 8
        bytes[start + 20] ^= 0xFF
        bytes.replaceSubrange(start + idat.length..<start + idat.length + 4,
                              with: PNGBytes.be32(PNGBytes.crc32(bytes[idat.offset + 4..<start + idat.length])))
        #expect(throws: ImageError.self) { try RasterImage(data: Data(bytes)) }
    }

    @Test func absurdHeaderIsRefusedBeforeAllocating() throws {
        let huge = PNGBytes.withHeaderSize(Self.smallPNG, width: 200_000, height: 200_000)
        do { _ = try RasterImage(data: Data(huge), source: "huge.png"); Issue.record("decoded") } catch {
            guard case .tooLarge(let f, let w, let h, _) = error else { Issue.record("\(error)"); return }
            #expect(f == "huge.png" && w == 200_000 && h == 200_000)
        }
        // Within the per-side limits but over the pixel budget.
        let limits = ImageLimits(maxWidth: 100, maxHeight: 100, maxPixels: 20)
        do { _ = try RasterImage(data: Data(Self.smallPNG), limits: limits); Issue.record("decoded") } catch {
            guard case .tooLarge(_, 6, 5, _) = error else { Issue.record("\(error)"); return }
        }
        #expect(throws: ImageError.self) {
            try RasterImage(data: Data(Self.smallPNG), limits: ImageLimits(maxWidth: 5, maxHeight: 100, maxPixels: 1000))
        }
    }

    @Test func unreadableFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for url in [dir.appendingPathComponent("missing.png"), dir] {
            do { _ = try RGBImage(contentsOf: url); Issue.record("read \(url.path)") } catch {
                guard case .unreadable(let f, _) = error else { Issue.record("\(error)"); continue }
                #expect(f == url.path)
                #expect(error.description.hasPrefix(url.path))
            }
        }
        // A file larger than any image within the limits could need is refused before it is read.
        let big = dir.appendingPathComponent("big.png")
        try Data(Self.smallPNG + [UInt8](repeating: 0, count: 2 << 20)).write(to: big)
        let limits = ImageLimits(maxWidth: 10, maxHeight: 10, maxPixels: 100)
        #expect(throws: ImageError.self) { try RasterImage(contentsOf: big, limits: limits) }
        do { _ = try RasterImage(contentsOf: big, limits: limits) } catch {
            guard case .unreadable(_, let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("bytes"))
        }
        #expect(throws: FlowFileError.self) { try FlowField.read(contentsOf: big, limits: limits) }
    }

    // MARK: PPM / PGM

    @Test func netpbmFixtures() throws {
        for (file, key, channels, bitDepth) in [("rgb8.ppm", "ppm_rgb8", 3, 8), ("gray8.pgm", "pgm_gray8", 1, 8),
                                               ("gray16.pgm", "pgm_gray16", 1, 16), ("rgb10_comments.ppm", "ppm_rgb10", 3, 16),
                                               ("rgb100.ppm", "ppm_rgb100", 3, 8)] {
            let raster = try RasterImage(contentsOf: Fixtures.url("io/\(file)"))
            let reference = try Self.expected.require(key)
            #expect(raster.channels == channels && raster.bitDepth == bitDepth, "\(file)")
            #expect([raster.height, raster.width, raster.channels] == reference.shape, "\(file)")
            #expect(raster.samples.map(Int.init) == reference.integerValues, "\(file)")
        }
    }

    @Test func netpbmRoundTrips() throws {
        var rng = SeededGenerator(seed: 11)
        for channels in [1, 3] {
            for bitDepth in [8, 16] {
                let samples = (0..<4 * 3 * channels).map { _ in UInt16.random(in: 0...UInt16((1 << bitDepth) - 1), using: &rng) }
                let raster = try RasterImage(width: 4, height: 3, channels: channels, bitDepth: bitDepth, samples: samples)
                let data = try raster.encoded(as: .netpbm)
                #expect(data.starts(with: Array((channels == 1 ? "P5" : "P6").utf8)))
                #expect(try RasterImage(data: data) == raster)
            }
        }
        let rgba = try RasterImage(width: 1, height: 1, channels: 4, bitDepth: 8, samples: [1, 2, 3, 4])
        #expect(throws: ImageError.self) { try rgba.encoded(as: .netpbm) }
    }

    @Test func netpbmErrors() {
        func error(_ text: String, _ raster: [UInt8] = []) -> ImageError? {
            do { _ = try RasterImage(data: Data(Array(text.utf8) + raster), source: "p.ppm"); return nil } catch { return error }
        }
        #expect(error("P6\n2 1\n255\n", [1, 2, 3, 4, 5, 6]) == nil)
        guard case .truncated? = error("P6\n2 1\n255\n", [1, 2, 3, 4, 5]) else { Issue.record("short raster"); return }
        guard case .truncated? = error("P6\n2 1\n") else { Issue.record("no maxval"); return }
        guard case .truncated? = error("P6\n2 1\n255") else { Issue.record("no separator"); return }
        guard case .corrupt? = error("P6\n2 1\n0\n") else { Issue.record("maxval 0"); return }
        guard case .corrupt? = error("P6\n2 1\n70000\n") else { Issue.record("maxval 70000"); return }
        guard case .corrupt? = error("P6\n0 1\n255\n") else { Issue.record("width 0"); return }
        guard case .corrupt? = error("P6\n2 x\n255\n") else { Issue.record("letters"); return }
        guard case .corrupt? = error("P6\n99999999999 1\n255\n") else { Issue.record("digits"); return }
        guard case .corrupt? = error("P5\n2 1\n100\n", [50, 101]) else { Issue.record("sample > maxval"); return }
        guard case .unsupported? = error("P3\n1 1\n255\n1 2 3\n") else { Issue.record("ASCII"); return }
        guard case .tooLarge(_, 100000, 100000, _)? = error("P5\n100000 100000\n255\n") else { Issue.record("huge"); return }
    }
}
