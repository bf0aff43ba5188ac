// swift-tools-version: 6.1
import PackageDescription

// RAFTKit's benchmarks live in their own package so that the library's build and `swift test` never
// compile package-benchmark. Always run them in release mode (see Benchmarks/README.md).
let package = Package(
    name: "RAFTKitBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "RAFTKit", path: "../"),   // `name:` is required: a clone's folder may be named differently
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // `swift run -c release raftkit-bench …`: tables with GFLOP/s, % of bare sgemm, PyTorch ratios, memory.
        .executableTarget(
            name: "raftkit-bench",
            dependencies: [.product(name: "RAFTKit", package: "RAFTKit"),
                           .product(name: "RAFTKitAnalysis", package: "RAFTKit")],
            path: "Sources/RAFTKitBench"
        ),
        // `swift package benchmark`: percentiles, malloc counts (proves the iteration loop does not allocate).
        .executableTarget(
            name: "RAFTKitBenchmarks",
            dependencies: [
                .product(name: "RAFTKit", package: "RAFTKit"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RAFTKitBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
