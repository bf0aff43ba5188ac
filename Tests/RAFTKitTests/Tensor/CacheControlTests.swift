import Testing
@testable import RAFTKit

@Suite struct CacheControlTests {
    /// The streaming copy equals the source for every start alignment and length around its 16-byte groups and
    /// 16-float blocks (ordinary head and tail stores, streamed middle), and writes nothing outside the range.
    @Test func streamingCopyCopiesExactly() {
        let capacity = 160
        let source = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        let destination = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        defer { source.deallocate(); destination.deallocate() }
        for i in 0..<capacity { source[i] = Float(i) + 0.5 }
        var mismatches = 0
        for offset in 0..<5 {
            for count in [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 100, 129] {
                destination.update(repeating: -1, count: capacity)
                CacheControl.streamingCopy(source + 7, to: destination + offset, count: count)
                CacheControl.streamingFence()
                for i in 0..<capacity {
                    let expected: Float = i >= offset && i < offset + count ? source[7 + i - offset] : -1
                    if destination[i] != expected { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
    }
}
