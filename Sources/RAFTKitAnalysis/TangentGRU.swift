import RAFTKit

extension ConvGRU {
    /// One gated step of h together with its tangent (forward-mode derivative, a Jacobian-vector product): given
    /// a direction `(ṫh, ṫx)` it computes `ṫh' = ∂h'/∂h · ṫh + ∂h'/∂x · ṫx` alongside h', with
    ///
    ///     ż = z(1−z)·W_z·[ṫh, ṫx]      ṙ = r(1−r)·W_r·[ṫh, ṫx]
    ///     q̇ = (1−q²)·W_q·[ṙ⊙h + r⊙ṫh, ṫx]
    ///     ṫh' = (1−z)·ṫh + ż·(q − h) + z·q̇
    ///
    /// The base computation is the same sequence of operations as ``step(hidden:input:height:width:workspace:)``
    /// (so h' is bit-for-bit the same). The tangent is the δ → 0 limit of running the step with and without a
    /// perturbation δ·(ṫh, ṫx), without the cancellation that makes a float32 finite difference lose responses
    /// below ~10⁻⁷ of h.
    /// - Parameters:
    ///   - hidden: h `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x `[inputChannels, height, width]`.
    ///   - tangentHidden: ṫh, same shape as h, replaced by ṫh'.
    ///   - tangentInput: ṫx, same shape as x.
    func stepWithTangent(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         tangentHidden: UnsafeMutablePointer<Float>, tangentInput: UnsafePointer<Float>,
                         height: Int, width: Int, workspace: Workspace) {
        let pixels = height * width
        let hid = hiddenChannels
        let count = hid * pixels
        let hiddenRows = hid * geometry.kernelHeight * geometry.kernelWidth
        let k = z.patchSize
        // Scratch (the workspace's analysis block): im2col of the tangent direction `[k·taps, h·w]`; ż and ṙ
        // `[2·hidden, h, w]`; ṙ⊙h + r⊙ṫh and q̇'s pre-activation, `[hidden, h, w]` each.
        let (tangentColumns, tangentZR, tangentRH, tangentQ) = workspace.analysis.carve {
            ($0.take(k * pixels), $0.take(2 * count), $0.take(count), $0.take(count))
        }

        // Base: exactly ConvGRU.step (the same gate routine and blend), with z, r and q kept.
        let (zGate, rGate, qBuffer) = gates(hidden: hidden, input: input, inputChannels: inputChannels,
                                            zrWeights: zrPrepared, qWeights: qPrepared, preactivation: nil,
                                            height: height, width: width, workspace: workspace)

        // Tangent: [ż; ṙ] from one GEMM without bias, then q̇.
        Im2col.write(input: tangentHidden, channels: hid, height: height, width: width, geometry: geometry,
                     columns: tangentColumns)
        Im2col.write(input: tangentInput, channels: inputChannels, height: height, width: width, geometry: geometry,
                     columns: tangentColumns + hiddenRows * pixels)
        BLAS.sgemm(m: 2 * hid, n: pixels, k: k, a: zr.weight.pointer, lda: k, b: tangentColumns, ldb: pixels,
                   c: tangentZR, ldc: pixels)
        for i in 0..<count {
            tangentZR[i] *= zGate[i] * (1 - zGate[i])
            tangentZR[count + i] *= rGate[i] * (1 - rGate[i])
        }
        let rDot = UnsafePointer(tangentZR + count)
        for i in 0..<count { tangentRH[i] = rDot[i] * hidden[i] + rGate[i] * tangentHidden[i] }
        Im2col.write(input: tangentRH, channels: hid, height: height, width: width, geometry: geometry,
                     columns: tangentColumns)
        BLAS.sgemm(m: hid, n: pixels, k: k, a: q.weight.pointer, lda: k, b: tangentColumns, ldb: pixels,
                   c: tangentQ, ldc: pixels)

        // ṫh' = (1−z)·ṫh + ż·(q − h) + z·q̇ and h' = (1−z)·h + z·q.
        for i in 0..<count {
            let zi = zGate[i], qi = qBuffer[i], hi = hidden[i]
            let qDot = (1 - qi * qi) * tangentQ[i]
            tangentHidden[i] = (1 - zi) * tangentHidden[i] + tangentZR[i] * (qi - hi) + zi * qDot
            hidden[i] = (1 - zi) * hi + zi * qi
        }
    }
}

extension SeqConvGRU {
    /// One iteration of every step with the tangent (see ``ConvGRU/stepWithTangent(hidden:input:tangentHidden:tangentInput:height:width:workspace:)``).
    func stepWithTangent(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         tangentHidden: UnsafeMutablePointer<Float>, tangentInput: UnsafePointer<Float>,
                         height: Int, width: Int, workspace: Workspace) {
        for s in steps {
            s.stepWithTangent(hidden: hidden, input: input, tangentHidden: tangentHidden, tangentInput: tangentInput,
                              height: height, width: width, workspace: workspace)
        }
    }
}
