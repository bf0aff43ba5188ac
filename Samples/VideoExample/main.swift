// RAFTKitVideo without the network: write a test clip that pans across a photo, and decode a video as fast as
// it goes (the decoding throughput that `raftflow sequence clip.mp4` starts from). Run from the repository root:
//
//   swift run -c release video-example make clip.mp4 [frames] [WIDTHxHEIGHT]   (default 300 frames, 640x480, 30 fps)
//   swift run -c release video-example read clip.mp4
//
import Foundation
import RAFTKit
import RAFTKitVideo

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

/// A `width`×`height` window moving 2 px right and 1 px down per frame over the sample photo, enlarged to cover it.
func make(_ path: String, frames: Int, width: Int, height: Int) throws {
    let photo = try RGBImage(contentsOf: URL(fileURLWithPath: "Samples/photo-300x400/frame1.png"))
    let factor = max(Double(width + 2 * frames) / Double(photo.width), Double(height + frames) / Double(photo.height))
    let large = photo.resized(width: Int((Double(photo.width) * factor).rounded(.up)),
                              height: Int((Double(photo.height) * factor).rounded(.up)))
    let writer = try VideoWriter(url: URL(fileURLWithPath: path), width: width, height: height,
                                 frameRate: FrameRate(numerator: 30))
    var frame = try RGBImage(width: width, height: height)
    for k in 0..<frames {
        for y in 0..<height {
            for x in 0..<width { frame[x: x, y: y] = large[x: x + 2 * k, y: y + k] }
        }
        try writer.append(frame)
    }
    try writer.finish()
    print("\(path): \(frames) frames of \(width)x\(height), \(writer.codec), 30 fps")
}

func read(_ path: String) throws {
    let clock = ContinuousClock()
    let start = clock.now
    let video = try VideoReader(contentsOf: URL(fileURLWithPath: path))
    let opened = clock.now
    var count = 0
    while try video.nextFrame() != nil { count += 1 }
    let decode = seconds(clock.now - opened)
    let info = video.info
    print(String(format: "%@: %dx%d, %@, %@, %d frames (%d counted): open %.1f ms, decode %.2f s, %.1f frames/s",
                 path, info.width, info.height, info.codec, info.frameRate?.description ?? "no frame rate", count,
                 info.frameCount, 1000 * seconds(opened - start), decode, Double(count) / decode))
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch (arguments.first, arguments.count) {
    case ("make", 2...4):
        let frames = arguments.count > 2 ? Int(arguments[2]) ?? 300 : 300
        let size = arguments.count > 3 ? arguments[3].split(separator: "x").compactMap { Int($0) } : [640, 480]
        try make(arguments[1], frames: frames, width: size.first ?? 640, height: size.last ?? 480)
    case ("read", 2):
        try read(arguments[1])
    default:
        FileHandle.standardError.write(Data("usage: video-example make OUT.mp4 [frames] [WxH] | read IN.mp4\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("video-example: \(error)\n".utf8))
    exit(1)
}
