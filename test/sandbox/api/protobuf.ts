/** Just enough protobuf to read the requests kubectl sends as `application/vnd.kubernetes.protobuf`. */
export type Fields = Map<number, (Buffer | number)[]>;

export function readFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = varint();
      value = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 1) {
      value = buf.readDoubleLE(pos);
      pos += 8;
    } else if (wire === 5) {
      value = buf.readFloatLE(pos);
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

export function stringField(fields: Fields, n: number): string | undefined {
  const v = fields.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export function messageField(fields: Fields, n: number): Fields | undefined {
  const v = fields.get(n)?.[0];
  return Buffer.isBuffer(v) ? readFields(v) : undefined;
}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** Unwraps the `k8s\0` envelope (runtime.Unknown) and returns the inner object's type and raw bytes. */
export function unwrapKubernetesProtobuf(body: Buffer): { apiVersion?: string; kind?: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) throw new Error('missing the k8s protobuf envelope');
  const unknown = readFields(body.subarray(4));
  const typeMeta = messageField(unknown, 1);
  const raw = unknown.get(2)?.[0];
  return {
    apiVersion: typeMeta && stringField(typeMeta, 1),
    kind: typeMeta && stringField(typeMeta, 2),
    raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
  };
}
