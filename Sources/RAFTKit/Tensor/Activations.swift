/// Vectorisable activation kernels.
///
/// libm's `tanhf`/`expf` are scalar calls, a large share of a GRU step (`Benchmarks/README.md`, "Design choices
/// and their measurements"); these rational and polynomial forms use only `+ - * /`, `min`/`max`, so LLVM
/// vectorises the loops. Maximum absolute error against the libm functions: tanh ≤ 5e-7, sigmoid ≤ 3e-7 (tested
/// over [-20, 20]).
package enum Activations {
    /// Rational tanh approximation (Eigen's `generic_fast_tanh_float` coefficients), exact to ±1 beyond ±7.905.
    @inlinable @inline(__always)
    package static func tanh(_ x: Float) -> Float {
        let x = Swift.min(Swift.max(x, -7.90531110763549805), 7.90531110763549805)
        let x2 = x * x
        var p: Float = -2.76076847742355e-16
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 + -8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        p = p * x
        var q: Float = 1.19825839466702e-06
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        return p / q
    }

    /// Logistic sigmoid as `0.5 + 0.5·tanh(x/2)`.
    @inlinable @inline(__always)
    package static func sigmoid(_ x: Float) -> Float { 0.5 + 0.5 * tanh(0.5 * x) }

    /// In-place tanh over `count` elements.
    package static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = tanh(x[i]) }
    }

    /// In-place sigmoid over `count` elements.
    package static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = sigmoid(x[i]) }
    }

    /// In-place ReLU over `count` elements.
    package static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = Swift.max(x[i], 0) }
    }
}

/// Element-wise nonlinearity fused into a convolution's output pass.
public enum Activation: Sendable, Equatable {
    case identity, relu, sigmoid, tanh

    package func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if self == .identity { return }
        Parallel.forEach(count, minimumChunk: 16384, context: (self, x)) { activation, part in
            let (activation, values) = activation
            let count = part.count, x = values + part.lowerBound
            switch activation {
            case .identity: break
            case .relu: Activations.relu(x, count: count)
            case .sigmoid: Activations.sigmoid(x, count: count)
            case .tanh: Activations.tanh(x, count: count)
            }
        }
    }
}
