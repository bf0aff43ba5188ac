import Testing
@testable import RAFTKit

@Suite struct InputPadderTests {
    /// The official `InputPadder`'s values (core/utils/utils.py): (left, right, top, bottom).
    @Test(arguments: [
        (436, 1024, InputPadder.Mode.sintel, [0, 0, 2, 2]), (436, 1024, .kitti, [0, 0, 0, 4]),
        (375, 1242, .sintel, [3, 3, 0, 1]), (375, 1242, .kitti, [3, 3, 0, 1]),
        (370, 1224, .sintel, [0, 0, 3, 3]), (370, 1224, .kitti, [0, 0, 0, 6]),
        (374, 1238, .sintel, [1, 1, 1, 1]), (374, 1238, .kitti, [1, 1, 0, 2]),
        (376, 1241, .sintel, [3, 4, 0, 0]), (376, 1241, .kitti, [3, 4, 0, 0]),
        (384, 512, .sintel, [0, 0, 0, 0]), (384, 512, .kitti, [0, 0, 0, 0]),
        (150, 203, .sintel, [2, 3, 1, 1]),
    ])
    func officialPaddingValues(height: Int, width: Int, mode: InputPadder.Mode, expected: [Int]) throws {
        let p = try InputPadder(height: height, width: width, mode: mode)
        #expect([p.left, p.right, p.top, p.bottom] == expected)
        #expect(p.paddedHeight % 8 == 0 && p.paddedWidth % 8 == 0)
    }

    /// Replicate padding against a direct definition, and unpad(pad(x)) == x.
    @Test(arguments: [InputPadder.Mode.sintel, .kitti])
    func replicatePadAndUnpad(mode: InputPadder.Mode) throws {
        var rng = SeededGenerator(seed: 1)
        let x = Tensor.random([2, 3, 13, 21], using: &rng)
        let p = try InputPadder(height: 13, width: 21, mode: mode)
        let padded = try p.pad(x)
        #expect(padded.shape == [2, 3, 16, 24])
        for b in 0..<2 { for c in 0..<3 { for y in 0..<16 { for xx in 0..<24 {
            let sy = min(max(y - p.top, 0), 12), sx = min(max(xx - p.left, 0), 20)
            #expect(padded[b, c, y, xx] == x[b, c, sy, sx])
        } } } }
        #expect(try p.unpad(padded) == x)
    }

    /// With a minimum size, small sides are padded up to it (rounded up to a multiple of 8) and large ones as before.
    @Test(arguments: [
        (33, 47, InputPadder.Mode.sintel, 128, [40, 41, 47, 48]), (33, 47, .kitti, 128, [40, 41, 0, 95]),
        (1, 1, .sintel, 128, [63, 64, 63, 64]), (100, 200, .sintel, 128, [0, 0, 14, 14]),
        (436, 1024, .sintel, 128, [0, 0, 2, 2]), (20, 30, .sintel, 13, [1, 1, 2, 2]),
    ])
    func minimumSize(height: Int, width: Int, mode: InputPadder.Mode, minimum: Int, expected: [Int]) throws {
        let p = try InputPadder(height: height, width: width, mode: mode, minimumSize: minimum)
        #expect([p.left, p.right, p.top, p.bottom] == expected)
        #expect(p.paddedHeight >= minimum && p.paddedWidth >= minimum && p.paddedHeight % 8 == 0 && p.paddedWidth % 8 == 0)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.random([1, 2, height, width], using: &rng)
        let padded = try p.pad(x)
        #expect(padded[0, 1, 0, 0] == x[0, 1, 0, 0] && padded[0, 1, p.paddedHeight - 1, p.paddedWidth - 1] == x[0, 1, height - 1, width - 1])
        #expect(try p.unpad(padded) == x)
    }
}
