// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RAFTKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RAFTKit", targets: ["RAFTKit"]),
        // The receptive-field study of GRU variants (`raftflow receptive-field`), apart from the model.
        .library(name: "RAFTKitAnalysis", targets: ["RAFTKitAnalysis"]),
        // Video files as RGBImage frames (FFmpeg), used by `raftflow sequence clip.mp4` and `--video`.
        .library(name: "RAFTKitVideo", targets: ["RAFTKitVideo"]),
        .executable(name: "raftflow", targets: ["raftflow"]),
    ],
    // The trait CLI (on by default) guards the only outside dependency, which only `raftflow` needs: a package that
    // uses the library alone depends on RAFTKit with `traits: []`, and SwiftPM then neither fetches
    // swift-argument-parser nor compiles its plugins.
    traits: [
        .trait(name: "CLI", description: "The raftflow command-line tool and its dependency, swift-argument-parser."),
        .default(enabledTraits: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C at the edge: OpenBLAS (cblas.h), libpng (png.h) and libjpeg-turbo (jpeglib.h) as system libraries.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // FFmpeg's libavformat, libavcodec, libswscale and libavutil (video files): their headers only; CVideoCodec
        // opens the libraries when a video is first used, so they are not linked.
        .systemLibrary(name: "CFFmpeg",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        // libpng's classic API with setjmp kept inside C: exact samples, errors as status codes.
        .target(name: "CPNGCodec", dependencies: ["CLibPNG"]),
        // libjpeg's API with setjmp kept inside C: strict decoding, errors as status codes.
        .target(name: "CJPEGCodec", dependencies: ["CLibJPEG"]),
        // FFmpeg behind a frame-at-a-time RGB API: status codes, no FFmpeg types, no log output; the libraries are
        // opened (dlopen) on first use.
        .target(name: "CVideoCodec", dependencies: ["CFFmpeg"], linkerSettings: [.linkedLibrary("dl")]),
        // Non-temporal (streaming) stores, which Swift cannot emit: for the correlation pyramid's writes.
        .target(name: "CCacheControl"),
        // RAFTKit's own bf16 GEMM (AVX512_BF16, chosen at run time) and its portable emulation.
        .target(name: "CBF16GEMM"),
        .target(
            name: "RAFTKit",
            dependencies: ["COpenBLAS", "CPNGCodec", "CJPEGCodec", "CCacheControl", "CBF16GEMM"],
            // The bundled default model (Models/raft-small-default.safetensors links here; see Models/README.md).
            resources: [.copy("Resources/raft-small-default.safetensors")]
        ),
        .target(name: "RAFTKitAnalysis", dependencies: ["RAFTKit"]),
        // Video files in and out (FFmpeg), apart from the model so that RAFTKit itself needs no FFmpeg.
        .target(name: "RAFTKitVideo", dependencies: ["RAFTKit", "CVideoCodec"]),
        .executableTarget(
            name: "raftflow",
            dependencies: ["RAFTKit", "RAFTKitAnalysis", "RAFTKitVideo",
                           .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["CLI"]))]
        ),
        // Samples/FlowExample: a small program that uses RAFTKit as a library (prints the EPE on a sample pair).
        .executableTarget(name: "flow-example", dependencies: ["RAFTKit"], path: "Samples/FlowExample"),
        // Samples/VideoExample: RAFTKitVideo alone (writes a panning test clip; decodes a video and reports frames/s).
        .executableTarget(name: "video-example", dependencies: ["RAFTKitVideo"], path: "Samples/VideoExample"),
        .testTarget(
            name: "RAFTKitTests",
            dependencies: ["RAFTKit", "RAFTKitAnalysis", "RAFTKitVideo"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
