/// A dense Float32 tensor in row-major order; 4-D tensors are NCHW.
///
/// `Tensor` is a value type with copy-on-write storage, so it is cheap to pass around and safe to share
/// between threads. Hot loops inside RAFTKit reach the storage through ``withUnsafeBufferPointer(_:)`` /
/// ``withUnsafeMutableBufferPointer(_:)`` or the package-level pointer accessors and never allocate.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The extent of each dimension, outermost first (`[N, C, H, W]` for images and feature maps).
    public private(set) var shape: [Int]
    package private(set) var storage: TensorStorage

    /// A tensor of the given shape filled with `value`.
    ///
    /// A negative dimension is a programmer error and traps, as `Array(repeating:count:)` does for a negative
    /// count; check shapes from outside the program with ``elementCount(of:)`` or use ``init(shape:values:)``.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        if value != 0 { storage.pointer.update(repeating: value, count: storage.count) }
    }

    /// A tensor of the given shape whose elements are unspecified until written. The caller writes every element
    /// before reading any (see ``TensorStorage/init(uninitializedCount:)``); the dimensions are non-negative.
    package init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        self.shape = shape
        storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    }

    /// A tensor of the given shape holding `values` in row-major order.
    /// - Throws: ``TensorError/invalidShape(_:)`` for a negative dimension, ``TensorError/valueCount(shape:expected:found:)``
    ///   when `values` does not hold exactly one value per element.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        let count = try Self.elementCount(of: shape)
        guard count == values.count else { throw .valueCount(shape: shape, expected: count, found: values.count) }
        self.init(uncheckedShape: shape, values: values)
    }

    /// ``init(shape:values:)`` for a shape whose element count is `values.count` by construction.
    package init(uncheckedShape shape: [Int], values: [Float]) {
        self.init(shape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The elements in row-major order (a copy).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// Batch, channels, height and width of a 4-D NCHW tensor.
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }

    /// Element access by full index.
    ///
    /// As with `Array`'s subscript, an index of the wrong length or out of range is a programmer error and traps.
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[offset(index)] }
        set { makeUnique(); storage.pointer[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var o = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    /// Calls `body` with the elements, read-only.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with the elements, writable (copies the storage first if it is shared).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Read-only pointer to the elements; valid while this tensor value is alive and unmodified.
    package var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    /// Writable pointer to the elements after making the storage unique; valid while this value is alive
    /// and is not copied. Used by kernels that write into caller-owned outputs without allocating.
    package mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.pointer
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The same elements viewed with another shape of equal element count.
    /// - Throws: ``TensorError/reshape(from:to:)`` when `newShape` has another element count (or a negative
    ///   dimension).
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        guard Self.product(newShape) == count else { throw .reshape(from: shape, to: newShape) }
        var t = self
        t.shape = newShape
        return t
    }

    /// ``reshaped(_:)`` for a shape of the same element count by construction.
    package func reshaped(unchecked newShape: [Int]) -> Tensor {
        var t = self
        t.shape = newShape
        return t
    }

    /// Reallocates only when the element count changes; keeps the buffer otherwise (scratch reuse).
    /// The contents are unspecified afterwards. A negative dimension traps, as in ``init(shape:repeating:)``.
    public mutating func resize(to newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n != storage.count || !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(count: n) }
        shape = newShape
    }

    /// Largest absolute element-wise difference to `other`; infinity when the shapes differ (no element
    /// corresponds).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        guard shape == other.shape else { return .infinity }
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, abs(storage.pointer[i] - other.storage.pointer[i])) }
        return m
    }

    /// Channel slice `[N, c0..<c1, H, W]` of a 4-D tensor, copied.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for a tensor that is not 4-D,
    ///   ``TensorError/channelRange(_:channels:)`` for a range outside `0..<C`.
    public func channels(_ range: Range<Int>) throws(TensorError) -> Tensor {
        try Self.check(self, "tensor", [nil, nil, nil, nil])
        guard range.lowerBound >= 0 && range.upperBound <= c else { throw .channelRange(range, channels: c) }
        var out = Tensor(shape: [n, range.count, h, w])
        let plane = h * w
        let dst = out.mutablePointer()
        for b in 0..<n {
            (dst + b * range.count * plane).update(from: storage.pointer + (b * c + range.lowerBound) * plane,
                                                   count: range.count * plane)
        }
        return out
    }

    /// Concatenation of 4-D tensors along the channel axis (torch.cat(…, dim=1)).
    /// - Throws: ``TensorError/empty(argument:)`` for no parts, ``TensorError/shapeMismatch(argument:expected:found:)``
    ///   for a part that is not 4-D or differs from the first in N, H or W.
    public static func concatenateChannels(_ parts: [Tensor]) throws(TensorError) -> Tensor {
        guard let first = parts.first else { throw .empty(argument: "parts") }
        try check(first, "parts[0]", [nil, nil, nil, nil])
        let (n, h, w) = (first.n, first.h, first.w)
        for (i, p) in parts.enumerated() { try check(p, "parts[\(i)]", [n, nil, h, w]) }
        let totalC = parts.reduce(0) { $0 + $1.c }
        var out = Tensor(shape: [n, totalC, h, w])
        let dst = out.mutablePointer()
        let plane = h * w
        for b in 0..<n {
            var c0 = 0
            for p in parts {
                (dst + (b * totalC + c0) * plane).update(from: p.pointer + b * p.c * plane, count: p.c * plane)
                c0 += p.c
            }
        }
        return out
    }

    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.shape == b.shape && (a.storage === b.storage || (0..<a.count).allSatisfy { a.pointer[$0] == b.pointer[$0] })
    }

    public var description: String { "Tensor\(shape)" }
}

extension Tensor {
    /// Sample `b` of a `[N, C, H, W]` tensor as interleaved values, `[H·W, C]` (pixel by pixel, as images and
    /// flow fields store them).
    func interleaved(sample b: Int) -> [Float] {
        let (channels, plane) = (c, h * w)
        let src = pointer + b * channels * plane
        return [Float](unsafeUninitializedCapacity: channels * plane) { out, count in
            for i in 0..<plane {
                for k in 0..<channels { out[channels * i + k] = src[k * plane + i] }
            }
            count = channels * plane
        }
    }

    /// A `[1, channels, height, width]` tensor from interleaved values `[height·width, channels]`.
    init(interleaved values: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int) {
        self.init(shape: [1, channels, height, width])
        let dst = mutablePointer(), plane = height * width
        for i in 0..<plane {
            for k in 0..<channels { dst[k * plane + i] = values[channels * i + k] }
        }
    }
}
