/// A flat map from parameter names to tensors, as in a PyTorch `state_dict`, plus where it came from.
public struct StateDict: Sendable {
    /// Parameters by name (e.g. `update_block.gru.convz1.weight`).
    public var tensors: [String: Tensor]
    /// The file the parameters came from, used in error messages.
    public var source: String

    public init(_ tensors: [String: Tensor] = [:], source: String = "<memory>") {
        self.tensors = tensors
        self.source = source
    }

    public var keys: [String] { tensors.keys.sorted() }
    public subscript(key: String) -> Tensor? {
        get { tensors[key] }
        set { tensors[key] = newValue }
    }
}

/// Hands out a ``StateDict``'s parameters to modules by name, checking shapes, and reports keys that no
/// module asked for. Modules build themselves with `init(parameters:prefix:)` from one of these.
package final class ParameterReader {
    package let stateDict: StateDict
    private var used = Set<String>()

    package init(_ stateDict: StateDict) { self.stateDict = stateDict }

    package var source: String { stateDict.source }

    /// The tensor stored under `key`, which must have `shape`.
    package func tensor(_ key: String, shape: [Int]) throws(WeightsError) -> Tensor {
        guard let t = stateDict.tensors[key] else { throw .missingKey(file: source, key: key) }
        guard t.shape == shape || (t.count == shape.reduce(1, *) && t.shape.filter { $0 != 1 } == shape.filter { $0 != 1 })
        else { throw .shapeMismatch(file: source, key: key, expected: shape, found: t.shape) }
        for i in 0..<t.count where !t.pointer[i].isFinite { throw .nonFinite(file: source, key: key) }
        used.insert(key)
        return t.reshaped(unchecked: shape)
    }

    /// Whether `key` is present.
    package func contains(_ key: String) -> Bool { stateDict.tensors[key] != nil }

    /// A convolution `prefix.weight` `[Cout, Cin, kh, kw]` + `prefix.bias` `[Cout]`.
    package func conv(_ prefix: String, inputChannels: Int, outputChannels: Int,
                      geometry: ConvGeometry) throws(WeightsError) -> Conv2d {
        let w = try tensor(prefix + ".weight",
                           shape: [outputChannels, inputChannels, geometry.kernelHeight, geometry.kernelWidth])
        let b = try tensor(prefix + ".bias", shape: [outputChannels])
        return Conv2d(weight: w, bias: b, geometry: geometry)
    }

    /// Marks keys as consumed without reading them (e.g. duplicated batch-norm aliases).
    package func ignore(where predicate: (String) -> Bool) {
        for k in stateDict.tensors.keys where predicate(k) { used.insert(k) }
    }

    /// Throws ``WeightsError/unexpectedKeys(file:keys:)`` for keys no module read.
    package func finish(under prefix: String = "") throws(WeightsError) {
        let extra = stateDict.tensors.keys.filter { $0.hasPrefix(prefix) && !used.contains($0) }.sorted()
        if !extra.isEmpty { throw .unexpectedKeys(file: source, keys: extra) }
    }
}
