/// A restricted Python unpickler for PyTorch state dicts that executes nothing.
///
/// It interprets the protocol 2–5 opcodes a `torch.save`d state dict uses and builds plain values. Python
/// globals are only *named*: `GLOBAL`/`STACK_GLOBAL` accept the whitelist below and refuse anything else
/// with ``WeightsError/forbiddenGlobal(file:name:)``; `REDUCE`/`NEWOBJ` "call" only the whitelisted
/// constructors, which build an ordered dict or a tensor description. Persistent ids (tensor storages)
/// are resolved by the caller.
///
/// Containers live in arenas and refer to each other by index, so hostile nesting or cycles can neither
/// overflow the stack (there is no recursion anywhere) nor leak. Every read is bounds-checked.
struct Unpickler {
    /// A pickled value. Containers are indices into the unpickler's arenas.
    enum Value: Hashable {
        case none
        case bool(Bool)
        case int(Int)
        /// An integer wider than 64 bits, as little-endian two's-complement bytes (e.g. the legacy magic).
        case bigInt([UInt8])
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case list(Int)
        case tuple(Int)
        case dict(Int)
        /// A whitelisted global, `module.name`.
        case global(String)
        /// A storage returned by the persistent-load hook (an index the caller understands).
        case storage(Int)
        case tensor(Int)
    }

    /// A dictionary in insertion order.
    struct Dictionary {
        var keys: [Value] = []
        var values: [Value] = []
        var position: [Value: Int] = [:]

        mutating func set(_ key: Value, _ value: Value) {
            if let i = position[key] { values[i] = value; return }
            position[key] = keys.count
            keys.append(key)
            values.append(value)
        }

        subscript(key: String) -> Value? { position[.string(key)].map { values[$0] } }
    }

    /// What `_rebuild_tensor_v2(storage, storage_offset, size, stride, …)` was given.
    struct TensorDescription {
        let storage: Int
        let storageOffset: Int
        let size: [Int]
        let stride: [Int]
    }

    /// The only globals a state dict may name.
    static let whitelist: Set<String> = {
        var names: Set<String> = [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        ]
        for type in ["Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool"] {
            names.insert("torch.\(type)Storage")
            names.insert("torch.cuda.\(type)Storage")  // checkpoints saved from the GPU by torch 1.x
        }
        return names
    }()

    private(set) var lists: [[Value]] = []
    private(set) var tuples: [[Value]] = []
    private(set) var dicts: [Dictionary] = []
    private(set) var tensors: [TensorDescription] = []

    private let bytes: [UInt8]
    private let source: String
    private var position = 0

    /// Unpickles one pickle starting at `offset` of `bytes`.
    init(_ bytes: [UInt8], at offset: Int = 0, source: String) {
        self.bytes = bytes
        self.source = source
        position = offset
    }

    /// The offset just past the last `STOP` read.
    var endOffset: Int { position }

    func list(_ v: Value) -> [Value]? { if case let .list(i) = v { lists[i] } else { nil } }
    func tuple(_ v: Value) -> [Value]? { if case let .tuple(i) = v { tuples[i] } else { nil } }
    func dict(_ v: Value) -> Dictionary? { if case let .dict(i) = v { dicts[i] } else { nil } }
    func tensor(_ v: Value) -> TensorDescription? { if case let .tensor(i) = v { tensors[i] } else { nil } }

    // MARK: - Reading

    private func corrupt(_ reason: String) -> WeightsError { .corrupt(file: source, reason: "pickle: \(reason)") }

    private mutating func take(_ n: Int, _ what: String) throws(WeightsError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else {
            throw corrupt("truncated \(what) at byte \(position) (needs \(n) bytes, \(bytes.count - position) left)")
        }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func unsigned(_ n: Int, _ what: String) throws(WeightsError) -> Int {
        var v: UInt64 = 0
        for (i, b) in try take(n, what).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        guard let r = Int(exactly: v) else { throw corrupt("\(what) \(v) is too large") }
        return r
    }

    private mutating func line(_ what: String) throws(WeightsError) -> String {
        let start = position
        guard let end = bytes[start...].prefix(256).firstIndex(of: 0x0A) else {
            throw corrupt("\(what) at byte \(start) is not a short newline-terminated line")
        }
        position = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    // MARK: - The machine

    /// Runs the pickle to its `STOP` and returns the top value.
    ///
    /// - Parameter persistentLoad: resolves a persistent id (`BINPERSID`) to a value, typically a storage.
    mutating func load(persistentLoad: (inout Unpickler, Value) throws(WeightsError) -> Value) throws(WeightsError) -> Value {
        var stack: [Value] = []
        var marks: [Int] = []
        var memo: [Int: Value] = [:]

        func pop() throws(WeightsError) -> Value {
            guard let v = stack.popLast() else { throw corrupt("stack underflow at byte \(position)") }
            return v
        }
        func popMark() throws(WeightsError) -> [Value] {
            guard let m = marks.popLast(), m <= stack.count else { throw corrupt("missing MARK before byte \(position)") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func top() throws(WeightsError) -> Value {
            guard let v = stack.last else { throw corrupt("stack underflow at byte \(position)") }
            return v
        }

        while true {
            let opcodeOffset = position
            let op = try take(1, "opcode").first!
            switch op {
            case 0x80:  // PROTO
                let proto = try unsigned(1, "protocol")
                guard proto <= 5 else { throw corrupt("unsupported pickle protocol \(proto)") }
            case 0x95:  // FRAME (a size hint only)
                _ = try unsigned(8, "frame length")
            case 0x2E:  // STOP
                return try pop()
            case 0x28:  // MARK
                marks.append(stack.count)
            case 0x30:  // POP
                _ = try pop()
            case 0x31:  // POP_MARK
                _ = try popMark()
            case 0x32:  // DUP
                stack.append(try top())
            case 0x7D:  // EMPTY_DICT
                dicts.append(Dictionary()); stack.append(.dict(dicts.count - 1))
            case 0x5D:  // EMPTY_LIST
                lists.append([]); stack.append(.list(lists.count - 1))
            case 0x29:  // EMPTY_TUPLE
                tuples.append([]); stack.append(.tuple(tuples.count - 1))
            case 0x74:  // TUPLE
                tuples.append(try popMark()); stack.append(.tuple(tuples.count - 1))
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                let n = Int(op - 0x84)
                guard stack.count >= n else { throw corrupt("stack underflow at byte \(opcodeOffset)") }
                tuples.append(Array(stack.suffix(n)))
                stack.removeLast(n)
                stack.append(.tuple(tuples.count - 1))
            case 0x73:  // SETITEM
                let value = try pop(), key = try pop()
                guard case let .dict(d) = try top() else { throw corrupt("SETITEM on a non-dict at byte \(opcodeOffset)") }
                dicts[d].set(key, value)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0, case let .dict(d) = try top() else { throw corrupt("bad SETITEMS at byte \(opcodeOffset)") }
                for i in stride(from: 0, to: items.count, by: 2) { dicts[d].set(items[i], items[i + 1]) }
            case 0x61:  // APPEND
                let value = try pop()
                guard case let .list(l) = try top() else { throw corrupt("APPEND to a non-list at byte \(opcodeOffset)") }
                lists[l].append(value)
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case let .list(l) = try top() else { throw corrupt("APPENDS to a non-list at byte \(opcodeOffset)") }
                lists[l].append(contentsOf: items)
            case 0x4A:  // BININT (signed 32-bit)
                stack.append(.int(Int(Int32(bitPattern: UInt32(try unsigned(4, "BININT"))))))
            case 0x4B:  // BININT1
                stack.append(.int(try unsigned(1, "BININT1")))
            case 0x4D:  // BININT2
                stack.append(.int(try unsigned(2, "BININT2")))
            case 0x8A, 0x8B:  // LONG1, LONG4
                let n = try unsigned(op == 0x8A ? 1 : 4, "LONG length")
                let raw = Array(try take(n, "LONG"))
                if n <= 8 {
                    var v: UInt64 = 0
                    for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                    if n > 0, n < 8, raw[n - 1] & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }  // sign-extend
                    stack.append(.int(n == 0 ? 0 : Int(Int64(bitPattern: v))))
                } else {
                    stack.append(.bigInt(raw))
                }
            case 0x47:  // BINFLOAT (big-endian double)
                var v: UInt64 = 0
                for b in try take(8, "BINFLOAT") { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x4E:  // NONE
                stack.append(.none)
            case 0x88:  // NEWTRUE
                stack.append(.bool(true))
            case 0x89:  // NEWFALSE
                stack.append(.bool(false))
            case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = try unsigned(op == 0x8C ? 1 : op == 0x58 ? 4 : 8, "string length")
                stack.append(.string(String(decoding: try take(n, "string"), as: UTF8.self)))
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (Python 2 str, ASCII in practice)
                let n = try unsigned(op == 0x55 ? 1 : 4, "string length")
                stack.append(.string(String(String.UnicodeScalarView(try take(n, "string").map { Unicode.Scalar($0) }))))
            case 0x42, 0x43, 0x8E:  // BINBYTES, SHORT_BINBYTES, BINBYTES8
                let n = try unsigned(op == 0x43 ? 1 : op == 0x42 ? 4 : 8, "bytes length")
                stack.append(.bytes(Array(try take(n, "bytes"))))
            case 0x94:  // MEMOIZE
                memo[memo.count] = try top()
            case 0x71, 0x72:  // BINPUT, LONG_BINPUT
                memo[try unsigned(op == 0x71 ? 1 : 4, "memo index")] = try top()
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let i = try unsigned(op == 0x68 ? 1 : 4, "memo index")
                guard let v = memo[i] else { throw corrupt("memo entry \(i) used before it was stored (byte \(opcodeOffset))") }
                stack.append(v)
            case 0x63:  // GLOBAL
                let module = try line("GLOBAL module"), name = try line("GLOBAL name")
                stack.append(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case let .string(n) = name, case let .string(m) = module else {
                    throw corrupt("STACK_GLOBAL needs two strings (byte \(opcodeOffset))")
                }
                stack.append(try global(m, n))
            case 0x52, 0x81:  // REDUCE, NEWOBJ: "call" a whitelisted constructor
                let args = try pop(), callable = try pop()
                guard case let .global(name) = callable, let arguments = tuple(args) else {
                    throw corrupt("\(op == 0x52 ? "REDUCE" : "NEWOBJ") needs a global and an argument tuple (byte \(opcodeOffset))")
                }
                stack.append(try construct(name, arguments))
            case 0x62:  // BUILD: sets attributes (e.g. OrderedDict._metadata); nothing RAFTKit needs
                _ = try pop()
                _ = try top()
            case 0x51:  // BINPERSID
                let pid = try pop()
                stack.append(try persistentLoad(&self, pid))
            default:
                throw corrupt("unsupported opcode 0x\(String(op, radix: 16)) at byte \(opcodeOffset)")
            }
        }
    }

    private func global(_ module: String, _ name: String) throws(WeightsError) -> Value {
        let full = "\(module).\(name)"
        guard Self.whitelist.contains(full) else { throw .forbiddenGlobal(file: source, name: full) }
        return .global(full)
    }

    /// Interprets a call of a whitelisted global without running any code.
    private mutating func construct(_ name: String, _ args: [Value]) throws(WeightsError) -> Value {
        switch name {
        case "collections.OrderedDict":
            var d = Dictionary()
            if let first = args.first {  // OrderedDict([(key, value), …])
                guard args.count == 1, let pairs = list(first) ?? tuple(first) else { throw corrupt("bad OrderedDict arguments") }
                for p in pairs {
                    guard let kv = tuple(p) ?? list(p), kv.count == 2 else { throw corrupt("bad OrderedDict item") }
                    d.set(kv[0], kv[1])
                }
            }
            dicts.append(d)
            return .dict(dicts.count - 1)
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1],
                  let size = tuple(args[2]).flatMap(integers), let stride = tuple(args[3]).flatMap(integers) else {
                throw corrupt("bad arguments to \(name)")
            }
            tensors.append(TensorDescription(storage: storage, storageOffset: offset, size: size, stride: stride))
            return .tensor(tensors.count - 1)
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = args.first, case .tensor = data else { throw corrupt("bad arguments to \(name)") }
            return data
        default:
            throw corrupt("\(name) cannot be called")
        }
    }

    private func integers(_ values: [Value]) -> [Int]? {
        var out: [Int] = []
        for v in values { guard case let .int(i) = v else { return nil }; out.append(i) }
        return out
    }
}
