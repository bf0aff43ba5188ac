import Foundation

extension WeightsLoader {
    /// The default RAFT-small weights shipped inside RAFTKit (trained by `Scripts/train`, model card in
    /// `Models/README.md`), or nil if the resource bundle is missing.
    public static var bundledModelURL: URL? {
        Bundle.module.url(forResource: "raft-small-default", withExtension: "safetensors")
    }

    /// Loads the bundled default weights.
    /// - Throws: ``WeightsError/unreadable(file:reason:)`` if the resource is missing or unreadable.
    public static func bundled() throws(WeightsError) -> LoadedWeights {
        guard let url = bundledModelURL else {
            throw .unreadable(file: "raft-small-default.safetensors", reason: "the bundled model is missing from RAFTKit's resources")
        }
        return try load(contentsOf: url)
    }
}
