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
        let zrBuffer = workspace.buffer("rf.zr", 2 * count)
        let qBuffer = workspace.buffer("rf.q", count)
        let tangentColumns = workspace.buffer("rf.tcolumns", k * pixels)
        let tangentZR = workspace.buffer("rf.tzr", 2 * count)
        let tangentRH = workspace.buffer("rf.trh", count)
        let tangentQ = workspace.buffer("rf.tq", count)

        // Base: exactly ConvGRU.step (same shifted GEMMs, same element-wise expressions), with z, r and q kept.
        let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
        let (plane, wideCount, wp) = (layout.planeCount, layout.wideCount, layout.paddedWidth)
        let padded = workspace.buffer("rf.padded", layout.paddedCount(channels: hid + inputChannels))
        let gates = workspace.buffer("rf.gates", 2 * hid * wideCount)
        ShiftedGEMM.pad(hidden, channels: hid, layout: layout, into: padded)
        ShiftedGEMM.pad(input, channels: inputChannels, layout: layout, into: padded + hid * plane)
        ShiftedGEMM.multiply(weights: zrTaps.pointer, outputs: 2 * hid, inputChannels: hid + inputChannels,
                             lda: hid + inputChannels, padded: padded, layout: layout, wide: gates, ldc: wideCount,
                             accumulate: false)
        for c in 0..<hid {
            let bz = z.bias[c], br = r.bias[c]
            for y in 0..<height {
                let zw = gates + c * wideCount + y * wp, rw = gates + (hid + c) * wideCount + y * wp
                let i0 = c * pixels + y * width
                let rhPadded = ShiftedGEMM.interior(padded + c * plane, layout: layout, y: y, x: 0)
                for x in 0..<width {
                    zrBuffer[i0 + x] = Activations.sigmoid(zw[x] + bz)
                    let rx = Activations.sigmoid(rw[x] + br)
                    zrBuffer[count + i0 + x] = rx
                    rhPadded[x] = rx * hidden[i0 + x]
                }
            }
        }
        let zGate = UnsafePointer(zrBuffer), rGate = UnsafePointer(zrBuffer + count)
        ShiftedGEMM.multiply(weights: qTaps.pointer, outputs: hid, inputChannels: hid + inputChannels,
                             lda: hid + inputChannels, padded: padded, layout: layout, wide: gates, ldc: wideCount,
                             accumulate: false)
        for c in 0..<hid {
            let bq = q.bias[c]
            for y in 0..<height {
                let qw = gates + c * wideCount + y * wp, i0 = c * pixels + y * width
                for x in 0..<width { qBuffer[i0 + x] = Activations.tanh(qw[x] + bq) }
            }
        }

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
