#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Middlebury optical-flow colour wheel (Baker et al., "A Database and Evaluation Methodology for
/// Optical Flow"), as used by the reference `flow_viz.py` (Tom Runia's port).
///
/// The direction of a flow vector picks a hue on a 55-entry wheel, its length the saturation: zero motion
/// is white, motion of the normalising magnitude is the full wheel colour. Right is red, down yellow-orange,
/// left cyan-blue, up violet.
public enum ColorWheel {
    /// Lengths of the six hue transitions: red→yellow 15, yellow→green 6, green→cyan 4, cyan→blue 11,
    /// blue→magenta 13, magenta→red 6 (55 entries in all).
    public static let segments = [15, 6, 4, 11, 13, 6]

    /// The 55 wheel colours (R, G, B) in 0…255: within a segment of length n, entry i ramps one channel by
    /// ⌊255·i/n⌋ (rising) or 255 − ⌊255·i/n⌋ (falling).
    public static let colors: [(r: Double, g: Double, b: Double)] = {
        var wheel: [(r: Double, g: Double, b: Double)] = []
        func ramp(_ i: Int, _ n: Int) -> Double { (255 * Double(i) / Double(n)).rounded(.down) }
        for i in 0..<15 { wheel.append((255, ramp(i, 15), 0)) }          // RY
        for i in 0..<6 { wheel.append((255 - ramp(i, 6), 255, 0)) }      // YG
        for i in 0..<4 { wheel.append((0, 255, ramp(i, 4))) }            // GC
        for i in 0..<11 { wheel.append((0, 255 - ramp(i, 11), 255)) }    // CB
        for i in 0..<13 { wheel.append((ramp(i, 13), 0, 255)) }          // BM
        for i in 0..<6 { wheel.append((255, 0, 255 - ramp(i, 6))) }      // MR
        return wheel
    }()

    /// π as NumPy uses it in a float32 division: rounded to nearest (`Float.pi` is rounded down).
    static let piFloat32 = Float(Double.pi)

    /// The colour of one *normalised* flow vector, exactly as the reference `flow_uv_to_colors`:
    /// angle `a = atan2(−v, −u)/π`, position `fk = (a + 1)/2 · 54` between wheel entries ⌊fk⌋ and ⌊fk⌋ + 1
    /// (wrapping to 0), linear interpolation, then with `r = √(u² + v²)`: for r ≤ 1 the colour is blended
    /// towards white, `1 − r·(1 − c)`; beyond 1 (flow longer than the normalising magnitude) it is darkened
    /// to 75 %. Each channel is stored as ⌊255·c⌋.
    ///
    /// Arithmetic follows the reference's NumPy types (Float32 radius and angle, Float64 interpolation), so
    /// bytes match it; the sign of zero matters at the seam, as there: (1, −0.0) gives (255, 0, 43) while
    /// (1, +0.0) gives (255, 0, 0). Non-finite input gives black.
    public static func color(u: Float, v: Float) -> (r: UInt8, g: UInt8, b: UInt8) {
        guard u.isFinite && v.isFinite else { return (0, 0, 0) }
        let radius = (u * u + v * v).squareRoot()
        // π rounded to nearest, as NumPy converts np.pi for a float32 division (Float.pi is rounded down,
        // which would push atan2's ±π just outside ±1).
        let angle = atan2f(-v, -u) / piFloat32
        let position = (angle + 1) / 2 * Float(colors.count - 1)
        let k0 = min(max(Int(position.rounded(.down)), 0), colors.count - 1)
        let k1 = k0 + 1 == colors.count ? 0 : k0 + 1
        let f = Double(position) - Double(k0)
        let c0 = colors[k0], c1 = colors[k1]
        func channel(_ a: Double, _ b: Double) -> UInt8 {
            var c = ((1 - f) * a + f * b) / 255
            c = radius <= 1 ? 1 - Double(radius) * (1 - c) : c * 0.75
            return UInt8(max(0, min(255, (255 * c).rounded(.down))))
        }
        return (channel(c0.r, c1.r), channel(c0.g, c1.g), channel(c0.b, c1.b))
    }
}
