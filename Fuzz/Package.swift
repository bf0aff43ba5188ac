// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for RAFTKit's file parsers, in their own package so that the library's build and
// `swift test` never compile them. Build and run them with `Scripts/fuzz` (see Fuzz/README.md); the
// executables only link with `--sanitize=fuzzer`.
//
// One line per target: `Sources/fuzz-<name>/main.swift` holds its `LLVMFuzzerTestOneInput`, and its seed
// corpus is `Tests/FuzzCorpora/<name>/` at the repository root.
let fuzzTargets = [
    "png",          // RasterImage(data:) on PNG bytes (libpng through CPNGCodec), then RGBImage
    "netpbm",       // RasterImage(data:) on PPM/PGM bytes, then RGBImage
    "jpeg",         // RasterImage(data:) on JPEG bytes (libjpeg-turbo through CJPEGCodec), then RGBImage
    "pfm",          // FlowField.decode(_, format: .pfm)
    "flo",          // FlowField.decode(_, format: .middlebury)
    "kitti",        // FlowField.decode(_, format: .kittiPNG)
    "zip",          // WeightsLoader.decode on PyTorch zip checkpoints (the zip container)
    "pickle",       // WeightsLoader.decode with the fuzz input as the pickle of a legacy or zip checkpoint
    "safetensors",  // WeightsLoader.decode on safetensors bytes
    "video",        // VideoReader (RAFTKitVideo, FFmpeg) on container bytes, then its first frames
]

let package = Package(
    name: "RAFTKitFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "RAFTKit", path: "../"),   // `name:` is required: a clone's folder may be named differently
    ],
    targets: [
        // What several targets share: the limits they decode under, PNG chunk CRC repair, checkpoint wrappers.
        .target(name: "FuzzSupport", dependencies: [.product(name: "RAFTKit", package: "RAFTKit")]),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "RAFTKit", package: "RAFTKit")]
                + (name == "video" ? [.product(name: "RAFTKitVideo", package: "RAFTKit")] : [])
        )
    }
)
