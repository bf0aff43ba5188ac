// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RAFTKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RAFTKit", targets: ["RAFTKit"]),
        // The receptive-field study of GRU variants (`raftflow receptive-field`), apart from the model.
        .library(name: "RAFTKitAnalysis", targets: ["RAFTKitAnalysis"]),
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
        // C at the edge: OpenBLAS (cblas.h) and libpng (png.h) as system libraries.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        // libpng's classic API with setjmp kept inside C: exact samples, errors as status codes.
        .target(name: "CPNGCodec", dependencies: ["CLibPNG"]),
        // Non-temporal (streaming) stores, which Swift cannot emit: for the correlation pyramid's writes.
        .target(name: "CCacheControl"),
        .target(
            name: "RAFTKit",
            dependencies: ["COpenBLAS", "CPNGCodec", "CCacheControl"],
            // The bundled default model (Models/raft-small-default.safetensors links here; see Models/README.md).
            resources: [.copy("Resources/raft-small-default.safetensors")]
        ),
        .target(name: "RAFTKitAnalysis", dependencies: ["RAFTKit"]),
        .executableTarget(
            name: "raftflow",
            dependencies: ["RAFTKit", "RAFTKitAnalysis",
                           .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["CLI"]))]
        ),
        // Samples/FlowExample: a small program that uses RAFTKit as a library (prints the EPE on a sample pair).
        .executableTarget(name: "flow-example", dependencies: ["RAFTKit"], path: "Samples/FlowExample"),
        .testTarget(
            name: "RAFTKitTests",
            dependencies: ["RAFTKit", "RAFTKitAnalysis"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
