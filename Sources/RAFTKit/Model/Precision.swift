/// The arithmetic of the network's convolutions.
///
/// RAFTKit computes in float32 by default. ``bfloat16`` rounds the convolutions' weights and activations to
/// bfloat16 and accumulates their products in float32, on CPUs with AVX512_BF16 (``isBFloat16Supported``); the
/// correlation volume and its look-ups, the coordinate updates, the GRU's gate arithmetic and the convex
/// upsampling stay float32 everywhere. On other CPUs a ``bfloat16`` request runs float32.
public enum Precision: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// float32 everywhere (the default; matches the official RAFT to about 1e-5 px).
    case float32 = "f32"
    /// bfloat16 convolutions with float32 accumulation, where the CPU has AVX512_BF16.
    case bfloat16 = "bf16"

    public var description: String { rawValue }

    /// Whether this CPU computes ``bfloat16`` convolutions (AVX512_BF16, detected at run time); where it does not,
    /// ``bfloat16`` requests run ``float32``.
    public static var isBFloat16Supported: Bool { BFloat16GEMM.isAvailable }

    /// The precision a request for `self` runs at on this CPU.
    public var effective: Precision { self == .bfloat16 && !Self.isBFloat16Supported ? .float32 : self }

    /// How the GEMMs of a forward pass asked for at `self` are computed.
    var arithmetic: GEMMArithmetic { effective == .bfloat16 ? .bfloat16 : .float32 }
}

/// How a GEMM of the convolution layers is computed (the kernel layer's view of ``Precision``).
package enum GEMMArithmetic: Sendable, Hashable {
    /// OpenBLAS `sgemm`.
    case float32
    /// ``BFloat16GEMM`` on the AVX512_BF16 kernel.
    case bfloat16
    /// ``BFloat16GEMM``'s portable emulation of that kernel: the same rounding on any CPU, about 1000× slower. For
    /// tests and accuracy measurements on machines without AVX512_BF16.
    case bfloat16Emulated
}
