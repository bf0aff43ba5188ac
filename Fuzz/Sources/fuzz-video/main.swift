import Foundation
import FuzzSupport
import RAFTKit
import RAFTKitVideo

// Container bytes (anything Debian's FFmpeg demuxes: MP4, Matroska, AVI, QuickTime, …) → VideoReader, then its
// first frames. FFmpeg reads files, so each input goes to one temporary file of this process.
// Contract: opens or throws VideoError; every frame decoded has the size the reader announced; no frame past
// the limits is allocated.
private let url = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-fuzz-video-\(getpid())")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVideo(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard (try? Data(Fuzz.bytes(start, count)).write(to: url)) != nil else { return 0 }
    guard let reader = try? VideoReader(contentsOf: url, limits: Fuzz.limits) else { return 0 }
    var decoded = 0
    while decoded < 4, let frame = try? reader.nextFrame() {
        precondition(frame.width == reader.info.width && frame.height == reader.info.height)
        precondition(frame.pixels.count == 3 * frame.width * frame.height)
        decoded += 1
    }
    return 0
}
