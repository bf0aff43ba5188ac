extension BLAS {
    /// ``multiply(_:_:into:)`` with the shapes checked (its non-throwing form traps on them, as a programmer
    /// error).
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` unless `a` is `[M, K]` and `b` `[K, N]`.
    public static func multiply(checking a: Tensor, _ b: Tensor, into c: inout Tensor) throws(TensorError) {
        guard a.rank == 2 else { throw .shapeMismatch(argument: "a", expected: "[M, K]", found: a.shape) }
        guard b.rank == 2 && b.shape[0] == a.shape[1] else {
            throw .shapeMismatch(argument: "b", expected: "[\(a.shape[1]), N]", found: b.shape)
        }
        multiply(a, b, into: &c)
    }
}
