// The `metadata_props` of an ONNX file, read straight from its protobuf bytes: onnxruntime-web
// does not expose them, and a host needs them (sizes, fps, style population, neck limits)
// before it can feed the graph. Only the top level of ModelProto is walked; the graph
// (field 7, most of the file) is skipped by its length.

const METADATA_PROPS = 14; // ModelProto.metadata_props: repeated StringStringEntryProto

function readVarint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error("ONNX file: truncated varint");
    const b = buf[pos++];
    value += (b & 0x7f) * scale; // no bit shifts: lengths and ints may exceed 2^31
    if (b < 0x80) return [value, pos];
    scale *= 128;
    if (scale > 2 ** 63) throw new Error("ONNX file: varint too long");
  }
}

function* fields(buf, start, end) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      [, pos] = readVarint(buf, pos);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      if (pos + len > end) throw new Error("ONNX file: a field runs past the end (truncated?)");
      yield [field, pos, pos + len];
      pos += len;
    } else {
      throw new Error(`ONNX file: unsupported protobuf wire type ${wire}`);
    }
  }
}

/** metadata_props of an ONNX model (Uint8Array) as a plain {key: value} object. */
export function readOnnxMetadata(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const text = new TextDecoder();
  const meta = {};
  for (const [field, start, end] of fields(buf, 0, buf.length)) {
    if (field !== METADATA_PROPS) continue;
    let key = "";
    let value = "";
    for (const [f, s, e] of fields(buf, start, end)) {
      if (f === 1) key = text.decode(buf.subarray(s, e));
      else if (f === 2) value = text.decode(buf.subarray(s, e));
    }
    meta[key] = value;
  }
  return meta;
}
