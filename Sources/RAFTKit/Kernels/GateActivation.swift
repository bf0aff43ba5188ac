/// The activation passes of one ``ConvGRU`` step, between its GEMMs: σ for z and r (and r⊙h written back into the
/// padded input), tanh for q. Each pass is split over hidden channels; the value carries every pointer and stride
/// the passes need, so it is the whole context of a ``Parallel`` call (no captures, no allocation).
struct GateActivation {
    /// h, `[hiddenChannels, height, width]`.
    let hidden: UnsafePointer<Float>
    let hiddenChannels: Int, height: Int, width: Int
    /// The gates' pre-activations, `(plane stride, row stride)` apart: z and r in planes `0..<2·hid`, then q in
    /// planes `0..<hid` once the q GEMM has overwritten them.
    let pre: UnsafePointer<Float>, prePlane: Int, preRow: Int
    /// Where r⊙h goes: interior pixel (0, 0) of hidden plane 0 of the padded input, `(plane, row)` strides.
    let rh: UnsafeMutablePointer<Float>, rhPlane: Int, rhRow: Int
    /// Added to the pre-activations (biases included, `[3·hid, height, width]`) if given; else the biases are.
    let preactivation: UnsafePointer<Float>?
    let zBias: UnsafePointer<Float>, rBias: UnsafePointer<Float>, qBias: UnsafePointer<Float>
    /// The compact gate outputs, `[hid, height, width]` each.
    let z: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>

    /// z = σ(·), r = σ(·) and r⊙h for hidden channels `channels`.
    func activateZR(_ channels: Range<Int>) {
        let hid = hiddenChannels, pixels = height * width
        for c in channels {
            for y in 0..<height {
                let zw = pre + c * prePlane + y * preRow, rw = pre + (hid + c) * prePlane + y * preRow
                let i0 = c * pixels + y * width
                let h = hidden + i0, zRow = z + i0, rRow = r + i0
                let rh = rh + c * rhPlane + y * rhRow
                if let preactivation {
                    let sz = preactivation + i0, sr = sz + hid * pixels
                    for x in 0..<width {
                        zRow[x] = Activations.sigmoid(zw[x] + sz[x])
                        let rx = Activations.sigmoid(rw[x] + sr[x])
                        rRow[x] = rx
                        rh[x] = rx * h[x]
                    }
                } else {
                    let bz = zBias[c], br = rBias[c]
                    for x in 0..<width {
                        zRow[x] = Activations.sigmoid(zw[x] + bz)
                        let rx = Activations.sigmoid(rw[x] + br)
                        rRow[x] = rx
                        rh[x] = rx * h[x]
                    }
                }
            }
        }
    }

    /// q = tanh(·) for hidden channels `channels` (the q GEMM has written planes `0..<hid` of `pre`).
    func activateQ(_ channels: Range<Int>) {
        let hid = hiddenChannels, pixels = height * width
        for c in channels {
            for y in 0..<height {
                let qw = pre + c * prePlane + y * preRow, qRow = q + c * pixels + y * width
                if let preactivation {
                    let sq = preactivation + (2 * hid + c) * pixels + y * width
                    for x in 0..<width { qRow[x] = Activations.tanh(qw[x] + sq[x]) }
                } else {
                    let bq = qBias[c]
                    for x in 0..<width { qRow[x] = Activations.tanh(qw[x] + bq) }
                }
            }
        }
    }
}
