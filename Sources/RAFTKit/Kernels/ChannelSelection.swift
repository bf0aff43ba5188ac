/// The input channels a prepared weight tensor keeps, as ranges in order (all channels, or the part of a GRU's
/// input that changes every iteration). Shared by the weight preparations of ``ShiftedGEMM`` and the Winograd
/// transforms.
extension Array where Element == Range<Int> {
    /// The number of selected channels: the prepared weights' inner dimension.
    var selectedCount: Int { reduce(0) { $0 + $1.count } }

    /// The selected input channels in order: element `k` is the channel ``forEachSelected(_:)`` passes with `k`.
    var selectedList: [Int] { flatMap { range in Array<Int>(range) } }

    /// Calls `body(k, c)` for each selected input channel `c`, `k` its index among the selected ones.
    @inline(__always)
    func forEachSelected(_ body: (_ k: Int, _ c: Int) -> Void) {
        var k = 0
        for range in self {
            for c in range {
                body(k, c)
                k += 1
            }
        }
    }
}
