// Wires sources and the engine core behind the public API (filled in by the engine core).
